//! The mechanisms this module offers, and the state of one sign or verify
//! operation. Every mechanism listed works end to end through the daemon;
//! mechanisms whose PKCS#11 semantics the daemon's verbs cannot honour
//! exactly are not listed (see the README: AES-GCM with a caller IV,
//! ECDH1 without HKDF).
#![forbid(unsafe_code)]

use crate::error::{CkResult, Rv};
use cryptoki_sys::*;
use keyhold_client::core::{Algorithm, KeyId, Payload, SignatureScheme};
use sha2::{Digest, Sha256};

const EC_FLAGS: CK_FLAGS = CKF_EC_F_P | CKF_EC_NAMEDCURVE | CKF_EC_UNCOMPRESS;

const fn info(min: CK_ULONG, max: CK_ULONG, flags: CK_FLAGS) -> CK_MECHANISM_INFO {
    CK_MECHANISM_INFO {
        ulMinKeySize: min,
        ulMaxKeySize: max,
        flags,
    }
}

/// Every mechanism offered, with its `C_GetMechanismInfo` answer. Key sizes
/// follow each mechanism's unit in PKCS#11 3.0: bits for EC and Edwards
/// (curve size; SoftHSM2 reports 255 for Ed25519 too), bytes for AES
/// (§2.8), bits for generic secrets and their HMAC (§2.32.1; Keyhold
/// generates 32-byte keys and accepts 16..=64-byte imported ones).
pub static SUPPORTED_MECHANISMS: &[(CK_MECHANISM_TYPE, CK_MECHANISM_INFO)] = &[
    (
        CKM_EC_KEY_PAIR_GEN,
        info(256, 256, CKF_GENERATE_KEY_PAIR | EC_FLAGS),
    ),
    (
        CKM_EC_EDWARDS_KEY_PAIR_GEN,
        info(255, 255, CKF_GENERATE_KEY_PAIR),
    ),
    (CKM_ECDSA, info(256, 256, CKF_SIGN | CKF_VERIFY | EC_FLAGS)),
    (
        CKM_ECDSA_SHA256,
        info(256, 256, CKF_SIGN | CKF_VERIFY | EC_FLAGS),
    ),
    (CKM_EDDSA, info(255, 255, CKF_SIGN | CKF_VERIFY)),
    (CKM_AES_KEY_GEN, info(32, 32, CKF_GENERATE)),
    (CKM_GENERIC_SECRET_KEY_GEN, info(256, 256, CKF_GENERATE)),
    (CKM_SHA256_HMAC, info(128, 512, CKF_SIGN | CKF_VERIFY)),
];

/// A signing mechanism, checked against its parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SignMech {
    /// `CKM_ECDSA`: the caller's digest, r‖s out.
    EcdsaRaw,
    /// `CKM_ECDSA_SHA256`: SHA-256 here, the digest signed by the daemon.
    EcdsaSha256,
    /// `CKM_EDDSA`: pure Ed25519 (no prehash, no context).
    Eddsa,
    /// `CKM_SHA256_HMAC`.
    HmacSha256,
}

impl SignMech {
    /// Parses a mechanism and its parameter bytes.
    pub(crate) fn parse(mechanism: CK_MECHANISM_TYPE, params: &[u8]) -> CkResult<Self> {
        let m = match mechanism {
            CKM_ECDSA => Self::EcdsaRaw,
            CKM_ECDSA_SHA256 => Self::EcdsaSha256,
            CKM_EDDSA => Self::Eddsa,
            CKM_SHA256_HMAC => Self::HmacSha256,
            _ => return Err(Rv(CKR_MECHANISM_INVALID)),
        };
        // No mechanism here takes a parameter. CKM_EDDSA may carry a
        // CK_EDDSA_PARAMS (PKCS#11 3.0 §2.3.14); the FFI layer passes it on
        // as empty only when it asks for pure Ed25519 (phFlag false, no
        // context), the one variant Keyhold signs.
        let ok = params.is_empty();
        if ok {
            Ok(m)
        } else {
            Err(Rv(CKR_MECHANISM_PARAM_INVALID))
        }
    }

    /// Whether a key of `algorithm` can be used with this mechanism.
    pub(crate) fn fits(self, algorithm: Algorithm) -> bool {
        match self {
            Self::EcdsaRaw | Self::EcdsaSha256 => {
                matches!(algorithm, Algorithm::P256 | Algorithm::Secp256k1)
            }
            Self::Eddsa => algorithm == Algorithm::Ed25519,
            Self::HmacSha256 => algorithm == Algorithm::HmacSha256,
        }
    }

