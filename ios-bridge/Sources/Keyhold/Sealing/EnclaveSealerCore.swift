// The enclave sealer's logic, independent of Apple's frameworks: the
// lifecycle of the wrapping key and store key (one keychain item, created
// atomically), the blob format and AAD (EnclaveSealerFormat.swift), the
// identity checks, the classification of every platform failure into the
// core's sealer error kinds, and locking. The platform is injected
// (SealerPlatform.swift): `SecureEnclaveSealer` and `SoftwareSealer` give it
// CryptoKit and the Keychain on Apple platforms; the Linux tests give it
// doubles.
//
// Why a wrapped store key rather than ECIES per secret: ECIES is public-key
// encryption, so anyone holding the (public) enclave public key can produce
// a blob that decrypts, carrying whatever AAD they like: the check would
// authenticate nothing. A GCM key that exists only after the enclave
// unwraps it cannot be forged, binds the core's AAD natively, and costs one
// enclave operation (one user-presence prompt) per session, not per key.
//
// Lifecycle, fitted to the core's contract (rust-core/src/engine/attach.rs,
// uniffi-bindings/src/sealer.rs):
//   openKey(mayCreate, expectedLabel): reads the item of `expectedLabel ??
//     configuration.label`. Missing: `KeyNotFound` unless `mayCreate`; then
//     a new enclave key and store key are made and written with ONE
//     SecItemAdd. `errSecDuplicateItem` means another instance (or an app
//     extension) won the race: its item is read and used, ours is dropped
//     (a CryptoKit enclave key exists only as its `dataRepresentation`, so
//     nothing is left behind).
//   seal/unseal: unwrap the store key once (the enclave operation), cache
//     it until `forgetStoreKey()`; re-read the item first, so an item
//     deleted or replaced meanwhile is noticed.
//
// Error classification (SealerError kinds -> core codes 16/17/18):
//   item missing at open, may not create           -> KeyNotFound (core: 17 after retries)
//   item missing or replaced after open            -> KeyInvalidated
//   blob sealed under another store key            -> KeyInvalidated
//   enclave rejects the key data, ECIES tag fails  -> KeyInvalidated (permanent)
//   errSecMissingEntitlement (-34018)              -> KeyInvalidated (permanent, says so)
//   no Secure Enclave                              -> KeyInvalidated at the core;
//                                                     `SealerSetupError.noSecureEnclave` from preflight()
//   device locked, prompt cancelled, other status  -> Unavailable (retry)
//   blob or AAD altered, malformed blob            -> AuthenticationFailed

import Foundation
import KeyholdUniFFI

/// Why a sealer cannot be used on this device at all; thrown by
/// `preflight()` (and by `KeyholdStore.open`) before any store is touched.
public enum SealerSetupError: Error, Equatable, Sendable, CustomNSError, LocalizedError {
    /// This device has no Secure Enclave (the iOS Simulator, Macs without
    /// T2 or Apple silicon). Use `SoftwareSealer` there, knowingly.
    case noSecureEnclave
    /// The configuration needs a device passcode (the wallet preset) and
    /// none is set. Ask the user to set one in Settings.
    case passcodeNotSet
    /// `LAContext.canEvaluatePolicy(.deviceOwnerAuthentication)` failed for
    /// another reason, described.
    case deviceOwnerAuthenticationUnavailable(String)

    public static var errorDomain: String { "dev.keyhold.sealer-setup" }

    public var errorCode: Int {
        switch self {
        case .noSecureEnclave: return 1
        case .passcodeNotSet: return 2
        case .deviceOwnerAuthenticationUnavailable: return 3
        }
    }

    public var errorUserInfo: [String: Any] {
        [NSLocalizedDescriptionKey: errorDescription ?? ""]
    }

