//! The audit log: append-only, hash-chained records of every operation.
//!
//! Each record's hash covers the previous record's hash and every field, so
//! editing, removing or reordering a record breaks the chain at that point.

use crate::algorithm::Operation;
use crate::error::ErrorCode;
use crate::key::KeyId;
use crate::Result;

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
        todo!()
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
        todo!()
    }
}

/// The hash a record must carry.
pub fn record_hash(record: &AuditRecord) -> [u8; 32] {
    todo!()
}

/// Verifies records in order (pages from `next_page`), reporting the first broken link.
pub fn verify_chain(
    next_page: &mut dyn FnMut(u64) -> Result<Vec<AuditRecord>>,
) -> Result<AuditVerdict> {
    todo!()
}
