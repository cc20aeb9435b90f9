//! Pure Ed25519 (RFC 8032 §5.1, no prehash, no context).
//!
//! A `Digest` payload is refused: pure Ed25519 hashes the whole message
//! itself and Ed25519ph is not offered. Verification uses dalek's
//! `verify_strict`, which additionally rejects small-order `R` and public
//! keys (the "strict" rules that avoid cofactor-related malleability); a
//! malformed signature gives `Ok(false)`.

use super::{Payload, PrivateKey};
use crate::algorithm::Algorithm;
use crate::{Error, Result};
use ed25519_dalek::Signer as _;

pub(super) fn from_bytes(algorithm: Algorithm, secret: &[u8]) -> Option<Result<PrivateKey>> {
    match algorithm {
        Algorithm::Ed25519 => Some(
            <&[u8; 32]>::try_from(secret)
                .map(|seed| PrivateKey::Ed25519(ed25519_dalek::SigningKey::from_bytes(seed)))
                .map_err(|_| Error::InvalidKeyMaterial("an Ed25519 seed is 32 bytes".into())),
        ),
        _ => None,
    }
}

fn message<'a>(payload: &Payload<'a>) -> Result<&'a [u8]> {
    match *payload {
        Payload::Message(m) => Ok(m),
        Payload::Digest(_) => Err(Error::InvalidArgument(
            "Ed25519 signs the message itself, not a digest".into(),
        )),
    }
}

pub(super) fn sign(k: &ed25519_dalek::SigningKey, payload: Payload<'_>) -> Result<Vec<u8>> {
    let sig = k
        .try_sign(message(&payload)?)
        .map_err(|_| Error::Internal("Ed25519 signing failed".into()))?;
    Ok(sig.to_bytes().to_vec())
}

pub(super) fn verify(
    k: &ed25519_dalek::VerifyingKey,
    payload: Payload<'_>,
    sig: &[u8],
) -> Result<bool> {
    let msg = message(&payload)?;
    Ok(match ed25519_dalek::Signature::from_slice(sig) {
        Ok(s) => k.verify_strict(msg, &s).is_ok(),
        Err(_) => false,
    })
}
