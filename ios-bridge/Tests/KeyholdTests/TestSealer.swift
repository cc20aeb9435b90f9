import CryptoKit
import Foundation
import Keyhold

/// A software sealer for the glue tests (they run in the Simulator, which
/// has no Secure Enclave): AES-256-GCM with CryptoKit, AAD authenticated,
/// counting calls, and able to fail like hardware does.
final class TestSealer: Sealer, @unchecked Sendable {
    let key: SymmetricKey
    private let lock = NSLock()
    private var seals = 0
    private var unseals = 0
    private var failure: Error?

    init(key: SymmetricKey = SymmetricKey(size: .bits256)) {
        self.key = key
    }

    var sealCount: Int {
        lock.lock()
        defer { lock.unlock() }
        return seals
    }

    var unsealCount: Int {
        lock.lock()
        defer { lock.unlock() }
        return unseals
    }

    /// Makes every following call throw `error` (nil: work again).
    func fail(with error: Error?) {
        lock.lock()
        defer { lock.unlock() }
        failure = error
    }

    private func count(unseal: Bool) throws {
        lock.lock()
        defer { lock.unlock() }
        if unseal {
            unseals += 1
        } else {
            seals += 1
        }
        if let failure {
            throw failure
        }
    }

    func name() -> String {
        "swift-test"
    }

    func openKey(mayCreate: Bool, expectedLabel: String?) throws -> WrappingKeyInfo {
        WrappingKeyInfo(label: "swift-test-key", levelRequested: "software", levelObtained: "software", created: mayCreate)
    }

    func seal(secret: Data, aad: Data) throws -> Data {
        try count(unseal: false)
        guard let combined = try AES.GCM.seal(secret, using: key, authenticating: aad).combined else {
            throw SealerError.Unavailable(detail: "no combined box")
        }
        return combined
    }

    func unseal(sealed: Data, aad: Data) throws -> Data {
        try count(unseal: true)
        do {
            return try AES.GCM.open(AES.GCM.SealedBox(combined: sealed), using: key, authenticating: aad)
        } catch {
            throw SealerError.AuthenticationFailed(detail: "tag mismatch")
        }
    }
}

/// Not a SealerError: what a buggy sealer might throw.
struct UnexpectedSealerBug: Error {}
