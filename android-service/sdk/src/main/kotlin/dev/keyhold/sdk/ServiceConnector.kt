package dev.keyhold.sdk

import android.content.ComponentName
import android.content.Context
import android.content.Intent
import android.content.ServiceConnection
import android.os.IBinder
import android.os.RemoteException
import dev.keyhold.aidl.IKeyholdService
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.withTimeoutOrNull
import java.io.Closeable
import java.util.concurrent.atomic.AtomicBoolean

/**
 * One binding to the Keyhold service at a time, made on first use and made
 * again after the service dies: `binderDied`, `onServiceDisconnected` and
 * `onBindingDied` all drop the current binding, and the next call binds
 * anew. Calls in flight on a dead binder fail with
 * [KeyholdException.Disconnected]; they are not retried, since a
 * non-idempotent call (generateKey) may already have taken effect.
 */
internal class ServiceConnector(
    private val context: Context,
    private val intent: Intent,
    private val connectTimeoutMillis: Long,
) : Closeable {
    private val lock = Any()
    private var current: Binding? = null
    private var closed = false

    /** A live binding (connecting or connected). */
    inner class Binding : ServiceConnection, IBinder.DeathRecipient {
        val service = CompletableDeferred<IKeyholdService>()

        @Volatile
        private var binder: IBinder? = null

        private val released = AtomicBoolean(false)

        override fun onServiceConnected(name: ComponentName, binder: IBinder) {
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
        val binding = Binding()
        val bound = try {
            context.bindService(intent, binding, Context.BIND_AUTO_CREATE)
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
    fun drop(binding: Binding, reason: String) {
        synchronized(lock) {
            if (current === binding) current = null
        }
        if (!binding.service.isCompleted) {
            binding.service.completeExceptionally(KeyholdException.Disconnected(reason))
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
}
