package dev.keyhold.android

import android.os.Build
import android.security.keystore.KeyInfo
import androidx.test.ext.junit.runners.AndroidJUnit4
import org.junit.After
import org.junit.Assert.assertArrayEquals
import org.junit.Assert.assertEquals
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
 * encryption key lives in secure hardware on real devices).
 *
 * Not run by the JVM check; run with connectedDebugAndroidTest.
 */
@RunWith(AndroidJUnit4::class)
class KeystoreSealerDeviceTest {
    private val alias = "keyhold-device-test-kek"
    private val secret = ByteArray(32) { it.toByte() }
    private val aad = "aad".toByteArray()

    @After
    fun deleteKey() {
        KeyStore.getInstance(KeystoreSealer.PROVIDER).apply { load(null) }.deleteEntry(alias)
    }

    @Test
    fun roundTripAndTamperDetection() {
        val sealer = KeystoreSealer(alias)
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
    fun theKeyIsInSecureHardwareOnRealDevices() {
        val sealer = KeystoreSealer(alias)
        sealer.seal(secret, aad)
        assumeFalse("emulators have no secure hardware", isEmulator())
        val key = KeyStore.getInstance(KeystoreSealer.PROVIDER).apply { load(null) }.getKey(alias, null) as SecretKey
        val info = SecretKeyFactory.getInstance(key.algorithm, KeystoreSealer.PROVIDER).getKeySpec(key, KeyInfo::class.java) as KeyInfo
        @Suppress("DEPRECATION")
        assertTrue("Keystore key outside secure hardware", info.isInsideSecureHardware)
        assertTrue(sealer.name(), sealer.name() == KeystoreSealer.NAME_STRONGBOX || sealer.name() == KeystoreSealer.NAME_TEE)
    }

    private fun isEmulator() = Build.FINGERPRINT.contains("generic") || Build.HARDWARE.contains("ranchu") ||
        Build.HARDWARE.contains("goldfish") || Build.PRODUCT.contains("sdk")
}
