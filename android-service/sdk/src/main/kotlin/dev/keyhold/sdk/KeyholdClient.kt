package dev.keyhold.sdk

import android.content.ComponentName
import android.content.Context
import android.content.Intent
import android.os.BadParcelableException
import android.os.DeadObjectException
import android.os.RemoteException
import android.os.ServiceSpecificException
import android.os.TransactionTooLargeException
import dev.keyhold.aidl.IKeyholdService
import dev.keyhold.sdk.Convert.toAidl
import dev.keyhold.sdk.Convert.toSdk
import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.withContext
import java.io.Closeable
import kotlin.coroutines.cancellation.CancellationException

/**
 * The Keyhold client for wallet apps. Binds the Keyhold service (companion
 * KMS app or embedded `:keyhold` process), runs every call off the main
 * thread, reports failures as [KeyholdException]s and reconnects after the
 * service dies. No native code and no key material in the wallet process:
 * keys stay in the service, which identifies this app by its uid, package
 * and signing certificate.
 *
 * ```kotlin
 * // SHA-256 of the KMS signing certificate, as `apksigner verify --print-certs` prints it.
 * val keyhold = KeyholdClient.companion(context, "3f:a1:...:9c")
 * val wallet = keyhold.generateHdKey("main", HdScheme.BIP32_SECP256K1)
 * val address = keyhold.getPublicKey(wallet.ref, PublicKeyFormat.ETH_ADDRESS, "m/44'/60'/0'/0/0").text
 * keyhold.close()
 * ```
 *
 * In companion mode the KMS package's signing certificate is checked before
 * every bind (see [companion]); the connection callbacks run off the main
 * thread from API 29 (see `ServiceConnector`); every failure, including the
 * framework exceptions a Binder proxy throws, is a [KeyholdException].
 */
