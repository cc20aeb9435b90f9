// The Apple-only adapters of the enclave sealer: they call CryptoKit,
// Security and LocalAuthentication and nothing else; every decision is in
// EnclaveSealerCore.swift (tested on Linux through doubles).
//
// NOT compiled on Linux CI (no CryptoKit/Security there): type-checked only
// by Xcode on a Mac, and run by the host-app tests on a device
// (ios-bridge/HostApp, see ios-bridge/README.md).
//
// APIs used (Apple Developer Documentation):
// - CryptoKit `SecureEnclave.P256.KeyAgreement.PrivateKey`
//   (init(compactRepresentable:accessControl:authenticationContext:),
//   init(dataRepresentation:authenticationContext:), dataRepresentation,
//   sharedSecretFromKeyAgreement(with:)), `SecureEnclave.isAvailable`,
//   `P256.KeyAgreement`, `SharedSecret.x963DerivedSymmetricKey`, `AES.GCM`.
// - Security `SecItemAdd` / `SecItemCopyMatching` / `SecItemDelete` on
//   `kSecClassGenericPassword`, `SecAccessControlCreateWithFlags` with
//   `.privateKeyUsage` (required for enclave key operations) and
//   optionally `.userPresence`.
// - LocalAuthentication `LAContext.canEvaluatePolicy(.deviceOwnerAuthentication)`.

#if canImport(CryptoKit) && canImport(Security) && canImport(LocalAuthentication)
import CryptoKit
import Foundation
import LocalAuthentication
import Security
#if canImport(CryptoTokenKit)
import CryptoTokenKit
#endif

/// The Secure Enclave sealer: `EnclaveSealerCore` with the enclave key made
/// by CryptoKit in the Secure Enclave and stored (as its
/// `dataRepresentation`, next to the wrapped store key) in one keychain item.
public enum SecureEnclaveSealer {
    /// How the enclave key and its keychain item may be used.
    public struct Configuration: Equatable, Sendable {
        /// The keychain account; one label per store.
        public var label: String
        /// Restricted to the `…ThisDeviceOnly` classes.
        public var accessibility: KeychainAccessibility
        /// The passcode or biometry is asked once per session (each
        /// unwrap of the store key, i.e. after `forgetStoreKey()`).
        public var userPresence: Bool
        /// A keychain access group shared with app extensions
        /// (`kSecAttrAccessGroup`); nil for the app's default group.
        public var accessGroup: String?

        public init(
            label: String = "dev.keyhold.sealer",
            accessibility: KeychainAccessibility,
            userPresence: Bool,
            accessGroup: String? = nil
        ) {
            self.label = label
            self.accessibility = accessibility
            self.userPresence = userPresence
            self.accessGroup = accessGroup
        }

        /// The wallet preset: usable only while the device is unlocked,
        /// only on a device with a passcode (removing it deletes the item,
        /// so the store reports code 17), and every session's first use asks
        /// for the passcode or biometry.
        public static let wallet = Configuration(accessibility: .whenPasscodeSetThisDeviceOnly, userPresence: true)

        /// For background work (e.g. signing in a background task): usable
        /// after the first unlock since boot, no prompt. Weaker: a
        /// compromised app can use the key whenever it runs.
        public static let background = Configuration(accessibility: .afterFirstUnlockThisDeviceOnly, userPresence: false)
    }

    /// True when this device has a Secure Enclave apps can use.
    public static var isAvailable: Bool { SecureEnclave.isAvailable }

    /// A sealer for `configuration`. `KeyholdStore.open` runs its
    /// `preflight()`: no Secure Enclave -> `SealerSetupError.noSecureEnclave`,
    /// no passcode for the wallet preset -> `.passcodeNotSet`.
    public static func make(_ configuration: Configuration = .wallet) -> EnclaveSealerCore {
        EnclaveSealerCore(
            configuration: .init(
                label: configuration.label,
                accessibility: configuration.accessibility,
                userPresence: configuration.userPresence,
                name: "secure-enclave",
                level: "secure-enclave",
                requiresSecureEnclave: true
            ),
            keychain: AppleKeychain(accessGroup: configuration.accessGroup),
            crypto: AppleEnclaveCrypto(hardware: true),
            device: AppleDevice()
        )
    }
}

