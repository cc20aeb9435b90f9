//! ECDSA over secp256k1 and NIST P-256, and BIP340 Schnorr over secp256k1.
//!
//! Signing:
//! - ECDSA is RFC 6979 deterministic and always low-S (k256 normalises by
//!   itself; P-256 signatures are normalised here), for both curves.
//! - A `Message` payload is hashed with SHA-256; a `Digest` payload is used
//!   as the 32-byte prehash.
//! - `EcdsaRecoverable` is `r || s || v` with `v` the recovery id (0 or 1,
//!   as go-ethereum's `crypto.Sign` produces; 2 and 3 would need r >= n,
//!   which does not happen in practice for secp256k1).
//! - BIP340 signs the payload bytes *as the BIP340 message*: a `Message` of
//!   any length is fed to the tagged hashes as BIP340 (2022 revision)
//!   defines for variable-length messages; a `Digest` is simply a 32-byte
//!   message. k256 0.14's `Signer`/`DigestSigner` impls for
//!   `schnorr::SigningKey` would instead sign SHA-256(msg) and its
//!   `PrehashSigner` uses a fixed all-zero-ish aux string, so neither is
//!   used: we call `sign_raw` with 32 bytes of fresh OS randomness as
//!   `aux_rand` (BIP340's recommended "synthetic nonce" mode), and
//!   verify with `verify_raw`.
//!
//! Verification returns `Ok(false)` for anything malformed or wrong:
//! - secp256k1 ECDSA **rejects high-S** signatures (k256 enforces it in
//!   `verify_prehashed` because the curve normalises S). That is Bitcoin's
//!   standardness rule (BIP 62/146) and Ethereum's (EIP-2) and removes
//!   signature malleability; Wycheproof's `EcdsaSecp256k1Sha256Bitcoin`
//!   set expects exactly this, while the plain sets list high-S
//!   signatures as valid (see the vector tests, which count them).
//! - P-256 ECDSA accepts high-S signatures, as X9.62/FIPS 186 and
//!   Wycheproof expect.
//! - DER signatures must be strict DER (no BER).

use super::{Payload, PrivateKey};
use crate::algorithm::{Algorithm, SignatureScheme};
use crate::{Error, Result};
use k256::ecdsa::signature::hazmat::{PrehashSigner, PrehashVerifier};
use sha2::{Digest as _, Sha256};
use zeroize::Zeroizing;

/// BIP340 `aux_rand` length.
const AUX_LEN: usize = 32;

pub(super) fn from_bytes(algorithm: Algorithm, secret: &[u8]) -> Option<Result<PrivateKey>> {
    let bad = || Error::InvalidKeyMaterial(format!("not a valid {algorithm} private scalar"));
    match algorithm {
        Algorithm::Secp256k1 => Some(
            <&k256::FieldBytes>::try_from(secret)
                .ok()
                .and_then(|b| k256::ecdsa::SigningKey::from_bytes(b).ok())
                .map(PrivateKey::Secp256k1)
                .ok_or_else(bad),
        ),
        Algorithm::P256 => Some(
            <&p256::FieldBytes>::try_from(secret)
                .ok()
                .and_then(|b| p256::ecdsa::SigningKey::from_bytes(b).ok())
                .map(PrivateKey::P256)
                .ok_or_else(bad),
        ),
        _ => None,
    }
}

/// The ECDSA prehash of a payload: SHA-256 of a message, or the digest itself.
fn prehash(payload: Payload<'_>) -> [u8; 32] {
    match payload {
        Payload::Message(m) => Sha256::digest(m).into(),
        Payload::Digest(d) => *d,
    }
}

/// The BIP340 message bytes of a payload.
fn bip340_message<'a>(payload: &Payload<'a>) -> &'a [u8] {
    match *payload {
        Payload::Message(m) => m,
        Payload::Digest(d) => d,
    }
}

fn sign_failed(what: &str) -> Error {
    // A signing primitive only fails on a zero nonce or similar
    // negligible-probability events; nothing secret is reported.
    Error::Internal(format!("{what} signing failed"))
}

pub(super) fn sign_k256(
    k: &k256::ecdsa::SigningKey,
    scheme: SignatureScheme,
    payload: Payload<'_>,
) -> Result<Vec<u8>> {
    match scheme {
        SignatureScheme::EcdsaDer | SignatureScheme::EcdsaCompact => {
            let sig: k256::ecdsa::Signature = k
                .sign_prehash(&prehash(payload))
                .map_err(|_| sign_failed("secp256k1 ECDSA"))?;
            // k256 normalises S itself (NORMALIZE_S = true); keep it explicit.
            let sig = sig.normalize_s();
            Ok(match scheme {
                SignatureScheme::EcdsaDer => sig.to_der().as_bytes().to_vec(),
                _ => sig.to_bytes().to_vec(),
            })
        }
        SignatureScheme::EcdsaRecoverable => {
            let (sig, recid): (k256::ecdsa::Signature, k256::ecdsa::RecoveryId) = k
                .sign_prehash(&prehash(payload))
                .map_err(|_| sign_failed("secp256k1 ECDSA"))?;
            let mut out = sig.to_bytes().to_vec();
            out.push(recid.to_byte());
            Ok(out)
        }
        SignatureScheme::Bip340 => {
            let mut aux = Zeroizing::new([0u8; AUX_LEN]);
            crate::random::fill(aux.as_mut())?;
            bip340_sign(k, bip340_message(&payload), &aux)
        }
        other => Err(incompatible(other, Algorithm::Secp256k1)),
    }
}