class KeyholdClient private constructor(
    context: Context,
    component: ComponentName,
    trust: (Context) -> ServiceTrust,
    private val dispatcher: CoroutineDispatcher,
    connectTimeoutMillis: Long,
) : Closeable {
    /**
     * Binds [component]. A component of another package is trusted only when
     * that package is signed by one of [trustedCertificatesSha256] (SHA-256 of
     * the signing certificate, 32 bytes each); with none given, [component]
     * must belong to this app (embedded mode).
     */
    @JvmOverloads
    constructor(
        context: Context,
        component: ComponentName,
        trustedCertificatesSha256: List<ByteArray> = emptyList(),
        dispatcher: CoroutineDispatcher = Dispatchers.IO,
        connectTimeoutMillis: Long = DEFAULT_CONNECT_TIMEOUT_MILLIS,
    ) : this(
        context,
        component,
        { app ->
            if (trustedCertificatesSha256.isEmpty()) {
                ServiceTrust.ownPackage(app, component)
            } else {
                ServiceTrust.signedBy(app, component, trustedCertificatesSha256)
            }
        },
        dispatcher,
        connectTimeoutMillis,
    )

    private val connector: ServiceConnector = (context.applicationContext ?: context).let { app ->
        ServiceConnector(app, Intent(ACTION_BIND).setComponent(component), trust(app), connectTimeoutMillis)
    }

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

    /**
     * Every key of this app, ordered by alias. Fetched with [listKeysPage]
     * page after page: the service's core bounds each reply (at most 100 keys
     * and 256 KiB of records, at least one key), so no reply comes near the
     * Binder transaction buffer (1 MB minus two pages per process,
     * `BINDER_VM_SIZE` in AOSP `frameworks/native/libs/binder/ProcessState.cpp`,
     * shared by every call in flight) however many keys there are. Keys
     * added or deleted while it runs may or may not be listed; no key is
     * listed twice. A service that does not advance its cursor fails with
     * [KeyholdException.MalformedRequest].
     */
    suspend fun listKeys(): List<KeyInfo> {
        val keys = mutableListOf<KeyInfo>()
        var after: String? = null
        while (true) {
            val page = listKeysPage(after, MAX_PAGE_REQUEST)
            keys += page.keys
            val next = page.nextAfter ?: return keys.sortedBy { it.alias }
            // Both are 16 lowercase hex digits (formatted below): text order is id order.
            if (after != null && next <= after) {
                throw KeyholdException.MalformedRequest("the service's listing cursor did not advance")
            }
            after = next
        }
    }

    /**
     * One bounded page of this app's keys in ascending key-id order, for
     * apps that page themselves: starts after the key whose [KeyInfo.id] is
     * [after] (null: the first key; the key may have been deleted since),
     * with at most [limit] keys (0: the default, 50; the service caps every
     * page at 100 keys and 256 KiB). Pass [KeyPage.nextAfter] to get the
     * next page; it is null on the last one. A malformed [after] is
     * [KeyholdException.InvalidArgument].
     */
    suspend fun listKeysPage(after: String? = null, limit: Int = 0): KeyPage = call { service ->
        require(limit >= 0) { "limit must not be negative" }
        val page = service.listKeysPage(after != null, after?.let(::parseId) ?: 0L, limit)
            ?: throw KeyholdException.MalformedRequest("the service returned no page")
        KeyPage(
            page.keys.orEmpty().filterNotNull().map { it.toSdk() },
            if (page.hasNextAfterId) "%016x".format(page.nextAfterId) else null,
        )
    }

    suspend fun getKeyInfo(key: KeyRef): KeyInfo = call { it.getKeyInfo(key.toAidl()).toSdk() }

    /** The service's wire protocol version (1). */
    suspend fun protocolVersion(): Int = call { it.protocolVersion() }

    /** Unbinds. Calls after this fail with [KeyholdException.Disconnected]. */
    override fun close() = connector.close()

    /**
     * Runs [block] on [dispatcher] against the bound service, mapping every
     * failure to [KeyholdException].
     *
     * What a Binder proxy can throw: `Parcel.readException` turns the
     * service's exception codes back into `SecurityException`,
     * `BadParcelableException`, `IllegalArgumentException`,
     * `NullPointerException`, `IllegalStateException`,
     * `UnsupportedOperationException` and `ServiceSpecificException`, and
     * anything else into `RuntimeException("Unknown exception code")` (AOSP
     * `core/java/android/os/Parcel.java`, `createExceptionOrNull`); the
     * transport throws `RemoteException`s: `DeadObjectException`, and
     * `TransactionTooLargeException` when the request parcel is over 200 KB
     * and the driver refused it (`signalExceptionForError`, AOSP
     * `core/jni/android_util_Binder.cpp`).
     *
     * A reply that does not fit the caller's buffer arrives as
     * `DeadObjectException` although the service lives ("Transaction failed
     * on small parcel; remote process probably died, but this could also be
     * caused by running out of binder buffer space", same function): the
     * binder is pinged to tell the two apart.
     */
    private suspend fun <T> call(block: (IKeyholdService) -> T): T = withContext(dispatcher) {
        val binding = connector.connect()
        val service = binding.service.await()
        try {
            block(service)
        } catch (e: CancellationException) {
            throw e
        } catch (e: ServiceSpecificException) {
            throw KeyholdException.fromCode(e.errorCode, e.message)
        } catch (e: SecurityException) {
            throw KeyholdException.PermissionDenied(e.message, e)
        } catch (e: BadParcelableException) {
            throw KeyholdException.MalformedRequest("a parcel could not be read: ${e.message}", e)
        } catch (e: IllegalArgumentException) {
            throw KeyholdException.InvalidArgument(e.message, e)
        } catch (e: NullPointerException) {
            throw KeyholdException.InvalidArgument("a required value was missing: ${e.message}", e)
        } catch (e: IllegalStateException) {
            throw KeyholdException.Unavailable("the service is not ready: ${e.message}", e)
        } catch (e: UnsupportedOperationException) {
            throw KeyholdException.UnsupportedOperation(e.message, e)
        } catch (e: TransactionTooLargeException) {
            throw KeyholdException.TransactionTooLarge("the request is too large for one Binder transaction", e)
        } catch (e: DeadObjectException) {
            if (binding.binder?.pingBinder() == true) {
                throw KeyholdException.TransactionTooLarge("the reply did not fit the Binder buffer; the service is alive", e)
            }
            connector.drop(binding, "the service process died")
            throw KeyholdException.Disconnected("the Keyhold service died during the call", e)
        } catch (e: RemoteException) {
            throw KeyholdException.Disconnected("the call to the Keyhold service failed", e)
        } catch (e: RuntimeException) {
            throw KeyholdException.Internal("unexpected failure of the call: $e", e)
        }
    }

    companion object {
        /** What [listKeys] asks per page: as many as the service allows (it caps). */
        private const val MAX_PAGE_REQUEST = Int.MAX_VALUE

        /** A [KeyInfo.id] (16 hex digits) as the unsigned 64-bit id the service takes. */
        private fun parseId(id: String): Long = java.lang.Long.parseUnsignedLong(id, 16)

        /** The action the Keyhold service answers to. */
        const val ACTION_BIND = "dev.keyhold.action.BIND"

        /** Class name of the service in the KMS APK and in embedding apps. */
        const val SERVICE_CLASS = "dev.keyhold.android.KeyholdService"

        /** Package of the companion KMS APK. */
        const val KMS_PACKAGE = "dev.keyhold.kms"

        const val DEFAULT_CONNECT_TIMEOUT_MILLIS = 10_000L

        /**
         * Companion mode: the KMS is its own app (own uid), trusted only when
         * [kmsPackage] is signed by the certificate whose SHA-256 is
         * [kmsCertificateSha256] (checked before every bind; an impostor gets
         * [KeyholdException.UntrustedService] and no call). The wallet needs
         * `<uses-permission android:name="dev.keyhold.permission.BIND_KEYHOLD"/>`
         * and `<queries><package android:name="dev.keyhold.kms"/></queries>`
         * (without it, API 30+ hides the KMS and every call fails with
         * [KeyholdException.Disconnected]).
         */
        @JvmStatic
        @JvmOverloads
        fun companion(context: Context, kmsCertificateSha256: ByteArray, kmsPackage: String = KMS_PACKAGE): KeyholdClient =
            KeyholdClient(context, ComponentName(kmsPackage, SERVICE_CLASS), listOf(kmsCertificateSha256))

        /**
         * [companion] with the digest in hex as `apksigner verify --print-certs`
         * prints it ("Signer #1 certificate SHA-256 digest"), colons allowed.
         */
        @JvmStatic
        @JvmOverloads
        fun companion(context: Context, kmsCertificateSha256Hex: String, kmsPackage: String = KMS_PACKAGE): KeyholdClient =
            companion(context, ServiceTrust.parseSha256(kmsCertificateSha256Hex), kmsPackage)

        /** Embedded mode: the service runs in this app's private `:keyhold` process. */
        @JvmStatic
        fun embedded(context: Context): KeyholdClient =
            KeyholdClient(context, ComponentName(context.packageName, SERVICE_CLASS))
    }
}
