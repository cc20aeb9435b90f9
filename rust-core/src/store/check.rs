//! Checks shared by every store, so both enforce one contract.

use super::StoredKey;
use crate::algorithm::Algorithm;
use crate::audit::AuditRecord;
use crate::error::StoreContract;
use crate::{Error, Result};

/// Length of the canonical public key of `algorithm` (see
/// [`KeyInfo::public_key`](crate::KeyInfo::public_key)).
pub(super) fn public_key_len(algorithm: Algorithm) -> usize {
    match algorithm {
        Algorithm::Secp256k1 | Algorithm::P256 => 33,
        Algorithm::Ed25519 | Algorithm::X25519 => 32,
        Algorithm::Aes256Gcm | Algorithm::HmacSha256 => 0,
    }
}

/// What a store refuses to write: values it could not read back as they
/// were given, or a record another reader would call corrupt.
pub(super) fn new_key(key: &StoredKey) -> Result<()> {
    let info = &key.info;
    let id = info.id.as_u64();
    let refuse = |violation| Err(Error::StoreContract(violation));
    let expected = public_key_len(info.algorithm);
    if info.public_key.len() != expected {
        return refuse(StoreContract::PublicKeyLength {
            id,
            algorithm: info.algorithm.name(),
            expected,
            got: info.public_key.len(),
        });
    }
    if let Some(scheme) = info.hd_scheme
        && scheme.algorithm() != info.algorithm
    {
        return refuse(StoreContract::HdSchemeMismatch {
            id,
            scheme: scheme.name(),
            algorithm: info.algorithm.name(),
        });
    }
    if key.sealed_secret.is_empty() {
        return refuse(StoreContract::EmptySealedSecret { id });
    }
    if key.sealed_schema_version == 0 || key.sealed_schema_version > super::SCHEMA_VERSION {
        return refuse(StoreContract::UnknownSchemaVersion {
            id,
            version: key.sealed_schema_version,
        });
    }
    if info.usage_count > i64::MAX as u64
        || info.policy.max_uses.is_some_and(|m| m > i64::MAX as u64)
    {
        return Err(Error::InvalidArgument(
            "usage counts and limits above 2^63-1 are not supported".into(),
        ));
    }
    Ok(())
}

/// The usage count after adding `delta` to `count`, refusing to pass `limit`.
pub(super) fn next_usage(count: u64, delta: u64, limit: Option<u64>) -> Result<u64> {
    let new = count.checked_add(delta);
    if let Some(limit) = limit
        && new.is_none_or(|n| n > limit)
    {
        return Err(Error::UsageLimitExceeded(limit));
    }
    match new {
        Some(n) if n <= i64::MAX as u64 => Ok(n),
        _ => Err(Error::InvalidArgument("usage counter overflow".into())),
    }
}

/// Refuses audit records that do not extend the log whose last record has
/// `last` = (seq, hash): each must carry the next seq, link to the previous
/// hash and carry its own correct hash (`expected_hash`: plain, or keyed
/// once the store has its integrity keys). The store thereby only ever
/// holds a valid chain (edits after the fact are found by verification).
pub(super) fn audit_extends(
    last: Option<(u64, [u8; 32])>,
    records: &[AuditRecord],
    expected_hash: &dyn Fn(&AuditRecord) -> [u8; 32],
) -> Result<()> {
    let (mut seq, mut hash) = last.unwrap_or((0, [0u8; 32]));
    for r in records {
        if r.seq != seq + 1 {
            return Err(Error::StoreContract(StoreContract::AuditOutOfSequence {
                seq: r.seq,
                last: seq,
            }));
        }
        if r.prev_hash != hash || expected_hash(r) != r.hash {
            return Err(Error::StoreContract(StoreContract::AuditNotLinked {
                seq: r.seq,
            }));
        }
        seq = r.seq;
        hash = r.hash;
    }
    Ok(())
}

/// A key id that is already stored.
pub(super) fn duplicate_id(id: crate::key::KeyId) -> Error {
    Error::StoreContract(StoreContract::DuplicateKeyId { id: id.as_u64() })
}