    public var errorDescription: String? {
        switch self {
        case .noSecureEnclave:
            return "This device has no Secure Enclave (iOS Simulator or unsupported hardware); "
                + "the Secure Enclave sealer cannot be used here."
        case .passcodeNotSet:
            return "No device passcode is set; Keyhold's wallet configuration keeps its key in a "
                + "keychain class that requires one. Set a passcode in Settings."
        case .deviceOwnerAuthenticationUnavailable(let reason):
            return "Device owner authentication is unavailable: \(reason)"
        }
    }
}

/// A sealer whose device requirements can be checked before opening a store.
public protocol PreflightSealer: Sealer {
    /// Throws `SealerSetupError` when this device cannot run the sealer.
    func preflight() throws
}

/// Seals Keyhold's secrets with AES-256-GCM under a store key that is
/// wrapped (ECIES) to a P-256 key-agreement key, the two stored together in
/// one keychain item. The platform-independent part of
/// `SecureEnclaveSealer` and `SoftwareSealer`; see the file header.
///
/// Thread-safe; every call may come from any thread. The unwrapped store
/// key is kept in memory until `forgetStoreKey()`.
public final class EnclaveSealerCore: PreflightSealer, @unchecked Sendable {
    /// What the sealer is and how its key may be used.
    public struct Configuration: Equatable, Sendable {
        /// The keychain account of the item; one label per store.
        public var label: String
        /// The accessibility class of the item and of the enclave key.
        public var accessibility: KeychainAccessibility
        /// Whether unwrapping the store key needs the passcode or biometry.
        public var userPresence: Bool
        /// The sealer's name recorded with each key (`secure-enclave`).
        public var name: String
        /// The protection level reported to the core.
        public var level: String
        /// Refuse to run without a Secure Enclave.
        public var requiresSecureEnclave: Bool

        public init(
            label: String,
            accessibility: KeychainAccessibility,
            userPresence: Bool,
            name: String,
            level: String,
            requiresSecureEnclave: Bool
        ) {
            self.label = label
            self.accessibility = accessibility
            self.userPresence = userPresence
            self.name = name
            self.level = level
            self.requiresSecureEnclave = requiresSecureEnclave
        }
    }

    public let configuration: Configuration
    private let keychain: SealerKeychain
    private let crypto: SealerCrypto
    private let device: SealerDevice

    private let lock = NSLock()
    /// The label and store key ID of the item `openKey` found or created.
    private var opened: (label: String, storeKeyID: Data)?
    private var storeKey: StoreKeyBytes?

    public init(configuration: Configuration, keychain: SealerKeychain, crypto: SealerCrypto, device: SealerDevice) {
        self.configuration = configuration
        self.keychain = keychain
        self.crypto = crypto
        self.device = device
    }

    // MARK: Preflight

    public func preflight() throws {
        if configuration.requiresSecureEnclave && !device.hasSecureEnclave {
            throw SealerSetupError.noSecureEnclave
        }
        if configuration.accessibility.requiresPasscode || configuration.userPresence {
            switch device.deviceOwnerAuthentication() {
            case .available:
                break
            case .passcodeNotSet:
                throw SealerSetupError.passcodeNotSet
            case .unavailable(let reason):
                throw SealerSetupError.deviceOwnerAuthenticationUnavailable(reason)
            }
        }
    }

    // MARK: Sealer

    public func name() -> String {
        configuration.name
    }

    public func openKey(mayCreate: Bool, expectedLabel: String?) throws -> WrappingKeyInfo {
        let label = expectedLabel ?? configuration.label
        lock.lock()
        defer { lock.unlock() }
        do {
            try preflight()
        } catch SealerSetupError.passcodeNotSet where !mayCreate {
            // Removing the passcode deletes every WhenPasscodeSet item
            // (Apple, kSecAttrAccessibleWhenPasscodeSetThisDeviceOnly).
            throw SealerError.KeyNotFound(
                detail: "no device passcode: the keychain item \(label) (whenPasscodeSet) was deleted with it"
            )
        } catch let error as SealerSetupError {
            throw Self.sealerError(error)
        }

        let created: Bool
        switch keychain.read(service: EnclaveSealerFormat.service, account: label) {
        case .success(let data):
            try adopt(data, label: label)
            created = false
        case .failure(let failure) where failure.status == .itemNotFound:
            guard mayCreate else {
                throw SealerError.KeyNotFound(detail: "no keychain item \(label) (service \(EnclaveSealerFormat.service))")
            }
            created = try create(label: label)
        case .failure(let failure):
            throw classify(failure.status, doing: "read the keychain item \(label)")
        }
        return WrappingKeyInfo(
            label: label,
            levelRequested: configuration.level,
            levelObtained: configuration.level,
            created: created
        )
    }

