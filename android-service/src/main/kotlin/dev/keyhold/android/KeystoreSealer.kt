package dev.keyhold.android

import android.content.Context
import android.content.pm.PackageManager
import android.os.Build
import android.security.keystore.KeyGenParameterSpec
import android.security.keystore.KeyInfo
import android.security.keystore.KeyPermanentlyInvalidatedException
import android.security.keystore.KeyProperties
import android.security.keystore.UserNotAuthenticatedException
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
 * (StrongBox when the device declares it, else the TEE) wraps every key
 * secret. The key never leaves the secure hardware; this class only sees
 * wrapped blobs and, transiently, what the core asks it to seal or unseal.
 *
 * Blob format: `iv (12) || ciphertext || tag (16)`; the core's AAD (key id,
 * owner, algorithm) is bound with `updateAAD`. Keystore chooses the IV
 * (randomized encryption is required).
 *
 * Lifecycle: the core decides it (`rust-core/src/engine/attach.rs`). It calls
 * [openKey] once when the engine opens, allowing creation only for a store
 * that has never sealed anything; this class never creates a key otherwise,
 * because on API 28-30 `KeyStore.getKey` answers null on *any* keystore
 * error and key generation deletes whatever the alias held (see
 * [classifyLookupFailure]).
 *
 * Failures are [SealerException]s, never cleartext, classified by cause
 * (AOSP `android.security.keystore2.AndroidKeyStoreSpi.engineGetKey`,
 * `AndroidKeyStoreProvider.loadAndroidKeyStoreKeyFromKeystore`,
 * `KeyStoreCryptoOperationUtils.getInvalidKeyException`,
 * `AndroidKeyStoreCipherSpiBase.engineDoFinal`):
 * - permanent invalidation (`KeyPermanentlyInvalidatedException` from
 *   `Cipher.init`, or the cause-less `UnrecoverableKeyException` that
 *   `getKey` makes of it on API 31+), or a non-secret key under the alias ->
 *   [SealerException.Kind.KEY_INVALIDATED];
 * - `AEADBadTagException`, a blob too short -> [SealerException.Kind.AUTHENTICATION_FAILED];
 * - everything else: `UnrecoverableKeyException` with a keystore cause (API
 *   33+: `android.security.KeyStoreException.isTransientFailure()` and
 *   `getNumericErrorCode()` go into the message), `UserNotAuthenticatedException`
 *   (device locked), `IllegalBlockSizeException` (operation pruned, hardware
 *   busy), `ProviderException` (incl. `BackendBusyException`), `KeyStoreException`
 *   -> [SealerException.Kind.UNAVAILABLE]: nothing was lost, a later try may work.
 */
