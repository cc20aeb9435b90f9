import Keyhold
import XCTest

/// The Secure Enclave sealer. On a device with a Secure Enclave these run
/// for real; in the Simulator only the "no Secure Enclave" error is checked
/// and the rest are skipped.
final class SecureEnclaveSealerTests: XCTestCase {
    let tag = "dev.keyhold.tests.\(UUID().uuidString)"

    override func tearDownWithError() throws {
        if SecureEnclaveSealer.isAvailable {
            try SecureEnclaveSealer.deleteKeys(tag: tag)
        }
    }

    func testWithoutASecureEnclaveInitFailsClearly() throws {
        try XCTSkipIf(SecureEnclaveSealer.isAvailable, "this device has a Secure Enclave")
        XCTAssertThrowsError(try SecureEnclaveSealer(tag: tag)) { error in
            guard case SealerError.KeyInvalidated(let detail) = error else {
                return XCTFail("expected SealerError.KeyInvalidated, got \(error)")
            }
            XCTAssertTrue(detail.contains("Secure Enclave"), detail)
        }
    }

    func testRoundTripAndAssociatedDataBinding() throws {
        try XCTSkipUnless(SecureEnclaveSealer.isAvailable, "needs a device with a Secure Enclave")
        let sealer = try SecureEnclaveSealer(tag: tag)
        let secret = Data((0..<32).map { UInt8($0) })
        let aad = Data("keyhold/seal/v1 key 1".utf8)
        let sealed = try sealer.seal(secret: secret, aad: aad)
        XCTAssertNil(sealed.range(of: secret), "the secret appears in clear")
        XCTAssertEqual(try sealer.unseal(sealed: sealed, aad: aad), secret)

        // After forgetting the store key, the enclave unwraps it again.
        sealer.forgetStoreKey()
        XCTAssertEqual(try sealer.unseal(sealed: sealed, aad: aad), secret)

        // Another AAD, or any flipped byte, fails authentication.
        assertSealerError(try sealer.unseal(sealed: sealed, aad: Data("keyhold/seal/v1 key 2".utf8))) {
            if case .AuthenticationFailed = $0 { return true } else { return false }
        }
        var tampered = sealed
        tampered[tampered.count - 1] ^= 0x01
        assertSealerError(try sealer.unseal(sealed: tampered, aad: aad)) {
            if case .AuthenticationFailed = $0 { return true } else { return false }
        }
    }

    func testDeletedKeysAreReportedAsInvalidated() throws {
        try XCTSkipUnless(SecureEnclaveSealer.isAvailable, "needs a device with a Secure Enclave")
        let sealer = try SecureEnclaveSealer(tag: tag)
        let sealed = try sealer.seal(secret: Data(repeating: 7, count: 32), aad: Data("a".utf8))
        try SecureEnclaveSealer.deleteKeys(tag: tag)
        sealer.forgetStoreKey()
        assertSealerError(try sealer.unseal(sealed: sealed, aad: Data("a".utf8))) {
            if case .KeyInvalidated = $0 { return true } else { return false }
        }
        // A new store key is made on the next seal; the old blob stays dead.
        _ = try sealer.seal(secret: Data(repeating: 1, count: 32), aad: Data())
        assertSealerError(try sealer.unseal(sealed: sealed, aad: Data("a".utf8))) {
            if case .KeyInvalidated = $0 { return true } else { return false }
        }
    }

    func testKeyholdOverTheSecureEnclave() throws {
        try XCTSkipUnless(SecureEnclaveSealer.isAvailable, "needs a device with a Secure Enclave")
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("keyhold-se-\(UUID().uuidString)", isDirectory: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let keyhold = try KeyholdEmbedded.open(directory: directory, appId: "dev.keyhold.tests", sealer: SecureEnclaveSealer(tag: tag))
        let info = try keyhold.generateKey(spec: .single(algorithm: .ed25519), options: KeyOptions(alias: "se", policy: KeyPolicy()))
        XCTAssertEqual(info.sealer, "secure-enclave")
        keyhold.lock()
        let signature = try keyhold.sign(key: .alias(alias: "se"), path: nil, scheme: nil, payload: .message(message: Data("m".utf8)))
        XCTAssertEqual(signature.count, 64)
    }

    private func assertSealerError(
        _ body: @autoclosure () throws -> Data,
        file: StaticString = #filePath,
        line: UInt = #line,
        _ matches: (SealerError) -> Bool
    ) {
        XCTAssertThrowsError(try body(), file: file, line: line) { error in
            guard let sealerError = error as? SealerError, matches(sealerError) else {
                return XCTFail("unexpected error \(error)", file: file, line: line)
            }
        }
    }
}
