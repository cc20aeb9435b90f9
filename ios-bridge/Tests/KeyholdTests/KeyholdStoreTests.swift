// The Swift API end to end: KeyholdStore over the real Rust core
// (libkeyhold_uniffi), sealed by the Swift enclave sealer core on the
// doubles of FakePlatform.swift. These check the glue (async execution,
// names, errors, the sealer callback); the core's own rules are tested in
// Rust.

import Foundation
import XCTest
@testable import Keyhold

/// A sealer that counts the core's calls and can be told to fail unseal.
final class CountingSealer: Sealer, @unchecked Sendable {
    let inner: EnclaveSealerCore
    private let lock = NSLock()
    private var _unseals = 0
    private var _failUnseal: SealerError?
    private var _maxConcurrent = 0
    private var _inFlight = 0

    init(_ inner: EnclaveSealerCore) { self.inner = inner }

    var unseals: Int { lock.sync { _unseals } }
    var failUnseal: SealerError? {
        get { lock.sync { _failUnseal } }
        set { lock.sync { _failUnseal = newValue } }
    }

    func name() -> String { inner.name() }
    func openKey(mayCreate: Bool, expectedLabel: String?) throws -> WrappingKeyInfo {
        try inner.openKey(mayCreate: mayCreate, expectedLabel: expectedLabel)
    }
    func seal(secret: Data, aad: Data) throws -> Data { try inner.seal(secret: secret, aad: aad) }
    func unseal(sealed: Data, aad: Data) throws -> Data {
        if let failure = lock.sync({ () -> SealerError? in _unseals += 1; return _failUnseal }) {
            throw failure
        }
        return try inner.unseal(sealed: sealed, aad: aad)
    }
}

