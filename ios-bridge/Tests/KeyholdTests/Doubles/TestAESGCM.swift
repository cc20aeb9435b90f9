// Real AES-256-GCM for the test doubles: CryptoKit on Apple platforms,
// OpenSSL's libcrypto (EVP, module COpenSSL) on Linux. A tampered tag,
// ciphertext or AAD fails, as CryptoKit's `AES.GCM.open` does
// (`CryptoKitError.authenticationFailure`).

import Foundation
@testable import Keyhold
#if canImport(CryptoKit)
import CryptoKit
#else
import COpenSSL
#endif

enum TestAESGCM {
    static let nonceLength = 12
    static let tagLength = 16

    static func random(_ count: Int) -> Data {
        #if canImport(CryptoKit)
        return SymmetricKey(size: SymmetricKeySize(bitCount: count * 8)).withUnsafeBytes { Data($0) }
        #else
        var bytes = [UInt8](repeating: 0, count: count)
        precondition(RAND_bytes(&bytes, Int32(count)) == 1, "RAND_bytes failed")
        return Data(bytes)
        #endif
    }

    /// nonce || ciphertext || tag, with a fresh random nonce.
    static func seal(_ plaintext: Data, key: Data, aad: Data) throws -> Data {
        guard key.count == 32 else { throw SealerCryptoError.failure("AES-256 needs a 32-byte key") }
        #if canImport(CryptoKit)
        let box = try AES.GCM.seal(plaintext, using: SymmetricKey(data: key), authenticating: aad)
        return box.combined!
        #else
        let nonce = [UInt8](random(nonceLength))
        let key = [UInt8](key), aad = [UInt8](aad), input = [UInt8](plaintext)
        var out = [UInt8](repeating: 0, count: input.count + 16)
        var tag = [UInt8](repeating: 0, count: tagLength)
        guard let ctx = EVP_CIPHER_CTX_new() else { throw SealerCryptoError.failure("EVP_CIPHER_CTX_new") }
        defer { EVP_CIPHER_CTX_free(ctx) }
        var len: Int32 = 0
        var total = 0
        guard EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), nil, nil, nil) == 1,
              EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, Int32(nonceLength), nil) == 1,
              EVP_EncryptInit_ex(ctx, nil, nil, key, nonce) == 1
        else { throw SealerCryptoError.failure("EVP_EncryptInit_ex") }
        if !aad.isEmpty {
            guard EVP_EncryptUpdate(ctx, nil, &len, aad, Int32(aad.count)) == 1 else {
                throw SealerCryptoError.failure("EVP_EncryptUpdate(aad)")
            }
        }
        if !input.isEmpty {
            guard EVP_EncryptUpdate(ctx, &out, &len, input, Int32(input.count)) == 1 else {
                throw SealerCryptoError.failure("EVP_EncryptUpdate")
            }
            total = Int(len)
        }
        let finalOK = out.withUnsafeMutableBufferPointer { buffer in
            EVP_EncryptFinal_ex(ctx, buffer.baseAddress! + total, &len) == 1
        }
        guard finalOK else { throw SealerCryptoError.failure("EVP_EncryptFinal_ex") }
        total += Int(len)
        guard EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, Int32(tagLength), &tag) == 1 else {
            throw SealerCryptoError.failure("EVP_CTRL_GCM_GET_TAG")
        }
        return Data(nonce) + Data(out[0..<total]) + Data(tag)
        #endif
    }

    /// Opens `seal`'s output; `.authenticationFailed` when anything was altered.
    static func open(_ combined: Data, key: Data, aad: Data) throws -> Data {
        guard key.count == 32 else { throw SealerCryptoError.failure("AES-256 needs a 32-byte key") }
        guard combined.count >= nonceLength + tagLength else { throw SealerCryptoError.authenticationFailed }
        #if canImport(CryptoKit)
        do {
            let box = try AES.GCM.SealedBox(combined: combined)
            return try AES.GCM.open(box, using: SymmetricKey(data: key), authenticating: aad)
        } catch CryptoKitError.authenticationFailure {
            throw SealerCryptoError.authenticationFailed
        }
        #else
        let bytes = [UInt8](combined)
        let nonce = Array(bytes[0..<nonceLength])
        let body = Array(bytes[nonceLength..<(bytes.count - tagLength)])
        var tag = Array(bytes[(bytes.count - tagLength)...])
        let key = [UInt8](key), aad = [UInt8](aad)
        var out = [UInt8](repeating: 0, count: body.count + 16)
        guard let ctx = EVP_CIPHER_CTX_new() else { throw SealerCryptoError.failure("EVP_CIPHER_CTX_new") }
        defer { EVP_CIPHER_CTX_free(ctx) }
        var len: Int32 = 0
        var total = 0
        guard EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), nil, nil, nil) == 1,
              EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, Int32(nonceLength), nil) == 1,
              EVP_DecryptInit_ex(ctx, nil, nil, key, nonce) == 1
        else { throw SealerCryptoError.failure("EVP_DecryptInit_ex") }
        if !aad.isEmpty {
            guard EVP_DecryptUpdate(ctx, nil, &len, aad, Int32(aad.count)) == 1 else {
                throw SealerCryptoError.failure("EVP_DecryptUpdate(aad)")
            }
        }
        if !body.isEmpty {
            guard EVP_DecryptUpdate(ctx, &out, &len, body, Int32(body.count)) == 1 else {
                throw SealerCryptoError.failure("EVP_DecryptUpdate")
            }
            total = Int(len)
        }
        guard EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, Int32(tagLength), &tag) == 1 else {
            throw SealerCryptoError.failure("EVP_CTRL_GCM_SET_TAG")
        }
        // EVP_DecryptFinal_ex returns <= 0 when the tag does not verify;
        // the plaintext written so far is then discarded.
        let verified = out.withUnsafeMutableBufferPointer { buffer in
            EVP_DecryptFinal_ex(ctx, buffer.baseAddress! + total, &len) > 0
        }
        guard verified else {
            out.withUnsafeMutableBufferPointer { buffer in
                for i in buffer.indices { buffer[i] = 0 }
            }
            throw SealerCryptoError.authenticationFailed
        }
        total += Int(len)
        return Data(out[0..<total])
        #endif
    }
}
