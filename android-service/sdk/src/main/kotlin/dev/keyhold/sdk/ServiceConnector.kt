package dev.keyhold.sdk

import android.content.ComponentName
import android.content.Context
import android.content.Intent
import android.content.ServiceConnection
import android.os.Build
import android.os.IBinder
import android.os.RemoteException
import dev.keyhold.aidl.IKeyholdService
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.withTimeoutOrNull
import java.io.Closeable
import java.util.concurrent.Executor
import java.util.concurrent.LinkedBlockingQueue
import java.util.concurrent.ThreadPoolExecutor
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicBoolean

/**
 * One binding to the Keyhold service at a time, made on first use and made
 * again after the service dies: `binderDied`, `onServiceDisconnected` and
 * `onBindingDied` all drop the current binding, and the next call binds
 * anew. Calls in flight on a dead binder fail with
 * [KeyholdException.Disconnected]; they are not retried, since a
 * non-idempotent call (generateKey) may already have taken effect.
 *
 * **Trust.** Every bind, the first and each reconnect, is preceded by
 * [ServiceTrust.check], and the connection is checked again when it arrives
 * (the package may have been replaced in between): an impostor fails with
 * [KeyholdException.UntrustedService] and never receives a transaction.
 *
 * **Threads.** From API 29 the binding uses
 * `bindService(Intent, int, Executor, ServiceConnection)`, so the connection
 * callbacks run on a private thread of this SDK and a busy or blocked main
 * thread does not delay them. API 28 has only
 * `bindService(Intent, ServiceConnection, int)`, whose callbacks Android posts
 * to the main thread (ContextImpl passes `mMainThread.getHandler()`): there a
 * call that has to (re)bind waits for the main thread, and fails with
 * [KeyholdException.Disconnected] after the connect timeout if the main
 * thread stays blocked; calls on an existing binding never need it.
 */
internal class ServiceConnector(
    private val context: Context,
    private val intent: Intent,
    private val trust: ServiceTrust,
    private val connectTimeoutMillis: Long,
) : Closeable {
    private val lock = Any()
    private var current: Binding? = null
    private var closed = false

    /**
     * Runs the ServiceConnection callbacks (API 29+) one at a time, in order,
     * on a thread of its own that exits when idle: not the main thread, and
     * not a caller's dispatcher (which may be saturated by calls waiting for
     * this very connection).
     */
    private val callbackExecutor: Executor = ThreadPoolExecutor(
        0,
        1,
        CALLBACK_THREAD_IDLE_SECONDS,
        TimeUnit.SECONDS,
        LinkedBlockingQueue(),
    ) { runnable -> Thread(runnable, "keyhold-binding").apply { isDaemon = true } }

    /** A live binding (connecting or connected). */
    inner class Binding : ServiceConnection, IBinder.DeathRecipient {
        val service = CompletableDeferred<IKeyholdService>()

        @Volatile
        var binder: IBinder? = null
            private set

        private val released = AtomicBoolean(false)

        override fun onServiceConnected(name: ComponentName, binder: IBinder) {
            // Checked again on arrival: the package may have been replaced
            // between the check before bind and this connection.
            try {
                trust.checkConnected(name)
            } catch (e: KeyholdException) {
                drop(this, e)
                return
            }
            try {
                binder.linkToDeath(this, 0)
            } catch (e: RemoteException) {
                drop(this, "the service died while connecting")
                return
            }
            this.binder = binder
            service.complete(IKeyholdService.Stub.asInterface(binder))
        }

        override fun onServiceDisconnected(name: ComponentName) = drop(this, "the service disconnected")

        override fun onBindingDied(name: ComponentName) = drop(this, "the binding died")

        override fun onNullBinding(name: ComponentName) = drop(this, "the service returned no binder")

        override fun binderDied() = drop(this, "the service process died")

        /** Unlinks and unbinds, once: later disconnect callbacks find nothing to do. */
        fun release() {
            if (!released.compareAndSet(false, true)) return
            binder?.let { runCatching { it.unlinkToDeath(this, 0) } }
            runCatching { context.unbindService(this) }
        }
    }

    /** The bound service, binding first if needed. */
    suspend fun connect(): Binding {
        val binding = synchronized(lock) {
            if (closed) throw KeyholdException.Disconnected("the client is closed")
            current ?: bind().also { current = it }
        }
        withTimeoutOrNull(connectTimeoutMillis) { binding.service.await() }
            ?: run {
                drop(binding, "no connection within $connectTimeoutMillis ms")
                throw KeyholdException.Disconnected("could not connect to the Keyhold service within $connectTimeoutMillis ms")
            }
        return binding
    }

    private fun bind(): Binding {
        // Before anything reaches the package: an impostor is not even bound
        // (binding would start its process).
        trust.check()
        val binding = Binding()
        val bound = try {
            if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.Q) {
                context.bindService(intent, Context.BIND_AUTO_CREATE, callbackExecutor, binding)
            } else {
                context.bindService(intent, binding, Context.BIND_AUTO_CREATE)
            }
        } catch (e: SecurityException) {
            throw KeyholdException.PermissionDenied("not allowed to bind ${intent.component}: ${e.message}", e)
        }
        if (!bound) {
            binding.release()
            throw KeyholdException.Disconnected("no Keyhold service at ${intent.component}")
        }
        return binding
    }

    /** Forgets [binding] (idempotent); waiting callers fail, the next call binds again. */
    fun drop(binding: Binding, reason: String) = drop(binding, KeyholdException.Disconnected(reason))

    /** Forgets [binding]; callers waiting for it fail with [failure]. */
    fun drop(binding: Binding, failure: KeyholdException) {
        synchronized(lock) {
            if (current === binding) current = null
        }
        if (!binding.service.isCompleted) {
            binding.service.completeExceptionally(failure)
        }
        binding.release()
    }

    override fun close() {
        val binding = synchronized(lock) {
            closed = true
            current.also { current = null }
        }
        binding?.let { drop(it, "the client is closed") }
    }

    private companion object {
        const val CALLBACK_THREAD_IDLE_SECONDS = 30L
    }
}