final class KeyholdStoreTests: XCTestCase, @unchecked Sendable {
    static let mnemonic = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about"
    let ethPath = "m/44'/60'/0'/0/0"
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("keyhold-swift-\(UUID().uuidString)", isDirectory: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    func open(_ sealer: Sealer) async throws -> KeyholdStore {
        try await KeyholdStore.open(dataDirectory: directory, appID: "dev.keyhold.tests", sealer: sealer)
    }

    /// Asserts `body` throws a KeyholdStoreError with `code`, returning it.
    @discardableResult
    func expectError<T>(
        _ code: KeyholdErrorCode, _ body: () async throws -> T,
        file: StaticString = #filePath, line: UInt = #line
    ) async -> KeyholdStoreError? {
        do {
            _ = try await body()
            XCTFail("expected error \(code), got a result", file: file, line: line)
        } catch let error as KeyholdStoreError {
            XCTAssertEqual(error.code, code, error.detail, file: file, line: line)
            let bridged = error as NSError
            XCTAssertEqual(bridged.domain, "dev.keyhold", file: file, line: line)
            XCTAssertEqual(bridged.code, code.rawValue, file: file, line: line)
            return error
        } catch {
            XCTFail("expected KeyholdStoreError \(code), got \(error)", file: file, line: line)
        }
        return nil
    }

    // MARK: Every verb

    func testEveryVerbThroughTheSwiftAPI() async throws {
        let phone = FakePhone()
        let sealer = CountingSealer(phone.sealer())
        let store = try await open(sealer)
        XCTAssertEqual(store.appID, "dev.keyhold.tests")
        XCTAssertEqual(store.dataDirectory, directory)

        // generateKey, getPublicKey, sign, verify
        let p256 = try await store.generateKey(.single(algorithm: .p256), options: KeyOptions(alias: "p256"))
        XCTAssertEqual(p256.alias, "p256")
        XCTAssertEqual(p256.keyID.count, 16)
        XCTAssertEqual(p256.sealer, "secure-enclave")
        XCTAssertLessThan(abs(p256.createdAt.timeIntervalSinceNow), 60)
        let sec1 = try await store.getPublicKey(.alias(alias: "p256"), format: .sec1Uncompressed)
        XCTAssertEqual(sec1.bytes.count, 65)
        XCTAssertEqual(sec1.bytes.first, 0x04)
        let message = Payload.message(message: Data("hello".utf8))
        let signature = try await store.sign(.id(id: p256.keyID), payload: message)
        let verified = try await store.verify(.alias(alias: "p256"), payload: message, signature: signature)
        XCTAssertTrue(verified)
        let other = Payload.message(message: Data("hellO".utf8))
        let refused = try await store.verify(.alias(alias: "p256"), payload: other, signature: signature)
        XCTAssertFalse(refused)

        // importKey + getPublicKey at an HD path: the BIP39 test mnemonic's
        // first Ethereum account (BIP44; widely published known answer).
        let wallet = try await store.importKey(
            .mnemonic(phrase: Self.mnemonic, passphrase: "", scheme: .bip32Secp256k1),
            options: KeyOptions(alias: "wallet")
        )
        XCTAssertEqual(wallet.hdScheme, HDScheme.bip32Secp256k1)
        let address = try await store.getPublicKey(.alias(alias: "wallet"), path: ethPath, format: .ethAddress)
        XCTAssertEqual(address.text, "0x9858EfFD232B4033E47d90003D41EC34EcaEda94")
        let digest = Payload.digest(digest: Data(repeating: 0x11, count: 32))
        let recoverable = try await store.sign(.alias(alias: "wallet"), path: ethPath, scheme: .ecdsaRecoverable, payload: digest)
        XCTAssertEqual(recoverable.count, 65)
        XCTAssertLessThanOrEqual(recoverable[64], 1)
        let recoverableOK = try await store.verify(
            .alias(alias: "wallet"), path: ethPath, scheme: .ecdsaRecoverable, payload: digest, signature: recoverable
        )
        XCTAssertTrue(recoverableOK)

        // deriveKey, storing the child
        let derived = try await store.deriveKey(.alias(alias: "wallet"), path: ethPath, storeAs: KeyOptions(alias: "eth0"))
        XCTAssertEqual(derived.stored?.alias, "eth0")
        let eth0 = try await store.getPublicKey(.alias(alias: "eth0"), format: .ethAddress)
        XCTAssertEqual(eth0.text, address.text)

        // encrypt / decrypt
        _ = try await store.generateKey(.single(algorithm: .aes256Gcm), options: KeyOptions(alias: "aes"))
        let plaintext = Data("app data".utf8)
        let box = try await store.encrypt(.alias(alias: "aes"), plaintext: plaintext, aad: Data("ctx".utf8))
        XCTAssertEqual(box.count, 12 + plaintext.count + 16)
        let opened = try await store.decrypt(.alias(alias: "aes"), ciphertext: box, aad: Data("ctx".utf8))
        XCTAssertEqual(opened, plaintext)

        // agree: two X25519 keys of the store agree on one secret
        let alice = try await store.generateKey(.single(algorithm: .x25519), options: KeyOptions(alias: "alice"))
        let bob = try await store.generateKey(.single(algorithm: .x25519), options: KeyOptions(alias: "bob"))
        let kdf = KdfParams(salt: Data("salt".utf8), info: Data("info".utf8), length: 32)
        let ab = try await store.agree(.alias(alias: "alice"), peerPublicKey: bob.publicKey, kdf: kdf)
        let ba = try await store.agree(.alias(alias: "bob"), peerPublicKey: alice.publicKey, kdf: kdf)
        guard case .secret(let s1) = ab, case .secret(let s2) = ba else {
            return XCTFail("expected returned secrets")
        }
        XCTAssertEqual(s1, s2)
        XCTAssertEqual(s1.count, 32)
        let stored = try await store.agree(.alias(alias: "alice"), peerPublicKey: bob.publicKey, kdf: kdf,
                                           storeAs: KeyOptions(alias: "shared"))
        guard case .stored(let sharedInfo) = stored else { return XCTFail("expected a stored key") }
        XCTAssertEqual(sharedInfo.algorithm, .aes256Gcm)

        // listKeys, getKeyInfo, deleteKey
        let aliases = try await store.listKeys().map(\.alias)
        XCTAssertEqual(aliases, ["aes", "alice", "bob", "eth0", "p256", "shared", "wallet"])
        let info = try await store.getKeyInfo(.alias(alias: "p256"))
        XCTAssertEqual(info.usageCount, 1)
        try await store.deleteKey(.alias(alias: "p256"))
        await expectError(.keyNotFound) { try await store.getKeyInfo(.alias(alias: "p256")) }

        // lock: the next use unseals again; flush; auditVerify
        let before = sealer.unseals
        await store.lock()
        _ = try await store.sign(.alias(alias: "wallet"), path: ethPath, scheme: .ecdsaRecoverable, payload: digest)
        XCTAssertEqual(sealer.unseals, before + 1)
        try await store.flush()
        let audit = try await store.auditVerify()
        XCTAssertNil(audit.firstBrokenSeq)
        XCTAssertGreaterThan(audit.entries, 10)
    }

    func testStoreReopensWithTheSameItemAndKeys() async throws {
        let phone = FakePhone()
        do {
            let store = try await open(phone.sealer())
            _ = try await store.importKey(.mnemonic(phrase: Self.mnemonic, passphrase: "", scheme: .bip32Secp256k1),
                                          options: KeyOptions(alias: "wallet"))
            await store.close()
            await expectError(.unavailable) { try await store.listKeys() }
        }
        // A second sealer instance (the next launch) finds the item.
        let store = try await open(phone.sealer())
        let address = try await store.getPublicKey(.alias(alias: "wallet"), path: ethPath, format: .ethAddress)
        XCTAssertEqual(address.text, "0x9858EfFD232B4033E47d90003D41EC34EcaEda94")
        let signature = try await store.sign(.alias(alias: "wallet"), path: ethPath, payload: .message(message: Data("x".utf8)))
        XCTAssertFalse(signature.isEmpty)
        XCTAssertEqual(phone.keychain.count, 1)
        XCTAssertEqual(phone.enclave.created, 1)
    }

    func testTheShippedSoftwareSealerWorksOnEveryPlatform() async throws {
        let keyFile = directory.appendingPathComponent("sealer.key")
        let dataDirectory = directory.appendingPathComponent("store")
        do {
            let store = try await KeyholdStore.open(dataDirectory: dataDirectory, appID: "a",
                                                    sealer: InsecureSoftwareSealer.keyFile(at: keyFile))
            let key = try await store.generateKey(.single(algorithm: .ed25519), options: KeyOptions(alias: "k"))
            XCTAssertEqual(key.sealer, "software-file")
            await store.close()
        }
        XCTAssertTrue(FileManager.default.fileExists(atPath: keyFile.path))
        let store = try await KeyholdStore.open(dataDirectory: dataDirectory, appID: "a",
                                                sealer: InsecureSoftwareSealer.keyFile(at: keyFile))
        await store.lock()
        let message = Payload.message(message: Data("m".utf8))
        let signature = try await store.sign(.alias(alias: "k"), payload: message)
        let verified = try await store.verify(.alias(alias: "k"), payload: message, signature: signature)
        XCTAssertTrue(verified)
        await store.close()
        // Another key (an ephemeral one) cannot open the store: 17.
        await expectError(.sealerKeyInvalidated) {
            try await KeyholdStore.open(dataDirectory: dataDirectory, appID: "a", sealer: InsecureSoftwareSealer.ephemeral())
        }
        // The Rust sealer through the Swift protocol authenticates the AAD.
        let sealer = try InsecureSoftwareSealer.ephemeral()
        _ = try sealer.openKey(mayCreate: true, expectedLabel: nil)
        let blob = try sealer.seal(secret: Data("s".utf8), aad: Data("a".utf8))
        XCTAssertEqual(try sealer.unseal(sealed: blob, aad: Data("a".utf8)), Data("s".utf8))
        XCTAssertThrowsError(try sealer.unseal(sealed: blob, aad: Data("b".utf8))) { error in
            XCTAssertEqual(kind(of: error)?.0, .authenticationFailed)
        }
    }

    // MARK: Error codes

    func testErrorCodesAndTheirCases() async throws {
        let phone = FakePhone()
        let sealer = CountingSealer(phone.sealer())
        let store = try await open(sealer)

        let missing = await expectError(.keyNotFound) { try await store.getKeyInfo(.alias(alias: "nope")) }
        if case .keyNotFound = missing {} else { XCTFail("\(String(describing: missing))") }

        let badMnemonic = await expectError(.invalidMnemonic) {
            try await store.importKey(.mnemonic(phrase: "abandon abandon", passphrase: "", scheme: .bip32Secp256k1),
                                      options: KeyOptions(alias: "bad"))
        }
        if case .invalidInput = badMnemonic {} else { XCTFail("\(String(describing: badMnemonic))") }

        _ = try await store.importKey(.mnemonic(phrase: Self.mnemonic, passphrase: "", scheme: .bip32Secp256k1),
                                      options: KeyOptions(alias: "wallet"))
        await expectError(.invalidPath) {
            try await store.getPublicKey(.alias(alias: "wallet"), path: "m/44'/x", format: .sec1Compressed)
        }
        await expectError(.aliasExists) {
            try await store.generateKey(.single(algorithm: .ed25519), options: KeyOptions(alias: "wallet"))
        }

        _ = try await store.generateKey(.single(algorithm: .ed25519),
                                        options: KeyOptions(alias: "once", policy: KeyPolicy(maxUses: 1)))
        let payload = Payload.message(message: Data("m".utf8))
        _ = try await store.sign(.alias(alias: "once"), payload: payload)
        let limit = await expectError(.usageLimitExceeded) { try await store.sign(.alias(alias: "once"), payload: payload) }
        if case .notAllowed = limit {} else { XCTFail("\(String(describing: limit))") }

        _ = try await store.generateKey(.single(algorithm: .ed25519),
                                        options: KeyOptions(alias: "pub-only", policy: KeyPolicy(allowedOperations: [.getPublicKey])))
        await expectError(.operationNotAllowed) { try await store.sign(.alias(alias: "pub-only"), payload: payload) }

        _ = try await store.generateKey(.single(algorithm: .aes256Gcm), options: KeyOptions(alias: "aes"))
        var box = try await store.encrypt(.alias(alias: "aes"), plaintext: Data("p".utf8))
        box[box.count - 1] ^= 1
        let tampered = box
        let decryption = await expectError(.decryptionFailed) { try await store.decrypt(.alias(alias: "aes"), ciphertext: tampered) }
        if case .decryptionFailed = decryption {} else { XCTFail("\(String(describing: decryption))") }

        // Sealer failures on unseal reach the app with the core's codes.
        await store.lock()
        sealer.failUnseal = .AuthenticationFailed(detail: "test: altered")
        let corrupt = await expectError(.corruptKeyRecord) { try await store.sign(.alias(alias: "wallet"), payload: payload) }
        if case .corruptKeyRecord = corrupt {} else { XCTFail("\(String(describing: corrupt))") }
        sealer.failUnseal = .KeyInvalidated(detail: "test: gone")
        await expectError(.sealerKeyInvalidated) { try await store.sign(.alias(alias: "wallet"), payload: payload) }
        sealer.failUnseal = .Unavailable(detail: "test: busy")
        let busy = await expectError(.sealerUnavailable) { try await store.sign(.alias(alias: "wallet"), payload: payload) }
        if case .unavailable = busy {} else { XCTFail("\(String(describing: busy))") }
        sealer.failUnseal = nil
        _ = try await store.sign(.alias(alias: "wallet"), payload: payload)
    }

    func testErrorCodeNamesMatchTheStableTable() {
        // rust-core/proto/keyhold.proto, ErrorCode.
        let table: [(KeyholdErrorCode, Int)] = [
            (.malformedRequest, 1), (.requestTooLarge, 2), (.unsupportedOperation, 3), (.keyNotFound, 4),
            (.permissionDenied, 5), (.operationNotAllowed, 6), (.incompatibleKey, 7), (.invalidPath, 8),
            (.invalidMnemonic, 9), (.invalidKeyMaterial, 10), (.invalidArgument, 11), (.aliasExists, 12),
            (.usageLimitExceeded, 13), (.pathNotAllowed, 14), (.decryptionFailed, 15), (.sealerUnavailable, 16),
            (.sealerKeyInvalidated, 17), (.corruptKeyRecord, 18), (.storageFailure, 19), (.selfTestFailed, 20),
            (.unsupportedVersion, 21), (.unavailable, 22), (.internal, 23),
        ]
        for (code, number) in table {
            XCTAssertEqual(code.rawValue, number)
        }
        XCTAssertEqual(Set(table.map(\.0)).count, 23)
        let error = KeyholdStoreError(translating: KeyholdError.Internal(code: 99, detail: "future code"))
        XCTAssertEqual(error.code.rawValue, 99, "an unknown code arrives intact")
        XCTAssertEqual((error as NSError).code, 99)
    }

    // MARK: Store-level sealer outcomes

    func testItemDeletedMeansKeyInvalidatedAtOpen() async throws {
        let phone = FakePhone()
        do {
            let store = try await open(phone.sealer())
            _ = try await store.generateKey(.single(algorithm: .ed25519), options: KeyOptions(alias: "k"))
            await store.close()
        }
        XCTAssertEqual(phone.keychain.delete(service: EnclaveSealerFormat.service, account: "dev.keyhold.sealer"), .success)
        let error = await expectError(.sealerKeyInvalidated) { try await self.open(phone.sealer()) }
        XCTAssertTrue(error?.detail.contains("dev.keyhold.sealer") ?? false, error?.detail ?? "")
        XCTAssertEqual(phone.keychain.count, 0, "nothing may be created for a store that has records")
    }

    func testAnotherItemUnderTheSameLabelIsKeyInvalidatedNotUnavailable() async throws {
        let phone = FakePhone()
        do {
            let store = try await open(phone.sealer())
            _ = try await store.generateKey(.single(algorithm: .ed25519), options: KeyOptions(alias: "k"))
            await store.close()
        }
        // The item is replaced by one with another enclave key and store key.
        XCTAssertEqual(phone.keychain.delete(service: EnclaveSealerFormat.service, account: "dev.keyhold.sealer"), .success)
        _ = try phone.sealer().openKey(mayCreate: true, expectedLabel: nil)
        await expectError(.sealerKeyInvalidated) { try await self.open(phone.sealer()) }
        await expectError(.sealerKeyInvalidated) { try await self.open(phone.sealer()) }
    }

    func testLockedDeviceIsUnavailableAtOpen() async throws {
        let phone = FakePhone()
        try await open(phone.sealer()).close()
        phone.device.lockScreen()
        await expectError(.sealerUnavailable) { try await self.open(phone.sealer()) }
        phone.device.unlock()
        _ = try await open(phone.sealer())
    }

    func testSetupErrorsComeFirst() async throws {
        let phone = FakePhone()
        phone.device.hasSecureEnclave = false
        do {
            _ = try await open(phone.sealer())
            XCTFail("opened without a Secure Enclave")
        } catch {
            XCTAssertEqual(error as? SealerSetupError, .noSecureEnclave)
        }
        phone.device.hasSecureEnclave = true
        phone.device.removePasscode()
        do {
            _ = try await open(phone.sealer())
            XCTFail("opened the wallet preset without a passcode")
        } catch {
            XCTAssertEqual(error as? SealerSetupError, .passcodeNotSet)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory.appendingPathComponent("keyhold.db").path))
    }

