// The iOS hardware door: a `Sealer` rooted in a Secure Enclave P-256 key.
//
// Design
// ------
// A Secure Enclave key can only be used for ECDH/ECIES and ECDSA; it cannot
// run AES-GCM with associated data. So the enclave key wraps a per-store
// AES-256 key (the "store key"), and each secret is sealed with AES-256-GCM
// under that store key with the core's AAD authenticated natively:
//
//   Keychain, kSecClassKey (token: Secure Enclave, never exportable)
//     P-256 private key, tag `tag`
//   Keychain, kSecClassGenericPassword (service dev.keyhold.sealer, account `tag`)
//     0x01 || keyId(16) || ECIES_enclavePublic(keyId || storeKey(32))
//     ECIES = eciesEncryptionCofactorVariableIVX963SHA256AESGCM
//   Each sealed secret, stored by Keyhold:
//     0x01 || keyId(16) || nonce(12) || AES-GCM ciphertext || tag(16)
//     AES-GCM AAD = "keyhold/secure-enclave/v1" || 0x01 || keyId || aad
//
// Why not ECIES on every secret, with the AAD inside the payload? ECIES is
// public-key encryption: anyone who has the enclave's public key (which is
// not secret) can produce a blob that decrypts correctly, including one that
// carries the right AAD hash, so the AAD check would authenticate nothing.
// An attacker able to write the database could then swap in a wallet key of
// their choosing. AES-GCM under a key that exists only after the enclave
// unwraps it cannot be forged, binds the AAD (key id, owner, algorithm,
// schema) by itself, and costs one enclave operation per app session
// instead of one per key.
//
// Error mapping (the core's SealerErrorKind, surfacing as codes 16/17/18):
//   no Secure Enclave (Simulator, very old device)  -> KeyInvalidated
//   enclave key or store key deleted / replaced     -> KeyInvalidated
//   device locked, user cancelled, enclave busy     -> Unavailable
//   blob or AAD altered, malformed blob             -> AuthenticationFailed

import CryptoKit
import CryptoTokenKit
import Foundation
import KeyholdUniFFI
import Security

/// Seals Keyhold's secrets under a store key wrapped by a Secure Enclave
/// P-256 key. See the file header for the format and the reasoning.
///
/// Thread-safe. The unwrapped store key is cached in memory after the first
/// use; `forgetStoreKey()` drops it (the next use asks the enclave again,
/// which prompts for the passcode/biometry when `requireUserPresence`).
public final class SecureEnclaveSealer: Sealer, @unchecked Sendable {
    /// The tag used when none is given.
    public static let defaultTag = "dev.keyhold.sealer"

    /// True when this device has a Secure Enclave that apps can use. False
    /// in the iOS Simulator.
    public static var isAvailable: Bool {
        SecureEnclave.isAvailable
    }

    /// The application tag of the enclave key and the account of the
    /// wrapped store key in the Keychain.
    public let tag: String

    private static let service = "dev.keyhold.sealer"
    private static let formatVersion: UInt8 = 1
    private static let keyIdLength = 16
    private static let storeKeyLength = 32
    private static let nonceLength = 12
    private static let tagLength = 16
    private static let domain = Data("keyhold/secure-enclave/v1".utf8)
    private static let wrapAlgorithm = SecKeyAlgorithm.eciesEncryptionCofactorVariableIVX963SHA256AESGCM

    private let accessibility: CFString
    private let accessFlags: SecAccessControlCreateFlags
    private let lock = NSLock()
    private var cachedStoreKey: StoreKey?

    private struct StoreKey {
        let id: Data
        let key: SymmetricKey
    }

    /// - Parameters:
    ///   - tag: names the enclave key and the wrapped store key; one tag per
    ///     Keyhold store.
    ///   - accessibility: when the keys are usable. The default allows use
    ///     in the background after the first unlock since boot; both keys
    ///     are `ThisDeviceOnly` in any case (never in backups or on another
    ///     device).
    ///   - requireUserPresence: when true, unwrapping the store key (once
    ///     per session) requires the passcode or biometry.
    /// - Throws: `SealerError.KeyInvalidated` when the device has no Secure
    ///   Enclave (the Simulator included): use another sealer there.
    public init(
        tag: String = SecureEnclaveSealer.defaultTag,
        accessibility: CFString = kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly,
        requireUserPresence: Bool = false
    ) throws {
        guard SecureEnclaveSealer.isAvailable else {
            throw SealerError.KeyInvalidated(
                detail: "this device has no Secure Enclave (iOS Simulator or an unsupported device); "
                    + "SecureEnclaveSealer cannot be used here"
            )
        }
        self.tag = tag
        self.accessibility = accessibility
        self.accessFlags = requireUserPresence ? [.privateKeyUsage, .userPresence] : [.privateKeyUsage]
    }

