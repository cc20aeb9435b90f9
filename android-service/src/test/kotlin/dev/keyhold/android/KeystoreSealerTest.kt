package dev.keyhold.android

import android.security.keystore.KeyPermanentlyInvalidatedException
import android.security.keystore.KeyProperties
import dev.keyhold.android.testing.FakeAndroidKeyStore
import org.junit.After
import org.junit.Assert.assertArrayEquals
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertTrue
import org.junit.Assert.fail
import org.junit.Before
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.RobolectricTestRunner
import java.security.ProviderException
import java.security.UnrecoverableKeyException

/** The Keystore sealer alone, over the fake AndroidKeyStore provider. */
@RunWith(RobolectricTestRunner::class)
class KeystoreSealerTest {
    private lateinit var keystore: FakeAndroidKeyStore
    private val secret = ByteArray(32) { (it * 7 + 1).toByte() }
    private val aad = "key-id|owner|secp256k1".toByteArray()

    @Before
    fun setUp() {
        keystore = FakeAndroidKeyStore.install()
    }

    @After
    fun tearDown() = FakeAndroidKeyStore.uninstall()

    private fun expectKind(kind: SealerException.Kind, block: () -> Unit) {
        try {
            block()
            fail("expected SealerException($kind)")
        } catch (e: SealerException) {
            assertEquals(e.message, kind, e.kind)
            assertEquals(kind.code, e.kindCode())
        }
    }

    /** A sealer whose key was opened as the core opens it for a new store. */
    private fun opened() = KeystoreSealer().also { it.openKey(true, null) }

    @Test
    fun roundTripsAndBindsTheAad() {
        val sealer = opened()
        val sealed = sealer.seal(secret, aad)
        assertEquals(KeystoreSealer.IV_BYTES + secret.size + KeystoreSealer.TAG_BYTES, sealed.size)
        assertArrayEquals(secret, sealer.unseal(sealed, aad))
        expectKind(SealerException.Kind.AUTHENTICATION_FAILED) { sealer.unseal(sealed, "other aad".toByteArray()) }
    }

    @Test
    fun sealedBlobIsNotCleartextAndUsesAFreshIv() {
        val sealer = opened()
        val a = sealer.seal(secret, aad)
        val b = sealer.seal(secret, aad)
        assertFalse(a.toList().windowed(secret.size).any { it == secret.toList() })
        assertFalse(a.copyOfRange(0, 12).contentEquals(b.copyOfRange(0, 12)))
    }

    @Test
    fun tamperedBlobFailsAuthentication() {
        val sealer = opened()
        val sealed = sealer.seal(secret, aad)
        for (i in listOf(0, 12, sealed.size - 1)) {
            val bad = sealed.copyOf().also { it[i] = (it[i].toInt() xor 1).toByte() }
            expectKind(SealerException.Kind.AUTHENTICATION_FAILED) { sealer.unseal(bad, aad) }
        }
        expectKind(SealerException.Kind.AUTHENTICATION_FAILED) { sealer.unseal(ByteArray(20), aad) }
    }

    @Test
    fun createsAStrongBoxAes256GcmKeyOnce() {
        val sealer = KeystoreSealer()
        assertEquals(KeystoreSealer.NAME_UNKNOWN, sealer.name())
        sealer.openKey(true, null)
        sealer.seal(secret, aad)
        sealer.seal(secret, aad)
        assertEquals(1, keystore.keyGenerations.get())
        assertEquals(1, keystore.strongBoxRequests.get())
        assertTrue(keystore.storedKeys.containsKey(KeystoreSealer.DEFAULT_ALIAS))
        assertEquals(KeystoreSealer.NAME_STRONGBOX, sealer.name())
    }

    @Test
    fun fallsBackToTheTeeWithoutStrongBox() {
        keystore.strongBoxAvailable = false
        val sealer = opened()
        assertArrayEquals(secret, sealer.unseal(sealer.seal(secret, aad), aad))
        assertEquals(1, keystore.strongBoxRequests.get())
        assertEquals(1, keystore.keyGenerations.get())
        assertEquals(KeystoreSealer.NAME_TEE, sealer.name())
    }

    @Test
    fun flagsASoftwareKeystore() {
        keystore.strongBoxAvailable = false
        keystore.teeLevel = KeyProperties.SECURITY_LEVEL_SOFTWARE
        val sealer = opened()
        sealer.seal(secret, aad)
        assertEquals(KeystoreSealer.NAME_SOFTWARE, sealer.name())
    }

    @Test
    fun reusesTheExistingKeyAcrossInstances() {
        val sealed = opened().seal(secret, aad)
        val reopened = KeystoreSealer()
        reopened.openKey(false, KeystoreSealer.DEFAULT_ALIAS)
        assertArrayEquals(secret, reopened.unseal(sealed, aad))
        assertEquals(1, keystore.keyGenerations.get())
        assertEquals(KeystoreSealer.NAME_STRONGBOX, reopened.name())
    }

    @Test
    fun permanentlyInvalidatedKeyIsKeyInvalidated() {
        val sealer = opened()
        val sealed = sealer.seal(secret, aad)
        keystore.cipherInitFailure = KeyPermanentlyInvalidatedException("lock screen removed")
        expectKind(SealerException.Kind.KEY_INVALIDATED) { sealer.unseal(sealed, aad) }
        expectKind(SealerException.Kind.KEY_INVALIDATED) { sealer.seal(secret, aad) }
    }

    @Test
    fun unrecoverableKeyIsKeyInvalidated() {
        keystore.getKeyFailure = UnrecoverableKeyException("master key exists but is unusable")
        expectKind(SealerException.Kind.KEY_INVALIDATED) { KeystoreSealer().openKey(true, null) }
    }

    @Test
    fun aMissingKeyIsCreatedOnlyWhenAllowed() {
        expectKind(SealerException.Kind.KEY_NOT_FOUND) { KeystoreSealer().openKey(false, KeystoreSealer.DEFAULT_ALIAS) }
        assertEquals(0, keystore.keyGenerations.get())
        val info = KeystoreSealer().openKey(true, null)
        assertTrue(info.created)
        assertEquals(KeystoreSealer.DEFAULT_ALIAS, info.label)
        assertEquals(1, keystore.keyGenerations.get())
        assertFalse(KeystoreSealer().openKey(false, KeystoreSealer.DEFAULT_ALIAS).created)
        assertEquals(1, keystore.keyGenerations.get())
    }

    @Test
    fun missingKeystoreIsUnavailable() {
        FakeAndroidKeyStore.uninstall()
        // KeyStore.getInstance("AndroidKeyStore") throws KeyStoreException.
        expectKind(SealerException.Kind.UNAVAILABLE) { KeystoreSealer().openKey(true, null) }
    }

    @Test
    fun flakyHardwareIsUnavailableAndRecovers() {
        val sealer = opened()
        val sealed = sealer.seal(secret, aad)
        keystore.doFinalFailure = ProviderException("StrongBox: Keystore operation failed")
        expectKind(SealerException.Kind.UNAVAILABLE) { sealer.unseal(sealed, aad) }
        keystore.doFinalFailure = null
        assertArrayEquals(secret, sealer.unseal(sealed, aad))
    }

    @Test
    fun neverReturnsItsInputWhenTheKeystoreFails() {
        val sealer = opened()
        keystore.doFinalFailure = ProviderException("broken")
        expectKind(SealerException.Kind.UNAVAILABLE) { sealer.seal(secret, aad) }
    }
}
