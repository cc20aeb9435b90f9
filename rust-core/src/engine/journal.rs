//! Buffered audit records and usage counts, committed in groups.
//!
//! Records of creations and deletions are committed with the write itself
//! (see `Keyhold::commit_insert`); the rest wait here until a batch fills,
//! the oldest is `audit_max_delay` old, a refusal is recorded, or the engine
//! is flushed or dropped. A kill -9 can therefore lose at most one batch of
//! use records, never a record of a key's creation or deletion, and never
//! breaks the chain (only whole records are committed, in order).

use crate::Result;
use crate::algorithm::Operation;
use crate::audit::{AuditChain, AuditRecord};
use crate::caller::Caller;
use crate::error::ErrorCode;
use crate::key::KeyId;
use crate::store::KeyStore;
use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub(crate) struct Journal {
    chain: AuditChain,
    pending: Vec<AuditRecord>,
    oldest_pending: Option<Instant>,
    usage: HashMap<KeyId, u64>,
}

impl Journal {
    pub(crate) fn resume(chain: AuditChain) -> Self {
        Self {
            chain,
            pending: Vec::new(),
            oldest_pending: None,
            usage: HashMap::new(),
        }
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
        Ok(())
    }

    /// Commits pending records and usage counts in one store transaction.
    pub(crate) fn flush(&mut self, store: &mut dyn KeyStore) -> Result<()> {
        if self.pending.is_empty() && self.usage.is_empty() {
            return Ok(());
        }
        let usage: Vec<(KeyId, u64)> = self.usage.iter().map(|(k, v)| (*k, *v)).collect();
        store.commit_journal(&self.pending, &usage)?;
        self.pending.clear();
        self.usage.clear();
        self.oldest_pending = None;
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
