//! Buffered audit records and usage counts, committed in groups.
//!
//! Records of creations and deletions are committed in the same store
//! transaction as the write itself ([`Journal::commit_with`], called by
//! `Keyhold::create_key` and `Keyhold::delete_key`); the rest wait here until a batch fills,
//! the oldest is `audit_max_delay` old, a refusal is recorded, or the engine
//! is flushed or dropped. A kill -9 can therefore lose at most one batch of
//! use records, never a record of a key's creation or deletion, and never
//! breaks the chain (only whole records are committed, in order).
//!
//! **When the store cannot be written** (a full disk, issue 10 item 7):
//! records that failed to commit stay buffered, in order, and are retried
//! (at most every [`RETRY_PAUSE`], and by every `flush`); nothing is
//! dropped. While the last attempt failed the journal is *unwritable*: the
//! engine keeps serving what needs no write (public keys, verification,
//! listing: their records wait here) but refuses every use of a secret with
//! `STORAGE_FAILURE` before it happens, since its record could not be made
//! durable. Past [`MAX_PENDING_BATCHES`] batches of waiting records every
//! operation is refused before it runs and only counted; the count is
//! committed as one record when the store can be written again. A flush
//! that fails says how many records wait; the engine reports records still
//! unwritten when it is dropped.

use crate::Result;
use crate::algorithm::Operation;
use crate::audit::{AuditChain, AuditRecord};
use crate::caller::Caller;
use crate::error::ErrorCode;
use crate::key::KeyId;
use crate::store::KeyStore;
use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Least pause between two attempts to commit after one failed.
pub(crate) const RETRY_PAUSE: Duration = Duration::from_millis(250);

/// Waiting records are bounded at this many audit batches.
pub(crate) const MAX_PENDING_BATCHES: usize = 4;

pub(crate) struct Journal {
    chain: AuditChain,
    pending: Vec<AuditRecord>,
    oldest_pending: Option<Instant>,
    usage: HashMap<KeyId, u64>,
    /// Why the last commit failed; `None` once one succeeds.
    write_failure: Option<String>,
    /// No new attempt before this (after a failure).
    retry_at: Option<Instant>,
    /// Operations refused unrecorded because the buffer was full.
    refused_unrecorded: u64,
}

impl Journal {
    pub(crate) fn resume(chain: AuditChain) -> Self {
        Self {
            chain,
            pending: Vec::new(),
            oldest_pending: None,
            usage: HashMap::new(),
            write_failure: None,
            retry_at: None,
            refused_unrecorded: 0,
        }
    }

    /// True while the last attempt to commit failed.
    pub(crate) fn unwritable(&self) -> bool {
        self.write_failure.is_some()
    }

    /// Records waiting to be committed.
    pub(crate) fn pending_len(&self) -> usize {
        self.pending.len()
    }

    /// True when the buffer of unwritable records is full: the operation
    /// is refused unrecorded (and counted).
    pub(crate) fn refuse_if_full(&mut self, batch: usize) -> crate::Result<()> {
        if self.unwritable() && self.pending.len() >= batch.saturating_mul(MAX_PENDING_BATCHES) {
            self.refused_unrecorded += 1;
            return Err(crate::Error::StorageOther(format!(
                "the store cannot be written and {} audit records are waiting: refusing \
                 operations until they are committed ({})",
                self.pending.len(),
                self.write_failure.as_deref().unwrap_or("")
            )));
        }
        Ok(())
    }

    /// The error a use of a secret gets while the journal is unwritable.
    pub(crate) fn refusal(&self) -> crate::Error {
        crate::Error::StorageOther(format!(
            "the audit log cannot be written ({}), so no key is used until it can; \
             {} audit records are waiting",
            self.write_failure.as_deref().unwrap_or("unknown"),
            self.pending.len()
        ))
    }

    /// True when a new attempt may be made now.
    pub(crate) fn may_retry(&self) -> bool {
        self.retry_at.is_none_or(|t| Instant::now() >= t)
    }

    /// Buffers a record of `operation`.
    pub(crate) fn record(
        &mut self,
        caller: &Caller,
        operation: Operation,
        key_id: Option<KeyId>,
        outcome: Option<ErrorCode>,
    ) {
        let record = self
            .chain
            .append(now_ms(), caller.to_string(), operation, key_id, outcome);
        self.pending.push(record);
        self.oldest_pending.get_or_insert_with(Instant::now);
    }