    public func seal(secret: Data, aad: Data) throws -> Data {
        let (id, key) = try currentStoreKey()
        let header = EnclaveSealerFormat.blobHeader(storeKeyID: id)
        let combined: Data
        do {
            combined = try crypto.sealAESGCM(
                secret, key: key, aad: EnclaveSealerFormat.secretAAD(header: header, coreAAD: aad)
            )
        } catch {
            throw SealerError.Unavailable(detail: "AES-GCM seal failed: \(Self.describe(error))")
        }
        return header + combined
    }

    public func unseal(sealed: Data, aad: Data) throws -> Data {
        guard let blob = EnclaveSealerFormat.splitBlob(sealed) else {
            throw SealerError.AuthenticationFailed(detail: "not an enclave sealer blob of version \(EnclaveSealerFormat.version)")
        }
        // Checked before the store key is unwrapped, so a blob of another
        // store never costs an enclave operation or a prompt.
        let expected = lock.sync { opened?.storeKeyID }
        if let expected, blob.storeKeyID != expected {
            throw SealerError.KeyInvalidated(
                detail: "sealed under store key \(Self.hex(blob.storeKeyID)), but the keychain item "
                    + "holds store key \(Self.hex(expected)): the key it was sealed under is gone"
            )
        }
        let (id, key) = try currentStoreKey()
        guard blob.storeKeyID == id else {
            throw SealerError.KeyInvalidated(
                detail: "sealed under store key \(Self.hex(blob.storeKeyID)), but the keychain item "
                    + "holds store key \(Self.hex(id)): the key it was sealed under is gone"
            )
        }
        do {
            return try crypto.openAESGCM(
                blob.combined, key: key, aad: EnclaveSealerFormat.secretAAD(header: blob.header, coreAAD: aad)
            )
        } catch SealerCryptoError.authenticationFailed {
            throw SealerError.AuthenticationFailed(detail: "the sealed secret or its associated data was altered")
        } catch {
            throw SealerError.Unavailable(detail: "AES-GCM open failed: \(Self.describe(error))")
        }
    }

    // MARK: Management

    /// Drops the unwrapped store key from memory; the next seal or unseal
    /// unwraps it again (an enclave operation, a prompt with user presence).
    public func forgetStoreKey() {
        lock.lock()
        defer { lock.unlock() }
        storeKey = nil
    }

    /// Deletes the keychain item of `label` (default: the configured one):
    /// the store sealed under it can never be opened again (code 17).
    public func deleteItem(label: String? = nil) throws {
        lock.lock()
        defer { lock.unlock() }
        let account = label ?? configuration.label
        let status = keychain.delete(service: EnclaveSealerFormat.service, account: account)
        guard status == .success || status == .itemNotFound else {
            throw classify(status, doing: "delete the keychain item \(account)")
        }
        if opened?.label == account {
            opened = nil
            storeKey = nil
        }
    }

    // MARK: Item lifecycle (called with `lock` held)

    private func adopt(_ data: Data, label: String) throws {
        guard let item = EnclaveSealerFormat.decode(data) else {
            throw SealerError.KeyInvalidated(detail: "the keychain item \(label) is not a version-\(EnclaveSealerFormat.version) sealer item")
        }
        if opened?.label != label || opened?.storeKeyID != item.storeKeyID {
            storeKey = nil
        }
        opened = (label, item.storeKeyID)
    }

