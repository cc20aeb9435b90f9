//! The audit log: append-only, hash-chained records of every operation.
//!
//! Each record's hash covers the previous record's hash and every field, so
//! editing, removing or reordering a record breaks the chain at that point.
//! In an engine's store the chain is keyed (HMAC-SHA256 under a key the
//! sealer protects) and its head is kept in a MAC'd [`AuditAnchor`], so the
//! chain cannot be recomputed after an edit and a removed tail is found
//! too (see [`crate::integrity`]); [`record_hash`] is the plain hash of
//! records written before schema 4 and of stores used without an engine.

use crate::Result;
use crate::algorithm::Operation;
use crate::error::ErrorCode;
use crate::integrity::StoreIntegrity;
use crate::key::KeyId;
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// One audited operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    /// Position in the log, contiguous from 1.
    pub seq: u64,
    /// Milliseconds since the Unix epoch.
    pub time_ms: i64,
    /// Caller description (no secrets).
    pub caller: String,
    /// What was done.
    pub operation: Operation,
    /// The key, when the operation named one that exists.
    pub key_id: Option<KeyId>,
    /// `None` for success, else the error code.
    pub outcome: Option<ErrorCode>,
    /// Hash of the previous record (zeros for the first).
    pub prev_hash: [u8; 32],
    /// SHA-256 over the domain tag, `prev_hash` and every field.
    pub hash: [u8; 32],
}

/// Result of checking a chain.
///
/// A record found wrong (edited, out of place, or after a gap) is reported
/// as `first_broken_seq == Some(entries)`: `entries` counts it. A log that
/// ends before its anchor says it should (its newest records were removed)
/// is reported as `first_broken_seq == Some(entries + 1)`, the first missing
/// record (see [`AuditVerdict::is_truncated`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditVerdict {
    /// Records examined.
    pub entries: u64,
    /// The first record whose link or hash is wrong, or the first missing
    /// one, if any.
    pub first_broken_seq: Option<u64>,
}

impl AuditVerdict {
    /// True when the log is intact up to its end but records the anchor
    /// vouches for are missing after it.
    pub fn is_truncated(&self) -> bool {
        self.first_broken_seq == Some(self.entries + 1)
    }
}

/// The head of a keyed chain as the store last committed it, MAC'd (see
/// the core's `integrity` module). Rewritten with every audit append.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditAnchor {
    /// Seq of the newest record (0 for an empty log).
    pub seq: u64,
    /// Hash of the newest record (zeros for an empty log).
    pub head: [u8; 32],
    /// First record carrying a keyed hash; earlier ones predate schema 4
    /// and carry the plain SHA-256 record hash.
    pub keyed_from: u64,
    /// MAC over the three fields above.
    pub mac: [u8; 32],
}

/// The head of the chain; produces linked records.
#[derive(Debug, Clone)]
pub struct AuditChain {
    next_seq: u64,
    last_hash: [u8; 32],
    /// Set for a keyed chain.
    key: Option<Arc<StoreIntegrity>>,
}

impl AuditChain {
    /// Continues after `last` (or starts a new chain).
    pub fn resume(last: Option<&AuditRecord>) -> Self {
        match last {
            Some(r) => Self {
                next_seq: r.seq + 1,
                last_hash: r.hash,
                key: None,
            },
            None => Self {
                next_seq: 1,
                last_hash: [0u8; 32],
                key: None,
            },
        }
    }

    /// Continues a keyed chain after its anchor.
    pub(crate) fn resume_keyed(anchor: &AuditAnchor, key: Arc<StoreIntegrity>) -> Self {
        Self {
            next_seq: anchor.seq + 1,
            last_hash: anchor.head,
            key: Some(key),
        }
    }

    /// Builds the next linked record and advances the head.
    pub fn append(
        &mut self,
        time_ms: i64,
        caller: String,
        operation: Operation,
        key_id: Option<KeyId>,
        outcome: Option<ErrorCode>,
    ) -> AuditRecord {
        let mut record = AuditRecord {
            seq: self.next_seq,
            time_ms,
            caller,
            operation,
            key_id,
            outcome,
            prev_hash: self.last_hash,
            hash: [0u8; 32],
        };
        record.hash = match &self.key {
            Some(key) => record_mac(key, &record),
            None => record_hash(&record),
        };
        self.next_seq += 1;
        self.last_hash = record.hash;
        record
    }
}

impl PartialEq for AuditChain {
    /// Two heads are equal when they continue the same chain the same way.
    fn eq(&self, other: &Self) -> bool {
        self.next_seq == other.next_seq
            && self.last_hash == other.last_hash
            && self.key.is_some() == other.key.is_some()
    }
}

impl Eq for AuditChain {}

/// Domain tag of [`record_hash`]; a new encoding gets a new tag.
const HASH_DOMAIN: &[u8] = b"keyhold/audit/v1";

/// The hash a record must carry.
///
/// SHA-256 over, in order: the 16-byte domain tag `keyhold/audit/v1`,
/// `prev_hash` (32 bytes), `seq` (u64 BE), `time_ms` (i64 BE), `caller`
/// (u32 BE length then UTF-8), the operation's stable name (same), `key_id`
/// (0x00, or 0x01 then u64 BE) and `outcome` (0x00, or 0x01 then the u32 BE
/// wire code). Every field has a fixed size or a length prefix, so no two
/// different records encode to the same bytes. The stored `hash` itself is
/// not an input.
pub fn record_hash(record: &AuditRecord) -> [u8; 32] {
    let mut h = Sha256::new();
    encode_record(HASH_DOMAIN, record, &mut |b| h.update(b));
    h.finalize().into()
}

