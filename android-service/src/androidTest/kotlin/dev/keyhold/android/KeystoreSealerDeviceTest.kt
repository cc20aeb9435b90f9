package dev.keyhold.android

import android.content.pm.PackageManager
import android.os.Build
import android.security.keystore.KeyInfo
import androidx.test.ext.junit.runners.AndroidJUnit4
import androidx.test.platform.app.InstrumentationRegistry
import org.junit.After
import org.junit.Assert.assertArrayEquals
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertTrue
import org.junit.Assert.fail
import org.junit.Assume.assumeFalse
import org.junit.Test
import org.junit.runner.RunWith
import java.security.KeyStore
import javax.crypto.SecretKey
import javax.crypto.SecretKeyFactory

/**
 * The Keystore sealer against the real AndroidKeyStore (K9: the key-
 * encryption key lives in secure hardware on real devices). What the JVM
 * suite checks against the keystore double, checked here against the
 * device's own keystore.
 *
 * Not run by the JVM check (compiled only); run with connectedDebugAndroidTest.
 */
@RunWith(AndroidJUnit4::class)
class KeystoreSealerDeviceTest {
    private val context = InstrumentationRegistry.getInstrumentation().targetContext
    private val alias = "keyhold-device-test-kek"
    private val config = SealerConfig(alias = alias)
    private val secret = ByteArray(32) { it.toByte() }
    private val aad = "aad".toByteArray()

    @After
    fun deleteKey() {
        KeyStore.getInstance(KeystoreSealer.PROVIDER).apply { load(null) }.deleteEntry(alias)
    }

    private fun newStore() = KeystoreSealer(context, config).also { it.openKey(true, null, null) }

    @Test
    fun roundTripAndTamperDetection() {
        val sealer = newStore()
        val sealed = sealer.seal(secret, aad)
        assertEquals(KeystoreSealer.IV_BYTES + secret.size + KeystoreSealer.TAG_BYTES, sealed.size)
        assertArrayEquals(secret, sealer.unseal(sealed, aad))
        sealed[sealed.size - 1] = (sealed.last().toInt() xor 1).toByte()
        try {
            sealer.unseal(sealed, aad)
            fail("tampered blob unsealed")
        } catch (e: SealerException) {
            assertEquals(SealerException.Kind.AUTHENTICATION_FAILED, e.kind)
        }
    }

    @Test
    fun aMissingKeyIsNotCreatedForAStoreWithRecords() {
        try {
            KeystoreSealer(context, config).openKey(false, alias, KeystoreSealer.LEVEL_TEE)
            fail("a key was found or made")
        } catch (e: SealerException) {
            assertEquals(SealerException.Kind.KEY_NOT_FOUND, e.kind)
        }
        assertFalse(KeyStore.getInstance(KeystoreSealer.PROVIDER).apply { load(null) }.containsAlias(alias))
    }

    @Test
    fun theKeyIsInSecureHardwareOnRealDevicesAndTheLevelIsTheOneObtained() {
        val info = KeystoreSealer(context, config).openKey(true, null, null)
        val declared = context.packageManager.hasSystemFeature(PackageManager.FEATURE_STRONGBOX_KEYSTORE)
        assertEquals(if (declared) KeystoreSealer.LEVEL_STRONGBOX else KeystoreSealer.LEVEL_TEE, info.levelRequested)
        assumeFalse("emulators have no secure hardware", isEmulator())
        val key = KeyStore.getInstance(KeystoreSealer.PROVIDER).apply { load(null) }.getKey(alias, null) as SecretKey
        val keyInfo = SecretKeyFactory.getInstance(key.algorithm, KeystoreSealer.PROVIDER).getKeySpec(key, KeyInfo::class.java) as KeyInfo
        @Suppress("DEPRECATION")
        assertTrue("Keystore key outside secure hardware", keyInfo.isInsideSecureHardware)
        assertTrue(info.levelObtained, info.levelObtained == KeystoreSealer.LEVEL_STRONGBOX || info.levelObtained == KeystoreSealer.LEVEL_TEE)
        val reopened = KeystoreSealer(context, config)
        assertEquals(info.levelObtained, reopened.openKey(false, alias, info.levelObtained).levelObtained)
    }

    private fun isEmulator() = Build.FINGERPRINT.contains("generic") || Build.HARDWARE.contains("ranchu") ||
        Build.HARDWARE.contains("goldfish") || Build.PRODUCT.contains("sdk")
}
