// The async Swift API over the embedded core.

import Dispatch
import Foundation
import KeyholdUniFFI

/// Keyhold embedded in the app: a store in `dataDirectory`, secrets sealed
/// by `sealer`, every call made as the app (`app:<appID>` in the core).
///
/// Every method is `async` and runs on the store's own serial dispatch
/// queue: SQLite work, Secure Enclave operations and the passcode/biometry
/// prompt they may trigger never run on the caller's thread, the main
/// thread included, nor on Swift's cooperative pool (which must not block).
/// Calls are executed one at a time in the order they were made; share one
/// store per data directory (the core holds an exclusive lock file on it,
/// released by `close()`).
public final class KeyholdStore: Sendable {
    private let engine: EngineSlot
    private let queue: DispatchQueue

    /// The directory holding `keyhold.db`.
    public let dataDirectory: URL
    /// The caller identity the core records for this app.
    public let appID: String

    private init(engine: KeyholdEmbedded, queue: DispatchQueue, dataDirectory: URL, appID: String) {
        self.engine = EngineSlot(engine)
        self.queue = queue
        self.dataDirectory = dataDirectory
        self.appID = appID
    }

    /// `Application Support/Keyhold` in the app's container.
    public static func defaultDataDirectory() throws -> URL {
        let support = try FileManager.default.url(
            for: .applicationSupportDirectory, in: .userDomainMask, appropriateFor: nil, create: true
        )
        return support.appendingPathComponent("Keyhold", isDirectory: true)
    }

    /// Opens (creating if needed) the store.
    ///
    /// - Parameters:
    ///   - dataDirectory: where `keyhold.db` lives; default
    ///     `defaultDataDirectory()`. Created with mode 0700, file protection
    ///     `completeUntilFirstUserAuthentication` on iOS, and excluded from
    ///     backups: its secrets are sealed under a key that never leaves this
    ///     device, so a restored copy could not be unsealed anyway.
    ///   - appID: the caller identity (`app:<appID>`); default the bundle
    ///     identifier.
    ///   - sealer: `SecureEnclaveSealer` on devices. A `PreflightSealer` is
    ///     checked first, so a device without a Secure Enclave or without the
    ///     passcode the configuration needs fails here with `SealerSetupError`.
    /// - Throws: `SealerSetupError`, `KeyholdStoreError` (for example
    ///   `.keyInvalidated`, code 17, when the sealer's key is gone), or a
    ///   file-system error.
    public static func open(
        dataDirectory: URL? = nil,
        appID: String? = nil,
        sealer: Sealer
    ) async throws -> KeyholdStore {
        let queue = DispatchQueue(label: "dev.keyhold.store", qos: .userInitiated)
        let directory = try dataDirectory ?? defaultDataDirectory()
        let app = appID ?? Bundle.main.bundleIdentifier ?? "app"
        return try await onQueue(queue) {
            if let sealer = sealer as? PreflightSealer {
                try sealer.preflight()
            }
            try prepare(directory)
            do {
                let engine = try KeyholdEmbedded.make(dataDirectory: directory, appID: app, sealer: sealer)
                return KeyholdStore(engine: engine, queue: queue, dataDirectory: directory, appID: app)
            } catch {
                throw KeyholdStoreError(translating: error)
            }
        }
    }

    // MARK: Verbs (one line each: the core decides everything)

    /// Creates a key inside the store and returns its metadata.
    public func generateKey(_ spec: KeySpec, options: KeyOptions) async throws -> KeyInfo {
        try await run { try $0.generateKey(spec: spec, options: options) }
    }

    /// Imports key material; it is validated, sealed and never readable again.
    public func importKey(_ material: ImportMaterial, options: KeyOptions) async throws -> KeyInfo {
        try await run { try $0.importKey(material: material, options: options) }
    }

    /// A public key (of the HD child at `path`, when given) in `format`.
    public func getPublicKey(_ key: KeyRef, path: String? = nil, format: PublicKeyFormat) async throws -> EncodedPublicKey {
        try await run { try $0.getPublicKey(key: key, path: path, format: format) }
    }

    /// Signs `payload` with the key (or its HD child at `path`).
    public func sign(
        _ key: KeyRef, path: String? = nil, scheme: SignatureScheme? = nil, payload: Payload
    ) async throws -> Data {
        try await run { try $0.sign(key: key, path: path, scheme: scheme, payload: payload) }
    }

    /// Verifies `signature` over `payload`; false when it does not verify.
    public func verify(
        _ key: KeyRef, path: String? = nil, scheme: SignatureScheme? = nil, payload: Payload, signature: Data
    ) async throws -> Bool {
        try await run { try $0.verify(key: key, path: path, scheme: scheme, payload: payload, signature: signature) }
    }

    /// Derives the HD child at `path`, storing it as a new key when `storeAs` is given.
    public func deriveKey(_ key: KeyRef, path: String, storeAs: KeyOptions? = nil) async throws -> DerivedKey {
        try await run { try $0.deriveKey(key: key, path: path, storeAs: storeAs) }
    }