class KeystoreSealer(
    private val hasStrongBox: () -> Boolean,
    private val config: SealerConfig = SealerConfig(),
) : Sealer {
    /** Asks [context]'s PackageManager for `FEATURE_STRONGBOX_KEYSTORE` (androidx.security's rule). */
    constructor(context: Context, config: SealerConfig = SealerConfig()) : this(
        { context.packageManager.hasSystemFeature(PackageManager.FEATURE_STRONGBOX_KEYSTORE) },
        config,
    )

    @Volatile
    private var key: SecretKey? = null

    @Volatile
    private var level: String = LEVEL_UNKNOWN

    /**
     * `android-strongbox`, `android-tee`, `android-software` (flagged), on API
     * 28-30 for a key found rather than created `android-hardware` when the
     * store recorded nothing more precise, or `android-keystore` before
     * [openKey].
     */
    override fun name(): String = if (key == null) NAME_UNKNOWN else "android-$level"

    override fun openKey(mayCreate: Boolean, expectedLabel: String?, recordedLevel: String?): WrappingKeyInfo = guarded {
        synchronized(this) {
            val alias = expectedLabel ?: config.alias
            val keyStore = KeyStore.getInstance(PROVIDER).apply { load(null) }
            val askStrongBox = config.preferStrongBox && hasStrongBox()
            val existing = lookup(keyStore, alias)
            val opened = when {
                existing != null -> Opened(existing, created = false, inStrongBox = null)
                !mayCreate -> throw SealerException(
                    SealerException.Kind.KEY_NOT_FOUND,
                    "no Keystore key under alias $alias (on API 28-30 also what any keystore error looks like)",
                )
                else -> create(alias, askStrongBox)
            }
            val obtained = securityLevel(opened, recordedLevel)
            level = obtained
            key = opened.key
            WrappingKeyInfo(alias, if (askStrongBox) LEVEL_STRONGBOX else LEVEL_TEE, obtained, opened.created)
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

    private class Opened(val key: SecretKey, val created: Boolean, val inStrongBox: Boolean?)

    /** `getKey`, with its failures classified by cause. Null: not found (or, on API 28-30, any error). */
    private fun lookup(keyStore: KeyStore, alias: String): SecretKey? {
        val found = try {
            keyStore.getKey(alias, null)
        } catch (e: UnrecoverableKeyException) {
            throw classifyLookupFailure(e, alias)
        }
        return when (found) {
            null -> null
            is SecretKey -> found
            else -> throw SealerException(SealerException.Kind.KEY_INVALIDATED, "alias $alias holds a non-secret key")
        }
    }

    /**
     * StrongBox only when asked and declared; the TEE when StrongBox is not
     * asked, or when the StrongBox attempt fails in any way: a device without
     * it throws `StrongBoxUnavailableException`, a broken one a plain
     * `ProviderException("Keystore key generation failed")` (AOSP
     * `AndroidKeyStoreKeyGeneratorSpi.engineGenerateKey`), and both are worth
     * a TEE key rather than no key.
     */
    private fun create(alias: String, askStrongBox: Boolean): Opened {
        if (askStrongBox) {
            try {
                return Opened(generate(alias, strongBox = true), created = true, inStrongBox = true)
            } catch (e: ProviderException) {
                // StrongBoxUnavailableException is a ProviderException too: fall through to the TEE.
            } catch (e: GeneralSecurityException) {
                // e.g. InvalidAlgorithmParameterException from a StrongBox that refuses the spec.
            }
        }
        return Opened(generate(alias, strongBox = false), created = true, inStrongBox = false)
    }

    private fun generate(alias: String, strongBox: Boolean): SecretKey {
        val spec = KeyGenParameterSpec.Builder(alias, KeyProperties.PURPOSE_ENCRYPT or KeyProperties.PURPOSE_DECRYPT)
            .setKeySize(256)
            .setBlockModes(KeyProperties.BLOCK_MODE_GCM)
            .setEncryptionPaddings(KeyProperties.ENCRYPTION_PADDING_NONE)
            .setRandomizedEncryptionRequired(true)
            .setIsStrongBoxBacked(strongBox)
            .setUnlockedDeviceRequired(config.unlockedDeviceRequired)
        if (config.userAuthenticationSeconds > 0) {
            spec.setUserAuthenticationRequired(true)
            if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.R) {
                Api30.authenticateWithin(spec, config.userAuthenticationSeconds)
            } else {
                @Suppress("DEPRECATION")
                spec.setUserAuthenticationValidityDurationSeconds(config.userAuthenticationSeconds)
            }
        }
        val generator = KeyGenerator.getInstance(KeyProperties.KEY_ALGORITHM_AES, PROVIDER)
        generator.init(spec.build())
        return generator.generateKey()
    }

    /**
     * Where the key lives (K9: a key outside secure hardware is flagged). API
     * 31+: `KeyInfo.getSecurityLevel()`. API 28-30 only has
     * `isInsideSecureHardware`: a key created here is in StrongBox when the
     * StrongBox attempt succeeded, else in the TEE; a key found is where the
     * store recorded it (`recordedLevel`), or `hardware` when nothing was
     * recorded.
     */
    private fun securityLevel(opened: Opened, recordedLevel: String?): String {
        val info = try {
            SecretKeyFactory.getInstance(opened.key.algorithm, PROVIDER).getKeySpec(opened.key, KeyInfo::class.java) as KeyInfo
        } catch (e: GeneralSecurityException) {
            return LEVEL_UNKNOWN
        } catch (e: ProviderException) {
            return LEVEL_UNKNOWN
        }
        if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.S) return Api31.securityLevel(info)
        @Suppress("DEPRECATION")
        val secure = info.isInsideSecureHardware
        return when {
            !secure -> LEVEL_SOFTWARE
            opened.inStrongBox == true -> LEVEL_STRONGBOX
            opened.inStrongBox == false -> LEVEL_TEE
            recordedLevel == LEVEL_STRONGBOX || recordedLevel == LEVEL_TEE -> recordedLevel
            else -> LEVEL_HARDWARE
        }
    }

    /** API 30 members, reached only behind an SDK_INT check. */
    @RequiresApiLevel(30)
    private object Api30 {
        fun authenticateWithin(spec: KeyGenParameterSpec.Builder, seconds: Int) {
            spec.setUserAuthenticationParameters(
                seconds,
                KeyProperties.AUTH_DEVICE_CREDENTIAL or KeyProperties.AUTH_BIOMETRIC_STRONG,
            )
        }
    }

    /** API 31 members, reached only behind an SDK_INT check. */
    @RequiresApiLevel(31)
    private object Api31 {
        fun securityLevel(info: KeyInfo): String = when (info.securityLevel) {
            KeyProperties.SECURITY_LEVEL_STRONGBOX -> LEVEL_STRONGBOX
            KeyProperties.SECURITY_LEVEL_TRUSTED_ENVIRONMENT -> LEVEL_TEE
            KeyProperties.SECURITY_LEVEL_SOFTWARE -> LEVEL_SOFTWARE
            else -> LEVEL_UNKNOWN
        }
    }

    /** API 33 members (`android.security.KeyStoreException` became public in API 33). */
    @RequiresApiLevel(33)
    private object Api33 {
        /** What the keystore said, when the cause is the public API 33 exception; null otherwise. */
        fun describe(cause: Throwable?): String? {
            if (cause !is android.security.KeyStoreException) return null
            val transient = if (cause.isTransientFailure) "transient" else "not transient"
            return "keystore error ${cause.numericErrorCode}, $transient"
        }
    }

    companion object {
        /** Keystore alias of the key-encryption key. */
        const val DEFAULT_ALIAS = "keyhold-kek"
        const val PROVIDER = "AndroidKeyStore"
        const val TRANSFORMATION = "AES/GCM/NoPadding"
        const val IV_BYTES = 12
        const val TAG_BYTES = 16
        const val LEVEL_STRONGBOX = "strongbox"
        const val LEVEL_TEE = "tee"
        const val LEVEL_SOFTWARE = "software"

        /** API 28-30, a key found (not created) with no level recorded: StrongBox or TEE, the platform cannot say. */
        const val LEVEL_HARDWARE = "hardware"
        const val LEVEL_UNKNOWN = "keystore"
        const val NAME_STRONGBOX = "android-$LEVEL_STRONGBOX"
        const val NAME_TEE = "android-$LEVEL_TEE"
        const val NAME_SOFTWARE = "android-$LEVEL_SOFTWARE"
        const val NAME_UNKNOWN = "android-$LEVEL_UNKNOWN"

        /**
         * `KeyStore.getKey` threw [e]. AOSP keystore2 (API 31+) throws
         * `UnrecoverableKeyException` in two ways: with an
         * `android.security.KeyStoreException` cause for every keystore error
         * other than KEY_NOT_FOUND (which answers null) and
         * KEY_PERMANENTLY_INVALIDATED; and without a cause for
         * KEY_PERMANENTLY_INVALIDATED (`engineGetKey` rethrows the
         * `KeyPermanentlyInvalidatedException` as `new
         * UnrecoverableKeyException(e.getMessage())`) or a key of another
         * kind. keystore1 (API 28-30) attaches its (hidden) KeyStoreException
         * as the cause too. So: no cause -> permanent -> KEY_INVALIDATED; a
         * cause -> UNAVAILABLE (a retry may work; nothing is deleted). Before
         * API 33 the cause's class is not public SDK, so only its presence is
         * used.
         */
        internal fun classifyLookupFailure(e: UnrecoverableKeyException, alias: String): SealerException {
            val cause = e.cause ?: return SealerException(
                SealerException.Kind.KEY_INVALIDATED,
                "Keystore reports the key under alias $alias permanently unusable: ${e.message}",
                e,
            )
            val detail = if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.TIRAMISU) Api33.describe(cause) else null
            return SealerException(
                SealerException.Kind.UNAVAILABLE,
                "Keystore could not load the key under alias $alias (${detail ?: cause.javaClass.name}); it was not deleted",
                e,
            )
        }

        /** Runs [block], turning every Keystore/JCA failure into a typed [SealerException]. */
        private inline fun <T> guarded(block: () -> T): T = try {
            block()
        } catch (e: SealerException) {
            throw e
        } catch (e: KeyPermanentlyInvalidatedException) {
            throw SealerException(SealerException.Kind.KEY_INVALIDATED, "Keystore key permanently invalidated", e)
        } catch (e: UserNotAuthenticatedException) {
            throw SealerException(
                SealerException.Kind.UNAVAILABLE,
                "Keystore key needs the device unlocked or the user authenticated",
                e,
            )
        } catch (e: AEADBadTagException) {
            throw SealerException(SealerException.Kind.AUTHENTICATION_FAILED, "sealed blob failed authentication", e)
        } catch (e: KeyStoreException) {
            throw SealerException(SealerException.Kind.UNAVAILABLE, "Keystore failure: ${e.message}", e)
        } catch (e: GeneralSecurityException) {
            val detail = if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.TIRAMISU) Api33.describe(e.cause) else null
            throw SealerException(
                SealerException.Kind.UNAVAILABLE,
                "Keystore operation failed: ${e.javaClass.name}${detail?.let { " ($it)" } ?: ""}",
                e,
            )
        } catch (e: ProviderException) {
            throw SealerException(SealerException.Kind.UNAVAILABLE, "Keystore provider failure: ${e.javaClass.name}", e)
        } catch (e: java.io.IOException) {
            throw SealerException(SealerException.Kind.UNAVAILABLE, "Keystore could not be loaded", e)
        }
    }
}