    /// The signature length (fixed for every mechanism here).
    pub(crate) fn signature_len(self) -> usize {
        match self {
            Self::EcdsaRaw | Self::EcdsaSha256 | Self::Eddsa => 64,
            Self::HmacSha256 => 32,
        }
    }

    fn scheme(self) -> SignatureScheme {
        match self {
            Self::EcdsaRaw | Self::EcdsaSha256 => SignatureScheme::EcdsaCompact,
            Self::Eddsa => SignatureScheme::Ed25519,
            Self::HmacSha256 => SignatureScheme::HmacSha256,
        }
    }

    /// Whether `C_SignUpdate`/`C_VerifyUpdate` are allowed (PKCS#11 3.0
    /// §2.3.1 table 11: CKM_ECDSA and CKM_EDDSA are single-part only).
    pub(crate) fn multi_part(self) -> bool {
        matches!(self, Self::EcdsaSha256 | Self::HmacSha256)
    }
}

/// Most data one operation accumulates for HMAC (the daemon signs whole
/// messages; its request frame is bounded).
pub(crate) const MAX_BUFFERED: usize = 1 << 20;

/// The state of one sign or verify operation.
#[derive(Debug)]
pub(crate) struct SignOp {
    pub(crate) key: KeyId,
    pub(crate) mech: SignMech,
    hasher: Sha256,
    buffer: Vec<u8>,
    /// `C_*Update` was called: only `C_*Final` may finish the operation.
    pub(crate) updating: bool,
}

/// What to send to the daemon for one signature.
#[derive(Debug)]
pub(crate) struct Request {
    pub(crate) scheme: SignatureScheme,
    data: Prepared,
}

#[derive(Debug)]
enum Prepared {
    Digest([u8; 32]),
    Message(Vec<u8>),
}

impl Request {
    /// The payload as the client takes it.
    pub(crate) fn payload(&self) -> Payload<'_> {
        match &self.data {
            Prepared::Digest(d) => Payload::Digest(d),
            Prepared::Message(m) => Payload::Message(m),
        }
    }
}

/// An ECDSA input of any length as the 32-byte value the daemon signs.
/// ECDSA uses the leftmost bit-length-of-n bits of the hash (SEC 1 v2
/// §4.1.3 step 5, FIPS 186-5 §6.4.1): a longer digest is truncated to its
/// first 32 bytes; a shorter one is the same integer left-padded with zeros.
fn ecdsa_digest(data: &[u8]) -> CkResult<[u8; 32]> {
    if data.is_empty() {
        return Err(Rv(CKR_DATA_LEN_RANGE));
    }
    let mut d = [0u8; 32];
    if data.len() >= 32 {
        d.copy_from_slice(&data[..32]);
    } else {
        d[32 - data.len()..].copy_from_slice(data);
    }
    Ok(d)
}

impl SignOp {
    pub(crate) fn new(key: KeyId, mech: SignMech) -> Self {
        Self {
            key,
            mech,
            hasher: Sha256::new(),
            buffer: Vec::new(),
            updating: false,
        }
    }

    /// One `C_*Update` part.
    pub(crate) fn update(&mut self, part: &[u8]) -> CkResult<()> {
        if !self.mech.multi_part() {
            return Err(Rv(CKR_FUNCTION_NOT_SUPPORTED));
        }
        self.updating = true;
        match self.mech {
            SignMech::EcdsaSha256 => self.hasher.update(part),
            _ => {
                if self.buffer.len() + part.len() > MAX_BUFFERED {
                    return Err(Rv(CKR_DATA_LEN_RANGE));
                }
                self.buffer.extend_from_slice(part);
            }
        }
        Ok(())
    }

    /// The request for a single-part operation over `data`.
    pub(crate) fn single(&self, data: &[u8]) -> CkResult<Request> {
        let data = match self.mech {
            SignMech::EcdsaRaw => Prepared::Digest(ecdsa_digest(data)?),
            SignMech::EcdsaSha256 => Prepared::Digest(Sha256::digest(data).into()),
            SignMech::Eddsa | SignMech::HmacSha256 => {
                if data.len() > MAX_BUFFERED {
                    return Err(Rv(CKR_DATA_LEN_RANGE));
                }
                Prepared::Message(data.to_vec())
            }
        };
        Ok(Request {
            scheme: self.mech.scheme(),
            data,
        })
    }

    /// The request that finishes a multi-part operation.
    pub(crate) fn finish(&self) -> Request {
        let data = match self.mech {
            SignMech::EcdsaSha256 => Prepared::Digest(self.hasher.clone().finalize().into()),
            _ => Prepared::Message(self.buffer.clone()),
        };
        Request {
            scheme: self.mech.scheme(),
            data,
        }
    }
}

#[cfg(test)]
mod tests;
