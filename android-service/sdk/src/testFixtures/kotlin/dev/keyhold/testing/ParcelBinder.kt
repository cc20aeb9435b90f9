package dev.keyhold.testing

import android.os.Binder
import android.os.DeadObjectException
import android.os.IBinder
import android.os.IInterface
import android.os.Parcel
import android.os.RemoteException
import android.os.TransactionTooLargeException
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
 *   `binderDied()` and later transactions throw `DeadObjectException`;
 * - the Binder buffer is finite, as on a device: each process maps
 *   `BINDER_VM_SIZE` = 1 MB minus two pages for incoming transactions (AOSP
 *   `frameworks/native/libs/binder/ProcessState.cpp`). A request larger than
 *   [bufferBytes] is refused before the service sees it; a reply larger than
 *   it is refused after the service ran. The client then gets what
 *   `signalExceptionForError` (AOSP `core/jni/android_util_Binder.cpp`) throws
 *   for FAILED_TRANSACTION, which judges by the size of the *request*:
 *   `TransactionTooLargeException` when the request is over 200 KB, else
 *   `DeadObjectException` ("Transaction failed on small parcel ..."), although
 *   the service is alive;
 * - a service-side exception that `Parcel.writeException` cannot carry (any
 *   RuntimeException other than the framework's own types) is not turned into
 *   a reply: Binder reports the transaction as failed and the client's proxy
 *   gets `RuntimeException("Unknown transaction code")` (JavaBBinder's
 *   "Uncaught remote exception" then UNKNOWN_TRANSACTION, same file).
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

    /** Transactions that reached the service so far. */
    @Volatile
    var transactions = 0
        private set

    /** Bytes one transaction (request or reply) may take: [BINDER_VM_SIZE] unless a test lowers it. */
    @Volatile
    var bufferBytes = BINDER_VM_SIZE

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
        val requestSize = data.dataSize()
        if (requestSize > bufferBytes) throw failedTransaction(requestSize)
        transactions++
        val request = copyOf(data)
        val response = Parcel.obtain()
        try {
            val handled = try {
                target.transact(code, request, response, flags)
            } catch (e: RuntimeException) {
                // What Binder.execTransactInternal does on the service side.
                response.setDataSize(0)
                response.setDataPosition(0)
                try {
                    response.writeException(e)
                } catch (notParcelable: RuntimeException) {
                    throw RuntimeException("Unknown transaction code")
                }
                true
            }
            if (reply != null) {
                if (response.dataSize() > bufferBytes) throw failedTransaction(requestSize)
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

    /** The exception `signalExceptionForError` throws for FAILED_TRANSACTION, decided by the request's size. */
    private fun failedTransaction(requestSize: Int): RemoteException =
        if (requestSize > LARGE_PARCEL_BYTES) {
            TransactionTooLargeException("data parcel size $requestSize bytes")
        } else {
            DeadObjectException(
                "Transaction failed on small parcel; remote process probably died, but this could also be caused " +
                    "by running out of binder buffer space",
            )
        }

    private fun copyOf(parcel: Parcel): Parcel {
        val bytes = parcel.marshall()
        return Parcel.obtain().apply {
            unmarshall(bytes, 0, bytes.size)
            setDataPosition(0)
        }
    }

    companion object {
        /** `BINDER_VM_SIZE` with 4 KB pages: `(1 * 1024 * 1024) - sysconf(_SC_PAGE_SIZE) * 2`. */
        const val BINDER_VM_SIZE = 1024 * 1024 - 2 * 4096

        /** Above this request size a failed transaction is reported as too large, below as a dead object. */
        const val LARGE_PARCEL_BYTES = 200 * 1024
    }
}