    /// AES-256-GCM with an AES key of the store: nonce || ciphertext || tag.
    public func encrypt(_ key: KeyRef, plaintext: Data, aad: Data = Data()) async throws -> Data {
        try await run { try $0.encrypt(key: key, plaintext: plaintext, aad: aad) }
    }

    /// Decrypts what `encrypt` produced (the app's own data).
    public func decrypt(_ key: KeyRef, ciphertext: Data, aad: Data = Data()) async throws -> Data {
        try await run { try $0.decrypt(key: key, ciphertext: ciphertext, aad: aad) }
    }

    /// ECDH/X25519 then HKDF-SHA256; stores the output as a new AES key when
    /// `storeAs` is given, else returns it.
    public func agree(
        _ key: KeyRef, peerPublicKey: Data, kdf: KdfParams, storeAs: KeyOptions? = nil
    ) async throws -> Agreement {
        try await run { try $0.agree(key: key, peerPublicKey: peerPublicKey, kdf: kdf, storeAs: storeAs) }
    }

    /// Deletes a key (its sealed secret is overwritten on disk).
    public func deleteKey(_ key: KeyRef) async throws {
        try await run { try $0.deleteKey(key: key) }
    }

    /// Metadata of every key of this app, ordered by alias.
    public func listKeys() async throws -> [KeyInfo] {
        try await run { try $0.listKeys() }
    }

    /// Metadata of one key, with its usage count.
    public func getKeyInfo(_ key: KeyRef) async throws -> KeyInfo {
        try await run { try $0.getKeyInfo(key: key) }
    }

    /// Checks the hash-chained audit log.
    public func auditVerify() async throws -> AuditVerdict {
        try await run { try $0.auditVerify() }
    }

    /// Forgets every unsealed key (call it when the app is backgrounded);
    /// with an `EnclaveSealerCore`-based sealer, also call its
    /// `forgetStoreKey()`. Runs after every call already queued.
    public func lock() async {
        // `lock()` cannot throw; `run` still translates nothing.
        _ = try? await run { $0.lock() }
    }

    /// Commits buffered audit records and usage counts.
    public func flush() async throws {
        try await run { try $0.flush() }
    }

    /// Closes the store after every call already queued: commits buffered
    /// audit records, releases the core (and its lock on the directory) on
    /// the store's queue before returning. Later calls fail with
    /// `.unavailable` (code 22). Call it before opening the same directory
    /// again; dropping the last reference also closes, but not at a
    /// moment the app controls.
    public func close() async {
        let slot = engine
        _ = try? await Self.onQueue(queue) {
            try? slot.engine?.flush()
            slot.engine = nil
        }
    }

    // MARK: Execution

    private func run<T: Sendable>(_ body: @escaping @Sendable (KeyholdEmbedded) throws -> T) async throws -> T {
        let slot = engine
        return try await Self.onQueue(queue) {
            guard let engine = slot.engine else {
                throw KeyholdStoreError.unavailable(code: .unavailable, detail: "the store was closed")
            }
            do {
                return try body(engine)
            } catch {
                throw KeyholdStoreError(translating: error)
            }
        }
    }

    private static func onQueue<T: Sendable>(
        _ queue: DispatchQueue, _ body: @escaping @Sendable () throws -> T
    ) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(with: Result { try body() })
            }
        }
    }

    private static func prepare(_ directory: URL) throws {
        #if os(iOS) || os(tvOS) || os(watchOS) || os(visionOS)
        let attributes: [FileAttributeKey: Any] = [
            .posixPermissions: 0o700,
            .protectionKey: FileProtectionType.completeUntilFirstUserAuthentication,
        ]
        #else
        let attributes: [FileAttributeKey: Any] = [.posixPermissions: 0o700]
        #endif
        try FileManager.default.createDirectory(
            at: directory, withIntermediateDirectories: true, attributes: attributes
        )
        #if canImport(Darwin)
        var url = directory
        var values = URLResourceValues()
        values.isExcludedFromBackup = true
        try url.setResourceValues(values)
        #endif
    }
}

/// The core object, read and cleared only on the store's queue (so the
/// last reference is dropped there, at `close()`, not on whichever thread
/// happened to finish last).
private final class EngineSlot: @unchecked Sendable {
    var engine: KeyholdEmbedded?
    init(_ engine: KeyholdEmbedded) { self.engine = engine }
}

#if canImport(UIKit) && !os(watchOS)
import UIKit

extension KeyholdStore {
    /// Locks the store (and makes `sealer` forget its store key) each time
    /// the app enters the background, so the next use after returning needs
    /// the Secure Enclave (and its prompt) again. Keep the returned token
    /// while this should happen; pass it to `NotificationCenter.removeObserver`.
    public func lockWhenBackgrounded(
        sealer: EnclaveSealerCore? = nil,
        center: NotificationCenter = .default
    ) -> NSObjectProtocol {
        center.addObserver(forName: UIApplication.didEnterBackgroundNotification, object: nil, queue: nil) {
            [weak self] _ in
            guard let self else { return }
            Task {
                await self.lock()
                sealer?.forgetStoreKey()
            }
        }
    }
}
#endif
