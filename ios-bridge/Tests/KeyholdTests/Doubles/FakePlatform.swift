// Doubles of the Keychain, the Secure Enclave and LocalAuthentication for
// the Linux tests of EnclaveSealerCore. They are meant to be as strict as
// the real APIs on every behaviour the sealer depends on, faults included.
// What each models, and where Apple documents it:
//
// Keychain (Security framework, SecItem API):
// - `SecItemAdd` of an item whose primary key (class, service, account,
//   access group) exists returns errSecDuplicateItem (-25299) and does not
//   touch the existing item ("SecItemAdd", Apple Developer Documentation).
// - `SecItemCopyMatching` of a missing item: errSecItemNotFound (-25300).
// - Items whose accessibility class is not satisfied now: 
//   errSecInteractionNotAllowed (-25308) for both add and read
//   ("Restricting keychain item accessibility": WhenUnlocked /
//   WhenPasscodeSet need the device unlocked; AfterFirstUnlock needs one
//   unlock since boot).
// - `kSecAttrAccessibleWhenPasscodeSetThisDeviceOnly`: "No items can be
//   stored in this class on devices without a passcode. Disabling the
//   device passcode causes all items in this class to be deleted." The add
//   fails with errSecAuthFailed (-25293) on iOS 9.2+ (errSecDecode before):
//   reports in liamnichols/UIDevice-PasscodeStatus #6 and #9.
// - A process without a keychain entitlement (unsigned test bundle, no
//   host app) gets errSecMissingEntitlement (-34018) from every call
//   ("errSecMissingEntitlement", Apple Developer Documentation; TN3137).
// - Data is copied in and out (CFData), never shared.
//
// Secure Enclave (CryptoKit `SecureEnclave.P256.KeyAgreement.PrivateKey`):
// - Keys exist only as `dataRepresentation`: an opaque blob that only the
//   enclave of the device that created it can use; on another device, or
//   after the enclave is reset, `init(dataRepresentation:)` throws.
// - Creation fails where `SecureEnclave.isAvailable` is false.
// - A key with `.userPresence` prompts on each private-key operation; the
//   user may cancel (LAError.userCancel). A key whose accessibility needs
//   an unlocked device cannot be used while locked.
// - ECIES to a public key needs no private key (anyone can wrap); an
//   unwrap with the wrong key, info or altered ciphertext fails
//   authentication. Here the "ECIES" is AES-GCM under a per-key secret the
//   fake enclave keeps, found from the public key; wrapping to a public key
//   this enclave does not hold yields bytes no key here opens, as real
//   ECIES would.
//
// LocalAuthentication: `canEvaluatePolicy(.deviceOwnerAuthentication)`
// fails with LAError.passcodeNotSet on a device without a passcode.

import Foundation
@testable import Keyhold

/// The device state shared by the doubles.
final class FakeDevice: SealerDevice, @unchecked Sendable {
    private let lock = NSLock()
    private var _hasSecureEnclave = true
    private var _passcodeSet = true
    private var _unlocked = true
    private var _unlockedSinceBoot = true
    /// Called when the passcode is removed (the keychain deletes items).
    var onPasscodeRemoved: [() -> Void] = []

    var hasSecureEnclave: Bool {
        get { lock.sync { _hasSecureEnclave } }
        set { lock.sync { _hasSecureEnclave = newValue } }
    }
    var passcodeSet: Bool { lock.sync { _passcodeSet } }
    var unlocked: Bool { lock.sync { _unlocked } }
    var unlockedSinceBoot: Bool { lock.sync { _unlockedSinceBoot } }

    func lockScreen() { lock.sync { _unlocked = false } }
    func unlock() { lock.sync { _unlocked = true; _unlockedSinceBoot = true } }
    func reboot() { lock.sync { _unlocked = false; _unlockedSinceBoot = false } }

    func removePasscode() {
        lock.sync { _passcodeSet = false }
        for hook in onPasscodeRemoved { hook() }
    }

    func setPasscode() { lock.sync { _passcodeSet = true } }

    func deviceOwnerAuthentication() -> DeviceOwnerAuthentication {
        passcodeSet ? .available : .passcodeNotSet
    }

