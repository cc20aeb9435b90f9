//! In-memory store for tests: the [`KeyStore`] contract without a disk.

use super::{AuditSnapshot, CopiedAudit, KeyStore, StoredKey, check};
use crate::alias::alias_key;
use crate::audit::{AuditAnchor, AuditRecord};
use crate::integrity::StoreIntegrity;
use crate::key::{KeyId, KeyInfo, KeyRef};
use crate::sealer::SealerBinding;
use crate::{Error, Result};
use std::sync::Arc;
use zeroize::Zeroize;

/// A [`KeyStore`] in process memory; same contract as the SQLite store.
///
/// Every method validates before it mutates, so a failed call changes
/// nothing. "Durable" here means "until the store is dropped".
#[derive(Debug, Default)]
pub struct MemoryStore {
    keys: Vec<StoredKey>,
    audit: Vec<AuditRecord>,
    binding: Option<SealerBinding>,
    integrity: Option<Arc<StoreIntegrity>>,
    anchor: Option<AuditAnchor>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn position(&self, owner: &str, key: &KeyRef) -> Option<usize> {
        self.keys.iter().position(|k| {
            k.owner == owner
                && match key {
                    KeyRef::Id(id) => k.info.id == *id,
                    KeyRef::Alias(alias) => alias_key(&k.info.alias) == alias_key(alias),
                }
        })
    }

    fn last_link(&self) -> Option<(u64, [u8; 32])> {
        self.audit.last().map(|r| (r.seq, r.hash))
    }

    /// Refuses records that do not extend the chain (the anchor, once
    /// integrity is attached).
    fn check_append(&self, records: &[AuditRecord]) -> Result<()> {
        match (&self.integrity, &self.anchor) {
            (Some(keys), Some(anchor)) => {
                check::audit_extends(Some((anchor.seq, anchor.head)), records, &|r| {
                    crate::audit::expected_hash(keys, anchor.keyed_from, r)
                })
            }
            _ => check::audit_extends(self.last_link(), records, &crate::audit::record_hash),
        }
    }

    fn append_checked(&mut self, records: &[AuditRecord]) {
        self.audit.extend_from_slice(records);
        if let (Some(keys), Some(anchor), Some(last)) =
            (&self.integrity, &mut self.anchor, records.last())
        {
            *anchor = AuditAnchor::keyed(keys, last.seq, last.hash, anchor.keyed_from);
        }
    }
}

impl Drop for MemoryStore {
    fn drop(&mut self) {
        for k in &mut self.keys {
            k.sealed_secret.zeroize();
        }
    }
}

impl KeyStore for MemoryStore {
    fn insert_key(&mut self, key: &StoredKey, audit: &[AuditRecord]) -> Result<()> {
        check::new_key(key)?;
        if self
            .position(&key.owner, &KeyRef::Alias(key.info.alias.clone()))
            .is_some()
        {
            return Err(Error::AliasExists(key.info.alias.clone()));
        }
        if self.keys.iter().any(|k| k.info.id == key.info.id) {
            return Err(check::duplicate_id(key.info.id));
        }
        self.check_append(audit)?;
        self.keys.push(key.clone());
        self.append_checked(audit);
        Ok(())
    }

    fn load_key(
        &mut self,
        owner: &str,
        key: &KeyRef,
        check: &mut dyn FnMut(&StoredKey) -> Result<()>,
    ) -> Result<StoredKey> {
        let i = self
            .position(owner, key)
            .ok_or_else(|| Error::KeyNotFound(key.to_string()))?;
        let stored = self.keys[i].clone();
        check(&stored)?;
        Ok(stored)
    }

    fn delete_key(&mut self, owner: &str, id: KeyId, audit: &[AuditRecord]) -> Result<()> {
        let i = self
            .position(owner, &KeyRef::Id(id))
            .ok_or_else(|| Error::KeyNotFound(KeyRef::Id(id).to_string()))?;
        self.check_append(audit)?;
        let mut removed = self.keys.remove(i);
        removed.sealed_secret.zeroize();
        self.append_checked(audit);
        Ok(())
    }

    fn list_keys(&mut self, owner: &str) -> Result<Vec<KeyInfo>> {
        let mut out: Vec<KeyInfo> = self
            .keys
            .iter()
            .filter(|k| k.owner == owner)
            .map(|k| k.info.clone())
            .collect();
        out.sort_by(|a, b| a.alias.cmp(&b.alias));
        Ok(out)
    }

    fn add_usage(&mut self, id: KeyId, delta: u64, limit: Option<u64>) -> Result<u64> {
        let key = self
            .keys
            .iter_mut()
            .find(|k| k.info.id == id)
            .ok_or_else(|| Error::KeyNotFound(KeyRef::Id(id).to_string()))?;
        let new = check::next_usage(key.info.usage_count, delta, limit)?;
        key.info.usage_count = new;
        Ok(new)
    }

    fn append_audit(&mut self, records: &[AuditRecord]) -> Result<()> {
        self.check_append(records)?;
        self.append_checked(records);
        Ok(())
    }

    fn last_audit(&mut self) -> Result<Option<AuditRecord>> {
        Ok(self.audit.last().cloned())
    }

    fn audit_records(&mut self, from_seq: u64, limit: usize) -> Result<Vec<AuditRecord>> {
        // seq is contiguous from 1, so seq n sits at index n - 1.
        let start = usize::try_from(from_seq.saturating_sub(1)).unwrap_or(usize::MAX);
        Ok(self.audit.iter().skip(start).take(limit).cloned().collect())
    }

    fn key_count(&mut self) -> Result<u64> {
        Ok(self.keys.len() as u64)
    }

    fn schema_version(&self) -> u32 {
        super::SCHEMA_VERSION
    }

    fn sealer_binding(&mut self) -> Result<Option<SealerBinding>> {
        Ok(self.binding.clone())
    }

    fn put_sealer_binding(&mut self, binding: &SealerBinding) -> Result<()> {
        if self.binding.is_some() {
            return Err(Error::StorageOther(
                "a sealer binding is already recorded".into(),
            ));
        }
        self.binding = Some(binding.clone());
        Ok(())
    }

    fn attach_integrity(&mut self, integrity: Arc<StoreIntegrity>) -> Result<AuditAnchor> {
        let (seq, head) = self.last_link().unwrap_or((0, [0u8; 32]));
        let anchor = *self
            .anchor
            .get_or_insert_with(|| AuditAnchor::keyed(&integrity, seq, head, seq + 1));
        if !anchor.is_authentic(&integrity) {
            return Err(Error::CorruptKeyRecord(
                "the audit anchor fails its integrity check".into(),
            ));
        }
        self.integrity = Some(integrity);
        Ok(anchor)
    }

    fn audit_anchor(&mut self) -> Result<Option<AuditAnchor>> {
        Ok(self.anchor)
    }

    fn audit_snapshot(&mut self) -> Result<Box<dyn AuditSnapshot>> {
        // A copy taken under the caller's lock: the anchor and the records
        // as of the same instant.
        Ok(Box::new(CopiedAudit::new(self.anchor, self.audit.clone())))
    }
}