    // MARK: Concurrency

    func testManyTasksSignAtOnceThroughTheSwiftSealer() async throws {
        let phone = FakePhone()
        let sealer = CountingSealer(phone.sealer())
        let store = try await open(sealer)
        let key = try await store.generateKey(.single(algorithm: .secp256k1), options: KeyOptions(alias: "hot"))
        await store.lock()
        phone.enclave.cancelNextPrompts(0)
        let unsealsBefore = sealer.unseals
        let results = try await withThrowingTaskGroup(of: (Int, Data).self) { group in
            for i in 0..<24 {
                group.addTask {
                    let payload = Payload.message(message: Data("tx \(i)".utf8))
                    return (i, try await store.sign(.alias(alias: "hot"), payload: payload))
                }
            }
            var all: [Int: Data] = [:]
            for try await (i, signature) in group {
                all[i] = signature
            }
            return all
        }
        XCTAssertEqual(results.count, 24)
        XCTAssertEqual(sealer.unseals - unsealsBefore, 1, "one unseal for the whole burst")
        for (i, signature) in results {
            let ok = try await store.verify(.id(id: key.keyID), payload: .message(message: Data("tx \(i)".utf8)), signature: signature)
            XCTAssertTrue(ok, "signature \(i)")
        }
        let info = try await store.getKeyInfo(.alias(alias: "hot"))
        XCTAssertEqual(info.usageCount, 24)
    }

