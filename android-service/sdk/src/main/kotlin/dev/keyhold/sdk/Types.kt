package dev.keyhold.sdk

import dev.keyhold.aidl.IKeyholdService

/** Key algorithms (`keyhold.v1.Algorithm`). */
enum class Algorithm(val value: Int) {
    SECP256K1(IKeyholdService.ALGORITHM_SECP256K1),
    P256(IKeyholdService.ALGORITHM_P256),
    ED25519(IKeyholdService.ALGORITHM_ED25519),
    X25519(IKeyholdService.ALGORITHM_X25519),
    AES256_GCM(IKeyholdService.ALGORITHM_AES256_GCM),
    HMAC_SHA256(IKeyholdService.ALGORITHM_HMAC_SHA256),
    ;

    companion object {
        /** The algorithm with this wire value, or null (unset, or newer than this SDK). */
        fun of(value: Int): Algorithm? = entries.firstOrNull { it.value == value }
    }
}

/** Hierarchical-deterministic schemes (`keyhold.v1.HdScheme`). */
enum class HdScheme(val value: Int) {
    BIP32_SECP256K1(IKeyholdService.HD_SCHEME_BIP32_SECP256K1),
    SLIP10_ED25519(IKeyholdService.HD_SCHEME_SLIP10_ED25519),
    SLIP10_P256(IKeyholdService.HD_SCHEME_SLIP10_P256),
    ;

    companion object {
        fun of(value: Int): HdScheme? = entries.firstOrNull { it.value == value }
    }
}

/** Signature schemes (`keyhold.v1.SignatureScheme`); [DEFAULT] lets the key choose. */
enum class SignatureScheme(val value: Int) {
    DEFAULT(IKeyholdService.SIGNATURE_SCHEME_DEFAULT),
    ECDSA_DER(IKeyholdService.SIGNATURE_SCHEME_ECDSA_DER),
    ECDSA_COMPACT(IKeyholdService.SIGNATURE_SCHEME_ECDSA_COMPACT),
    ECDSA_RECOVERABLE(IKeyholdService.SIGNATURE_SCHEME_ECDSA_RECOVERABLE),
    BIP340(IKeyholdService.SIGNATURE_SCHEME_BIP340),
    ED25519(IKeyholdService.SIGNATURE_SCHEME_ED25519),
    HMAC_SHA256_TAG(IKeyholdService.SIGNATURE_SCHEME_HMAC_SHA256_TAG),
}

/** Public key encodings (`keyhold.v1.PublicKeyFormat`). */
enum class PublicKeyFormat(val value: Int) {
    DEFAULT(IKeyholdService.PUBLIC_KEY_FORMAT_DEFAULT),
    SEC1_COMPRESSED(IKeyholdService.PUBLIC_KEY_FORMAT_SEC1_COMPRESSED),
    SEC1_UNCOMPRESSED(IKeyholdService.PUBLIC_KEY_FORMAT_SEC1_UNCOMPRESSED),
    RAW(IKeyholdService.PUBLIC_KEY_FORMAT_RAW),
    SPKI_DER(IKeyholdService.PUBLIC_KEY_FORMAT_SPKI_DER),
    SPKI_PEM(IKeyholdService.PUBLIC_KEY_FORMAT_SPKI_PEM),
    JWK(IKeyholdService.PUBLIC_KEY_FORMAT_JWK),
    XPUB(IKeyholdService.PUBLIC_KEY_FORMAT_XPUB),
    ETH_ADDRESS(IKeyholdService.PUBLIC_KEY_FORMAT_ETH_ADDRESS),
    BTC_P2WPKH(IKeyholdService.PUBLIC_KEY_FORMAT_BTC_P2WPKH),
}

/** Operations a policy can allow (`keyhold.v1.Operation`). */
enum class Operation(val value: Int) {
    GENERATE_KEY(IKeyholdService.OPERATION_GENERATE_KEY),
    IMPORT_KEY(IKeyholdService.OPERATION_IMPORT_KEY),
    GET_PUBLIC_KEY(IKeyholdService.OPERATION_GET_PUBLIC_KEY),
    SIGN(IKeyholdService.OPERATION_SIGN),
    VERIFY(IKeyholdService.OPERATION_VERIFY),
    DERIVE_KEY(IKeyholdService.OPERATION_DERIVE_KEY),
    ENCRYPT(IKeyholdService.OPERATION_ENCRYPT),
    DECRYPT(IKeyholdService.OPERATION_DECRYPT),
    AGREE(IKeyholdService.OPERATION_AGREE),
    DELETE_KEY(IKeyholdService.OPERATION_DELETE_KEY),
    LIST_KEYS(IKeyholdService.OPERATION_LIST_KEYS),
    GET_KEY_INFO(IKeyholdService.OPERATION_GET_KEY_INFO),
    ;

