//! Algorithms: one closed enum of private keys and one of public keys,
//! dispatching to RustCrypto types. Nothing here touches storage or policy.
//!
//! Conventions: ECDSA is RFC 6979 deterministic with low-S normalisation;
//! a `Message` payload is hashed with SHA-256 for ECDSA, signed as is by
//! BIP340 and Ed25519; a `Digest` payload is exactly 32 bytes and is refused
//! by Ed25519 (pure EdDSA has no prehash form here).

mod agree;
pub(crate) mod ecdsa;
mod eddsa;
pub(crate) mod symmetric;

use crate::Result;
use crate::algorithm::{Algorithm, SignatureScheme};
use crate::secret::SecretBytes;
use k256::elliptic_curve::sec1::ToSec1Point;

pub(crate) use symmetric::{aes_gcm_decrypt, aes_gcm_encrypt, hkdf_sha256, hmac_sha256};

/// What is signed.
#[derive(Debug, Clone, Copy)]
pub enum Payload<'a> {
    /// A message, hashed as the scheme prescribes.
    Message(&'a [u8]),
    /// A 32-byte digest computed by the caller.
    Digest(&'a [u8; 32]),
}

/// A usable private key. Never leaves the core; zeroized on drop by the
/// wrapped RustCrypto types or by [`SecretBytes`].
pub(crate) enum PrivateKey {
    /// secp256k1.
    Secp256k1(k256::ecdsa::SigningKey),
    /// NIST P-256.
    P256(p256::ecdsa::SigningKey),
    /// Ed25519.
    Ed25519(ed25519_dalek::SigningKey),
    /// X25519.
    X25519(x25519_dalek::StaticSecret),
    /// AES-256-GCM key (32 bytes).
    Aes256Gcm(SecretBytes),
    /// HMAC-SHA256 key (16..=64 bytes).
    HmacSha256(SecretBytes),
}

impl core::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "PrivateKey({}, [redacted])", self.algorithm())
    }
}

/// A public key of an asymmetric algorithm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublicKey {
    /// secp256k1 point.
    Secp256k1(k256::PublicKey),
    /// P-256 point.
    P256(p256::PublicKey),
    /// Ed25519 verifying key.
    Ed25519(ed25519_dalek::VerifyingKey),
    /// X25519 public key.
    X25519(x25519_dalek::PublicKey),
}

/// An encoded public key: always bytes, and text for textual formats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedPublicKey {
    /// The encoding's bytes (UTF-8 of `text` for textual formats).
    pub bytes: Vec<u8>,
    /// PEM, JWK JSON, xpub or address.
    pub text: Option<String>,
}

impl EncodedPublicKey {
    /// A binary encoding.
    pub fn binary(bytes: Vec<u8>) -> Self {
        Self { bytes, text: None }
    }

    /// A textual encoding.
    pub fn text(text: String) -> Self {
        Self {
            bytes: text.as_bytes().to_vec(),
            text: Some(text),
        }
    }
}

impl PrivateKey {
    /// A fresh key from the OS CSPRNG.
    pub(crate) fn generate(algorithm: Algorithm) -> Result<Self> {
        let secret = SecretBytes::random(32)?;
        match algorithm {
            // A random 32-byte string is a valid scalar except with negligible
            // probability; retry keeps generation total.
            Algorithm::Secp256k1 | Algorithm::P256 => {
                match Self::from_bytes(algorithm, secret.expose()) {
                    Ok(k) => Ok(k),
                    Err(_) => Self::generate(algorithm),
                }
            }
            _ => Self::from_bytes(algorithm, secret.expose()),
        }
    }

    /// Parses the raw secret form: a 32-byte scalar (secp256k1, P-256), a
    /// 32-byte seed (Ed25519), a 32-byte X25519 secret, a 32-byte AES key or
    /// a 16..=64-byte HMAC key. The inverse of [`PrivateKey::to_secret_bytes`].
    pub(crate) fn from_bytes(algorithm: Algorithm, secret: &[u8]) -> Result<Self> {
        ecdsa::from_bytes(algorithm, secret)
            .or_else(|| eddsa::from_bytes(algorithm, secret))
            .or_else(|| agree::from_bytes(algorithm, secret))
            .or_else(|| symmetric::from_bytes(algorithm, secret))
            .unwrap_or_else(|| {
                Err(crate::Error::Internal(format!(
                    "no backend for {algorithm}"
                )))
            })
    }

    /// The raw secret form, for sealing only.
    pub(crate) fn to_secret_bytes(&self) -> SecretBytes {
        match self {
            Self::Secp256k1(k) => SecretBytes::copy_from(&k.to_bytes()),
            Self::P256(k) => SecretBytes::copy_from(&k.to_bytes()),
            Self::Ed25519(k) => SecretBytes::copy_from(k.as_bytes()),
            Self::X25519(k) => SecretBytes::copy_from(k.as_bytes()),
            Self::Aes256Gcm(k) | Self::HmacSha256(k) => k.clone(),
        }
    }

