//! The audit log: append-only, hash-chained records of every operation.
//!
//! Each record's hash covers the previous record's hash and every field, so
//! editing, removing or reordering a record breaks the chain at that point.

use crate::Result;
use crate::algorithm::Operation;
use crate::error::ErrorCode;
use crate::key::KeyId;
use sha2::{Digest, Sha256};

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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditVerdict {
    /// Records examined.
    pub entries: u64,
    /// The first record whose link or hash is wrong, if any.
    pub first_broken_seq: Option<u64>,
}

/// The head of the chain; produces linked records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditChain {
    next_seq: u64,
    last_hash: [u8; 32],
}

impl AuditChain {
    /// Continues after `last` (or starts a new chain).
    pub fn resume(last: Option<&AuditRecord>) -> Self {
        match last {
            Some(r) => Self {
                next_seq: r.seq + 1,
                last_hash: r.hash,
            },
            None => Self {
                next_seq: 1,
                last_hash: [0u8; 32],
            },
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
        record.hash = record_hash(&record);
        self.next_seq += 1;
        self.last_hash = record.hash;
        record
    }
}

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
    h.update(HASH_DOMAIN);
    h.update(record.prev_hash);
    h.update(record.seq.to_be_bytes());
    h.update(record.time_ms.to_be_bytes());
    update_field(&mut h, record.caller.as_bytes());
    update_field(&mut h, record.operation.name().as_bytes());
    match record.key_id {
        Some(id) => {
            h.update([1u8]);
            h.update(id.as_u64().to_be_bytes());
        }
        None => h.update([0u8]),
    }
    match record.outcome {
        Some(code) => {
            h.update([1u8]);
            h.update(code.as_u32().to_be_bytes());
        }
        None => h.update([0u8]),
    }
    h.finalize().into()
}

fn update_field(h: &mut Sha256, field: &[u8]) {
    // Audit fields are short; a longer one is clamped in the prefix only in
    // theory (4 GiB), which no store accepts.
    let len = u32::try_from(field.len()).unwrap_or(u32::MAX);
    h.update(len.to_be_bytes());
    h.update(field);
}

/// Verifies records in order (pages from `next_page`), reporting the first broken link.
///
/// `next_page(seq)` returns the next records with sequence numbers `>= seq`
/// in order (an empty page ends the walk); verification starts at seq 1.
/// A record is broken when its `seq` is not the next expected one (a record
/// was removed or the records were reordered: the expected seq is reported),
/// its `prev_hash` is not the previous record's hash (zeros for the first),
/// or its `hash` is not [`record_hash`]. The walk stops at the first break;
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
