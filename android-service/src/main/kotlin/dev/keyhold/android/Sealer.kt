package dev.keyhold.android

/**
 * Wraps key secrets under a key the core never sees. Called by the Rust core
 * through JNI (`keyhold-jni`'s `JniSealer`): once per key when it is stored,
 * at most once per key per session when it is used (the core caches), and
 * once each for the self-test when the engine opens.
 *
 * Implementations fail closed: they throw [SealerException] and never return
 * their input in clear.
 */
interface Sealer {
    /** The name recorded with each key (e.g. `android-strongbox`, `android-tee`). */
    fun name(): String

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
        /** Transient (Keystore busy, IPC failure): a retry may succeed. -> SEALER_UNAVAILABLE */
        UNAVAILABLE(0),

        /** The wrapping key is gone or permanently invalidated. -> SEALER_KEY_INVALIDATED */
        KEY_INVALIDATED(1),

        /** The blob failed authentication (tampered, moved, wrong AAD). -> CORRUPT_KEY_RECORD */
        AUTHENTICATION_FAILED(2),
    }

    /** Read by `keyhold-jni` to classify the failure. */
    fun kindCode(): Int = kind.code
}