    private func create(label: String) throws -> Bool {
        let access = WrappingKeyAccess(accessibility: configuration.accessibility, userPresence: configuration.userPresence)
        let material: WrappingKeyMaterial
        let id: Data
        let key: StoreKeyBytes
        let wrapped: Data
        do {
            material = try crypto.createWrappingKey(access: access)
            id = try crypto.randomBytes(EnclaveSealerFormat.storeKeyIDLength)
            key = StoreKeyBytes(try crypto.randomBytes(EnclaveSealerFormat.storeKeyLength))
            wrapped = try crypto.wrap(
                key.data, to: material.publicKey,
                info: EnclaveSealerFormat.wrapInfo(label: label, storeKeyID: id)
            )
        } catch let error as SealerCryptoError {
            throw classify(error, doing: "create the wrapping key \(label)")
        } catch {
            throw SealerError.Unavailable(detail: "could not create the wrapping key \(label): \(Self.describe(error))")
        }
        let item = EnclaveSealerFormat.Item(
            userPresence: configuration.userPresence,
            storeKeyID: id,
            keyData: material.keyData,
            publicKey: material.publicKey,
            wrappedStoreKey: wrapped
        )
        let status = keychain.add(
            service: EnclaveSealerFormat.service, account: label,
            data: EnclaveSealerFormat.encode(item), accessibility: configuration.accessibility
        )
        switch status {
        case .success:
            opened = (label, id)
            storeKey = key
            return true
        case .duplicateItem:
            // Another instance created it between our read and our add:
            // theirs is the store's key. Ours is dropped unused.
            switch keychain.read(service: EnclaveSealerFormat.service, account: label) {
            case .success(let data):
                try adopt(data, label: label)
                return false
            case .failure(let failure):
                throw classify(failure.status, doing: "read the keychain item \(label) another instance created")
            }
        case .authFailed where configuration.accessibility.requiresPasscode,
             .decode where configuration.accessibility.requiresPasscode:
            throw SealerError.Unavailable(
                detail: "could not store the keychain item \(label) (\(status)): its class whenPasscodeSet "
                    + "needs a device passcode; set one and retry"
            )
        default:
            throw classify(status, doing: "store the keychain item \(label)")
        }
    }

    /// The store key of the opened item, unwrapping it (one enclave
    /// operation) when it is not cached. The item is re-read first so a
    /// deleted or replaced item is reported as such.
    private func currentStoreKey() throws -> (Data, Data) {
        lock.lock()
        defer { lock.unlock() }
        guard let opened else {
            throw SealerError.Unavailable(detail: "openKey was not called before seal/unseal")
        }
        if let storeKey {
            return (opened.storeKeyID, storeKey.data)
        }
        let item: EnclaveSealerFormat.Item
        switch keychain.read(service: EnclaveSealerFormat.service, account: opened.label) {
        case .success(let data):
            guard let decoded = EnclaveSealerFormat.decode(data) else {
                throw SealerError.KeyInvalidated(detail: "the keychain item \(opened.label) is malformed")
            }
            item = decoded
        case .failure(let failure) where failure.status == .itemNotFound:
            throw SealerError.KeyInvalidated(
                detail: "the keychain item \(opened.label) was deleted (passcode removed, or deleted by the app)"
            )
        case .failure(let failure):
            throw classify(failure.status, doing: "read the keychain item \(opened.label)")
        }
        guard item.storeKeyID == opened.storeKeyID else {
            throw SealerError.KeyInvalidated(
                detail: "the keychain item \(opened.label) was replaced: it now holds store key "
                    + "\(Self.hex(item.storeKeyID)), not \(Self.hex(opened.storeKeyID))"
            )
        }
        let plain: Data
        do {
            plain = try crypto.unwrap(
                item.wrappedStoreKey, keyData: item.keyData,
                info: EnclaveSealerFormat.wrapInfo(label: opened.label, storeKeyID: item.storeKeyID)
            )
        } catch let error as SealerCryptoError {
            throw classify(error, doing: "unwrap the store key of \(opened.label)")
        } catch {
            throw SealerError.Unavailable(detail: "could not unwrap the store key of \(opened.label): \(Self.describe(error))")
        }
        let key = StoreKeyBytes(plain)
        guard key.data.count == EnclaveSealerFormat.storeKeyLength else {
            throw SealerError.KeyInvalidated(detail: "the store key of \(opened.label) unwrapped to \(key.data.count) bytes")
        }
        storeKey = key
        return (opened.storeKeyID, key.data)
    }