    /// Counts one use of an unlimited key (limited keys are counted durably
    /// before the use, by the store).
    pub(crate) fn count_use(&mut self, id: KeyId) {
        *self.usage.entry(id).or_insert(0) += 1;
    }

    /// True when the buffer should be committed now.
    pub(crate) fn due(&self, batch: usize, max_delay: Duration) -> bool {
        if !self.may_retry() {
            return false;
        }
        self.pending.len() >= batch
            || self
                .oldest_pending
                .is_some_and(|t| t.elapsed() >= max_delay)
    }

    /// Runs `write` with the pending records plus one new record; only if it
    /// succeeds do the records count as committed and the chain advance.
    pub(crate) fn commit_with(
        &mut self,
        caller: &Caller,
        operation: Operation,
        key_id: KeyId,
        write: impl FnOnce(&[AuditRecord]) -> Result<()>,
    ) -> Result<()> {
        // Append in place (no copy of up to a batch of pending records);
        // on failure take the record back and restore the chain head.
        let head = self.chain.clone();
        let record = self
            .chain
            .append(now_ms(), caller.to_string(), operation, Some(key_id), None);
        self.pending.push(record);
        if let Err(e) = write(&self.pending) {
            self.pending.pop();
            self.chain = head;
            return Err(e);
        }
        self.pending.clear();
        self.oldest_pending = None;
        self.write_failure = None;
        self.retry_at = None;
        Ok(())
    }

    /// Commits pending records and usage counts in one store transaction.
    pub(crate) fn flush(&mut self, store: &mut dyn KeyStore) -> Result<()> {
        if self.refused_unrecorded > 0 {
            // One record stands for the operations refused unrecorded.
            let summary = self.chain.append(
                now_ms(),
                format!(
                    "keyhold journal: {} operations refused unrecorded while the store could \
                     not be written",
                    self.refused_unrecorded
                ),
                Operation::AuditVerify,
                None,
                Some(ErrorCode::StorageFailure),
            );
            self.pending.push(summary);
            self.refused_unrecorded = 0;
        }
        if self.pending.is_empty() && self.usage.is_empty() {
            return Ok(());
        }
        let usage: Vec<(KeyId, u64)> = self.usage.iter().map(|(k, v)| (*k, *v)).collect();
        if let Err(e) = store.commit_journal(&self.pending, &usage) {
            self.write_failure = Some(e.to_string());
            self.retry_at = Some(Instant::now() + RETRY_PAUSE);
            return Err(crate::Error::StorageOther(format!(
                "{} audit records could not be written and are kept for a retry: {e}",
                self.pending.len()
            )));
        }
        self.pending.clear();
        self.usage.clear();
        self.oldest_pending = None;
        self.write_failure = None;
        self.retry_at = None;
        Ok(())
    }
}

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller() -> Caller {
        Caller::Embedded { app_id: "t".into() }
    }

    #[test]
    fn a_failed_write_leaves_the_chain_and_buffer_as_they_were() {
        let mut journal = Journal::resume(AuditChain::resume(None));
        journal.record(&caller(), Operation::Sign, None, None);
        let failed = journal.commit_with(
            &caller(),
            Operation::GenerateKey,
            KeyId::from_u64(1),
            |records| {
                assert_eq!(records.len(), 2);
                Err(crate::Error::StorageOther("disk full".into()))
            },
        );
        assert!(failed.is_err());
        assert_eq!(journal.pending.len(), 1);
        let mut written = Vec::new();
        journal
            .commit_with(
                &caller(),
                Operation::GenerateKey,
                KeyId::from_u64(1),
                |records| {
                    written = records.to_vec();
                    Ok(())
                },
            )
            .unwrap();
        assert!(journal.pending.is_empty());
        assert_eq!(
            written.iter().map(|r| r.seq).collect::<Vec<_>>(),
            vec![1, 2]
        );
        assert_eq!(written[1].prev_hash, written[0].hash);
        let verdict = crate::audit::verify_chain(&mut |from| {
            Ok(written.iter().filter(|r| r.seq >= from).cloned().collect())
        })
        .unwrap();
        assert_eq!(verdict.first_broken_seq, None);
        assert_eq!(verdict.entries, 2);
    }
}
