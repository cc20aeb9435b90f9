package dev.keyhold.aidl;

import dev.keyhold.aidl.Agreement;
import dev.keyhold.aidl.DerivedKey;
import dev.keyhold.aidl.ImportMaterial;
import dev.keyhold.aidl.KeyInfo;
import dev.keyhold.aidl.KeyPage;
import dev.keyhold.aidl.KeyPolicy;
import dev.keyhold.aidl.KeyRef;
import dev.keyhold.aidl.Payload;
import dev.keyhold.aidl.PublicKey;

/**
 * Keyhold: keys stay inside the service; callers get public keys,
 * signatures, ciphertexts and derived public material, never private keys.
 *
 * Caller identity is established by the service (Binder.getCallingUid(),
 * then the package and its signing certificates); nothing a caller passes
 * names who it is. Keys belong to (package, signing certificate).
 *
 * FAILURES: every method throws android.os.ServiceSpecificException whose
 * errorCode is one of ERROR_* below. These numbers are the core's stable
 * error codes (keyhold.v1.ErrorCode in rust-core/proto/keyhold.proto and
 * ErrorCode in rust-core/src/error.rs): one table, shared with the socket
 * protocol, uniffi and the CLI.
 *
 * COMPATIBILITY (read before editing): transaction codes are assigned in
 * declaration order. New methods are added ONLY AT THE END of this
 * interface; never reorder, rename, remove or change the parameters of an
 * existing method, so clients built against an older version keep working.
 * Parcelables only ever get new fields appended (structured parcelables
 * skip trailing fields they do not know). Constants are never renumbered.
 * A client calling a method the service does not have gets a default value
 * (null/0/false) without error: check protocolVersion() first.
 *
 * Enum-like int arguments use the constants below; their values are the
 * keyhold.v1 enum numbers and oneof field numbers (a test checks them).
 */
interface IKeyholdService {
    // ---- Error codes (ServiceSpecificException.errorCode) = keyhold.v1.ErrorCode
    const int ERROR_MALFORMED_REQUEST = 1;
    const int ERROR_REQUEST_TOO_LARGE = 2;
    const int ERROR_UNSUPPORTED_OPERATION = 3;
    const int ERROR_KEY_NOT_FOUND = 4;
    const int ERROR_PERMISSION_DENIED = 5;
    const int ERROR_OPERATION_NOT_ALLOWED = 6;
    const int ERROR_INCOMPATIBLE_KEY = 7;
    const int ERROR_INVALID_PATH = 8;
    const int ERROR_INVALID_MNEMONIC = 9;
    const int ERROR_INVALID_KEY_MATERIAL = 10;
    const int ERROR_INVALID_ARGUMENT = 11;
    const int ERROR_ALIAS_EXISTS = 12;
    const int ERROR_USAGE_LIMIT_EXCEEDED = 13;
    const int ERROR_PATH_NOT_ALLOWED = 14;
    const int ERROR_DECRYPTION_FAILED = 15;
    /**
     * Keystore could not do it now and did not say the key is gone (busy,
     * restarting, device locked, user not authenticated recently). Nothing
     * was lost: retry later, after the user unlocks or authenticates; never
     * delete data because of it.
     */
    const int ERROR_SEALER_UNAVAILABLE = 16;
    /**
     * The wrapping key is permanently unusable (lock screen removed for an
     * auth-bound key, Keystore wiped) or missing for a store with records:
     * every key of this store is unusable on this device. Recover from the
     * wallet's own backup (e.g. re-import the mnemonic); do not retry in a loop.
     */
    const int ERROR_SEALER_KEY_INVALIDATED = 17;
    /** One sealed record failed authentication: that key is unusable; restore it from backup. */
    const int ERROR_CORRUPT_KEY_RECORD = 18;
    const int ERROR_STORAGE_FAILURE = 19;
    /** The Keystore returned cleartext or did not round-trip: do not create keys on this device. */
    const int ERROR_SELF_TEST_FAILED = 20;
    const int ERROR_UNSUPPORTED_VERSION = 21;
    const int ERROR_UNAVAILABLE = 22;
    const int ERROR_INTERNAL = 23;