/// A sealer for the Simulator, SwiftUI previews and tests: the same format
/// and lifecycle as `SecureEnclaveSealer`, real AES-256-GCM and ECIES, but
/// the P-256 key is a software key stored in the keychain item. NOT
/// hardware-backed: never use it for real wallets on devices.
public enum SoftwareSealer {
    /// A software sealer whose item lives in the app's keychain (persists
    /// across launches; the Simulator has a keychain), or in memory when
    /// `ephemeral` (for previews and tests: gone with the process).
    public static func make(label: String = "dev.keyhold.software-sealer", ephemeral: Bool = false) -> EnclaveSealerCore {
        EnclaveSealerCore(
            configuration: .init(
                label: label,
                accessibility: .afterFirstUnlockThisDeviceOnly,
                userPresence: false,
                name: "software",
                level: "software",
                requiresSecureEnclave: false
            ),
            keychain: ephemeral ? InMemorySealerKeychain() as SealerKeychain : AppleKeychain(accessGroup: nil),
            crypto: AppleEnclaveCrypto(hardware: false),
            device: AppleDevice()
        )
    }
}

// MARK: Keychain (Security)

struct AppleKeychain: SealerKeychain {
    let accessGroup: String?

    private func query(service: String, account: String) -> [String: Any] {
        var query: [String: Any] = [
            kSecClass as String: kSecClassGenericPassword,
            kSecAttrService as String: service,
            kSecAttrAccount as String: account,
            // The iOS-style keychain on macOS too (where it needs a signed
            // app: otherwise -34018, reported as such by the core).
            kSecUseDataProtectionKeychain as String: true,
        ]
        if let accessGroup {
            query[kSecAttrAccessGroup as String] = accessGroup
        }
        return query
    }

    func add(service: String, account: String, data: Data, accessibility: KeychainAccessibility) -> KeychainStatus {
        var attributes = query(service: service, account: account)
        attributes[kSecValueData as String] = data
        attributes[kSecAttrAccessible as String] = accessibility.secAttrAccessible
        return KeychainStatus(rawValue: SecItemAdd(attributes as CFDictionary, nil))
    }

    func read(service: String, account: String) -> Result<Data, KeychainFailure> {
        var request = query(service: service, account: account)
        request[kSecReturnData as String] = true
        request[kSecMatchLimit as String] = kSecMatchLimitOne
        var item: CFTypeRef?
        let status = SecItemCopyMatching(request as CFDictionary, &item)
        guard status == errSecSuccess else {
            return .failure(KeychainFailure(KeychainStatus(rawValue: status)))
        }
        guard let data = item as? Data else {
            return .failure(KeychainFailure(KeychainStatus(rawValue: errSecInternalError)))
        }
        return .success(data)
    }

    func delete(service: String, account: String) -> KeychainStatus {
        KeychainStatus(rawValue: SecItemDelete(query(service: service, account: account) as CFDictionary))
    }
}

extension KeychainAccessibility {
    var secAttrAccessible: CFString {
        switch self {
        case .whenPasscodeSetThisDeviceOnly: return kSecAttrAccessibleWhenPasscodeSetThisDeviceOnly
        case .whenUnlockedThisDeviceOnly: return kSecAttrAccessibleWhenUnlockedThisDeviceOnly
        case .afterFirstUnlockThisDeviceOnly: return kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly
        }
    }
}

// MARK: Cryptography (CryptoKit)

/// ECIES here: an ephemeral software P-256 key agrees with the recipient
/// (enclave) public key; the ANSI X9.63 KDF (SHA-256) over the shared
/// secret with sharedInfo = ephemeral public || recipient public || info
/// gives an AES-256 key; AES-GCM seals the plaintext with `info` as AAD.
/// Output: ephemeral public key (65 bytes, X9.63) || nonce || ct || tag.
struct AppleEnclaveCrypto: SealerCrypto {
    /// True: keys in the Secure Enclave. False: software P-256 keys.
    let hardware: Bool

