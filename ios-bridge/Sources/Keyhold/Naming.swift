// The one place where the generated bindings' names meet Swift's.
//
// uniffi generates Swift from the Rust names: most already read as Swift
// (`generateKey`, `KeySpec`, `.ethAddress`), but some do not: the error
// enum's cases are UpperCamelCase (`KeyholdError.KeyNotFound`), the
// constructor takes `dataDir`/`appId`, times are `createdAtMs`. Every
// translation between the two lives in this file; `KeyholdStore` and the
// sealers use the Swift names only.
//
//   generated (KeyholdUniFFI)              Swift API (Keyhold)
//   KeyholdError.KeyNotFound(code, detail) KeyholdStoreError.keyNotFound(code, detail)
//     ... one case per generated case      ... lowerCamelCase
//   the code: UInt32                       KeyholdErrorCode (named constants), CustomNSError.errorCode
//   KeyholdEmbedded(dataDir:appId:sealer:) KeyholdStore.open(dataDirectory:appID:sealer:)
//   KeyInfo.createdAtMs                    KeyInfo.createdAt (Date)
//   KeyInfo.id                             KeyInfo.keyID
//   HdScheme                               HDScheme (type alias)
//   insecureSoftwareSealerEphemeral()      InsecureSoftwareSealer.ephemeral()
//   insecureSoftwareSealerKeyFile(path:)   InsecureSoftwareSealer.keyFile(at:)

import Foundation
import KeyholdUniFFI

/// HD derivation schemes (the generated `HdScheme`).
public typealias HDScheme = HdScheme

extension KeyInfo {
    /// When the key was created.
    public var createdAt: Date {
        Date(timeIntervalSince1970: TimeInterval(createdAtMs) / 1000)
    }

    /// The key's identifier (16 lowercase hex digits): `id` in the bindings.
    public var keyID: String { id }
}

extension KeyholdEmbedded {
    /// The generated constructor, under Swift names.
    static func make(dataDirectory: URL, appID: String, sealer: Sealer) throws -> KeyholdEmbedded {
        try KeyholdEmbedded(dataDir: dataDirectory.path, appId: appID, sealer: sealer)
    }
}

extension KeyholdStoreError {
    /// Translates anything the bindings throw. A `KeyholdError` keeps its
    /// stable code; anything else (which the bindings do not throw for
    /// Keyhold failures) becomes `.internalFailure` with code 23.
    init(translating error: Error) {
        guard let generated = error as? KeyholdError else {
            if let already = error as? KeyholdStoreError {
                self = already
            } else {
                self = .internalFailure(code: .internal, detail: "unexpected error \(type(of: error))")
            }
            return
        }
        switch generated {
        case .KeyNotFound(let code, let detail):
            self = .keyNotFound(code: KeyholdErrorCode(rawValue: Int(code)), detail: detail)
        case .InvalidInput(let code, let detail):
            self = .invalidInput(code: KeyholdErrorCode(rawValue: Int(code)), detail: detail)
        case .NotAllowed(let code, let detail):
            self = .notAllowed(code: KeyholdErrorCode(rawValue: Int(code)), detail: detail)
        case .DecryptionFailed(let code, let detail):
            self = .decryptionFailed(code: KeyholdErrorCode(rawValue: Int(code)), detail: detail)
        case .Unavailable(let code, let detail):
            self = .unavailable(code: KeyholdErrorCode(rawValue: Int(code)), detail: detail)
        case .KeyInvalidated(let code, let detail):
            self = .keyInvalidated(code: KeyholdErrorCode(rawValue: Int(code)), detail: detail)
        case .CorruptKeyRecord(let code, let detail):
            self = .corruptKeyRecord(code: KeyholdErrorCode(rawValue: Int(code)), detail: detail)
        case .Internal(let code, let detail):
            self = .internalFailure(code: KeyholdErrorCode(rawValue: Int(code)), detail: detail)
        }
    }
}

/// The Rust core's software sealer (AES-256-GCM), on every platform
/// including Linux: for the Simulator, previews, tests and development
/// machines. NOT hardware-backed: never use it for real keys. On Apple
/// platforms `SoftwareSealer` is the alternative that exercises the Secure
/// Enclave sealer's own format with a software key.
public enum InsecureSoftwareSealer {
    /// A random key in this process's memory: the store cannot be reopened
    /// by another process (it then reports code 17).
    public static func ephemeral() throws -> Sealer {
        try insecureSoftwareSealerEphemeral()
    }

    /// A key in a 0600 file at `url`, created with the store.
    public static func keyFile(at url: URL) -> Sealer {
        insecureSoftwareSealerKeyFile(path: url.path)
    }
}
