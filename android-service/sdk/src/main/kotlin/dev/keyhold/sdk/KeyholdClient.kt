package dev.keyhold.sdk

import android.content.ComponentName
import android.content.Context
import android.content.Intent
import android.os.DeadObjectException
import android.os.RemoteException
import android.os.ServiceSpecificException
import dev.keyhold.aidl.IKeyholdService
import dev.keyhold.sdk.Convert.toAidl
import dev.keyhold.sdk.Convert.toSdk
import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.withContext
import java.io.Closeable

/**
 * The Keyhold client for wallet apps. Binds the Keyhold service (companion
 * KMS app or embedded `:keyhold` process), runs every call off the main
 * thread, reports failures as [KeyholdException]s and reconnects after the
 * service dies. No native code and no key material in the wallet process:
 * keys stay in the service, which identifies this app by its uid, package
 * and signing certificate.
 *
 * ```kotlin
 * val keyhold = KeyholdClient.companion(context)
 * val wallet = keyhold.generateHdKey("main", HdScheme.BIP32_SECP256K1)
 * val address = keyhold.getPublicKey(wallet.ref, PublicKeyFormat.ETH_ADDRESS, "m/44'/60'/0'/0/0").text
 * keyhold.close()
 * ```
 */
class KeyholdClient(
    context: Context,
    component: ComponentName,
    private val dispatcher: CoroutineDispatcher = Dispatchers.IO,
    connectTimeoutMillis: Long = DEFAULT_CONNECT_TIMEOUT_MILLIS,
) : Closeable {
    private val connector = ServiceConnector(
        context.applicationContext ?: context,
        Intent(ACTION_BIND).setComponent(component),
        connectTimeoutMillis,
    )

    /** Generates a single key of [algorithm]. */
    suspend fun generateKey(alias: String, algorithm: Algorithm, policy: KeyPolicy = KeyPolicy()): KeyInfo =
        call { it.generateKey(alias, algorithm.value, IKeyholdService.HD_SCHEME_NONE, policy.toAidl()).toSdk() }

    /** Generates an HD root (a random 32-byte seed) of [scheme]. */
    suspend fun generateHdKey(alias: String, scheme: HdScheme, policy: KeyPolicy = KeyPolicy()): KeyInfo =
        call { it.generateKey(alias, IKeyholdService.ALGORITHM_UNSPECIFIED, scheme.value, policy.toAidl()).toSdk() }

    /** Imports [material]; from then on it exists only inside the service. */
    suspend fun importKey(alias: String, material: ImportMaterial, policy: KeyPolicy = KeyPolicy()): KeyInfo =
        call { service -> material.toAidl().let { service.importKey(alias, it.algorithm, it.hdScheme, it.material, policy.toAidl()) }.toSdk() }

    /** The public key in [format]; of the HD child at [path] when given. */
    suspend fun getPublicKey(key: KeyRef, format: PublicKeyFormat = PublicKeyFormat.DEFAULT, path: String? = null): PublicKey =
        call { it.getPublicKey(key.toAidl(), format.value, path).toSdk() }

    /** Signs [payload]; with the HD child at [path] when given. */
    suspend fun sign(key: KeyRef, payload: Payload, scheme: SignatureScheme = SignatureScheme.DEFAULT, path: String? = null): ByteArray =
        call { it.sign(key.toAidl(), scheme.value, payload.toAidl(), path) }

    /** True when [signature] verifies over [payload]. */
    suspend fun verify(
        key: KeyRef,
        payload: Payload,
        signature: ByteArray,
        scheme: SignatureScheme = SignatureScheme.DEFAULT,
        path: String? = null,
    ): Boolean = call { it.verify(key.toAidl(), scheme.value, payload.toAidl(), signature, path) }

    /** Derives the child at [path]; stores it when [storeAsAlias] is given. */
    suspend fun deriveKey(key: KeyRef, path: String, storeAsAlias: String? = null, policy: KeyPolicy = KeyPolicy()): DerivedKey =
        call { it.deriveKey(key.toAidl(), path, storeAsAlias, policy.toAidl()).toSdk() }

    /** AES-256-GCM; returns nonce || ciphertext || tag. */
    suspend fun encrypt(key: KeyRef, plaintext: ByteArray, associatedData: ByteArray = ByteArray(0)): ByteArray =
        call { it.encrypt(key.toAidl(), plaintext, associatedData) }

    /** Reverses [encrypt]; [KeyholdException.DecryptionFailed] when anything was altered. */
    suspend fun decrypt(key: KeyRef, ciphertext: ByteArray, associatedData: ByteArray = ByteArray(0)): ByteArray =
        call { it.decrypt(key.toAidl(), ciphertext, associatedData) }

    /** ECDH / X25519 with [peerPublicKey] then HKDF-SHA256; stored as an AES key when [storeAsAlias] is given. */
    @Suppress("LongParameterList")
    suspend fun agree(
        key: KeyRef,
        peerPublicKey: ByteArray,
        hkdfSalt: ByteArray = ByteArray(0),
        hkdfInfo: ByteArray = ByteArray(0),
        outputLength: Int = 32,
        storeAsAlias: String? = null,
        policy: KeyPolicy = KeyPolicy(),
    ): Agreement = call {
        it.agree(key.toAidl(), peerPublicKey, hkdfSalt, hkdfInfo, outputLength, storeAsAlias, policy.toAidl()).toSdk()
    }

    suspend fun deleteKey(key: KeyRef) = call { it.deleteKey(key.toAidl()) }

    suspend fun listKeys(): List<KeyInfo> = call { service -> service.listKeys().orEmpty().filterNotNull().map { it.toSdk() } }

    suspend fun getKeyInfo(key: KeyRef): KeyInfo = call { it.getKeyInfo(key.toAidl()).toSdk() }

    /** The service's wire protocol version (1). */
    suspend fun protocolVersion(): Int = call { it.protocolVersion() }

    /** Unbinds. Calls after this fail with [KeyholdException.Disconnected]. */
    override fun close() = connector.close()

    /** Runs [block] on [dispatcher] against the bound service, mapping every failure to [KeyholdException]. */
    private suspend fun <T> call(block: (IKeyholdService) -> T): T = withContext(dispatcher) {
        val binding = connector.connect()
        try {
            block(binding.service.await())
        } catch (e: ServiceSpecificException) {
            throw KeyholdException.fromCode(e.errorCode, e.message)
        } catch (e: SecurityException) {
            throw KeyholdException.PermissionDenied(e.message, e)
        } catch (e: DeadObjectException) {
            connector.drop(binding, "the service process died")
            throw KeyholdException.Disconnected("the Keyhold service died during the call", e)
        } catch (e: RemoteException) {
            throw KeyholdException.Disconnected("the call to the Keyhold service failed", e)
        }
    }

    companion object {
        /** The action the Keyhold service answers to. */
        const val ACTION_BIND = "dev.keyhold.action.BIND"

        /** Class name of the service in the KMS APK and in embedding apps. */
        const val SERVICE_CLASS = "dev.keyhold.android.KeyholdService"

        /** Package of the companion KMS APK. */
        const val KMS_PACKAGE = "dev.keyhold.kms"

        const val DEFAULT_CONNECT_TIMEOUT_MILLIS = 10_000L

        /**
         * Companion mode: the KMS is its own app (own uid). The wallet needs
         * `<uses-permission android:name="dev.keyhold.permission.BIND_KEYHOLD"/>`
         * and `<queries><package android:name="dev.keyhold.kms"/></queries>`.
         */
        @JvmStatic
        @JvmOverloads
        fun companion(context: Context, kmsPackage: String = KMS_PACKAGE): KeyholdClient =
            KeyholdClient(context, ComponentName(kmsPackage, SERVICE_CLASS))

        /** Embedded mode: the service runs in this app's private `:keyhold` process. */
        @JvmStatic
        fun embedded(context: Context): KeyholdClient =
            KeyholdClient(context, ComponentName(context.packageName, SERVICE_CLASS))
    }
}