    private static let publicKeyLength = 65

    func createWrappingKey(access: WrappingKeyAccess) throws -> WrappingKeyMaterial {
        do {
            if hardware {
                guard SecureEnclave.isAvailable else { throw SealerCryptoError.noSecureEnclave }
                var flags: SecAccessControlCreateFlags = [.privateKeyUsage]
                if access.userPresence {
                    flags.insert(.userPresence)
                }
                var error: Unmanaged<CFError>?
                guard let control = SecAccessControlCreateWithFlags(
                    kCFAllocatorDefault, access.accessibility.secAttrAccessible, flags, &error
                ) else {
                    if let error {
                        throw error.takeRetainedValue() as Error
                    }
                    throw SealerCryptoError.failure("SecAccessControlCreateWithFlags failed")
                }
                let key = try SecureEnclave.P256.KeyAgreement.PrivateKey(compactRepresentable: false, accessControl: control)
                return WrappingKeyMaterial(keyData: key.dataRepresentation, publicKey: key.publicKey.x963Representation)
            }
            let key = P256.KeyAgreement.PrivateKey(compactRepresentable: false)
            return WrappingKeyMaterial(keyData: key.rawRepresentation, publicKey: key.publicKey.x963Representation)
        } catch {
            throw Self.classify(error)
        }
    }

    func wrap(_ plaintext: Data, to publicKey: Data, info: Data) throws -> Data {
        do {
            let recipient = try P256.KeyAgreement.PublicKey(x963Representation: publicKey)
            let ephemeral = P256.KeyAgreement.PrivateKey(compactRepresentable: false)
            let secret = try ephemeral.sharedSecretFromKeyAgreement(with: recipient)
            let ephemeralPublic = ephemeral.publicKey.x963Representation
            let key = Self.derive(secret, ephemeralPublic: ephemeralPublic, recipientPublic: publicKey, info: info)
            let box = try AES.GCM.seal(plaintext, using: key, authenticating: info)
            guard let combined = box.combined else { throw SealerCryptoError.failure("AES-GCM gave no combined box") }
            return ephemeralPublic + combined
        } catch {
            throw Self.classify(error)
        }
    }

    func unwrap(_ wrapped: Data, keyData: Data, info: Data) throws -> Data {
        guard wrapped.count > Self.publicKeyLength else { throw SealerCryptoError.authenticationFailed }
        let ephemeralPublic = Data(wrapped.prefix(Self.publicKeyLength))
        let box = Data(wrapped.dropFirst(Self.publicKeyLength))
        let secret: SharedSecret
        let recipientPublic: Data
        do {
            let ephemeral = try P256.KeyAgreement.PublicKey(x963Representation: ephemeralPublic)
            if hardware {
                guard SecureEnclave.isAvailable else { throw SealerCryptoError.noSecureEnclave }
                let key: SecureEnclave.P256.KeyAgreement.PrivateKey
                do {
                    key = try SecureEnclave.P256.KeyAgreement.PrivateKey(dataRepresentation: keyData)
                } catch {
                    // Not a key this device's enclave can use.
                    throw SealerCryptoError.keyRejected("\(Self.describe(error))")
                }
                recipientPublic = key.publicKey.x963Representation
                secret = try key.sharedSecretFromKeyAgreement(with: ephemeral)
            } else {
                let key = try P256.KeyAgreement.PrivateKey(rawRepresentation: keyData)
                recipientPublic = key.publicKey.x963Representation
                secret = try key.sharedSecretFromKeyAgreement(with: ephemeral)
            }
        } catch {
            throw Self.classify(error)
        }
        let key = Self.derive(secret, ephemeralPublic: ephemeralPublic, recipientPublic: recipientPublic, info: info)
        return try openAESGCM(box, key: key, aad: info)
    }

