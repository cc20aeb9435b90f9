package dev.keyhold.sdk

import android.os.Looper
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

/**
 * A scripted IKeyholdService for SDK tests: records what arrived, answers
 * with canned values, or throws [failure].
 */
class FakeKeyholdService(private val name: String = "fake") : IKeyholdService.Stub() {
    @Volatile var failure: RuntimeException? = null
    val calls = mutableListOf<String>()
    var lastKey: KeyRef? = null
    var lastPayload: Payload? = null
    var lastMaterial: ImportMaterial? = null
    var lastPolicy: KeyPolicy? = null
    var lastArgs: List<Any?> = emptyList()
    @Volatile var ranOnMainThread = false

    /** What listKeys answers; two small keys unless a test sets it. */
    @Volatile var listed: Array<KeyInfo>? = null

    /**
     * Most keys listKeysPage puts in a page: the core's cap (100,
     * `MAX_LIST_PAGE_KEYS` in rust-core) unless a test plays a service that
     * ignores it. The fake's cursor is a key's position in [listed].
     */
    @Volatile var pageCap: Int = 100

    private fun <T> answer(method: String, vararg args: Any?, result: () -> T): T {
        synchronized(calls) { calls += method }
        lastArgs = args.toList()
        ranOnMainThread = ranOnMainThread || Looper.myLooper() == Looper.getMainLooper()
        failure?.let { throw it }
        return result()
    }

    fun keyInfo(alias: String?) = KeyInfo().apply {
        id = "00112233"
        this.alias = alias
        algorithm = IKeyholdService.ALGORITHM_SECP256K1
        hdScheme = IKeyholdService.HD_SCHEME_BIP32_SECP256K1
        origin = IKeyholdService.KEY_ORIGIN_GENERATED
        publicKey = byteArrayOf(2, 3)
        policy = KeyPolicy().apply {
            allowedOperations = intArrayOf(IKeyholdService.OPERATION_SIGN, 999)
            maxUses = 7
        }
        usageCount = 1
        createdAtMs = 42
        sealer = name
    }

    override fun generateKey(alias: String?, algorithm: Int, hdScheme: Int, policy: KeyPolicy?): KeyInfo =
        answer("generateKey", alias, algorithm, hdScheme) { lastPolicy = policy; keyInfo(alias) }

    override fun importKey(alias: String?, algorithm: Int, hdScheme: Int, material: ImportMaterial?, policy: KeyPolicy?): KeyInfo =
        answer("importKey", alias, algorithm, hdScheme) { lastMaterial = material; keyInfo(alias) }

    override fun getPublicKey(key: KeyRef?, format: Int, path: String?): PublicKey =
        answer("getPublicKey", format, path) { lastKey = key; PublicKey().apply { bytes = byteArrayOf(1); text = "0xabc" } }

    override fun sign(key: KeyRef?, scheme: Int, payload: Payload?, path: String?): ByteArray =
        answer("sign", scheme, path) { lastKey = key; lastPayload = payload; byteArrayOf(9, 9) }

    override fun verify(key: KeyRef?, scheme: Int, payload: Payload?, signature: ByteArray?, path: String?): Boolean =
        answer("verify", scheme, path) { lastKey = key; lastPayload = payload; signature.contentEquals(byteArrayOf(9, 9)) }

    override fun deriveKey(key: KeyRef?, path: String?, storeAsAlias: String?, policy: KeyPolicy?): DerivedKey =
        answer("deriveKey", path, storeAsAlias) {
            DerivedKey().apply { publicKey = byteArrayOf(3); xpub = "xpub"; stored = storeAsAlias?.let(::keyInfo) }
        }

    override fun encrypt(key: KeyRef?, plaintext: ByteArray?, associatedData: ByteArray?): ByteArray =
        answer("encrypt") { plaintext!!.reversedArray() }

    override fun decrypt(key: KeyRef?, ciphertext: ByteArray?, associatedData: ByteArray?): ByteArray =
        answer("decrypt") { ciphertext!!.reversedArray() }

    override fun deleteKey(key: KeyRef?) = answer("deleteKey") { lastKey = key }

    override fun listKeys(): Array<KeyInfo> = answer("listKeys") { listed ?: arrayOf(keyInfo("a"), keyInfo("b")) }

    override fun listKeysPage(hasAfterId: Boolean, afterId: Long, limit: Int): KeyPage =
        answer("listKeysPage", hasAfterId, afterId, limit) {
            val all = listed ?: arrayOf(keyInfo("a"), keyInfo("b"))
            val from = if (hasAfterId) afterId.toInt() + 1 else 0
            val size = minOf(if (limit == 0) 50 else limit, pageCap)
            val to = minOf(all.size, from + size)
            KeyPage().apply {
                keys = all.copyOfRange(from, to)
                hasNextAfterId = to < all.size
                nextAfterId = (to - 1).toLong()
            }
        }

    override fun getKeyInfo(key: KeyRef?): KeyInfo = answer("getKeyInfo") { lastKey = key; keyInfo("info") }

    override fun protocolVersion(): Int = answer("protocolVersion") { 1 }

    override fun agree(
        key: KeyRef?,
        peerPublicKey: ByteArray?,
        hkdfSalt: ByteArray?,
        hkdfInfo: ByteArray?,
        outputLength: Int,
        storeAsAlias: String?,
        policy: KeyPolicy?,
    ): Agreement = answer("agree", outputLength, storeAsAlias) {
        Agreement().apply { derivedSecret = ByteArray(outputLength) }
    }

    companion object {
        fun failingWith(code: Int) = FakeKeyholdService().apply { failure = ServiceSpecificException(code, "code $code") }
    }
}
