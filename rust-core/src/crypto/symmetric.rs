//! AES-256-GCM, HMAC-SHA256 and HKDF-SHA256.
//!
//! AES-256-GCM uses a fresh random 96-bit nonce per message (NIST SP
//! 800-38D §8.2.2: keep a key under 2^32 messages) and emits
//! `nonce(12) || ciphertext || tag(16)`. Any decryption problem (short
//! input, wrong key length, bad tag) is `DecryptionFailed`, with no detail.

use super::PrivateKey;
use crate::algorithm::Algorithm;
use crate::secret::SecretBytes;
use crate::{Error, Result};
use aes_gcm::aead::{Aead, KeyInit, Payload};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

/// AES-256 key length.
pub(crate) const AES_KEY_LEN: usize = 32;
/// GCM nonce length.
pub(crate) const NONCE_LEN: usize = 12;
/// GCM tag length.
pub(crate) const TAG_LEN: usize = 16;
/// Accepted HMAC-SHA256 key lengths (at least 128 bits, at most one block).
pub(crate) const HMAC_KEY_LEN: core::ops::RangeInclusive<usize> = 16..=64;
/// Longest HKDF-SHA256 output (RFC 5869: 255 · HashLen).
pub(crate) const HKDF_MAX_LEN: usize = 255 * 32;

pub(super) fn from_bytes(algorithm: Algorithm, secret: &[u8]) -> Option<Result<PrivateKey>> {
    match algorithm {
        Algorithm::Aes256Gcm => Some(if secret.len() == AES_KEY_LEN {
            Ok(PrivateKey::Aes256Gcm(SecretBytes::copy_from(secret)))
        } else {
            Err(Error::InvalidKeyMaterial(
                "an AES-256-GCM key is 32 bytes".into(),
            ))
        }),
        Algorithm::HmacSha256 => Some(if HMAC_KEY_LEN.contains(&secret.len()) {
            Ok(PrivateKey::HmacSha256(SecretBytes::copy_from(secret)))
        } else {
            Err(Error::InvalidKeyMaterial(
                "an HMAC-SHA256 key is 16 to 64 bytes".into(),
            ))
        }),
        _ => None,
    }
}

fn cipher(key: &[u8]) -> Option<aes_gcm::Aes256Gcm> {
    if key.len() != AES_KEY_LEN {
        return None;
    }
    aes_gcm::Aes256Gcm::new_from_slice(key).ok()
}

/// nonce(12) || ciphertext || tag(16), random nonce.
pub(crate) fn aes_gcm_encrypt(key: &SecretBytes, plaintext: &[u8], aad: &[u8]) -> Result<Vec<u8>> {
    let mut nonce = [0u8; NONCE_LEN];
    crate::random::fill(&mut nonce)?;
    aes_gcm_seal(key.expose(), &nonce, plaintext, aad)
}

/// AES-256-GCM with an explicit nonce, output `nonce || ct || tag`. Only for
/// `aes_gcm_encrypt`, the known-answer tests and the vector tests: a nonce
/// must never repeat under one key.
pub(crate) fn aes_gcm_seal(
    key: &[u8],
    nonce: &[u8; NONCE_LEN],
    plaintext: &[u8],
    aad: &[u8],
) -> Result<Vec<u8>> {
    let cipher = cipher(key)
        .ok_or_else(|| Error::InvalidKeyMaterial("an AES-256-GCM key is 32 bytes".into()))?;
    let ct = cipher
        .encrypt(
            &aes_gcm::Nonce::from(*nonce),
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .map_err(|_| Error::InvalidArgument("plaintext too long for AES-GCM".into()))?;
    let mut out = Vec::with_capacity(NONCE_LEN + ct.len());
    out.extend_from_slice(nonce);
    out.extend_from_slice(&ct);
    Ok(out)
}

/// Inverse of `aes_gcm_encrypt`; `DecryptionFailed` on any mismatch.
pub(crate) fn aes_gcm_decrypt(key: &SecretBytes, sealed: &[u8], aad: &[u8]) -> Result<SecretBytes> {
    aes_gcm_open(key.expose(), sealed, aad)
}

pub(crate) fn aes_gcm_open(key: &[u8], sealed: &[u8], aad: &[u8]) -> Result<SecretBytes> {
    if sealed.len() < NONCE_LEN + TAG_LEN {
        return Err(Error::DecryptionFailed);
    }
    let (nonce, ct) = sealed.split_at(NONCE_LEN);
    let nonce = <[u8; NONCE_LEN]>::try_from(nonce).map_err(|_| Error::DecryptionFailed)?;
    let cipher = cipher(key).ok_or(Error::DecryptionFailed)?;
    cipher
        .decrypt(&aes_gcm::Nonce::from(nonce), Payload { msg: ct, aad })
        .map(SecretBytes::new)
        .map_err(|_| Error::DecryptionFailed)
}

/// HMAC-SHA256 of `message` (RFC 2104). Key lengths are enforced when a key
/// is created; the primitive itself takes any length.
pub(crate) fn hmac_sha256(key: &SecretBytes, message: &[u8]) -> [u8; 32] {
    hmac_sha256_raw(key.expose(), message)
}

pub(crate) fn hmac_sha256_raw(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as hmac::KeyInit>::new_from_slice(key)
        .expect("HMAC accepts keys of every length");
    mac.update(message);
    mac.finalize().into_bytes().into()
}

/// HKDF-SHA256 expand to `len` bytes (1..=255*32).
pub(crate) fn hkdf_sha256(ikm: &[u8], salt: &[u8], info: &[u8], len: usize) -> Result<SecretBytes> {
    if !(1..=HKDF_MAX_LEN).contains(&len) {
        return Err(Error::InvalidArgument(format!(
            "HKDF-SHA256 output length must be 1..={HKDF_MAX_LEN}, not {len}"
        )));
    }
    // An empty salt is the same HMAC key as RFC 5869's default (HashLen zeros).
    let hk = hkdf::Hkdf::<Sha256>::new(Some(salt), ikm);
    let mut okm = Zeroizing::new(vec![0u8; len]);
    hk.expand(info, okm.as_mut_slice())
        .map_err(|_| Error::InvalidArgument("HKDF-SHA256 output too long".into()))?;
    Ok(SecretBytes::from(okm))
}
