// What the enclave sealer core (EnclaveSealerCore.swift) needs from the
// platform, as three small protocols. On Apple platforms they are
// implemented by thin adapters that only call Security, CryptoKit and
// LocalAuthentication (SecureEnclaveSealer.swift, SoftwareSealer.swift);
// the Linux tests implement them with doubles that fail the way Apple's
// APIs are documented to fail (Tests/KeyholdTests/Doubles).
//
// Nothing here is Apple-only, so all of it compiles and is tested on Linux.

import Foundation

// MARK: Keychain

/// An `OSStatus` from a Keychain call, with the codes the sealer acts on.
///
/// Values from Apple's Security framework (`SecBase.h`; "Security Framework
/// Result Codes" in Apple's documentation).
public struct KeychainStatus: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// `errSecSuccess`.
    public static let success = KeychainStatus(rawValue: 0)
    /// `errSecUserCanceled`: the user cancelled the passcode/biometry prompt.
    public static let userCanceled = KeychainStatus(rawValue: -128)
    /// `errSecNotAvailable`: no keychain is available.
    public static let notAvailable = KeychainStatus(rawValue: -25291)
    /// `errSecAuthFailed`: the user name or passphrase was not correct (also
    /// what an add of a `WhenPasscodeSet` item reports without a passcode).
    public static let authFailed = KeychainStatus(rawValue: -25293)
    /// `errSecDuplicateItem`: `SecItemAdd` found an item with the same
    /// primary key (for generic passwords: class, service, account, access
    /// group, synchronizable).
    public static let duplicateItem = KeychainStatus(rawValue: -25299)
    /// `errSecItemNotFound`.
    public static let itemNotFound = KeychainStatus(rawValue: -25300)
    /// `errSecInteractionNotAllowed`: the item's accessibility class does not
    /// allow access now (device locked, or before the first unlock).
    public static let interactionNotAllowed = KeychainStatus(rawValue: -25308)
    /// `errSecDecode`: what `SecItemAdd` of a `WhenPasscodeSet` item
    /// reported on a device without a passcode before iOS 9.2 (later:
    /// `errSecAuthFailed`; reports collected in liamnichols/UIDevice-PasscodeStatus
    /// issues #6 and #9).
    public static let decode = KeychainStatus(rawValue: -26275)
    /// `errSecMissingEntitlement`: the app has no keychain entitlement (an
    /// unsigned test bundle, a missing `keychain-access-groups`).
    public static let missingEntitlement = KeychainStatus(rawValue: -34018)

    public var description: String { "OSStatus \(rawValue)" }
}

/// When a keychain item (and the Secure Enclave key whose token it holds)
/// can be used. Only the `…ThisDeviceOnly` classes: Keyhold's items are
/// never synchronised, backed up to another device or migrated, because the
/// enclave key they name exists on one device only.
///
/// The wallet preset is `.whenPasscodeSetThisDeviceOnly` with user presence
/// (`SecureEnclaveSealer.Configuration.wallet`): usable only while unlocked,
/// only on a device with a passcode, and deleted by the system if the
/// passcode is removed (Apple: `kSecAttrAccessibleWhenPasscodeSetThisDeviceOnly`).
public enum KeychainAccessibility: String, CaseIterable, Sendable {
    /// `kSecAttrAccessibleWhenPasscodeSetThisDeviceOnly`: only while
    /// unlocked, only with a passcode set; removing the passcode deletes the
    /// item. The wallet preset.
    case whenPasscodeSetThisDeviceOnly
    /// `kSecAttrAccessibleWhenUnlockedThisDeviceOnly`: only while unlocked.
    case whenUnlockedThisDeviceOnly
    /// `kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly`: after the first
    /// unlock since boot, also while locked (background work).
    case afterFirstUnlockThisDeviceOnly

    /// True when this class needs the device to be unlocked at the time of use.
    public var requiresUnlockedDevice: Bool {
        self != .afterFirstUnlockThisDeviceOnly
    }

    /// True when this class cannot hold items on a device without a passcode.
    public var requiresPasscode: Bool {
        self == .whenPasscodeSetThisDeviceOnly
    }
}

/// The one keychain item kind the sealer uses: a generic password
/// (`kSecClassGenericPassword`) in service `service`, account `account`.
/// Mirrors `SecItemAdd`, `SecItemCopyMatching` (`kSecReturnData`,
/// `kSecMatchLimitOne`) and `SecItemDelete`, returning their `OSStatus`.
public protocol SealerKeychain: Sendable {
    /// `SecItemAdd`. Must not replace an existing item: `.duplicateItem`.
    func add(service: String, account: String, data: Data, accessibility: KeychainAccessibility) -> KeychainStatus
    /// `SecItemCopyMatching` returning the item's data, or the status.
    func read(service: String, account: String) -> Result<Data, KeychainFailure>
    /// `SecItemDelete`.
    func delete(service: String, account: String) -> KeychainStatus
}

