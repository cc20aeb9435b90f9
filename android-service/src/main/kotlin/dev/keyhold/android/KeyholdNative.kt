package dev.keyhold.android

/**
 * The JNI bridge to the Rust core (crate `keyhold-jni`). Declarations only:
 * each function is one call into the core.
 *
 * Failures of `open`, `lock` and calls on a closed handle throw
 * [KeyholdNativeException]; request failures are encoded in the returned
 * `keyhold.v1.Response`.
 */
internal object KeyholdNative {
    init {
        System.loadLibrary("keyhold_jni")
    }

    /** Opens `<dataDir>/keyhold.db` sealed by [sealer]; runs the core's self-tests. */
    @JvmStatic
    external fun open(dataDir: String, sealer: Sealer): Long

    /** Runs one encoded `keyhold.v1.Request` for the encoded `keyhold.v1.CallerIdentity`. */
    @JvmStatic
    external fun handleWithIdentity(handle: Long, identity: ByteArray, request: ByteArray): ByteArray

    /** Forgets every unsealed key (the next use of each unseals again). */
    @JvmStatic
    external fun lock(handle: Long)

    /** Closes the engine; harmless on a closed handle. */
    @JvmStatic
    external fun close(handle: Long)

    /** The core's wire protocol version. */
    @JvmStatic
    external fun protocolVersion(): Int
}

/**
 * Thrown by the native bridge with one of the core's stable error codes
 * (`keyhold.v1.ErrorCode`).
 */
class KeyholdNativeException(val code: Int, message: String) : RuntimeException(message)
