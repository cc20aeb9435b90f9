// Keyhold's errors in Swift: one enum grouped by what the app does next,
// each case carrying the stable numeric code shared by every Keyhold door
// (`keyhold_core::ErrorCode`, `rust-core/proto/keyhold.proto`). Bridged to
// NSError with that code as `errorCode`, so Objective-C callers, crash
// reporters and `(error as NSError).code` all see the same number.

import Foundation

/// A stable Keyhold error code (`keyhold_core::ErrorCode`). A struct rather
/// than an enum so that a code added to the core later still arrives intact.
public struct KeyholdErrorCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    public static let malformedRequest = Self(rawValue: 1)
    public static let requestTooLarge = Self(rawValue: 2)
    public static let unsupportedOperation = Self(rawValue: 3)
    public static let keyNotFound = Self(rawValue: 4)
    public static let permissionDenied = Self(rawValue: 5)
    public static let operationNotAllowed = Self(rawValue: 6)
    public static let incompatibleKey = Self(rawValue: 7)
    public static let invalidPath = Self(rawValue: 8)
    public static let invalidMnemonic = Self(rawValue: 9)
    public static let invalidKeyMaterial = Self(rawValue: 10)
    public static let invalidArgument = Self(rawValue: 11)
    public static let aliasExists = Self(rawValue: 12)
    public static let usageLimitExceeded = Self(rawValue: 13)
    public static let pathNotAllowed = Self(rawValue: 14)
    public static let decryptionFailed = Self(rawValue: 15)
    public static let sealerUnavailable = Self(rawValue: 16)
    public static let sealerKeyInvalidated = Self(rawValue: 17)
    public static let corruptKeyRecord = Self(rawValue: 18)
    public static let storageFailure = Self(rawValue: 19)
    public static let selfTestFailed = Self(rawValue: 20)
    public static let unsupportedVersion = Self(rawValue: 21)
    public static let unavailable = Self(rawValue: 22)
    public static let `internal` = Self(rawValue: 23)

    public var description: String { "\(rawValue)" }
}

/// An operation failed. Cases group the codes by the app's next action;
/// `code` is the exact stable code and `detail` a description without
/// secrets, for logs.
public enum KeyholdStoreError: Error, Equatable, Sendable {
    /// No such key for this app (4). Create it, or refresh a cached id.
    case keyNotFound(code: KeyholdErrorCode, detail: String)
    /// A request argument is wrong (1, 2, 3, 7-12, 21). Fix the input.
    case invalidInput(code: KeyholdErrorCode, detail: String)
    /// The key's policy refuses this (5, 6, 13, 14).
    case notAllowed(code: KeyholdErrorCode, detail: String)
    /// Authenticated decryption failed (15).
    case decryptionFailed(code: KeyholdErrorCode, detail: String)
    /// Temporarily unavailable (16, 22): device locked, prompt cancelled,
    /// hardware busy. Retry later.
    case unavailable(code: KeyholdErrorCode, detail: String)
    /// The sealer's key is gone for good (17): re-provision (for a wallet,
    /// from its mnemonic). The detail says why.
    case keyInvalidated(code: KeyholdErrorCode, detail: String)
    /// A stored key record is corrupt or does not unseal (18).
    case corruptKeyRecord(code: KeyholdErrorCode, detail: String)
    /// Storage, self-test or internal failure (19, 20, 23).
    case internalFailure(code: KeyholdErrorCode, detail: String)

    /// The stable code, whatever the case.
    public var code: KeyholdErrorCode {
        switch self {
        case .keyNotFound(let code, _), .invalidInput(let code, _), .notAllowed(let code, _),
             .decryptionFailed(let code, _), .unavailable(let code, _), .keyInvalidated(let code, _),
             .corruptKeyRecord(let code, _), .internalFailure(let code, _):
            return code
        }
    }

    /// The description, without secrets.
    public var detail: String {
        switch self {
        case .keyNotFound(_, let detail), .invalidInput(_, let detail), .notAllowed(_, let detail),
             .decryptionFailed(_, let detail), .unavailable(_, let detail), .keyInvalidated(_, let detail),
             .corruptKeyRecord(_, let detail), .internalFailure(_, let detail):
            return detail
        }
    }
}

extension KeyholdStoreError: CustomNSError, LocalizedError {
    /// The NSError domain of every Keyhold error.
    public static var errorDomain: String { "dev.keyhold" }

    /// The stable Keyhold code.
    public var errorCode: Int { code.rawValue }

    public var errorUserInfo: [String: Any] {
        [NSLocalizedDescriptionKey: errorDescription ?? detail]
    }

    public var errorDescription: String? { "Keyhold error \(code.rawValue): \(detail)" }
}