    func testWorkDoesNotRunOnTheCallersThread() async throws {
        final class ThreadRecorder: Sealer, @unchecked Sendable {
            let inner: Sealer
            let lock = NSLock()
            var onMain = false
            init(_ inner: Sealer) { self.inner = inner }
            func note() { if Thread.isMainThread { lock.sync { onMain = true } } }
            func name() -> String { inner.name() }
            func openKey(mayCreate: Bool, expectedLabel: String?) throws -> WrappingKeyInfo {
                note()
                return try inner.openKey(mayCreate: mayCreate, expectedLabel: expectedLabel)
            }
            func seal(secret: Data, aad: Data) throws -> Data { note(); return try inner.seal(secret: secret, aad: aad) }
            func unseal(sealed: Data, aad: Data) throws -> Data { note(); return try inner.unseal(sealed: sealed, aad: aad) }
        }
        let recorder = ThreadRecorder(FakePhone().sealer())
        let store = try await open(recorder)
        await MainActor.run {
            XCTAssertTrue(Thread.isMainThread)
        }
        let task = Task { @MainActor in
            _ = try await store.generateKey(.single(algorithm: .p256), options: KeyOptions(alias: "m"))
            await store.lock()
            _ = try await store.sign(.alias(alias: "m"), payload: .message(message: Data("x".utf8)))
        }
        try await task.value
        XCTAssertFalse(recorder.lock.sync { recorder.onMain }, "sealer work ran on the main thread")
    }
}