    // MARK: Classification

    func classify(_ status: KeychainStatus, doing what: String) -> SealerError {
        switch status {
        case .missingEntitlement:
            return SealerError.KeyInvalidated(
                detail: "could not \(what): errSecMissingEntitlement (-34018), the app has no keychain "
                    + "entitlement. Permanent for this build (signing/entitlements), not a lost key: "
                    + "run inside a signed app or test host"
            )
        case .itemNotFound:
            return SealerError.KeyInvalidated(detail: "could not \(what): the keychain item is gone (\(status))")
        case .interactionNotAllowed:
            return SealerError.Unavailable(
                detail: "could not \(what): the device is locked (errSecInteractionNotAllowed); retry after unlock"
            )
        case .userCanceled:
            return SealerError.Unavailable(detail: "could not \(what): the user cancelled authentication")
        default:
            return SealerError.Unavailable(detail: "could not \(what): keychain \(status)")
        }
    }

    func classify(_ error: SealerCryptoError, doing what: String) -> SealerError {
        switch error {
        case .noSecureEnclave:
            return Self.sealerError(SealerSetupError.noSecureEnclave)
        case .keyRejected(let reason):
            return SealerError.KeyInvalidated(
                detail: "could not \(what): the enclave rejected the key (\(reason)). Permanent: the key "
                    + "was made on another device or invalidated"
            )
        case .authenticationFailed:
            return SealerError.KeyInvalidated(
                detail: "could not \(what): ECIES authentication failed, the wrapped store key does not "
                    + "belong to this item's enclave key. Permanent"
            )
        case .userCanceled:
            return SealerError.Unavailable(detail: "could not \(what): the user cancelled authentication")
        case .interactionNotAllowed:
            return SealerError.Unavailable(detail: "could not \(what): the device is locked; retry after unlock")
        case .failure(let reason):
            return SealerError.Unavailable(detail: "could not \(what): \(reason)")
        }
    }

    static func sealerError(_ error: SealerSetupError) -> SealerError {
        switch error {
        case .noSecureEnclave:
            return SealerError.KeyInvalidated(detail: error.errorDescription ?? "no Secure Enclave")
        case .passcodeNotSet, .deviceOwnerAuthenticationUnavailable:
            return SealerError.Unavailable(detail: error.errorDescription ?? "device owner authentication unavailable")
        }
    }

    static func describe(_ error: Error) -> String {
        if let error = error as? SealerCryptoError {
            return "\(error)"
        }
        return String(describing: type(of: error))
    }

    static func hex(_ data: Data) -> String {
        data.map { String(format: "%02x", $0) }.joined()
    }
}

extension NSLock {
    fileprivate func sync<R>(_ body: () throws -> R) rethrows -> R {
        lock()
        defer { unlock() }
        return try body()
    }
}

/// The unwrapped store key: wiped when dropped, never printed.
final class StoreKeyBytes: CustomStringConvertible, CustomDebugStringConvertible {
    private(set) var data: Data

    init(_ data: Data) {
        self.data = data
    }

    deinit {
        data.resetBytes(in: 0..<data.count)
    }

    var description: String { "[redacted]" }
    var debugDescription: String { "[redacted]" }
}
