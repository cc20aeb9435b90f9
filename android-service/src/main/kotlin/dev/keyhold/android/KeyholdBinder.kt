package dev.keyhold.android

import android.os.Binder
import android.os.ServiceSpecificException
import dev.keyhold.aidl.Agreement
import dev.keyhold.aidl.DerivedKey
import dev.keyhold.aidl.IKeyholdService
import dev.keyhold.aidl.ImportMaterial
import dev.keyhold.aidl.KeyInfo
import dev.keyhold.aidl.KeyPage
import dev.keyhold.aidl.KeyPolicy
import dev.keyhold.aidl.KeyRef
import dev.keyhold.aidl.Payload
import dev.keyhold.aidl.PublicKey
import dev.keyhold.android.Responses.toAidl
import dev.keyhold.proto.Request
import dev.keyhold.proto.Response

/**
 * The AIDL door. Every method is a one-line adapter: build the
 * `keyhold.v1.Request`, run it in the core for the identified caller, and
 * return the result or throw `ServiceSpecificException(code, message)` with
 * the core's stable error code.
 */
internal class KeyholdBinder(
    private val engine: KeyholdEngine,
    private val callers: CallerIdentifier,
    private val guard: CallGuard,
) : IKeyholdService.Stub() {
    private val version = KeyholdNative.protocolVersion()

    override fun generateKey(alias: String?, algorithm: Int, hdScheme: Int, policy: KeyPolicy?): KeyInfo =
        call(Requests.generateKey(alias, algorithm, hdScheme, policy)).generateKey.key.toAidl()

    override fun importKey(alias: String?, algorithm: Int, hdScheme: Int, material: ImportMaterial?, policy: KeyPolicy?): KeyInfo =
        call(Requests.importKey(alias, algorithm, hdScheme, material, policy)).importKey.key.toAidl()

    override fun getPublicKey(key: KeyRef?, format: Int, path: String?): PublicKey =
        call(Requests.getPublicKey(key, format, path)).getPublicKey.toAidl()

    override fun sign(key: KeyRef?, scheme: Int, payload: Payload?, path: String?): ByteArray =
        call(Requests.sign(key, scheme, payload, path)).sign.signature.toByteArray()

    override fun verify(key: KeyRef?, scheme: Int, payload: Payload?, signature: ByteArray?, path: String?): Boolean =
        call(Requests.verify(key, scheme, payload, signature, path)).verify.valid

    override fun deriveKey(key: KeyRef?, path: String?, storeAsAlias: String?, policy: KeyPolicy?): DerivedKey =
        call(Requests.deriveKey(key, path, storeAsAlias, policy)).deriveKey.toAidl()

    override fun encrypt(key: KeyRef?, plaintext: ByteArray?, associatedData: ByteArray?): ByteArray =
        call(Requests.encrypt(key, plaintext, associatedData)).encrypt.ciphertext.toByteArray()

    override fun decrypt(key: KeyRef?, ciphertext: ByteArray?, associatedData: ByteArray?): ByteArray =
        call(Requests.decrypt(key, ciphertext, associatedData)).decrypt.plaintext.toByteArray()

    override fun deleteKey(key: KeyRef?) {
        call(Requests.deleteKey(key))
    }

    /**
     * Kept unchanged for SDKs built before listKeysPage (the AIDL promises
     * old clients keep working): every key by alias in one reply, which can
     * still outgrow the Binder buffer as it always could. The core's pages
     * are joined here; current SDKs call listKeysPage and stay bounded.
     */
    override fun listKeys(): Array<KeyInfo> {
        val keys = mutableListOf<KeyInfo>()
        var page = listKeysPage(false, 0, -1)
        keys += page.keys
        while (page.hasNextAfterId) {
            page = listKeysPage(true, page.nextAfterId, -1)
            keys += page.keys
        }
        return keys.sortedBy { it.alias }.toTypedArray()
    }

    override fun getKeyInfo(key: KeyRef?): KeyInfo =
        call(Requests.getKeyInfo(key)).getKeyInfo.key.toAidl()

    override fun protocolVersion(): Int = version

    override fun agree(
        key: KeyRef?,
        peerPublicKey: ByteArray?,
        hkdfSalt: ByteArray?,
        hkdfInfo: ByteArray?,
        outputLength: Int,
        storeAsAlias: String?,
        policy: KeyPolicy?,
    ): Agreement = call(Requests.agree(key, peerPublicKey, hkdfSalt, hkdfInfo, outputLength, storeAsAlias, policy)).agree.toAidl()

    override fun listKeysPage(hasAfterId: Boolean, afterId: Long, limit: Int): KeyPage =
        call(Requests.listKeysPage(hasAfterId, afterId, limit)).listKeys.toAidl()

    /**
     * Identifies the caller (on this Binder thread, before anything else),
     * runs [request] in the core and unwraps the response.
     */
    private fun call(request: Request.Builder): Response {
        val uid = Binder.getCallingUid()
        guard.enforce(uid, Binder.getCallingPid())
        val identity = callers.identify(uid)
        val encoded = request.setVersion(version).build().toByteArray()
        val response = try {
            Response.parseFrom(engine.handle(identity, encoded))
        } catch (e: KeyholdNativeException) {
            throw ServiceSpecificException(e.code, e.message)
        } finally {
            encoded.fill(0)
        }
        if (response.resultCase == Response.ResultCase.ERROR) {
            throw ServiceSpecificException(response.error.codeValue, response.error.message)
        }
        return response
    }
}
