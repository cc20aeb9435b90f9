package dev.keyhold.uniffi.test

import dev.keyhold.uniffi.Sealer
import dev.keyhold.uniffi.SealerException
import dev.keyhold.uniffi.WrappingKeyInfo
import java.security.SecureRandom
import java.util.concurrent.atomic.AtomicInteger
import javax.crypto.AEADBadTagException
import javax.crypto.Cipher
import javax.crypto.KeyGenerator
import javax.crypto.SecretKey
import javax.crypto.spec.GCMParameterSpec

/**
 * A software sealer written against the generated callback interface, as an
 * app would write its hardware one: AES-256-GCM (javax.crypto) with the
 * core's AAD authenticated. Blob: nonce (12) || ciphertext || tag (16).
 * Counts calls so tests can check the hardware budget.
 */
class CountingSoftwareSealer(
    /** The wrapping key: the "hardware key" that survives an app restart. */
    val key: SecretKey = newKey(),
) : Sealer {
    val seals = AtomicInteger()
    val unseals = AtomicInteger()

    /** When set, the next calls throw this instead of working. */
    @Volatile
    var failWith: Exception? = null

    override fun name(): String = "kotlin-software"

    val opens = AtomicInteger()

    override fun openKey(mayCreate: Boolean, expectedLabel: String?): WrappingKeyInfo {
        opens.incrementAndGet()
        failWith?.let { throw it }
        return WrappingKeyInfo("kotlin-key", "software", "software", mayCreate)
    }

    override fun seal(secret: ByteArray, aad: ByteArray): ByteArray {
        seals.incrementAndGet()
        failWith?.let { throw it }
        val nonce = ByteArray(NONCE_LEN).also { random.nextBytes(it) }
        val cipher = Cipher.getInstance("AES/GCM/NoPadding")
        cipher.init(Cipher.ENCRYPT_MODE, key, GCMParameterSpec(TAG_BITS, nonce))
        cipher.updateAAD(aad)
        return nonce + cipher.doFinal(secret)
    }

    override fun unseal(sealed: ByteArray, aad: ByteArray): ByteArray {
        unseals.incrementAndGet()
        failWith?.let { throw it }
        if (sealed.size < NONCE_LEN + TAG_BITS / 8) {
            throw SealerException.AuthenticationFailed("sealed blob too short")
        }
        val cipher = Cipher.getInstance("AES/GCM/NoPadding")
        cipher.init(Cipher.DECRYPT_MODE, key, GCMParameterSpec(TAG_BITS, sealed, 0, NONCE_LEN))
        cipher.updateAAD(aad)
        try {
            return cipher.doFinal(sealed, NONCE_LEN, sealed.size - NONCE_LEN)
        } catch (e: AEADBadTagException) {
            throw SealerException.AuthenticationFailed("tag mismatch")
        }
    }

    companion object {
        private const val NONCE_LEN = 12
        private const val TAG_BITS = 128
        private val random = SecureRandom()

        fun newKey(): SecretKey = KeyGenerator.getInstance("AES").apply { init(256) }.generateKey()
    }
}

/** A sealer that returns its input: the core's self-test must refuse it. */
class CleartextSealer : Sealer {
    override fun name(): String = "cleartext"
    override fun openKey(mayCreate: Boolean, expectedLabel: String?) =
        WrappingKeyInfo("cleartext", "none", "none", mayCreate)
    override fun seal(secret: ByteArray, aad: ByteArray): ByteArray = secret
    override fun unseal(sealed: ByteArray, aad: ByteArray): ByteArray = sealed
}
