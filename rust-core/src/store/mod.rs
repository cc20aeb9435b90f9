//! Storage behind a trait: [`SqliteStore`] for production, [`MemoryStore`]
//! for tests. Both hold only sealed secrets.
//!
//! The engine owns one store behind a mutex; a store is never a global.

mod check;
mod memory;
mod schema;
mod sqlite;

pub use memory::MemoryStore;
pub use schema::SCHEMA_VERSION;
pub use sqlite::SqliteStore;

use crate::Result;
use crate::audit::{AuditAnchor, AuditRecord};
use crate::integrity::StoreIntegrity;
use crate::key::{KeyId, KeyInfo, KeyRef};
use crate::sealer::SealerBinding;
use std::sync::Arc;

/// A key as stored: public metadata, owner, and the sealed secret.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredKey {
    /// Public metadata (id, alias, algorithm, policy, usage...).
    pub info: KeyInfo,
    /// Owner namespace (see [`Caller::owner`](crate::Caller::owner)).
    pub owner: String,
    /// The secret as returned by [`Sealer::seal`](crate::Sealer::seal).
    pub sealed_secret: Vec<u8>,
    /// Schema version the secret was sealed under (part of its AAD).
    pub sealed_schema_version: u32,
}

impl core::fmt::Debug for StoredKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("StoredKey")
            .field("info", &self.info)
            .field("owner", &self.owner)
            .field(
                "sealed_secret",
                &format_args!("[{} sealed bytes]", self.sealed_secret.len()),
            )
            .finish()
    }
}

impl StoredKey {
    /// The MAC of this row's metadata and policy under the store's keys
    /// (see [`StoreIntegrity::meta_mac`]).
    pub(crate) fn meta_mac(&self, keys: &StoreIntegrity) -> [u8; 32] {
        keys.meta_mac(&self.owner, &self.info, self.sealed_schema_version)
    }
}

/// Access to persistent keys and the audit log.
///
/// Contract for every implementation:
/// - `insert_key` fails with `AliasExists` when (owner, alias) is taken and
///   with [`StoreContract::DuplicateKeyId`](crate::StoreContract) if the id
///   already exists (code `INTERNAL`; every refusal of the contract checks
///   is an [`Error::StoreContract`](crate::Error::StoreContract)); the key and the given audit
///   records commit together or not at all.
/// - `load_key` returns `KeyNotFound` unless a key with that id or alias
///   exists *in the owner's namespace*; `check` runs inside the same read
///   transaction and its error is returned unchanged.
/// - `delete_key` removes the key (secret overwritten on disk) and commits
///   the audit records with it; `KeyNotFound` if absent.
/// - `add_usage` atomically adds `delta` to the usage counter unless that
///   would exceed `limit` (`UsageLimitExceeded`, nothing changes); returns
///   the new count.
/// - audit records are appended in order; `seq` is contiguous from 1.
/// - the sealer binding is written once: `put_sealer_binding` fails with
///   `StorageOther` when one is already recorded, and nothing replaces it.
/// - every acknowledged write is durable (synchronous=FULL for SQLite).
/// - aliases are unique and found by their comparison key
///   ([`alias_key`](crate::alias_key)): `Wallet` finds `wallet`.
/// - after `attach_integrity`, audit records must extend the anchor and
///   carry keyed hashes, each append rewrites the anchor in its own
///   transaction, and the SQLite store checks every key row's MACs when
///   it reads one (`CORRUPT_KEY_RECORD` when they fail). The memory store
///   keeps the anchor and the keyed chain; its rows cannot be edited from
///   outside the process, so it keeps no row MACs.
/// - `audit_snapshot` returns the anchor and the records as of one instant,
///   readable after the store is released; records committed later are in
///   neither.
pub trait KeyStore: Send {
    /// Stores a new key together with `audit` records.
    fn insert_key(&mut self, key: &StoredKey, audit: &[AuditRecord]) -> Result<()>;

    /// Loads a key of `owner`, running `check` in the loading transaction.
    fn load_key(
        &mut self,
        owner: &str,
        key: &KeyRef,
        check: &mut dyn FnMut(&StoredKey) -> Result<()>,
    ) -> Result<StoredKey>;

    /// Deletes a key of `owner` together with `audit` records.
    fn delete_key(&mut self, owner: &str, id: KeyId, audit: &[AuditRecord]) -> Result<()>;

    /// Public metadata of every key of `owner`, ordered by alias.
    fn list_keys(&mut self, owner: &str) -> Result<Vec<KeyInfo>>;

    /// Adds `delta` uses to a key, refusing to pass `limit`.
    fn add_usage(&mut self, id: KeyId, delta: u64, limit: Option<u64>) -> Result<u64>;

    /// Appends audit records.
    fn append_audit(&mut self, records: &[AuditRecord]) -> Result<()>;