    // ---- Algorithms = keyhold.v1.Algorithm
    const int ALGORITHM_UNSPECIFIED = 0;
    const int ALGORITHM_SECP256K1 = 1;
    const int ALGORITHM_P256 = 2;
    const int ALGORITHM_ED25519 = 3;
    const int ALGORITHM_X25519 = 4;
    const int ALGORITHM_AES256_GCM = 5;
    const int ALGORITHM_HMAC_SHA256 = 6;

    // ---- HD schemes = keyhold.v1.HdScheme
    const int HD_SCHEME_NONE = 0;
    const int HD_SCHEME_BIP32_SECP256K1 = 1;
    const int HD_SCHEME_SLIP10_ED25519 = 2;
    const int HD_SCHEME_SLIP10_P256 = 3;

    // ---- Signature schemes = keyhold.v1.SignatureScheme (0: the key's default)
    const int SIGNATURE_SCHEME_DEFAULT = 0;
    const int SIGNATURE_SCHEME_ECDSA_DER = 1;
    const int SIGNATURE_SCHEME_ECDSA_COMPACT = 2;
    const int SIGNATURE_SCHEME_ECDSA_RECOVERABLE = 3;
    const int SIGNATURE_SCHEME_BIP340 = 4;
    const int SIGNATURE_SCHEME_ED25519 = 5;
    const int SIGNATURE_SCHEME_HMAC_SHA256_TAG = 6;

    // ---- Public key formats = keyhold.v1.PublicKeyFormat (0: SEC1 compressed / raw)
    const int PUBLIC_KEY_FORMAT_DEFAULT = 0;
    const int PUBLIC_KEY_FORMAT_SEC1_COMPRESSED = 1;
    const int PUBLIC_KEY_FORMAT_SEC1_UNCOMPRESSED = 2;
    const int PUBLIC_KEY_FORMAT_RAW = 3;
    const int PUBLIC_KEY_FORMAT_SPKI_DER = 4;
    const int PUBLIC_KEY_FORMAT_SPKI_PEM = 5;
    const int PUBLIC_KEY_FORMAT_JWK = 6;
    const int PUBLIC_KEY_FORMAT_XPUB = 7;
    const int PUBLIC_KEY_FORMAT_ETH_ADDRESS = 8;
    const int PUBLIC_KEY_FORMAT_BTC_P2WPKH = 9;

    // ---- Operations (KeyPolicy.allowedOperations) = keyhold.v1.Operation
    const int OPERATION_GENERATE_KEY = 1;
    const int OPERATION_IMPORT_KEY = 2;
    const int OPERATION_GET_PUBLIC_KEY = 3;
    const int OPERATION_SIGN = 4;
    const int OPERATION_VERIFY = 5;
    const int OPERATION_DERIVE_KEY = 6;
    const int OPERATION_ENCRYPT = 7;
    const int OPERATION_DECRYPT = 8;
    const int OPERATION_AGREE = 9;
    const int OPERATION_DELETE_KEY = 10;
    const int OPERATION_LIST_KEYS = 11;
    const int OPERATION_GET_KEY_INFO = 12;

    // ---- Key origins (KeyInfo.origin) = keyhold.v1.KeyOrigin
    const int KEY_ORIGIN_GENERATED = 1;
    const int KEY_ORIGIN_IMPORTED = 2;
    const int KEY_ORIGIN_DERIVED = 3;

    // ---- KeyRef.by = field numbers of the keyhold.v1.KeyRef oneof
    const int KEY_REF_BY_ID = 1;
    const int KEY_REF_BY_ALIAS = 2;

    // ---- Payload.kind = field numbers of the keyhold.v1.SignRequest payload oneof
    const int PAYLOAD_MESSAGE = 3;
    const int PAYLOAD_DIGEST = 4;

