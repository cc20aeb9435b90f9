package dev.keyhold.android

import android.os.Build
import android.security.keystore.KeyGenParameterSpec
import android.security.keystore.KeyInfo
import android.security.keystore.KeyPermanentlyInvalidatedException
import android.security.keystore.KeyProperties
import android.security.keystore.StrongBoxUnavailableException
import java.security.GeneralSecurityException
import java.security.KeyStore
import java.security.KeyStoreException
import java.security.ProviderException
import java.security.UnrecoverableKeyException
import javax.crypto.AEADBadTagException
import javax.crypto.Cipher
import javax.crypto.KeyGenerator
import javax.crypto.SecretKey
import javax.crypto.SecretKeyFactory
import javax.crypto.spec.GCMParameterSpec

/**
 * The Android Keystore sealer: an AES-256-GCM key in `AndroidKeyStore`
 * (StrongBox when the device has it, else the TEE) wraps every key secret.
 * The key never leaves the secure hardware; this class only sees wrapped
 * blobs and, transiently, what the core asks it to seal or unseal.
 *
 * Blob format: `iv (12) || ciphertext || tag (16)`; the core's AAD (key id,
 * owner, algorithm) is bound with `updateAAD`. Keystore chooses the IV
 * (randomized encryption is required).
 *
 * The key is found, or created for a new store only, by [openKey], which the
 * core calls once when the engine opens. StrongBox is slow, so the core
 * unseals each key at most once per session and caches it.
 *
 * Failures are [SealerException]s, never cleartext:
 * - `KeyPermanentlyInvalidatedException`, `UnrecoverableKeyException` ("key
 *   exists but is unusable"), a non-secret key under the alias ->
 *   [SealerException.Kind.KEY_INVALIDATED]
 * - `AEADBadTagException`, a blob too short -> [SealerException.Kind.AUTHENTICATION_FAILED]
 * - `KeyStoreException`, `ProviderException` and any other
 *   `GeneralSecurityException` -> [SealerException.Kind.UNAVAILABLE]
 */