/// BIP340 signature of `msg` with explicit `aux_rand` (used by the KATs and
/// the BIP340 vector tests; production callers pass fresh randomness).
pub(crate) fn bip340_sign(
    k: &k256::ecdsa::SigningKey,
    msg: &[u8],
    aux: &[u8; AUX_LEN],
) -> Result<Vec<u8>> {
    // `From<NonZeroScalar>` negates the scalar when its point has odd y, as
    // BIP340 requires; the schnorr key zeroizes itself on drop.
    let sk = k256::schnorr::SigningKey::from(*k.as_nonzero_scalar());
    let sig = sk.sign_raw(msg, aux).map_err(|_| sign_failed("BIP340"))?;
    Ok(sig.to_bytes().to_vec())
}

pub(super) fn sign_p256(
    k: &p256::ecdsa::SigningKey,
    scheme: SignatureScheme,
    payload: Payload<'_>,
) -> Result<Vec<u8>> {
    let sig: p256::ecdsa::Signature = match scheme {
        SignatureScheme::EcdsaDer | SignatureScheme::EcdsaCompact => k
            .sign_prehash(&prehash(payload))
            .map_err(|_| sign_failed("P-256 ECDSA"))?,
        other => return Err(incompatible(other, Algorithm::P256)),
    };
    // p256 does not normalise S (NORMALIZE_S = false); we always emit low-S.
    let sig = sig.normalize_s();
    Ok(match scheme {
        SignatureScheme::EcdsaDer => sig.to_der().as_bytes().to_vec(),
        _ => sig.to_bytes().to_vec(),
    })
}

pub(super) fn verify_k256(
    k: &k256::PublicKey,
    scheme: SignatureScheme,
    payload: Payload<'_>,
    sig: &[u8],
) -> Result<bool> {
    let vk = k256::ecdsa::VerifyingKey::from(k);
    Ok(match scheme {
        SignatureScheme::EcdsaDer => match k256::ecdsa::Signature::from_der(sig) {
            Ok(s) => vk.verify_prehash(&prehash(payload), &s).is_ok(),
            Err(_) => false,
        },
        SignatureScheme::EcdsaCompact => match k256::ecdsa::Signature::from_slice(sig) {
            Ok(s) => vk.verify_prehash(&prehash(payload), &s).is_ok(),
            Err(_) => false,
        },
        SignatureScheme::EcdsaRecoverable => verify_recoverable(&vk, &prehash(payload), sig),
        SignatureScheme::Bip340 => {
            let Ok(xonly) = k256::schnorr::VerifyingKey::try_from(*k.as_affine()) else {
                return Ok(false);
            };
            match k256::schnorr::Signature::from_slice(sig) {
                Ok(s) => xonly.verify_raw(bip340_message(&payload), &s).is_ok(),
                Err(_) => false,
            }
        }
        other => return Err(incompatible(other, Algorithm::Secp256k1)),
    })
}

/// `r || s || v`: the signature must verify, and `v` must recover this key.
fn verify_recoverable(vk: &k256::ecdsa::VerifyingKey, prehash: &[u8; 32], sig: &[u8]) -> bool {
    let Some((rs, v)) = sig
        .split_first_chunk::<64>()
        .and_then(|(rs, rest)| match rest {
            [v] => Some((rs, *v)),
            _ => None,
        })
    else {
        return false;
    };
    let (Ok(s), Some(recid)) = (
        k256::ecdsa::Signature::from_slice(rs),
        k256::ecdsa::RecoveryId::from_byte(v),
    ) else {
        return false;
    };
    if vk.verify_prehash(prehash, &s).is_err() {
        return false;
    }
    matches!(
        k256::ecdsa::VerifyingKey::recover_from_prehash(prehash, &s, recid),
        Ok(recovered) if recovered == *vk
    )
}

pub(super) fn verify_p256(
    k: &p256::PublicKey,
    scheme: SignatureScheme,
    payload: Payload<'_>,
    sig: &[u8],
) -> Result<bool> {
    let vk = p256::ecdsa::VerifyingKey::from(k);
    let parsed = match scheme {
        SignatureScheme::EcdsaDer => p256::ecdsa::Signature::from_der(sig),
        SignatureScheme::EcdsaCompact => p256::ecdsa::Signature::from_slice(sig),
        other => return Err(incompatible(other, Algorithm::P256)),
    };
    // No normalisation: high-S signatures are valid P-256 ECDSA signatures.
    Ok(match parsed {
        Ok(s) => vk.verify_prehash(&prehash(payload), &s).is_ok(),
        Err(_) => false,
    })
}

fn incompatible(scheme: SignatureScheme, algorithm: Algorithm) -> Error {
    Error::IncompatibleKey(format!("{algorithm} keys cannot use scheme {scheme}"))
}
