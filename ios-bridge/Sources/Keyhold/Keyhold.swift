// Keyhold: the Swift API apps import.
//
// Everything Keyhold does is in the generated bindings (module KeyholdUniFFI,
// re-exported here): `KeyholdEmbedded` with the core's verbs (`generateKey`,
// `importKey`, `getPublicKey`, `sign`, `verify`, `deriveKey`, `encrypt`,
// `decrypt`, `agree`, `deleteKey`, `listKeys`, `getKeyInfo`, `verifyAudit`),
// the records and enums, and the `Sealer` protocol. This file only adds what
// is iOS-specific: where the store lives, and locking on backgrounding.
// There is no cryptography or policy here.

@_exported import KeyholdUniFFI
import Foundation

extension KeyholdError {
    /// The stable numeric code (`keyhold_core::ErrorCode`), the same on every
    /// Keyhold door: 4 key not found, 9 invalid mnemonic, 17 sealer key
    /// invalidated, and so on.
    public var code: UInt32 {
        switch self {
        case .KeyNotFound(let code, _),
             .InvalidInput(let code, _),
             .NotAllowed(let code, _),
             .DecryptionFailed(let code, _),
             .Unavailable(let code, _),
             .KeyInvalidated(let code, _),
             .CorruptKeyRecord(let code, _),
             .Internal(let code, _):
            return code
        }
    }

    /// A description without secrets, for logs.
    public var detail: String {
        switch self {
        case .KeyNotFound(_, let detail),
             .InvalidInput(_, let detail),
             .NotAllowed(_, let detail),
             .DecryptionFailed(_, let detail),
             .Unavailable(_, let detail),
             .KeyInvalidated(_, let detail),
             .CorruptKeyRecord(_, let detail),
             .Internal(_, let detail):
            return detail
        }
    }
}

extension KeyholdEmbedded {
    /// `Application Support/Keyhold` in the app's container.
    public static func defaultDirectory() throws -> URL {
        let support = try FileManager.default.url(
            for: .applicationSupportDirectory,
            in: .userDomainMask,
            appropriateFor: nil,
            create: true
        )
        return support.appendingPathComponent("Keyhold", isDirectory: true)
    }

    /// Opens the app's Keyhold store.
    ///
    /// - Parameters:
    ///   - directory: where `keyhold.db` lives; default `defaultDirectory()`.
    ///     It is created with mode 0700 and file protection
    ///     `completeUntilFirstUserAuthentication` (files created in it
    ///     inherit it), and excluded from backups: its secrets are sealed
    ///     under a Secure Enclave key that never leaves this device, so a
    ///     restored copy could not be unsealed anyway. A wallet's recovery
    ///     path is its mnemonic.
    ///   - appId: the caller identity the core records (`app:<appId>`);
    ///     default: the bundle identifier.
    ///   - sealer: usually `try SecureEnclaveSealer()`.
    /// - Throws: `KeyholdError` (for example `KeyInvalidated`, code 17, when
    ///   the sealer's hardware key is gone), or a file-system error.
    public static func open(
        directory: URL? = nil,
        appId: String? = nil,
        sealer: Sealer
    ) throws -> KeyholdEmbedded {
        let dir = try directory ?? defaultDirectory()
        try prepareDirectory(dir)
        let app = appId ?? Bundle.main.bundleIdentifier ?? "app"
        return try KeyholdEmbedded(dataDir: dir.path, appId: app, sealer: sealer)
    }

    static func prepareDirectory(_ directory: URL) throws {
        try FileManager.default.createDirectory(
            at: directory,
            withIntermediateDirectories: true,
            attributes: [
                .posixPermissions: 0o700,
                .protectionKey: FileProtectionType.completeUntilFirstUserAuthentication,
            ]
        )
        var url = directory
        var values = URLResourceValues()
        values.isExcludedFromBackup = true
        try url.setResourceValues(values)
    }
}

#if canImport(UIKit)
import UIKit

extension KeyholdEmbedded {
    /// Calls `lock()` (forget every unsealed key) each time the app enters
    /// the background, and `sealer.forgetStoreKey()` when a
    /// `SecureEnclaveSealer` is given, so the next use after returning
    /// needs the Secure Enclave again. Keep the returned token for as long
    /// as this should happen; pass it to `NotificationCenter.removeObserver`
    /// to stop.
    public func lockWhenBackgrounded(
        sealer: SecureEnclaveSealer? = nil,
        center: NotificationCenter = .default
    ) -> NSObjectProtocol {
        center.addObserver(
            forName: UIApplication.didEnterBackgroundNotification,
            object: nil,
            queue: nil
        ) { [weak self] _ in
            self?.lock()
            sealer?.forgetStoreKey()
        }
    }
}
#endif
