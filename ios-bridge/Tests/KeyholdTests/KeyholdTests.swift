import CryptoKit
import Keyhold
import XCTest

/// Glue tests of the Swift bindings: the logic is tested in Rust; these
/// check that calls, records, enums, errors and the Sealer callback cross
/// the boundary intact. They run in the Simulator and on devices.
final class KeyholdTests: XCTestCase {
    static let abandon =
        "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about"

    var directory: URL!
    var sealer: TestSealer!
    var keyhold: KeyholdEmbedded!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("keyhold-tests-\(UUID().uuidString)", isDirectory: true)
        sealer = TestSealer()
        keyhold = try KeyholdEmbedded.open(directory: directory, appId: "dev.keyhold.tests", sealer: sealer)
    }

    override func tearDownWithError() throws {
        keyhold = nil
        try? FileManager.default.removeItem(at: directory)
    }

    func options(_ alias: String, policy: KeyPolicy = KeyPolicy()) -> KeyOptions {
        KeyOptions(alias: alias, policy: policy)
    }

    func code(of body: () throws -> Void, file: StaticString = #filePath, line: UInt = #line) -> UInt32? {
        do {
            try body()
            XCTFail("expected a KeyholdError", file: file, line: line)
            return nil
        } catch let error as KeyholdError {
            return error.code
        } catch {
            XCTFail("expected a KeyholdError, got \(error)", file: file, line: line)
            return nil
        }
    }

    func testOpeningRunsTheSealerSelfTest() {
        XCTAssertEqual(sealer.sealCount, 1)
        XCTAssertEqual(sealer.unsealCount, 1)
    }

    func testGenerateAndSignP256VerifiedByCryptoKit() throws {
        let info = try keyhold.generateKey(spec: .single(algorithm: .p256), options: options("p256"))
        XCTAssertEqual(info.algorithm, .p256)
        XCTAssertEqual(info.origin, .generated)
        XCTAssertEqual(info.sealer, "swift-test")
        XCTAssertEqual(info.id.count, 16)

        let message = Data("pay 1 sat to bob".utf8)
        let der = try keyhold.sign(key: .alias(alias: "p256"), path: nil, scheme: nil, payload: .message(message: message))
        let spki = try keyhold.getPublicKey(key: .alias(alias: "p256"), path: nil, format: .spkiDer)
        let publicKey = try P256.Signing.PublicKey(derRepresentation: spki.bytes)
        let signature = try P256.Signing.ECDSASignature(derRepresentation: der)
        XCTAssertTrue(publicKey.isValidSignature(signature, for: message))

        XCTAssertTrue(try keyhold.verify(
            key: .id(id: info.id), path: nil, scheme: nil, payload: .message(message: message), signature: der
        ))
        XCTAssertFalse(try keyhold.verify(
            key: .id(id: info.id), path: nil, scheme: nil, payload: .message(message: Data("other".utf8)), signature: der
        ))
    }

    func testBip44KnownAnswerFromTheAbandonMnemonic() throws {
        let material = ImportMaterial.mnemonic(phrase: Self.abandon, passphrase: "", scheme: .bip32Secp256k1)
        let root = try keyhold.importKey(material: material, options: options("wallet"))
        XCTAssertEqual(root.hdScheme, .bip32Secp256k1)

        let address = try keyhold.getPublicKey(key: .alias(alias: "wallet"), path: "m/44'/60'/0'/0/0", format: .ethAddress)
        XCTAssertEqual(address.text, "0x9858EfFD232B4033E47d90003D41EC34EcaEda94")

        let derived = try keyhold.deriveKey(key: .alias(alias: "wallet"), path: "m/44'/60'/0'/0/0", storeAs: nil)
        XCTAssertEqual(derived.publicKey.count, 33)
        XCTAssertNotNil(derived.xpub)
        XCTAssertNil(derived.stored)
    }

    func testImportMaterialDoesNotPrintItsSecret() {
        let material = ImportMaterial.mnemonic(phrase: Self.abandon, passphrase: "", scheme: .bip32Secp256k1)
        XCTAssertFalse(String(describing: material).contains("abandon"))
        XCTAssertFalse(String(reflecting: material).contains("abandon"))
    }

    func testErrorsCarryTheStableCodes() throws {
        XCTAssertEqual(code { _ = try keyhold.getKeyInfo(key: .alias(alias: "missing")) }, 4)
        let bad = ImportMaterial.mnemonic(
            phrase: Self.abandon.replacingOccurrences(of: "about", with: "abandon"),
            passphrase: "",
            scheme: .bip32Secp256k1
        )
        XCTAssertEqual(code { _ = try keyhold.importKey(material: bad, options: options("bad")) }, 9)

        _ = try keyhold.generateKey(spec: .hd(scheme: .bip32Secp256k1), options: options("hd"))
        XCTAssertEqual(code { _ = try keyhold.deriveKey(key: .alias(alias: "hd"), path: "m/x", storeAs: nil) }, 8)
        XCTAssertEqual(code { _ = try keyhold.generateKey(spec: .single(algorithm: .ed25519), options: options("hd")) }, 12)

        do {
            _ = try keyhold.getKeyInfo(key: .alias(alias: "missing"))
        } catch KeyholdError.KeyNotFound(let code, let detail) {
            XCTAssertEqual(code, 4)
            XCTAssertFalse(detail.isEmpty)
        }
    }

    func testNSignsCostOneUnseal() throws {
        _ = try keyhold.generateKey(spec: .single(algorithm: .secp256k1), options: options("hot"))
        keyhold.lock()
        let before = sealer.unsealCount
        for _ in 0..<50 {
            _ = try keyhold.sign(key: .alias(alias: "hot"), path: nil, scheme: nil, payload: .message(message: Data("tx".utf8)))
        }
        XCTAssertEqual(sealer.unsealCount, before + 1)
    }

    func testSealerErrorsMapToCodes() throws {
        _ = try keyhold.generateKey(spec: .single(algorithm: .ed25519), options: options("k"))
        let cases: [(Error, UInt32)] = [
            (SealerError.Unavailable(detail: "busy"), 16),
            (SealerError.KeyInvalidated(detail: "gone"), 17),
            (SealerError.AuthenticationFailed(detail: "tampered"), 18),
            (UnexpectedSealerBug(), 16),
        ]
        for (thrown, expected) in cases {
            keyhold.lock()
            sealer.fail(with: thrown)
            XCTAssertEqual(
                code { _ = try keyhold.sign(key: .alias(alias: "k"), path: nil, scheme: nil, payload: .message(message: Data())) },
                expected,
                "\(thrown)"
            )
        }
        sealer.fail(with: nil)
        _ = try keyhold.sign(key: .alias(alias: "k"), path: nil, scheme: nil, payload: .message(message: Data()))
    }

    func testEncryptDecryptAndAgree() throws {
        _ = try keyhold.generateKey(spec: .single(algorithm: .aes256Gcm), options: options("aes"))
        let aad = Data("record-7".utf8)
        let sealed = try keyhold.encrypt(key: .alias(alias: "aes"), plaintext: Data("note".utf8), aad: aad)
        XCTAssertEqual(try keyhold.decrypt(key: .alias(alias: "aes"), ciphertext: sealed, aad: aad), Data("note".utf8))
        XCTAssertEqual(code { _ = try keyhold.decrypt(key: .alias(alias: "aes"), ciphertext: sealed, aad: Data()) }, 15)

        let a = try keyhold.generateKey(spec: .single(algorithm: .x25519), options: options("a"))
        let b = try keyhold.generateKey(spec: .single(algorithm: .x25519), options: options("b"))
        let kdf = KdfParams(salt: Data(), info: Data("test".utf8), length: 32)
        let ab = try keyhold.agree(key: .alias(alias: "a"), peerPublicKey: b.publicKey, kdf: kdf, storeAs: nil)
        let ba = try keyhold.agree(key: .alias(alias: "b"), peerPublicKey: a.publicKey, kdf: kdf, storeAs: nil)
        XCTAssertEqual(ab, ba)
    }

    func testListDeleteAndAudit() throws {
        _ = try keyhold.generateKey(spec: .single(algorithm: .hmacSha256), options: options("b"))
        _ = try keyhold.generateKey(spec: .hd(scheme: .slip10Ed25519), options: options("a"))
        XCTAssertEqual(try keyhold.listKeys().map(\.alias), ["a", "b"])
        try keyhold.deleteKey(key: .alias(alias: "b"))
        XCTAssertEqual(try keyhold.listKeys().map(\.alias), ["a"])
        let verdict = try keyhold.verifyAudit()
        XCTAssertGreaterThan(verdict.entries, 0)
        XCTAssertNil(verdict.firstBrokenSeq)
    }

    func testTheStoreDirectoryIsPrivateAndNotBackedUp() throws {
        let values = try directory.resourceValues(forKeys: [.isExcludedFromBackupKey])
        XCTAssertEqual(values.isExcludedFromBackup, true)
        let attributes = try FileManager.default.attributesOfItem(atPath: directory.path)
        XCTAssertEqual((attributes[.posixPermissions] as? NSNumber)?.intValue, 0o700)
    }
}