    /// The algorithm.
    pub(crate) fn algorithm(&self) -> Algorithm {
        match self {
            Self::Secp256k1(_) => Algorithm::Secp256k1,
            Self::P256(_) => Algorithm::P256,
            Self::Ed25519(_) => Algorithm::Ed25519,
            Self::X25519(_) => Algorithm::X25519,
            Self::Aes256Gcm(_) => Algorithm::Aes256Gcm,
            Self::HmacSha256(_) => Algorithm::HmacSha256,
        }
    }

    /// The public half; `None` for symmetric keys.
    pub(crate) fn public_key(&self) -> Option<PublicKey> {
        match self {
            Self::Secp256k1(k) => Some(PublicKey::Secp256k1(k.verifying_key().into())),
            Self::P256(k) => Some(PublicKey::P256(k.verifying_key().into())),
            Self::Ed25519(k) => Some(PublicKey::Ed25519(k.verifying_key())),
            Self::X25519(k) => Some(PublicKey::X25519(k.into())),
            Self::Aes256Gcm(_) | Self::HmacSha256(_) => None,
        }
    }

    /// Signs `payload` with `scheme`. Refuses a scheme the algorithm cannot
    /// produce (`IncompatibleKey`) and a digest for Ed25519 (`InvalidArgument`).
    pub(crate) fn sign(&self, scheme: SignatureScheme, payload: Payload<'_>) -> Result<Vec<u8>> {
        check_scheme(scheme, self.algorithm())?;
        match self {
            Self::Secp256k1(k) => ecdsa::sign_k256(k, scheme, payload),
            Self::P256(k) => ecdsa::sign_p256(k, scheme, payload),
            Self::Ed25519(k) => eddsa::sign(k, payload),
            Self::HmacSha256(k) => match payload {
                Payload::Message(m) => Ok(hmac_sha256(k, m).to_vec()),
                Payload::Digest(_) => Err(crate::Error::InvalidArgument(
                    "HMAC takes a message, not a digest".into(),
                )),
            },
            Self::X25519(_) | Self::Aes256Gcm(_) => Err(crate::Error::IncompatibleKey(format!(
                "{} keys cannot sign",
                self.algorithm()
            ))),
        }
    }

    /// Verifies with the key itself (needed for HMAC; delegates otherwise).
    pub(crate) fn verify(
        &self,
        scheme: SignatureScheme,
        payload: Payload<'_>,
        signature: &[u8],
    ) -> Result<bool> {
        match (self, payload) {
            (Self::HmacSha256(k), Payload::Message(m)) => {
                check_scheme(scheme, Algorithm::HmacSha256)?;
                Ok(crate::secret::constant_time_eq(
                    &hmac_sha256(k, m),
                    signature,
                ))
            }
            _ => match self.public_key() {
                Some(pk) => pk.verify(scheme, payload, signature),
                None => Err(crate::Error::IncompatibleKey(format!(
                    "{} keys cannot verify",
                    self.algorithm()
                ))),
            },
        }
    }

    /// Raw Diffie-Hellman shared secret with `peer` (ECDH x-coordinate or
    /// X25519 output). Refuses mismatched curves and all-zero X25519 output.
    pub(crate) fn diffie_hellman(&self, peer: &PublicKey) -> Result<SecretBytes> {
        agree::diffie_hellman(self, peer)
    }
}

/// Refuses a scheme the algorithm cannot produce.
pub(crate) fn check_scheme(scheme: SignatureScheme, algorithm: Algorithm) -> Result<()> {
    if scheme.supports(algorithm) {
        Ok(())
    } else {
        Err(crate::Error::IncompatibleKey(format!(
            "{algorithm} keys cannot use scheme {scheme}"
        )))
    }
}

impl PublicKey {
    /// The algorithm.
    pub fn algorithm(&self) -> Algorithm {
        match self {
            Self::Secp256k1(_) => Algorithm::Secp256k1,
            Self::P256(_) => Algorithm::P256,
            Self::Ed25519(_) => Algorithm::Ed25519,
            Self::X25519(_) => Algorithm::X25519,
        }
    }

    /// The canonical bytes stored in key metadata: SEC1 compressed (33) or raw (32).
    pub fn canonical_bytes(&self) -> Vec<u8> {
        match self {
            Self::Secp256k1(k) => k.to_sec1_point(true).as_bytes().to_vec(),
            Self::P256(k) => k.to_sec1_point(true).as_bytes().to_vec(),
            Self::Ed25519(k) => k.as_bytes().to_vec(),
            Self::X25519(k) => k.as_bytes().to_vec(),
        }
    }

    /// Verifies `signature` over `payload`. Returns `Ok(false)` for a
    /// well-formed but wrong or malformed signature; errors only for a scheme
    /// the key cannot use or a payload the scheme refuses.
    pub fn verify(
        &self,
        scheme: SignatureScheme,
        payload: Payload<'_>,
        signature: &[u8],
    ) -> Result<bool> {
        check_scheme(scheme, self.algorithm())?;
        match self {
            Self::Secp256k1(k) => ecdsa::verify_k256(k, scheme, payload, signature),
            Self::P256(k) => ecdsa::verify_p256(k, scheme, payload, signature),
            Self::Ed25519(k) => eddsa::verify(k, payload, signature),
            Self::X25519(_) => Err(crate::Error::IncompatibleKey(
                "x25519 keys cannot verify".into(),
            )),
        }
    }
}

#[cfg(test)]
mod tests;
