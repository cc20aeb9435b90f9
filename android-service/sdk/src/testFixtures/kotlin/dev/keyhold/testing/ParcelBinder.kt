package dev.keyhold.testing

import android.os.Binder
import android.os.DeadObjectException
import android.os.IBinder
import android.os.IInterface
import android.os.Parcel
import java.util.concurrent.CopyOnWriteArrayList

/**
 * Makes a local Binder look remote, for JVM (Robolectric) tests.
 *
 * - `queryLocalInterface` returns null, so `IKeyholdService.Stub.asInterface`
 *   returns the generated Proxy, not the Stub itself;
 * - each transaction is marshalled to bytes and unmarshalled into fresh
 *   Parcels on both sides, as the kernel driver copies them, and exceptions
 *   travel in the reply (`writeException` / `readException`);
 * - [die] simulates the service process dying: death recipients get
 *   `binderDied()` and later transactions throw `DeadObjectException`.
 *
 * The caller's identity is whatever `ShadowBinder.setCallingUid/Pid` says.
 */
class ParcelBinder(private val target: IBinder) : Binder() {
    private val recipients = CopyOnWriteArrayList<IBinder.DeathRecipient>()

    @Volatile
    var dead = false
        private set

    /** Every reply sent back to the client, when [recordReplies] is set (to search them for secrets). */
    val replies = CopyOnWriteArrayList<ByteArray>()

    @Volatile
    var recordReplies = false

    /** Transactions carried so far. */
    @Volatile
    var transactions = 0
        private set

    override fun queryLocalInterface(descriptor: String): IInterface? = null

    override fun getInterfaceDescriptor(): String? = target.interfaceDescriptor

    override fun pingBinder(): Boolean = !dead

    override fun isBinderAlive(): Boolean = !dead

    override fun linkToDeath(recipient: IBinder.DeathRecipient, flags: Int) {
        if (dead) throw DeadObjectException("the service is dead")
        recipients += recipient
    }

    override fun unlinkToDeath(recipient: IBinder.DeathRecipient, flags: Int): Boolean = recipients.remove(recipient)

    /** Kills the "remote" side: death notifications, then DeadObjectException on every call. */
    fun die() {
        dead = true
        recipients.forEach { it.binderDied() }
        recipients.clear()
    }

    /** Kills the "remote" side before the death notice is delivered: only calls notice. */
    fun dieSilently() {
        dead = true
    }

    override fun onTransact(code: Int, data: Parcel, reply: Parcel?, flags: Int): Boolean {
        if (dead) throw DeadObjectException("the service is dead")
        transactions++
        val request = copyOf(data)
        val response = Parcel.obtain()
        try {
            val handled = try {
                target.transact(code, request, response, flags)
            } catch (e: RuntimeException) {
                // What Binder.execTransact does on the service side.
                response.setDataSize(0)
                response.setDataPosition(0)
                response.writeException(e)
                true
            }
            if (reply != null) {
                val bytes = response.marshall()
                if (recordReplies) replies += bytes
                reply.unmarshall(bytes, 0, bytes.size)
                reply.setDataPosition(0)
            }
            return handled
        } finally {
            request.recycle()
            response.recycle()
        }
    }

    private fun copyOf(parcel: Parcel): Parcel {
        val bytes = parcel.marshall()
        return Parcel.obtain().apply {
            unmarshall(bytes, 0, bytes.size)
            setDataPosition(0)
        }
    }
}
