//! AES-256-GCM, HMAC-SHA256, HKDF-SHA256. (stub: to be implemented)
#![allow(unused_variables, dead_code)]
use super::PrivateKey;
use crate::algorithm::Algorithm;
use crate::secret::SecretBytes;
use crate::Result;

pub(super) fn from_bytes(algorithm: Algorithm, secret: &[u8]) -> Option<Result<PrivateKey>> {
    todo!()
}
/// nonce(12) || ciphertext || tag(16), random nonce.
pub(crate) fn aes_gcm_encrypt(key: &SecretBytes, plaintext: &[u8], aad: &[u8]) -> Result<Vec<u8>> {
    todo!()
}
/// Inverse of `aes_gcm_encrypt`; `DecryptionFailed` on any mismatch.
pub(crate) fn aes_gcm_decrypt(key: &SecretBytes, sealed: &[u8], aad: &[u8]) -> Result<SecretBytes> {
    todo!()
}
pub(crate) fn hmac_sha256(key: &SecretBytes, message: &[u8]) -> [u8; 32] {
    todo!()
}
/// HKDF-SHA256 expand to `len` bytes (1..=255*32).
pub(crate) fn hkdf_sha256(ikm: &[u8], salt: &[u8], info: &[u8], len: usize) -> Result<SecretBytes> {
    todo!()
}
