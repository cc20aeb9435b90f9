package dev.keyhold.android.testing

import android.app.Application
import android.content.Intent
import android.content.pm.ApplicationInfo
import android.content.pm.PackageInfo
import android.content.pm.Signature
import android.content.pm.SigningInfo
import android.os.Process
import android.os.ServiceSpecificException
import dev.keyhold.aidl.IKeyholdService
import dev.keyhold.aidl.KeyRef
import dev.keyhold.aidl.Payload
import dev.keyhold.android.KeyholdService
import dev.keyhold.testing.ParcelBinder
import org.junit.Assert.assertEquals
import org.junit.Assert.fail
import org.robolectric.Robolectric
import org.robolectric.RuntimeEnvironment
import org.robolectric.Shadows.shadowOf
import org.robolectric.android.controller.ServiceController
import org.robolectric.shadow.api.Shadow
import org.robolectric.shadows.ShadowBinder
import org.robolectric.shadows.ShadowSigningInfo
import java.io.Closeable
import java.security.MessageDigest

/**
 * A running KeyholdService on Robolectric, reached through the generated
 * AIDL Proxy over [ParcelBinder] (real Parcel marshalling), backed by the
 * real Rust core through JNI and the Keystore sealer over
 * [StrictAndroidKeyStore] (the running SDK's keystore behaviour).
 */
class KeyholdHarness : Closeable {
    val app: Application = RuntimeEnvironment.getApplication()
    val keystore: StrictAndroidKeyStore = StrictAndroidKeyStore.install()
    private var controller: ServiceController<KeyholdService> = Robolectric.buildService(KeyholdService::class.java).create()
    var binder: ParcelBinder = bind()
        private set
    var proxy: IKeyholdService = IKeyholdService.Stub.asInterface(binder)
        private set

    val service: KeyholdService get() = controller.get()

    init {
        installApp(WALLET, WALLET_UID, listOf(CERT_A))
        installApp(OTHER, OTHER_UID, listOf(CERT_B))
        grant(WALLET_UID)
        grant(OTHER_UID)
        callAs(WALLET_UID)
    }

    private fun bind(): ParcelBinder = ParcelBinder(controller.get().onBind(Intent(KeyholdService.ACTION_BIND)))

    /** Destroys the service (closing the engine) and starts a new one over the same data. */
    fun restartService() {
        controller.destroy()
        controller = Robolectric.buildService(KeyholdService::class.java).create()
        binder = bind()
        proxy = IKeyholdService.Stub.asInterface(binder)
    }

    /** Installs [packageName] for [uid], signed by [certs] (current) after [past] (rotation history). */
    fun installApp(packageName: String, uid: Int, certs: List<ByteArray>, past: List<ByteArray> = emptyList()) {
        val info = PackageInfo().apply {
            this.packageName = packageName
            applicationInfo = ApplicationInfo().apply {
                this.packageName = packageName
                this.uid = uid
            }
            // Robolectric shadows SigningInfo; the history, as on a device, ends with the current certificate.
            signingInfo = SigningInfo().also {
                val shadow = Shadow.extract<ShadowSigningInfo>(it)
                shadow.setSignatures(certs.map(::Signature).toTypedArray())
                if (past.isNotEmpty()) shadow.setPastSigningCertificates((past + certs).map(::Signature).toTypedArray())
            }
        }
        val pm = shadowOf(app.packageManager)
        pm.installPackage(info)
        pm.setPackagesForUid(uid, packageName)
    }

    /** Lets [uid] (calling from pid [pidOf]) hold the bind permission. */
    fun grant(uid: Int) = shadowOf(app).grantPermissions(pidOf(uid), uid, KeyholdService.PERMISSION)

    /** The next transactions come from [uid] (and a pid of its own, so it is an IPC). */
    fun callAs(uid: Int) {
        ShadowBinder.setCallingUid(uid)
        ShadowBinder.setCallingPid(pidOf(uid))
    }

    /** Calls come from the service's own uid (embedded mode). */
    fun callAsSelf() {
        ShadowBinder.setCallingUid(Process.myUid())
        ShadowBinder.setCallingPid(Process.myPid() + 1)
    }

    override fun close() {
        controller.destroy()
        StrictAndroidKeyStore.uninstall()
        ShadowBinder.reset()
    }

    companion object {
        const val WALLET = "com.example.wallet"
        const val WALLET_UID = 10_100
        const val OTHER = "com.example.other"
        const val OTHER_UID = 10_101
        val CERT_A = "wallet signing certificate A".toByteArray()
        val CERT_B = "other signing certificate B".toByteArray()
        val CERT_C = "rotated signing certificate C".toByteArray()

        fun pidOf(uid: Int) = uid - 5_000

        fun sha256(bytes: ByteArray): ByteArray = MessageDigest.getInstance("SHA-256").digest(bytes)

        fun byAlias(alias: String) = KeyRef().apply { by = IKeyholdService.KEY_REF_BY_ALIAS; value = alias }
        fun byId(id: String) = KeyRef().apply { by = IKeyholdService.KEY_REF_BY_ID; value = id }
        fun message(bytes: ByteArray) = Payload().apply { kind = IKeyholdService.PAYLOAD_MESSAGE; data = bytes }
        fun digest(bytes: ByteArray) = Payload().apply { kind = IKeyholdService.PAYLOAD_DIGEST; data = bytes }

        /** Asserts [block] fails with ServiceSpecificException [code] and returns it. */
        fun expectCode(code: Int, block: () -> Unit): ServiceSpecificException {
            try {
                block()
            } catch (e: ServiceSpecificException) {
                assertEquals("error code (message: ${e.message})", code, e.errorCode)
                return e
            }
            fail("expected ServiceSpecificException($code)")
            throw AssertionError()
        }
    }
}