/// A non-success `KeychainStatus` as an `Error` (for `Result`).
public struct KeychainFailure: Error, Equatable, Sendable {
    public let status: KeychainStatus
    public init(_ status: KeychainStatus) { self.status = status }
}

// MARK: Cryptography

/// How a new wrapping key may be used (`SecAccessControlCreateWithFlags`).
public struct WrappingKeyAccess: Equatable, Sendable {
    /// The accessibility class of the key and of its keychain item.
    public var accessibility: KeychainAccessibility
    /// `.userPresence`: every use of the private key (once per session, see
    /// EnclaveSealerCore) asks for the passcode or biometry.
    public var userPresence: Bool

    public init(accessibility: KeychainAccessibility, userPresence: Bool) {
        self.accessibility = accessibility
        self.userPresence = userPresence
    }
}

/// A freshly created wrapping key: `keyData` is what must be stored to use
/// the private key again (for the Secure Enclave, CryptoKit's
/// `dataRepresentation`: an opaque blob only this device's enclave can
/// use); `publicKey` is its X9.63 public key.
public struct WrappingKeyMaterial: Sendable {
    public let keyData: Data
    public let publicKey: Data
    public init(keyData: Data, publicKey: Data) {
        self.keyData = keyData
        self.publicKey = publicKey
    }
}

/// Failures of `SealerCrypto`, classified by what the sealer must report.
public enum SealerCryptoError: Error, Equatable, Sendable {
    /// This device has no Secure Enclave (the Simulator, old Macs).
    case noSecureEnclave
    /// The stored key data is not usable by this device's enclave (another
    /// device, an erased enclave, a key invalidated by a passcode removal or
    /// biometry change). Permanent.
    case keyRejected(String)
    /// An AES-GCM or ECIES tag did not verify: the data or its associated
    /// data is not what was sealed. Never returns plaintext.
    case authenticationFailed
    /// The user cancelled the passcode/biometry prompt. Retryable.
    case userCanceled
    /// The key may not be used now (device locked). Retryable.
    case interactionNotAllowed
    /// Anything else, with a description. Treated as retryable.
    case failure(String)
}

/// The cryptography the sealer core needs. Apple: CryptoKit, with the
/// wrapping key in the Secure Enclave (or in software for the simulator).
public protocol SealerCrypto: Sendable {
    /// Creates a new P-256 key-agreement key with `access`.
    func createWrappingKey(access: WrappingKeyAccess) throws -> WrappingKeyMaterial
    /// ECIES: encrypts `plaintext` to `publicKey` (no private-key use, no
    /// prompt), authenticating `info`.
    func wrap(_ plaintext: Data, to publicKey: Data, info: Data) throws -> Data
    /// Decrypts `wrapped` with the private key of `keyData` (the enclave
    /// operation; may prompt for user presence).
    func unwrap(_ wrapped: Data, keyData: Data, info: Data) throws -> Data
    /// AES-256-GCM with a fresh random 96-bit nonce: nonce || ct || tag.
    func sealAESGCM(_ plaintext: Data, key: Data, aad: Data) throws -> Data
    /// Opens what `sealAESGCM` returned; `.authenticationFailed` otherwise.
    func openAESGCM(_ combined: Data, key: Data, aad: Data) throws -> Data
    /// `count` bytes from the system's CSPRNG.
    func randomBytes(_ count: Int) throws -> Data
}

// MARK: Device

/// What `LAContext.canEvaluatePolicy(.deviceOwnerAuthentication)` says.
public enum DeviceOwnerAuthentication: Equatable, Sendable {
    /// A passcode (and maybe biometry) is set.
    case available
    /// `LAError.passcodeNotSet`.
    case passcodeNotSet
    /// Another `LAError`, described.
    case unavailable(String)
}

/// The device facts checked before a wrapping key is opened or created.
public protocol SealerDevice: Sendable {
    /// `SecureEnclave.isAvailable`.
    var hasSecureEnclave: Bool { get }
    /// `LAContext().canEvaluatePolicy(.deviceOwnerAuthentication, error:)`.
    func deviceOwnerAuthentication() -> DeviceOwnerAuthentication
}
