package dev.keyhold.android

/**
 * Wraps key secrets under a key the core never sees. Called by the Rust core
 * through JNI (`keyhold-jni`'s `JniSealer`): [openKey] once when the engine
 * opens, [seal] once per key when it is stored, [unseal] at most once per key
 * per session when it is used (the core caches) and once for the store key
 * when the engine opens.
 *
 * The core decides the wrapping key's lifecycle (whether a key may be
 * created, retries, what a missing key means); implementations only report
 * what the platform did. They fail closed: they throw [SealerException] and
 * never return their input in clear.
 */
interface Sealer {
    /** The name recorded with each key (e.g. `android-strongbox`, `android-tee`). */
    fun name(): String

    /**
     * Finds the wrapping key, creating it only when [mayCreate]. [expectedLabel]
     * is the alias the store recorded and [recordedLevel] the protection it
     * recorded as obtained (both null for a new store, or for a store written
     * before bindings were recorded). When [mayCreate] is false, a missing key
     * is [SealerException.Kind.KEY_NOT_FOUND] and nothing may be created or
     * deleted.
     */
    fun openKey(mayCreate: Boolean, expectedLabel: String?, recordedLevel: String?): WrappingKeyInfo

    /** Encrypts [plain], authenticating [aad]. The result is opaque. */
    fun seal(plain: ByteArray, aad: ByteArray): ByteArray

    /** Decrypts [sealed]; [SealerException.Kind.AUTHENTICATION_FAILED] if it or [aad] changed. */
    fun unseal(sealed: ByteArray, aad: ByteArray): ByteArray
}

/**
 * A sealer failure, with the kind the core acts on (the core's
 * `SealerErrorKind`; it maps each kind to its stable error code).
 */
class SealerException(val kind: Kind, message: String, cause: Throwable? = null) : Exception(message, cause) {
    /** Mirrors `keyhold_core::SealerErrorKind`; [code] is what the JNI bridge reads. */
    enum class Kind(val code: Int) {
        /**
         * The platform could not do it now, and did not say the key is gone
         * (Keystore busy or restarting, device locked, user not authenticated,
         * operation pruned, any failure whose cause is not permanent
         * invalidation). The core retries once (seal/unseal) or on its backoff
         * schedule (openKey), then reports SEALER_UNAVAILABLE. Nothing is lost.
         */
        UNAVAILABLE(0),

        /**
         * The platform said the wrapping key is permanently unusable
         * (`KeyPermanentlyInvalidatedException`, KEY_PERMANENTLY_INVALIDATED), or
         * the alias holds a key that is not a secret key. -> SEALER_KEY_INVALIDATED:
         * every key sealed under it is lost on this device.
         */
        KEY_INVALIDATED(1),

        /** The blob failed authentication (tampered, moved, wrong AAD). -> CORRUPT_KEY_RECORD */
        AUTHENTICATION_FAILED(2),

        /**
         * [Sealer.openKey] found no key and was not allowed to create one. The core
         * retries, then reports SEALER_KEY_INVALIDATED for a store whose key is gone.
         */
        KEY_NOT_FOUND(3),
    }

    /** Read by `keyhold-jni` to classify the failure. */
    fun kindCode(): Int = kind.code
}

/** What [Sealer.openKey] reports (the core's `WrappingKeyInfo`; read by `keyhold-jni`). */
class WrappingKeyInfo(
    /** Where the key lives: the Keystore alias. */
    @JvmField val label: String,
    /** The protection asked for: `strongbox` or `tee`. */
    @JvmField val levelRequested: String,
    /** The protection obtained: `strongbox`, `tee` or `software`. */
    @JvmField val levelObtained: String,
    /** True when this call created the key. */
    @JvmField val created: Boolean,
)