    // MARK: Sealer

    public func name() -> String {
        "secure-enclave"
    }

    public func openKey(mayCreate: Bool, expectedLabel: String?) throws -> WrappingKeyInfo {
        let existed = try hasWrappedStoreKey()
        if !existed && !mayCreate {
            throw SealerError.KeyNotFound(detail: "no wrapped store key \(tag) in the keychain")
        }
        _ = try storeKey(createIfMissing: mayCreate)
        return WrappingKeyInfo(
            label: tag,
            levelRequested: "secure-enclave",
            levelObtained: "secure-enclave",
            created: !existed
        )
    }

    private func hasWrappedStoreKey() throws -> Bool {
        lock.lock()
        defer { lock.unlock() }
        return try cachedStoreKey != nil || readWrappedStoreKey() != nil
    }

    public func seal(secret: Data, aad: Data) throws -> Data {
        let store = try storeKey(createIfMissing: true)
        let header = Data([SecureEnclaveSealer.formatVersion]) + store.id
        let box: AES.GCM.SealedBox
        do {
            box = try AES.GCM.seal(secret, using: store.key, authenticating: SecureEnclaveSealer.domain + header + aad)
        } catch {
            throw SealerError.Unavailable(detail: "AES-GCM seal failed: \(error)")
        }
        guard let combined = box.combined else {
            throw SealerError.Unavailable(detail: "AES-GCM returned no combined box")
        }
        return header + combined
    }

    public func unseal(sealed: Data, aad: Data) throws -> Data {
        let blob = Data(sealed)
        let headerLength = 1 + SecureEnclaveSealer.keyIdLength
        let minimum = headerLength + SecureEnclaveSealer.nonceLength + SecureEnclaveSealer.tagLength
        guard blob.count >= minimum, blob[0] == SecureEnclaveSealer.formatVersion else {
            throw SealerError.AuthenticationFailed(detail: "not a Secure Enclave sealer blob of a known version")
        }
        let header = blob.subdata(in: 0..<headerLength)
        let keyId = blob.subdata(in: 1..<headerLength)
        let store = try storeKey(createIfMissing: false)
        guard keyId == store.id else {
            throw SealerError.KeyInvalidated(
                detail: "sealed under a store key that no longer exists on this device"
            )
        }
        do {
            let box = try AES.GCM.SealedBox(combined: blob.subdata(in: headerLength..<blob.count))
            return try AES.GCM.open(box, using: store.key, authenticating: SecureEnclaveSealer.domain + header + aad)
        } catch {
            throw SealerError.AuthenticationFailed(detail: "the sealed secret or its associated data was altered")
        }
    }

    // MARK: Management

    /// Drops the unwrapped store key from memory.
    public func forgetStoreKey() {
        lock.lock()
        defer { lock.unlock() }
        cachedStoreKey = nil
    }

    /// Deletes the enclave key and the wrapped store key of `tag`. Every
    /// secret sealed under them becomes unrecoverable (code 17 on use).
    public static func deleteKeys(tag: String = SecureEnclaveSealer.defaultTag) throws {
        for query in [enclaveKeyQuery(tag: tag), storeKeyQuery(tag: tag)] {
            let status = SecItemDelete(query as CFDictionary)
            guard status == errSecSuccess || status == errSecItemNotFound else {
                throw sealerError(status: status, doing: "delete the sealer keys")
            }
        }
    }

    // MARK: Store key

