import Foundation

/// A `SealerKeychain` held in memory, with the keychain's semantics for the
/// calls the sealer makes (`errSecDuplicateItem` on a second add,
/// `errSecItemNotFound` on a missing item, copies in and out). For
/// `SoftwareSealer.make(ephemeral: true)` in previews and tests; items are
/// gone with the process.
public final class InMemorySealerKeychain: SealerKeychain, @unchecked Sendable {
    private let lock = NSLock()
    private var items: [String: Data] = [:]

    public init() {}

    private static func key(_ service: String, _ account: String) -> String {
        "\(service)\u{0}\(account)"
    }

    public func add(service: String, account: String, data: Data, accessibility: KeychainAccessibility) -> KeychainStatus {
        lock.lock()
        defer { lock.unlock() }
        let key = Self.key(service, account)
        guard items[key] == nil else { return .duplicateItem }
        items[key] = Data(data)
        return .success
    }

    public func read(service: String, account: String) -> Result<Data, KeychainFailure> {
        lock.lock()
        defer { lock.unlock() }
        guard let data = items[Self.key(service, account)] else { return .failure(KeychainFailure(.itemNotFound)) }
        return .success(Data(data))
    }

    public func delete(service: String, account: String) -> KeychainStatus {
        lock.lock()
        defer { lock.unlock() }
        return items.removeValue(forKey: Self.key(service, account)) == nil ? .itemNotFound : .success
    }
}
