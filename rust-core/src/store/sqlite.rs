//! SQLite store (stub: to be implemented).
#![allow(unused_variables, dead_code)]
use super::{KeyStore, StoredKey};
use crate::audit::AuditRecord;
use crate::key::{KeyId, KeyInfo, KeyRef};
use crate::Result;
use std::path::Path;

/// Current schema version.
pub const SCHEMA_VERSION: u32 = 1;

/// The production store: one SQLite file in WAL mode, `synchronous=FULL`,
/// `secure_delete=ON`, guarded by an exclusive lock file.
pub struct SqliteStore {
    conn: rusqlite::Connection,
}

impl core::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("SqliteStore")
    }
}

impl SqliteStore {
    /// Opens (creating and migrating) the database at `path`.
    pub fn open(path: &Path) -> Result<Self> { todo!() }
}

impl KeyStore for SqliteStore {
    fn insert_key(&mut self, key: &StoredKey, audit: &[AuditRecord]) -> Result<()> { todo!() }
    fn load_key(&mut self, owner: &str, key: &KeyRef, check: &mut dyn FnMut(&StoredKey) -> Result<()>) -> Result<StoredKey> { todo!() }
    fn delete_key(&mut self, owner: &str, id: KeyId, audit: &[AuditRecord]) -> Result<()> { todo!() }
    fn list_keys(&mut self, owner: &str) -> Result<Vec<KeyInfo>> { todo!() }
    fn add_usage(&mut self, id: KeyId, delta: u64, limit: Option<u64>) -> Result<u64> { todo!() }
    fn append_audit(&mut self, records: &[AuditRecord]) -> Result<()> { todo!() }
    fn last_audit(&mut self) -> Result<Option<AuditRecord>> { todo!() }
    fn audit_records(&mut self, from_seq: u64, limit: usize) -> Result<Vec<AuditRecord>> { todo!() }
    fn key_count(&mut self) -> Result<u64> { todo!() }
    fn schema_version(&self) -> u32 { SCHEMA_VERSION }
}