    func allows(_ accessibility: KeychainAccessibility) -> Bool {
        if accessibility.requiresPasscode && !passcodeSet { return false }
        return accessibility.requiresUnlockedDevice ? unlocked : unlockedSinceBoot
    }
}

/// The keychain double (generic-password items only).
final class FakeKeychain: SealerKeychain, @unchecked Sendable {
    struct Item {
        var data: Data
        var accessibility: KeychainAccessibility
    }

    private let lock = NSLock()
    private var items: [String: Item] = [:]
    private let device: FakeDevice
    /// False: every call fails with errSecMissingEntitlement.
    var entitled = true
    /// Runs once, just before the next add takes effect (without the
    /// keychain's lock held): another process racing us.
    var beforeNextAdd: (() -> Void)?
    private(set) var adds = 0

    init(device: FakeDevice) {
        self.device = device
        device.onPasscodeRemoved.append { [weak self] in
            guard let self else { return }
            self.lock.sync {
                self.items = self.items.filter { !$0.value.accessibility.requiresPasscode }
            }
        }
    }

    private static func key(_ service: String, _ account: String) -> String { "\(service)/\(account)" }

    var count: Int { lock.sync { items.count } }

    func item(service: String = EnclaveSealerFormat.service, account: String) -> Item? {
        lock.sync { items[Self.key(service, account)] }
    }

    /// Test back door: overwrite an item's bytes as an attacker with file
    /// access could not, but a bug or a second app version might.
    func replaceData(service: String = EnclaveSealerFormat.service, account: String, with data: Data) {
        lock.sync { items[Self.key(service, account)]?.data = Data(data) }
    }

    func add(service: String, account: String, data: Data, accessibility: KeychainAccessibility) -> KeychainStatus {
        if let hook = beforeNextAdd {
            beforeNextAdd = nil
            hook()
        }
        guard entitled else { return .missingEntitlement }
        if accessibility.requiresPasscode && !device.passcodeSet { return .authFailed }
        guard device.allows(accessibility) else { return .interactionNotAllowed }
        return lock.sync {
            let key = Self.key(service, account)
            guard items[key] == nil else { return .duplicateItem }
            items[key] = Item(data: Data(data), accessibility: accessibility)
            adds += 1
            return .success
        }
    }

    func read(service: String, account: String) -> Result<Data, KeychainFailure> {
        guard entitled else { return .failure(KeychainFailure(.missingEntitlement)) }
        guard let item = lock.sync({ items[Self.key(service, account)] }) else {
            return .failure(KeychainFailure(.itemNotFound))
        }
        guard device.allows(item.accessibility) else { return .failure(KeychainFailure(.interactionNotAllowed)) }
        return .success(Data(item.data))
    }

    func delete(service: String, account: String) -> KeychainStatus {
        guard entitled else { return .missingEntitlement }
        return lock.sync { items.removeValue(forKey: Self.key(service, account)) == nil ? .itemNotFound : .success }
    }
}

/// The Secure Enclave double, with real AES-GCM (TestAESGCM).
final class FakeEnclave: SealerCrypto, @unchecked Sendable {
    private struct Key {
        let secret: Data
        let publicKey: Data
        let access: WrappingKeyAccess
    }

    private static let tokenPrefix = Data("fake-se-token:".utf8)
    private let lock = NSLock()
    private var keys: [Data: Key] = [:]  // by handle
    private let device: FakeDevice
    private var cancelPrompts = 0
    private(set) var created = 0
    private(set) var unwraps = 0
    private(set) var prompts = 0

    init(device: FakeDevice) {
        self.device = device
    }

    /// The next `n` user-presence prompts are cancelled by the user.
    func cancelNextPrompts(_ n: Int) { lock.sync { cancelPrompts = n } }

    /// Every key is gone: another device, or an erased/reset enclave.
    func erase() { lock.sync { keys.removeAll() } }