    private func storeKey(createIfMissing: Bool) throws -> StoreKey {
        lock.lock()
        defer { lock.unlock() }
        if let cached = cachedStoreKey {
            return cached
        }
        let store: StoreKey
        if let wrapped = try readWrappedStoreKey() {
            guard let enclaveKey = try findEnclaveKey() else {
                throw SealerError.KeyInvalidated(
                    detail: "the Secure Enclave key \(tag) is gone; secrets sealed under it cannot be recovered"
                )
            }
            store = try unwrap(wrapped, with: enclaveKey)
        } else {
            guard createIfMissing else {
                throw SealerError.KeyInvalidated(
                    detail: "no store key \(tag) on this device: the secret was sealed elsewhere or the key was deleted"
                )
            }
            let enclaveKey = try findEnclaveKey() ?? createEnclaveKey()
            let fresh = StoreKey(
                id: SymmetricKey(size: .bits128).withUnsafeBytes { Data($0) },
                key: SymmetricKey(size: .bits256)
            )
            try saveWrappedStoreKey(wrap(fresh, with: enclaveKey))
            store = fresh
        }
        cachedStoreKey = store
        return store
    }

    private func wrap(_ store: StoreKey, with enclaveKey: SecKey) throws -> Data {
        guard let publicKey = SecKeyCopyPublicKey(enclaveKey),
              SecKeyIsAlgorithmSupported(publicKey, .encrypt, SecureEnclaveSealer.wrapAlgorithm)
        else {
            throw SealerError.KeyInvalidated(detail: "the Secure Enclave key \(tag) cannot encrypt with ECIES")
        }
        var plaintext = store.id
        store.key.withUnsafeBytes { plaintext.append(contentsOf: $0) }
        defer { plaintext.resetBytes(in: 0..<plaintext.count) }
        var error: Unmanaged<CFError>?
        guard let wrapped = SecKeyCreateEncryptedData(
            publicKey, SecureEnclaveSealer.wrapAlgorithm, plaintext as CFData, &error
        ) as Data? else {
            throw SecureEnclaveSealer.sealerError(error, doing: "wrap the store key")
        }
        return Data([SecureEnclaveSealer.formatVersion]) + store.id + wrapped
    }

    private func unwrap(_ item: Data, with enclaveKey: SecKey) throws -> StoreKey {
        let bytes = Data(item)
        let idEnd = 1 + SecureEnclaveSealer.keyIdLength
        guard bytes.count > idEnd, bytes[0] == SecureEnclaveSealer.formatVersion else {
            throw SealerError.KeyInvalidated(detail: "the wrapped store key \(tag) is malformed")
        }
        let id = bytes.subdata(in: 1..<idEnd)
        var error: Unmanaged<CFError>?
        guard var plaintext = SecKeyCreateDecryptedData(
            enclaveKey, SecureEnclaveSealer.wrapAlgorithm, bytes.subdata(in: idEnd..<bytes.count) as CFData, &error
        ) as Data? else {
            throw SecureEnclaveSealer.sealerError(error, doing: "unwrap the store key")
        }
        defer { plaintext.resetBytes(in: 0..<plaintext.count) }
        let expected = SecureEnclaveSealer.keyIdLength + SecureEnclaveSealer.storeKeyLength
        guard plaintext.count == expected, plaintext.prefix(SecureEnclaveSealer.keyIdLength) == id else {
            throw SealerError.KeyInvalidated(detail: "the wrapped store key \(tag) does not belong to its enclave key")
        }
        let key = SymmetricKey(data: plaintext.subdata(in: SecureEnclaveSealer.keyIdLength..<expected))
        return StoreKey(id: id, key: key)
    }

    // MARK: Keychain

    private static func enclaveKeyQuery(tag: String) -> [String: Any] {
        [
            kSecClass as String: kSecClassKey,
            kSecAttrKeyClass as String: kSecAttrKeyClassPrivate,
            kSecAttrKeyType as String: kSecAttrKeyTypeECSECPrimeRandom,
            kSecAttrApplicationTag as String: Data(tag.utf8),
        ]
    }

    private static func storeKeyQuery(tag: String) -> [String: Any] {
        [
            kSecClass as String: kSecClassGenericPassword,
            kSecAttrService as String: service,
            kSecAttrAccount as String: tag,
        ]
    }