    // ---- ImportMaterial.kind = field numbers of the keyhold.v1.ImportKeyRequest material oneof
    const int MATERIAL_RAW_PRIVATE_KEY = 10;
    const int MATERIAL_PKCS8 = 11;
    const int MATERIAL_SEC1 = 12;
    const int MATERIAL_MNEMONIC = 13;
    const int MATERIAL_SEED = 14;
    const int MATERIAL_XPRV = 15;

    /**
     * Generates a key. `algorithm` is ALGORITHM_*; for an HD root (random
     * 32-byte seed) pass `hdScheme` (HD_SCHEME_*) and ALGORITHM_UNSPECIFIED.
     * A null policy is the default policy.
     */
    KeyInfo generateKey(String alias, int algorithm, int hdScheme, in @nullable KeyPolicy policy);

    /** Imports key material; raw keys need `algorithm`, seeds and mnemonics `hdScheme`. */
    KeyInfo importKey(String alias, int algorithm, int hdScheme, in ImportMaterial material,
            in @nullable KeyPolicy policy);

    /** The key's public key in `format` (PUBLIC_KEY_FORMAT_*), of the HD child at `path` if set. */
    PublicKey getPublicKey(in KeyRef key, int format, @nullable String path);

    /** Signs `payload` with `scheme` (SIGNATURE_SCHEME_*), with the HD child at `path` if set. */
    byte[] sign(in KeyRef key, int scheme, in Payload payload, @nullable String path);

    /** Verifies `signature` over `payload`; false when it does not verify. */
    boolean verify(in KeyRef key, int scheme, in Payload payload, in byte[] signature,
            @nullable String path);

    /** Derives the child at `path`; stores it as a new key when `storeAsAlias` is set. */
    DerivedKey deriveKey(in KeyRef key, String path, @nullable String storeAsAlias,
            in @nullable KeyPolicy policy);

    /** AES-256-GCM: returns nonce (12) || ciphertext || tag (16). */
    byte[] encrypt(in KeyRef key, in byte[] plaintext, in @nullable byte[] associatedData);

    /** Reverses encrypt; ERROR_DECRYPTION_FAILED when the data or AAD were altered. */
    byte[] decrypt(in KeyRef key, in byte[] ciphertext, in @nullable byte[] associatedData);

    /** Deletes the key. */
    void deleteKey(in KeyRef key);

    /**
     * The caller's keys, by alias, in one reply: with many keys (or large
     * policies) the reply can outgrow the Binder buffer. Use listKeysPage.
     */
    KeyInfo[] listKeys();

    /** Metadata of one key, with its usage count. */
    KeyInfo getKeyInfo(in KeyRef key);

    /** The wire protocol version of the core (1). */
    int protocolVersion();

    // ---- Methods below were added after the list above. Append only. ----

    /**
     * ECDH (secp256k1, P-256) or X25519 with `peerPublicKey`, then
     * HKDF-SHA256 to `outputLength` bytes (16..64). When `storeAsAlias` is
     * set the output is stored as a new AES-256-GCM key instead of returned.
     */
    Agreement agree(in KeyRef key, in byte[] peerPublicKey, in @nullable byte[] hkdfSalt,
            in @nullable byte[] hkdfInfo, int outputLength, @nullable String storeAsAlias,
            in @nullable KeyPolicy policy);

    /**
     * One bounded page of the caller's keys in ascending key-id order (ids
     * are random and stable: keys added or deleted between pages neither
     * shift nor repeat the others). Starts after `afterId` (an unsigned
     * 64-bit key id, KeyInfo.id parsed as hex) when `hasAfterId`, else at the
     * first key; the id need not exist any more. `limit` 0 is the default
     * page size (50); the core caps every page at 100 keys and 256 KiB of
     * records (at least one key), so each reply stays well inside the
     * Binder buffer. Repeat with the page's nextAfterId while hasNextAfterId.
     */
    KeyPage listKeysPage(boolean hasAfterId, long afterId, int limit);
}
