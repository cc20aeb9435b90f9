package dev.keyhold.android

import dev.keyhold.proto.ErrorCode
import java.io.Closeable
import java.io.File

/**
 * The core engine of this process, opened on first use (on a Binder thread:
 * the sealer self-test may take seconds on StrongBox) and retried on the next
 * call if opening failed. Holds only the native handle.
 */
internal class KeyholdEngine(
    private val dataDir: File,
    private val sealerFactory: () -> Sealer,
) : Closeable {
    private val openLock = Any()

    @Volatile
    private var handle = 0L

    @Volatile
    private var closed = false

    /** Runs an encoded request for an encoded caller identity; returns the encoded response. */
    fun handle(identity: ByteArray, request: ByteArray): ByteArray =
        KeyholdNative.handleWithIdentity(open(), identity, request)

    /** Forgets every unsealed key. Cheap and safe from any thread, before or after open. */
    fun lock() {
        val current = handle
        if (current != 0L) {
            runCatching { KeyholdNative.lock(current) }
        }
    }

    override fun close() {
        synchronized(openLock) {
            closed = true
            val current = handle
            handle = 0L
            if (current != 0L) {
                KeyholdNative.close(current)
            }
        }
    }

    private fun open(): Long {
        handle.takeIf { it != 0L }?.let { return it }
        synchronized(openLock) {
            if (closed) {
                throw KeyholdNativeException(ErrorCode.ERROR_CODE_UNAVAILABLE_VALUE, "the Keyhold service is shutting down")
            }
            if (handle == 0L) {
                handle = KeyholdNative.open(dataDir.path, sealerFactory())
            }
            return handle
        }
    }
}
