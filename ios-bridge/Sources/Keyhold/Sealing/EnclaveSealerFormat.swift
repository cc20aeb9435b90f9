// The byte formats of the enclave sealer, kept apart from the logic so they
// can be read (and tested) on their own. Version 2: version 1 (a separate
// enclave key and wrapped-key item) was never released.
//
// The keychain item: ONE generic password, service `EnclaveSealerFormat.service`,
// account = the sealer's label. Its data holds everything needed to open the
// store key, so it is written with a single SecItemAdd (atomic: two sealer
// instances, or an app and its extension, cannot both create one):
//
//   "KHSE" | 0x02 | flags (bit 0: user presence) | storeKeyID (16)
//   | u16 len | keyData    the enclave key's CryptoKit dataRepresentation
//   | u16 len | publicKey  its X9.63 public key (65 bytes)
//   | u16 len | wrapped    ECIES(publicKey, storeKey (32)), info = wrapInfo
//
//   wrapInfo = "keyhold/secure-enclave/v2/store-key" | 0x00 | label | 0x00 | storeKeyID
//
// Each sealed secret, as stored by the core:
//
//   0x02 | storeKeyID (16) | nonce (12) | AES-256-GCM ciphertext | tag (16)
//   GCM AAD = "keyhold/secure-enclave/v2/secret" | 0x00 | 0x02 | storeKeyID | core AAD
//
// The store key ID names the store key a blob was sealed under; a blob
// whose ID is not the item's is reported as "sealed under another key"
// (KeyInvalidated) rather than as tampering.

import Foundation

enum EnclaveSealerFormat {
    static let service = "dev.keyhold.sealer"
    static let magic = Data("KHSE".utf8)
    static let version: UInt8 = 2
    static let storeKeyIDLength = 16
    static let storeKeyLength = 32
    static let nonceLength = 12
    static let tagLength = 16
    static let flagUserPresence: UInt8 = 0x01

    static let wrapDomain = Data("keyhold/secure-enclave/v2/store-key".utf8)
    static let secretDomain = Data("keyhold/secure-enclave/v2/secret".utf8)

    /// The decoded keychain item.
    struct Item: Equatable {
        var userPresence: Bool
        var storeKeyID: Data
        var keyData: Data
        var publicKey: Data
        var wrappedStoreKey: Data
    }

    static func encode(_ item: Item) -> Data {
        var out = magic
        out.append(version)
        out.append(item.userPresence ? flagUserPresence : 0)
        out.append(item.storeKeyID)
        for field in [item.keyData, item.publicKey, item.wrappedStoreKey] {
            precondition(field.count <= Int(UInt16.max), "keychain item field too long")
            out.append(UInt8(field.count >> 8))
            out.append(UInt8(field.count & 0xff))
            out.append(field)
        }
        return out
    }

    /// Nil when `data` is not a well-formed version-2 item.
    static func decode(_ data: Data) -> Item? {
        let bytes = [UInt8](data)
        var at = 0
        func take(_ n: Int) -> [UInt8]? {
            guard n >= 0, bytes.count - at >= n else { return nil }
            defer { at += n }
            return Array(bytes[at..<(at + n)])
        }
        func field() -> Data? {
            guard let len = take(2) else { return nil }
            return take(Int(len[0]) << 8 | Int(len[1])).map { Data($0) }
        }
        guard let head = take(magic.count), Data(head) == magic,
              let version = take(1), version[0] == self.version,
              let flags = take(1), flags[0] & ~flagUserPresence == 0,
              let id = take(storeKeyIDLength),
              let keyData = field(), !keyData.isEmpty,
              let publicKey = field(), !publicKey.isEmpty,
              let wrapped = field(), !wrapped.isEmpty,
              at == bytes.count
        else { return nil }
        return Item(
            userPresence: flags[0] & flagUserPresence != 0,
            storeKeyID: Data(id),
            keyData: keyData,
            publicKey: publicKey,
            wrappedStoreKey: wrapped
        )
    }

    /// ECIES info binding the wrapped store key to its label and ID, so an
    /// item assembled from parts of two items does not open.
    static func wrapInfo(label: String, storeKeyID: Data) -> Data {
        var info = wrapDomain
        info.append(0)
        info.append(Data(label.utf8))
        info.append(0)
        info.append(storeKeyID)
        return info
    }

    static func blobHeader(storeKeyID: Data) -> Data {
        var header = Data([version])
        header.append(storeKeyID)
        return header
    }

    static func secretAAD(header: Data, coreAAD: Data) -> Data {
        var aad = secretDomain
        aad.append(0)
        aad.append(header)
        aad.append(coreAAD)
        return aad
    }

    /// Splits a sealed secret into its header, store key ID and GCM part;
    /// nil when it is too short or of another version.
    static func splitBlob(_ blob: Data) -> (header: Data, storeKeyID: Data, combined: Data)? {
        let bytes = Data(blob)
        let headerLength = 1 + storeKeyIDLength
        guard bytes.count >= headerLength + nonceLength + tagLength,
              bytes[bytes.startIndex] == version
        else { return nil }
        let start = bytes.startIndex
        return (
            bytes.subdata(in: start..<(start + headerLength)),
            bytes.subdata(in: (start + 1)..<(start + headerLength)),
            bytes.subdata(in: (start + headerLength)..<bytes.endIndex)
        )
    }
}