    /// Commits buffered audit records and usage deltas of unlimited keys
    /// (keys deleted since are skipped). SQLite does it in one transaction,
    /// so a journal flush costs one sync.
    fn commit_journal(&mut self, records: &[AuditRecord], usage: &[(KeyId, u64)]) -> Result<()> {
        self.append_audit(records)?;
        for (id, delta) in usage {
            match self.add_usage(*id, *delta, None) {
                Ok(_) | Err(crate::Error::KeyNotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// The most recent audit record.
    fn last_audit(&mut self) -> Result<Option<AuditRecord>>;

    /// Up to `limit` audit records with `seq >= from_seq`, in order.
    fn audit_records(&mut self, from_seq: u64, limit: usize) -> Result<Vec<AuditRecord>>;

    /// Number of stored keys.
    fn key_count(&mut self) -> Result<u64>;

    /// The schema version secrets are sealed under.
    fn schema_version(&self) -> u32;

    /// What the store recorded about its wrapping key, if anything yet.
    fn sealer_binding(&mut self) -> Result<Option<SealerBinding>>;

    /// Records the wrapping key's binding, once.
    fn put_sealer_binding(&mut self, binding: &SealerBinding) -> Result<()>;

    /// Gives the store its integrity keys once the sealer has opened its
    /// store key, and returns the audit anchor the journal continues from.
    /// A store that has an anchor checks its MAC and writes nothing; one
    /// that has none (new, or upgraded from before schema 4) MACs its rows
    /// as found and writes the first anchor, unless some row already
    /// carries a MAC or was sealed at schema 4 (`CORRUPT_KEY_RECORD`: the
    /// anchor was removed).
    fn attach_integrity(&mut self, integrity: Arc<StoreIntegrity>) -> Result<AuditAnchor>;

    /// The audit anchor, its MAC checked; `None` before `attach_integrity`.
    fn audit_anchor(&mut self) -> Result<Option<AuditAnchor>>;

    /// An independent, read-only, consistent view of the audit log and its
    /// anchor as last committed, for walking the log without holding the
    /// engine's store lock (issue 10 item 4: `audit verify` must not stall
    /// signers). The anchor and the records come from one snapshot, so a
    /// record appended after this call is in neither: a concurrent append
    /// can look neither like a truncation nor like a break.
    ///
    /// SQLite answers with a second, read-only connection in a read
    /// transaction (WAL lets it read while the store keeps writing); the
    /// memory store with a copy. The default copies every record through
    /// [`KeyStore::audit_records`] while the caller holds the store, which
    /// is consistent but as slow as walking under the lock.
    fn audit_snapshot(&mut self) -> Result<Box<dyn AuditSnapshot>> {
        let anchor = self.audit_anchor()?;
        let mut records = Vec::new();
        loop {
            let from = records.last().map_or(1, |r: &AuditRecord| r.seq + 1);
            let page = self.audit_records(from, 1024)?;
            if page.is_empty() {
                break;
            }
            records.extend(page);
        }
        Ok(Box::new(CopiedAudit { anchor, records }))
    }
}

/// A consistent read-only view of an audit log (see
/// [`KeyStore::audit_snapshot`]); it holds no lock of the store it came
/// from.
pub trait AuditSnapshot: Send {
    /// The anchor as of the snapshot, its MAC checked when the snapshot was
    /// taken; `None` before integrity was attached.
    fn anchor(&self) -> Option<AuditAnchor>;

    /// Up to `limit` records with `seq >= from_seq`, in order, as of the
    /// snapshot (same contract as [`KeyStore::audit_records`]).
    fn audit_records(&mut self, from_seq: u64, limit: usize) -> Result<Vec<AuditRecord>>;
}

/// A snapshot held as a copy of the records.
pub(crate) struct CopiedAudit {
    anchor: Option<AuditAnchor>,
    records: Vec<AuditRecord>,
}

impl CopiedAudit {
    pub(crate) fn new(anchor: Option<AuditAnchor>, records: Vec<AuditRecord>) -> Self {
        Self { anchor, records }
    }
}

impl AuditSnapshot for CopiedAudit {
    fn anchor(&self) -> Option<AuditAnchor> {
        self.anchor
    }

    fn audit_records(&mut self, from_seq: u64, limit: usize) -> Result<Vec<AuditRecord>> {
        Ok(copied_page(&self.records, from_seq, limit))
    }
}

/// Up to `limit` records of `records` with `seq >= from_seq`, in order.
/// Records are the log as stored: normally contiguous from 1, but a log
/// edited from outside may have gaps, so the position is searched.
fn copied_page(records: &[AuditRecord], from_seq: u64, limit: usize) -> Vec<AuditRecord> {
    let start = records.partition_point(|r| r.seq < from_seq);
    records[start..].iter().take(limit).cloned().collect()
}

#[cfg(test)]
mod tests;