    companion object {
        fun of(value: Int): Operation? = entries.firstOrNull { it.value == value }
    }
}

/** How a key came to be (`keyhold.v1.KeyOrigin`). */
enum class KeyOrigin(val value: Int) {
    GENERATED(IKeyholdService.KEY_ORIGIN_GENERATED),
    IMPORTED(IKeyholdService.KEY_ORIGIN_IMPORTED),
    DERIVED(IKeyholdService.KEY_ORIGIN_DERIVED),
    ;

    companion object {
        fun of(value: Int): KeyOrigin? = entries.firstOrNull { it.value == value }
    }
}

/** Names a key: by the id the service returned, or by alias in the caller's namespace. */
sealed class KeyRef {
    data class Id(val id: String) : KeyRef()
    data class Alias(val alias: String) : KeyRef()
}

/** What to sign or verify. */
sealed class Payload {
    /** Hashed by the scheme (SHA-256 for ECDSA; BIP340 and Ed25519 sign it as is). */
    class Message(val bytes: ByteArray) : Payload()

    /** Exactly 32 bytes already hashed by the caller (ECDSA, BIP340). */
    class Digest(val bytes: ByteArray) : Payload()
}

/**
 * Key material to import. It necessarily starts in the caller's process
 * (the user typed or scanned it); after import it exists only inside the
 * service. Wipe your arrays (`fill(0)`) once the call returns.
 */
sealed class ImportMaterial {
    class RawPrivateKey(val algorithm: Algorithm, val bytes: ByteArray) : ImportMaterial()
    class Pkcs8(val bytes: ByteArray, val algorithm: Algorithm? = null) : ImportMaterial()
    class Sec1(val bytes: ByteArray, val algorithm: Algorithm? = null) : ImportMaterial()

    /** A BIP39 phrase (UTF-8) and optional passphrase (UTF-8). */
    class Mnemonic(
        val phrase: ByteArray,
        val passphrase: ByteArray = ByteArray(0),
        val scheme: HdScheme = HdScheme.BIP32_SECP256K1,
    ) : ImportMaterial()
    class Seed(val seed: ByteArray, val scheme: HdScheme = HdScheme.BIP32_SECP256K1) : ImportMaterial()

    /** A BIP32 extended private key, base58check "xprv..." as UTF-8. */
    class Xprv(val text: ByteArray) : ImportMaterial()
}

/** A rule permitting callers; every field that is set must match. */
class CallerRule(
    val uid: Int? = null,
    val appId: String? = null,
    /** SHA-256 of a signing certificate (32 bytes). */
    val codeSha256: ByteArray? = null,
)

/**
 * A key's policy. Defaults: only the creating app (package + signing
 * certificate), every operation, any path, unlimited uses.
 */
class KeyPolicy(
    val allowedCallers: List<CallerRule> = emptyList(),
    val allowedOperations: Set<Operation> = emptySet(),
    val allowedPathPrefixes: List<String> = emptyList(),
    /** 0: unlimited. */
    val maxUses: Long = 0,
    val bindToCallerCode: Boolean = false,
)

/** Public metadata of a key; never private material. */
class KeyInfo(
    val id: String,
    val alias: String,
    /** Null for a value newer than this SDK. */
    val algorithm: Algorithm?,
    val hdScheme: HdScheme?,
    val origin: KeyOrigin?,
    /** SEC1 compressed or raw 32 bytes; empty for symmetric keys. */
    val publicKey: ByteArray,
    val policy: KeyPolicy,
    val usageCount: Long,
    val createdAtMs: Long,
    /** What protects it, e.g. "android-strongbox" or "android-tee". */
    val sealer: String,
) {
    /** A reference to this key by id. */
    val ref: KeyRef get() = KeyRef.Id(id)
}

/** An encoded public key; [text] is set for textual formats (PEM, JWK, xpub, addresses). */
class PublicKey(val bytes: ByteArray, val text: String?)

/** A derived child: its public key, its xpub (BIP32 only) and its KeyInfo when stored. */
class DerivedKey(val publicKey: ByteArray, val xpub: String?, val stored: KeyInfo?)

/** The HKDF output of an agreement, or the key it was stored as. */
class Agreement(val derivedSecret: ByteArray?, val stored: KeyInfo?)

/**
 * One bounded page of [KeyholdClient.listKeysPage]: keys in ascending key-id
 * order; [nextAfter] (a [KeyInfo.id]) is where the next page starts, null on
 * the last page.
 */
class KeyPage(val keys: List<KeyInfo>, val nextAfter: String?)