    private func findEnclaveKey() throws -> SecKey? {
        var query = SecureEnclaveSealer.enclaveKeyQuery(tag: tag)
        query[kSecReturnRef as String] = true
        var item: CFTypeRef?
        let status = SecItemCopyMatching(query as CFDictionary, &item)
        switch status {
        case errSecSuccess:
            guard let item, CFGetTypeID(item) == SecKeyGetTypeID() else {
                throw SealerError.KeyInvalidated(detail: "the Keychain item \(tag) is not a key")
            }
            return (item as! SecKey)
        case errSecItemNotFound:
            return nil
        default:
            throw SecureEnclaveSealer.sealerError(status: status, doing: "find the Secure Enclave key")
        }
    }

    private func createEnclaveKey() throws -> SecKey {
        var error: Unmanaged<CFError>?
        guard let access = SecAccessControlCreateWithFlags(kCFAllocatorDefault, accessibility, accessFlags, &error) else {
            throw SecureEnclaveSealer.sealerError(error, doing: "create the key's access control")
        }
        let attributes: [String: Any] = [
            kSecAttrKeyType as String: kSecAttrKeyTypeECSECPrimeRandom,
            kSecAttrKeySizeInBits as String: 256,
            kSecAttrTokenID as String: kSecAttrTokenIDSecureEnclave,
            kSecPrivateKeyAttrs as String: [
                kSecAttrIsPermanent as String: true,
                kSecAttrApplicationTag as String: Data(tag.utf8),
                kSecAttrAccessControl as String: access,
            ] as [String: Any],
        ]
        guard let key = SecKeyCreateRandomKey(attributes as CFDictionary, &error) else {
            throw SecureEnclaveSealer.sealerError(error, doing: "create the Secure Enclave key")
        }
        return key
    }

    private func readWrappedStoreKey() throws -> Data? {
        var query = SecureEnclaveSealer.storeKeyQuery(tag: tag)
        query[kSecReturnData as String] = true
        query[kSecMatchLimit as String] = kSecMatchLimitOne
        var item: CFTypeRef?
        let status = SecItemCopyMatching(query as CFDictionary, &item)
        switch status {
        case errSecSuccess:
            guard let data = item as? Data else {
                throw SealerError.KeyInvalidated(detail: "the wrapped store key \(tag) has no data")
            }
            return data
        case errSecItemNotFound:
            return nil
        default:
            throw SecureEnclaveSealer.sealerError(status: status, doing: "read the wrapped store key")
        }
    }

    private func saveWrappedStoreKey(_ wrapped: Data) throws {
        var attributes = SecureEnclaveSealer.storeKeyQuery(tag: tag)
        attributes[kSecValueData as String] = wrapped
        attributes[kSecAttrAccessible as String] = accessibility
        let status = SecItemAdd(attributes as CFDictionary, nil)
        guard status == errSecSuccess else {
            throw SecureEnclaveSealer.sealerError(status: status, doing: "save the wrapped store key")
        }
    }

    // MARK: Errors

    private static func sealerError(_ error: Unmanaged<CFError>?, doing what: String) -> SealerError {
        guard let error else {
            return SealerError.Unavailable(detail: "could not \(what)")
        }
        let nsError = error.takeRetainedValue() as Error as NSError
        if nsError.domain == NSOSStatusErrorDomain {
            return sealerError(status: OSStatus(truncatingIfNeeded: nsError.code), doing: what)
        }
        if nsError.domain == TKError.errorDomain,
           nsError.code == TKError.Code.objectNotFound.rawValue || nsError.code == TKError.Code.tokenNotFound.rawValue {
            return SealerError.KeyInvalidated(detail: "could not \(what): \(nsError.localizedDescription)")
        }
        // Cancelled authentication, busy hardware, and anything unknown:
        // retryable, never reported as a lost key.
        return SealerError.Unavailable(detail: "could not \(what): \(nsError.domain) \(nsError.code)")
    }

    private static func sealerError(status: OSStatus, doing what: String) -> SealerError {
        let text = (SecCopyErrorMessageString(status, nil) as String?) ?? "OSStatus \(status)"
        let detail = "could not \(what): \(text) (\(status))"
        switch status {
        case errSecItemNotFound:
            return SealerError.KeyInvalidated(detail: detail)
        default:
            // errSecInteractionNotAllowed (device locked), errSecUserCanceled,
            // errSecAuthFailed, errSecNotAvailable, ...: retry later.
            return SealerError.Unavailable(detail: detail)
        }
    }
}