/// The canonical encoding [`record_hash`] documents, after `domain`; the
/// keyed chain MACs the same encoding under the domain `keyhold/audit/v2`.
pub(crate) fn encode_record(domain: &[u8], record: &AuditRecord, put: &mut dyn FnMut(&[u8])) {
    put(domain);
    put(&record.prev_hash);
    put(&record.seq.to_be_bytes());
    put(&record.time_ms.to_be_bytes());
    put_field(put, record.caller.as_bytes());
    put_field(put, record.operation.name().as_bytes());
    match record.key_id {
        Some(id) => {
            put(&[1u8]);
            put(&id.as_u64().to_be_bytes());
        }
        None => put(&[0u8]),
    }
    match record.outcome {
        Some(code) => {
            put(&[1u8]);
            put(&code.as_u32().to_be_bytes());
        }
        None => put(&[0u8]),
    }
}

fn put_field(put: &mut dyn FnMut(&[u8]), field: &[u8]) {
    // Audit fields are short; a longer one is clamped in the prefix only in
    // theory (4 GiB), which no store accepts.
    let len = u32::try_from(field.len()).unwrap_or(u32::MAX);
    put(&len.to_be_bytes());
    put(field);
}

/// The keyed hash an audit record from `keyed_from` on must carry: HMAC
/// under the store's audit key of the canonical encoding, domain
/// `keyhold/audit/v2`.
fn record_mac(key: &StoreIntegrity, record: &AuditRecord) -> [u8; 32] {
    key.audit_mac(|put| encode_record(b"keyhold/audit/v2", record, put))
}

impl AuditAnchor {
    /// An anchor at (seq, head) carrying its MAC under `keys`.
    pub(crate) fn keyed(keys: &StoreIntegrity, seq: u64, head: [u8; 32], keyed_from: u64) -> Self {
        Self {
            seq,
            head,
            keyed_from,
            mac: keys.anchor_mac(seq, &head, keyed_from),
        }
    }

    /// True when the anchor carries its MAC under `keys`.
    pub(crate) fn is_authentic(&self, keys: &StoreIntegrity) -> bool {
        crate::integrity::ct_eq(
            &keys.anchor_mac(self.seq, &self.head, self.keyed_from),
            &self.mac,
        )
    }
}

/// The hash `record` must carry in a keyed chain whose keyed part starts at
/// `keyed_from` (plain [`record_hash`] before it).
pub(crate) fn expected_hash(
    key: &StoreIntegrity,
    keyed_from: u64,
    record: &AuditRecord,
) -> [u8; 32] {
    if record.seq >= keyed_from {
        record_mac(key, record)
    } else {
        record_hash(record)
    }
}

/// Verifies a keyed chain against its anchor: every record as
/// [`verify_chain`] does (with [`expected_hash`] for the hash), then that
/// the log reaches the anchor (its newest record has the anchor's seq and
/// hash). A log that stops short is reported as truncated (see
/// [`AuditVerdict`]). The anchor's own MAC is checked by the store that
/// reads it.
pub(crate) fn verify_anchored(
    key: &StoreIntegrity,
    anchor: &AuditAnchor,
    next_page: &mut dyn FnMut(u64) -> Result<Vec<AuditRecord>>,
) -> Result<AuditVerdict> {
    let mut expected_seq = 1u64;
    let mut prev_hash = [0u8; 32];
    let mut entries = 0u64;
    loop {
        let page = next_page(expected_seq)?;
        if page.is_empty() {
            break;
        }
        for record in page {
            entries += 1;
            if record.seq != expected_seq
                || record.prev_hash != prev_hash
                || !crate::integrity::ct_eq(
                    &expected_hash(key, anchor.keyed_from, &record),
                    &record.hash,
                )
                || record.seq > anchor.seq
            {
                return Ok(AuditVerdict {
                    entries,
                    first_broken_seq: Some(expected_seq),
                });
            }
            prev_hash = record.hash;
            expected_seq += 1;
        }
    }
    let first_broken_seq = if entries < anchor.seq {
        Some(entries + 1)
    } else if prev_hash != anchor.head {
        // The newest record verifies but is not the one the anchor holds.
        Some(entries.max(1))
    } else {
        None
    };
    Ok(AuditVerdict {
        entries,
        first_broken_seq,
    })
}

/// Verifies records in order (pages from `next_page`), reporting the first broken link.
///
/// `next_page(seq)` returns the next records with sequence numbers `>= seq`
/// in order (an empty page ends the walk); verification starts at seq 1.
/// A record is broken when its `seq` is not the next expected one (a record
/// was removed or the records were reordered: the expected seq is reported),
/// its `prev_hash` is not the previous record's hash (zeros for the first),
/// or its `hash` is not the plain SHA-256 record hash. The walk stops at the first break;
/// `entries` counts the records examined, including the broken one.
///
/// Removing records at the *end* of the log is not detectable from the log
/// alone; compare the last hash with one kept elsewhere for that.
pub fn verify_chain(
    next_page: &mut dyn FnMut(u64) -> Result<Vec<AuditRecord>>,
) -> Result<AuditVerdict> {
    let mut expected_seq = 1u64;
    let mut prev_hash = [0u8; 32];
    let mut entries = 0u64;
    loop {
        let page = next_page(expected_seq)?;
        if page.is_empty() {
            return Ok(AuditVerdict {
                entries,
                first_broken_seq: None,
            });
        }
        for record in page {
            entries += 1;
            if record.seq != expected_seq
                || record.prev_hash != prev_hash
                || record_hash(&record) != record.hash
            {
                return Ok(AuditVerdict {
                    entries,
                    first_broken_seq: Some(expected_seq),
                });
            }
            prev_hash = record.hash;
            expected_seq += 1;
        }
    }
}

#[cfg(test)]
mod tests;
