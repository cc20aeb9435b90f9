//! Key agreement: ECDH over secp256k1 and P-256 (shared secret = the
//! x-coordinate of d·Q, SEC1 §3.3.1, as OpenSSL and Wycheproof compute it)
//! and X25519 (RFC 7748), refusing an all-zero X25519 output (a low-order
//! peer point, RFC 7748 §6.1 "check").
//!
//! The output is the raw shared secret: callers must run it through a KDF
//! (HKDF) before use as a key.

use super::{PrivateKey, PublicKey};
use crate::algorithm::Algorithm;
use crate::secret::SecretBytes;
use crate::{Error, Result};
use zeroize::Zeroizing;

pub(super) fn from_bytes(algorithm: Algorithm, secret: &[u8]) -> Option<Result<PrivateKey>> {
    match algorithm {
        Algorithm::X25519 => Some(match <[u8; 32]>::try_from(secret) {
            Ok(bytes) => {
                let bytes = Zeroizing::new(bytes);
                Ok(PrivateKey::X25519(x25519_dalek::StaticSecret::from(*bytes)))
            }
            Err(_) => Err(Error::InvalidKeyMaterial(
                "an X25519 private key is 32 bytes".into(),
            )),
        }),
        _ => None,
    }
}

pub(super) fn diffie_hellman(key: &PrivateKey, peer: &PublicKey) -> Result<SecretBytes> {
    match (key, peer) {
        (PrivateKey::Secp256k1(k), PublicKey::Secp256k1(p)) => {
            let shared = k256::ecdh::diffie_hellman(k.as_nonzero_scalar(), p.as_affine());
            Ok(SecretBytes::copy_from(shared.raw_secret_bytes()))
        }
        (PrivateKey::P256(k), PublicKey::P256(p)) => {
            let shared = p256::ecdh::diffie_hellman(k.as_nonzero_scalar(), p.as_affine());
            Ok(SecretBytes::copy_from(shared.raw_secret_bytes()))
        }
        (PrivateKey::X25519(k), PublicKey::X25519(p)) => {
            let shared = k.diffie_hellman(p);
            if shared.was_contributory() {
                Ok(SecretBytes::copy_from(shared.as_bytes()))
            } else {
                Err(Error::InvalidKeyMaterial(
                    "X25519 peer key is a low-order point (all-zero shared secret)".into(),
                ))
            }
        }
        (PrivateKey::Secp256k1(_) | PrivateKey::P256(_) | PrivateKey::X25519(_), _) => {
            Err(Error::IncompatibleKey(format!(
                "cannot agree between a {} key and a {} peer key",
                key.algorithm(),
                peer.algorithm()
            )))
        }
        _ => Err(Error::IncompatibleKey(format!(
            "{} keys cannot do key agreement",
            key.algorithm()
        ))),
    }
}