class KeystoreSealer(
    private val alias: String = DEFAULT_ALIAS,
) : Sealer {
    @Volatile
    private var key: SecretKey? = null

    @Volatile
    private var level: String = NAME_UNKNOWN

    /** `android-strongbox`, `android-tee`, `android-software` (flag it), or `android-keystore` before first use. */
    override fun name(): String = level

    override fun openKey(mayCreate: Boolean, expectedLabel: String?): WrappingKeyInfo = guarded {
        synchronized(this) {
            val keyStore = KeyStore.getInstance(PROVIDER).apply { load(null) }
            var created = false
            val found = when (val existing = keyStore.getKey(alias, null)) {
                null -> if (mayCreate) {
                    created = true
                    create()
                } else {
                    throw SealerException(SealerException.Kind.KEY_NOT_FOUND, "no Keystore key under alias $alias")
                }
                is SecretKey -> existing
                else -> throw SealerException(SealerException.Kind.KEY_INVALIDATED, "alias $alias holds a non-secret key")
            }
            level = securityLevel(found)
            key = found
            WrappingKeyInfo(alias, LEVEL_STRONGBOX, level.removePrefix("android-"), created)
        }
    }

    override fun seal(plain: ByteArray, aad: ByteArray): ByteArray = guarded {
        val cipher = Cipher.getInstance(TRANSFORMATION)
        cipher.init(Cipher.ENCRYPT_MODE, key())
        cipher.updateAAD(aad)
        val iv = cipher.iv
        if (iv == null || iv.size != IV_BYTES) {
            throw SealerException(SealerException.Kind.UNAVAILABLE, "Keystore returned an unexpected GCM IV")
        }
        iv + cipher.doFinal(plain)
    }

    override fun unseal(sealed: ByteArray, aad: ByteArray): ByteArray = guarded {
        if (sealed.size < IV_BYTES + TAG_BYTES) {
            throw SealerException(SealerException.Kind.AUTHENTICATION_FAILED, "sealed blob is too short")
        }
        val cipher = Cipher.getInstance(TRANSFORMATION)
        cipher.init(Cipher.DECRYPT_MODE, key(), GCMParameterSpec(TAG_BYTES * 8, sealed, 0, IV_BYTES))
        cipher.updateAAD(aad)
        cipher.doFinal(sealed, IV_BYTES, sealed.size - IV_BYTES)
    }

    private fun key(): SecretKey =
        key ?: throw SealerException(SealerException.Kind.UNAVAILABLE, "Keystore sealer used before openKey")

    /** StrongBox first; the TEE when the device has no StrongBox. */
    private fun create(): SecretKey = try {
        create(strongBox = true)
    } catch (e: StrongBoxUnavailableException) {
        create(strongBox = false)
    }

    private fun create(strongBox: Boolean): SecretKey {
        val spec = KeyGenParameterSpec.Builder(alias, KeyProperties.PURPOSE_ENCRYPT or KeyProperties.PURPOSE_DECRYPT)
            .setKeySize(256)
            .setBlockModes(KeyProperties.BLOCK_MODE_GCM)
            .setEncryptionPaddings(KeyProperties.ENCRYPTION_PADDING_NONE)
            .setRandomizedEncryptionRequired(true)
            .setIsStrongBoxBacked(strongBox)
            .build()
        val generator = KeyGenerator.getInstance(KeyProperties.KEY_ALGORITHM_AES, PROVIDER)
        generator.init(spec)
        return generator.generateKey()
    }

    /** Where the key lives, from Keystore's KeyInfo (K9: flag keys outside secure hardware). */
    private fun securityLevel(key: SecretKey): String = try {
        val info = SecretKeyFactory.getInstance(key.algorithm, PROVIDER).getKeySpec(key, KeyInfo::class.java) as KeyInfo
        if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.S) {
            when (info.securityLevel) {
                KeyProperties.SECURITY_LEVEL_STRONGBOX -> NAME_STRONGBOX
                KeyProperties.SECURITY_LEVEL_TRUSTED_ENVIRONMENT -> NAME_TEE
                KeyProperties.SECURITY_LEVEL_SOFTWARE -> NAME_SOFTWARE
                else -> NAME_UNKNOWN
            }
        } else {
            @Suppress("DEPRECATION")
            if (info.isInsideSecureHardware) NAME_TEE else NAME_SOFTWARE
        }
    } catch (e: GeneralSecurityException) {
        NAME_UNKNOWN
    } catch (e: ProviderException) {
        NAME_UNKNOWN
    }

    companion object {
        /** Keystore alias of the key-encryption key. */
        const val DEFAULT_ALIAS = "keyhold-kek"
        const val PROVIDER = "AndroidKeyStore"
        const val TRANSFORMATION = "AES/GCM/NoPadding"
        const val IV_BYTES = 12
        const val TAG_BYTES = 16
        const val NAME_STRONGBOX = "android-strongbox"
        const val NAME_TEE = "android-tee"
        const val NAME_SOFTWARE = "android-software"
        const val NAME_UNKNOWN = "android-keystore"
        const val LEVEL_STRONGBOX = "strongbox"

        /** Runs [block], turning every Keystore/JCA failure into a typed [SealerException]. */
        private inline fun <T> guarded(block: () -> T): T = try {
            block()
        } catch (e: SealerException) {
            throw e
        } catch (e: KeyPermanentlyInvalidatedException) {
            throw SealerException(SealerException.Kind.KEY_INVALIDATED, "Keystore key permanently invalidated", e)
        } catch (e: UnrecoverableKeyException) {
            throw SealerException(SealerException.Kind.KEY_INVALIDATED, "Keystore key exists but is unusable", e)
        } catch (e: AEADBadTagException) {
            throw SealerException(SealerException.Kind.AUTHENTICATION_FAILED, "sealed blob failed authentication", e)
        } catch (e: KeyStoreException) {
            throw SealerException(SealerException.Kind.UNAVAILABLE, "Keystore failure: ${e.message}", e)
        } catch (e: GeneralSecurityException) {
            throw SealerException(SealerException.Kind.UNAVAILABLE, "Keystore operation failed: ${e.javaClass.name}", e)
        } catch (e: ProviderException) {
            throw SealerException(SealerException.Kind.UNAVAILABLE, "Keystore provider failure: ${e.javaClass.name}", e)
        } catch (e: java.io.IOException) {
            throw SealerException(SealerException.Kind.UNAVAILABLE, "Keystore could not be loaded", e)
        }
    }
}