    func sealAESGCM(_ plaintext: Data, key: Data, aad: Data) throws -> Data {
        do {
            let box = try AES.GCM.seal(plaintext, using: SymmetricKey(data: key), authenticating: aad)
            guard let combined = box.combined else { throw SealerCryptoError.failure("AES-GCM gave no combined box") }
            return combined
        } catch {
            throw Self.classify(error)
        }
    }

    func openAESGCM(_ combined: Data, key: Data, aad: Data) throws -> Data {
        try openAESGCM(combined, key: SymmetricKey(data: key), aad: aad)
    }

    private func openAESGCM(_ combined: Data, key: SymmetricKey, aad: Data) throws -> Data {
        do {
            let box = try AES.GCM.SealedBox(combined: combined)
            return try AES.GCM.open(box, using: key, authenticating: aad)
        } catch {
            throw Self.classify(error)
        }
    }

    func randomBytes(_ count: Int) throws -> Data {
        var bytes = Data(count: count)
        let status = bytes.withUnsafeMutableBytes { SecRandomCopyBytes(kSecRandomDefault, count, $0.baseAddress!) }
        guard status == errSecSuccess else { throw SealerCryptoError.failure("SecRandomCopyBytes: \(status)") }
        return bytes
    }

    private static func derive(_ secret: SharedSecret, ephemeralPublic: Data, recipientPublic: Data, info: Data) -> SymmetricKey {
        secret.x963DerivedSymmetricKey(
            using: SHA256.self, sharedInfo: ephemeralPublic + recipientPublic + info, outputByteCount: 32
        )
    }

    /// CryptoKit / LocalAuthentication / CryptoTokenKit / OSStatus errors
    /// onto the sealer's classes. Which error a given enclave failure
    /// produces is to be confirmed on devices (README: device checklist).
    static func classify(_ error: Error) -> SealerCryptoError {
        if let error = error as? SealerCryptoError {
            return error
        }
        if let error = error as? CryptoKitError {
            switch error {
            case .authenticationFailure:
                return .authenticationFailed
            default:
                return .failure("CryptoKit \(error)")
            }
        }
        let ns = error as NSError
        if ns.domain == LAError.errorDomain {
            switch LAError.Code(rawValue: ns.code) {
            case .userCancel?, .appCancel?, .systemCancel?, .userFallback?:
                return .userCanceled
            case .notInteractive?:
                return .interactionNotAllowed
            case .passcodeNotSet?:
                return .keyRejected("no device passcode")
            default:
                return .failure(describe(error))
            }
        }
        #if canImport(CryptoTokenKit)
        if ns.domain == TKError.errorDomain {
            switch TKError.Code(rawValue: ns.code) {
            case .objectNotFound?, .tokenNotFound?, .corruptedData?:
                return .keyRejected(describe(error))
            case .canceledByUser?:
                return .userCanceled
            default:
                return .failure(describe(error))
            }
        }
        #endif
        if ns.domain == NSOSStatusErrorDomain {
            switch OSStatus(truncatingIfNeeded: ns.code) {
            case errSecInteractionNotAllowed: return .interactionNotAllowed
            case errSecUserCanceled: return .userCanceled
            case errSecItemNotFound: return .keyRejected(describe(error))
            default: return .failure(describe(error))
            }
        }
        return .failure(describe(error))
    }

    static func describe(_ error: Error) -> String {
        let ns = error as NSError
        return "\(ns.domain) \(ns.code)"
    }
}

// MARK: Device (LocalAuthentication)

struct AppleDevice: SealerDevice {
    var hasSecureEnclave: Bool { SecureEnclave.isAvailable }

    func deviceOwnerAuthentication() -> DeviceOwnerAuthentication {
        var error: NSError?
        if LAContext().canEvaluatePolicy(.deviceOwnerAuthentication, error: &error) {
            return .available
        }
        if let error, error.domain == LAError.errorDomain, error.code == LAError.Code.passcodeNotSet.rawValue {
            return .passcodeNotSet
        }
        return .unavailable(error.map { "\($0.domain) \($0.code)" } ?? "unknown")
    }
}
#endif
