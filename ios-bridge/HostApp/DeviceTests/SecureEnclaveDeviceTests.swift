// Tests of the Apple-only adapters (SecureEnclaveSealer.swift) against the
// real Keychain, CryptoKit and Secure Enclave. They run in the host app
// KeyholdHost (project.yml): on a device every test runs; in the Simulator
// the enclave tests skip and the "no Secure Enclave" and software-sealer
// tests run. Written on Linux, not compiled there: see ../../README.md.
//
// The enclave keys made here use `.whenUnlockedThisDeviceOnly` without user
// presence so the run needs no taps; the wallet preset's prompt is covered
// by the manual checklist in the README.

import Foundation
import Keyhold
import XCTest

final class SecureEnclaveDeviceTests: XCTestCase {
    let secret = Data("device test secret, 32 bytes....".utf8)
    let aad = Data("key 1 / app:host / p256".utf8)
    var labels: [String] = []
    var directories: [URL] = []

    override func tearDown() {
        for label in labels {
            try? SecureEnclaveSealer.make(configuration(label)).deleteItem()
        }
        for directory in directories {
            try? FileManager.default.removeItem(at: directory)
        }
        super.tearDown()
    }

    func configuration(_ label: String) -> SecureEnclaveSealer.Configuration {
        .init(label: label, accessibility: .whenUnlockedThisDeviceOnly, userPresence: false)
    }

    func freshLabel() -> String {
        let label = "dev.keyhold.device-test.\(UUID().uuidString)"
        labels.append(label)
        return label
    }

    func freshDirectory() -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("keyhold-\(UUID().uuidString)")
        directories.append(url)
        return url
    }

    func requireEnclave() throws {
        try XCTSkipUnless(SecureEnclaveSealer.isAvailable, "needs a device with a Secure Enclave")
    }

    func testNoSecureEnclaveIsReportedAtOpen() async throws {
        try XCTSkipIf(SecureEnclaveSealer.isAvailable, "this device has a Secure Enclave")
        do {
            _ = try await KeyholdStore.open(dataDirectory: freshDirectory(), sealer: SecureEnclaveSealer.make())
            XCTFail("opened without a Secure Enclave")
        } catch {
            XCTAssertEqual(error as? SealerSetupError, .noSecureEnclave)
        }
    }

    func testRoundTripAADAndTamper() throws {
        try requireEnclave()
        let sealer = SecureEnclaveSealer.make(configuration(freshLabel()))
        XCTAssertTrue(try sealer.openKey(mayCreate: true, expectedLabel: nil).created)
        let blob = try sealer.seal(secret: secret, aad: aad)
        sealer.forgetStoreKey()  // the next unseal goes through the enclave
        XCTAssertEqual(try sealer.unseal(sealed: blob, aad: aad), secret)
        XCTAssertThrowsError(try sealer.unseal(sealed: blob, aad: aad + Data([1]))) { error in
            guard case SealerError.AuthenticationFailed = error else { return XCTFail("\(error)") }
        }
        var altered = blob
        altered[altered.count - 1] ^= 1
        XCTAssertThrowsError(try sealer.unseal(sealed: altered, aad: aad))
    }

    func testTwoInstancesShareOneItem() throws {
        try requireEnclave()
        let label = freshLabel()
        let a = SecureEnclaveSealer.make(configuration(label))
        let b = SecureEnclaveSealer.make(configuration(label))
        let results = [a, b].map { sealer in
            Result { try sealer.openKey(mayCreate: true, expectedLabel: nil).created }
        }
        XCTAssertEqual(try results.map { try $0.get() }.filter { $0 }.count, 1)
        XCTAssertEqual(try b.unseal(sealed: a.seal(secret: secret, aad: aad), aad: aad), secret)
    }

    func testDeletedItemMakesTheStoreKeyInvalidated() async throws {
        try requireEnclave()
        let label = freshLabel()
        let directory = freshDirectory()
        let store = try await KeyholdStore.open(dataDirectory: directory, sealer: SecureEnclaveSealer.make(configuration(label)))
        _ = try await store.generateKey(.single(algorithm: .p256), options: KeyOptions(alias: "k"))
        await store.close()
        try SecureEnclaveSealer.make(configuration(label)).deleteItem()
        do {
            _ = try await KeyholdStore.open(dataDirectory: directory, sealer: SecureEnclaveSealer.make(configuration(label)))
            XCTFail("opened a store whose key is gone")
        } catch let error as KeyholdStoreError {
            XCTAssertEqual(error.code, .sealerKeyInvalidated, error.detail)
        }
    }

    func testKeyholdOverTheEnclave() async throws {
        try requireEnclave()
        let store = try await KeyholdStore.open(
            dataDirectory: freshDirectory(), sealer: SecureEnclaveSealer.make(configuration(freshLabel()))
        )
        _ = try await store.importKey(
            .mnemonic(phrase: "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about",
                      passphrase: "", scheme: .bip32Secp256k1),
            options: KeyOptions(alias: "wallet")
        )
        await store.lock()
        let address = try await store.getPublicKey(.alias(alias: "wallet"), path: "m/44'/60'/0'/0/0", format: .ethAddress)
        XCTAssertEqual(address.text, "0x9858EfFD232B4033E47d90003D41EC34EcaEda94")
        let signature = try await store.sign(.alias(alias: "wallet"), path: "m/44'/60'/0'/0/0",
                                             scheme: .ecdsaRecoverable, payload: .digest(digest: Data(repeating: 0x11, count: 32)))
        XCTAssertEqual(signature.count, 65)
        await store.close()
    }

    func testSoftwareSealerWorksEverywhere() async throws {
        // The Simulator/preview sealer: real CryptoKit AES-GCM and ECIES,
        // no hardware. Runs in the Simulator and on devices.
        let store = try await KeyholdStore.open(
            dataDirectory: freshDirectory(), sealer: SoftwareSealer.make(ephemeral: true)
        )
        let key = try await store.generateKey(.single(algorithm: .ed25519), options: KeyOptions(alias: "s"))
        XCTAssertEqual(key.sealer, "software")
        await store.lock()
        let message = Payload.message(message: Data("m".utf8))
        let signature = try await store.sign(.alias(alias: "s"), payload: message)
        let verified = try await store.verify(.alias(alias: "s"), payload: message, signature: signature)
        XCTAssertTrue(verified)
        await store.close()
    }
}