    func createWrappingKey(access: WrappingKeyAccess) throws -> WrappingKeyMaterial {
        guard device.hasSecureEnclave else { throw SealerCryptoError.noSecureEnclave }
        let handle = TestAESGCM.random(16)
        let publicKey = Data([0x04]) + TestAESGCM.random(64)
        lock.sync {
            keys[handle] = Key(secret: TestAESGCM.random(32), publicKey: publicKey, access: access)
            created += 1
        }
        // The token is opaque and longer than the handle, like CryptoKit's.
        return WrappingKeyMaterial(keyData: Self.tokenPrefix + handle + TestAESGCM.random(32), publicKey: publicKey)
    }

    func wrap(_ plaintext: Data, to publicKey: Data, info: Data) throws -> Data {
        guard publicKey.count == 65, publicKey.first == 0x04 else { throw SealerCryptoError.failure("not an X9.63 P-256 public key") }
        let secret = lock.sync { keys.values.first { $0.publicKey == publicKey }?.secret }
        // A public key no key here holds: real ECIES still encrypts, and
        // nothing here can open it.
        return try TestAESGCM.seal(plaintext, key: secret ?? TestAESGCM.random(32), aad: publicKey + info)
    }

    func unwrap(_ wrapped: Data, keyData: Data, info: Data) throws -> Data {
        guard device.hasSecureEnclave else { throw SealerCryptoError.noSecureEnclave }
        guard keyData.count == Self.tokenPrefix.count + 16 + 32, keyData.starts(with: Self.tokenPrefix) else {
            throw SealerCryptoError.keyRejected("not a Secure Enclave key token")
        }
        let handle = Data(keyData.dropFirst(Self.tokenPrefix.count).prefix(16))
        let outcome: Result<Key, SealerCryptoError> = lock.sync {
            guard let key = keys[handle] else {
                return .failure(.keyRejected("this enclave holds no such key"))
            }
            if key.access.accessibility.requiresPasscode && !device.passcodeSet {
                return .failure(.keyRejected("the key's passcode was removed"))
            }
            if !device.allows(key.access.accessibility) {
                return .failure(.interactionNotAllowed)
            }
            if key.access.userPresence {
                prompts += 1
                if cancelPrompts > 0 {
                    cancelPrompts -= 1
                    return .failure(.userCanceled)
                }
            }
            unwraps += 1
            return .success(key)
        }
        let key = try outcome.get()
        return try TestAESGCM.open(wrapped, key: key.secret, aad: key.publicKey + info)
    }

    func sealAESGCM(_ plaintext: Data, key: Data, aad: Data) throws -> Data {
        try TestAESGCM.seal(plaintext, key: key, aad: aad)
    }

    func openAESGCM(_ combined: Data, key: Data, aad: Data) throws -> Data {
        try TestAESGCM.open(combined, key: key, aad: aad)
    }

    func randomBytes(_ count: Int) throws -> Data {
        TestAESGCM.random(count)
    }
}

/// One simulated device: its state, keychain and enclave, and sealers on it.
final class FakePhone: @unchecked Sendable {
    let device = FakeDevice()
    let keychain: FakeKeychain
    let enclave: FakeEnclave

    init() {
        keychain = FakeKeychain(device: device)
        enclave = FakeEnclave(device: device)
    }

    static let wallet = EnclaveSealerCore.Configuration(
        label: "dev.keyhold.sealer", accessibility: .whenPasscodeSetThisDeviceOnly, userPresence: true,
        name: "secure-enclave", level: "secure-enclave", requiresSecureEnclave: true
    )

    func sealer(_ configuration: EnclaveSealerCore.Configuration = FakePhone.wallet) -> EnclaveSealerCore {
        EnclaveSealerCore(configuration: configuration, keychain: keychain, crypto: enclave, device: device)
    }

    func sealer(label: String, accessibility: KeychainAccessibility = .whenPasscodeSetThisDeviceOnly) -> EnclaveSealerCore {
        var configuration = FakePhone.wallet
        configuration.label = label
        configuration.accessibility = accessibility
        return sealer(configuration)
    }
}

extension NSLock {
    /// `withLock`, which Apple's SDK offers only from iOS 16 / macOS 13.
    func sync<R>(_ body: () throws -> R) rethrows -> R {
        lock()
        defer { unlock() }
        return try body()
    }
}
