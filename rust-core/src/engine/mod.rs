//! The engine: the typed API every door delegates to.
//!
//! Each operation authorises the caller against the key's policy, uses the
//! unsealed key from the cache (unsealing at most once per key per session),
//! and appends a hash-chained audit record. Key creation and deletion commit
//! their audit record in the same transaction as the write; records of other
//! operations are group-committed (see [`Config::audit_batch`]).

mod attach;
mod cache;
mod journal;
mod material;
mod ops;
mod requests;

#[cfg(test)]
pub(crate) use ops::listing_size;
pub use ops::{DEFAULT_LIST_PAGE_KEYS, MAX_LIST_PAGE_BYTES, MAX_LIST_PAGE_KEYS};
pub use requests::{
    Agreement, DerivedKey, ImportMaterial, KdfParams, KeyOptions, KeyPage, KeySpec,
};

use crate::audit::AuditVerdict;
use crate::caller::Caller;
use crate::integrity::StoreIntegrity;
use crate::sealer::{Sealer, SealerBindingInfo, SoftwareSealer};
use crate::store::{KeyStore, SqliteStore};
use crate::{Error, Result};
use cache::KeyCache;
use journal::Journal;
use material::lock;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Engine tuning. The defaults suit a phone or a desktop daemon.
#[derive(Debug, Clone)]
pub struct Config {
    /// Most unsealed keys kept in memory.
    pub cache_capacity: usize,
    /// An unsealed key unused for this long is dropped.
    pub cache_idle_ttl: Duration,
    /// Largest request [`Keyhold::handle`] accepts, in bytes.
    pub max_request_bytes: usize,
    /// Audit records of non-lifecycle operations are committed once this
    /// many are pending...
    pub audit_batch: usize,
    /// ...or once the oldest pending one is this old (checked on each
    /// operation and by [`Keyhold::flush`]).
    pub audit_max_delay: Duration,
    /// Pauses between attempts to find the sealer's wrapping key when the
    /// engine opens (its length is the number of retries). A `seal` or
    /// `unseal` that fails transiently is retried once, after the first.
    pub sealer_retry_delays: Vec<Duration>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            cache_capacity: 1024,
            cache_idle_ttl: Duration::from_secs(15 * 60),
            max_request_bytes: crate::limits::DEFAULT_MAX_REQUEST_BYTES,
            audit_batch: 4096,
            audit_max_delay: Duration::from_secs(1),
            sealer_retry_delays: vec![
                Duration::from_millis(50),
                Duration::from_millis(200),
                Duration::from_millis(800),
            ],
        }
    }
}

/// The Keyhold engine. `Send + Sync`: share one behind an `Arc` between
/// threads and connections.
pub struct Keyhold {
    store: Mutex<Box<dyn KeyStore>>,
    sealer: Arc<dyn Sealer>,
    cache: KeyCache,
    journal: Mutex<Journal>,
    /// Serialises cache misses so concurrent first uses of a key unseal once.
    unseal_gate: Mutex<()>,
    config: Config,
    schema_version: u32,
    /// Keys of the keyed audit chain and the row MACs, derived from the
    /// store key (see [`crate::integrity`]).
    integrity: Arc<StoreIntegrity>,
    binding: SealerBindingInfo,
}

impl core::fmt::Debug for Keyhold {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Keyhold")
            .field("sealer", &self.sealer.name())
            .field("cached_keys", &self.cache.len())
            .finish_non_exhaustive()
    }
}

impl Keyhold {
    /// Opens the engine over a store and a sealer. Runs every algorithm's
    /// known-answer test first, then attaches the sealer: finds its
    /// wrapping key (creating one only for a store that has never sealed
    /// anything) and unseals the store key with it, which proves the key is
    /// the store's own. If any step fails the engine does not open. Keys
    /// are unsealed lazily, on first use.
    pub fn open(
        mut store: Box<dyn KeyStore>,
        sealer: Arc<dyn Sealer>,
        config: Config,
    ) -> Result<Self> {
        crate::kat::run_known_answer_tests()?;
        let attached =
            attach::attach(store.as_mut(), sealer.as_ref(), &config.sealer_retry_delays)?;
        let integrity = Arc::new(StoreIntegrity::derive(&attached.store_key));
        drop(attached.store_key);
        // The journal continues from the anchor, not from the newest row:
        // records removed from the end stay missing, and verification
        // reports them.
        let anchor = store.attach_integrity(Arc::clone(&integrity))?;
        let journal = Journal::resume(crate::audit::AuditChain::resume_keyed(
            &anchor,
            Arc::clone(&integrity),
        ));
        let schema_version = store.schema_version();
        Ok(Self {
            store: Mutex::new(store),
            sealer,
            cache: KeyCache::new(config.cache_capacity, config.cache_idle_ttl),
            journal: Mutex::new(journal),
            unseal_gate: Mutex::new(()),
            config,
            schema_version,
            integrity,
            binding: attached.binding,
        })
    }

    /// Opens the host default store in `dir`: `keyhold.db` (SQLite), sealed
    /// by the software key file `sealer.key` (created with mode 0600).
    pub fn open_in_dir(dir: &Path, config: Config) -> Result<Self> {
        create_private_dir(dir)?;
        let sealer = SoftwareSealer::key_file(&dir.join("sealer.key"));
        Self::open_in_dir_with(dir, Arc::new(sealer), config)
    }

    /// Opens `dir/keyhold.db` (creating `dir` with mode 0700) sealed by
    /// `sealer`: the constructor for doors that bring a hardware sealer
    /// (Android Keystore, Secure Enclave).
    pub fn open_in_dir_with(dir: &Path, sealer: Arc<dyn Sealer>, config: Config) -> Result<Self> {
        create_private_dir(dir)?;
        let store = SqliteStore::open(&dir.join("keyhold.db"))?;
        Self::open(Box::new(store), sealer, config)
    }

    /// The byte-level entry point for transports: decodes a
    /// `keyhold.v1.Request`, runs it for `caller`, and returns an encoded
    /// `keyhold.v1.Response` (failures are encoded as its `error`). Never panics.
    pub fn handle(&self, caller: &Caller, request: &[u8]) -> Vec<u8> {
        crate::protocol::handle(self, caller, request)
    }

    /// Like [`Keyhold::handle`], with the caller given as an encoded
    /// `keyhold.v1.CallerIdentity`, for doors across a language boundary
    /// (JNI, uniffi). The door must have established the identity itself.
    pub fn handle_with_identity(&self, identity: &[u8], request: &[u8]) -> Vec<u8> {
        match crate::protocol::caller_from_identity_bytes(identity) {
            Ok(caller) => self.handle(&caller, request),
            Err(e) => crate::protocol::encode_error(&e),
        }
    }

    /// Forgets every unsealed key; the next use of each unseals again.
    pub fn lock(&self) {
        self.cache.clear();
    }

    /// Commits buffered audit records and usage counts. When the store
    /// cannot be written the records stay buffered for the next attempt and
    /// the error says how many wait (`STORAGE_FAILURE`).
    pub fn flush(&self) -> Result<()> {
        let mut journal = lock(&self.journal);
        journal.flush(&mut **lock(&self.store))
    }

    /// Audit records buffered and not yet committed (more than a batch's
    /// worth only while the store cannot be written).
    pub fn pending_audit_records(&self) -> usize {
        lock(&self.journal).pending_len()
    }

    /// Checks the whole audit chain (after committing what is buffered):
    /// every record's keyed hash and link, and that the log reaches its
    /// MAC'd anchor (a removed tail is reported as truncation, see
    /// [`AuditVerdict`]). An anchor that fails its MAC is
    /// `CORRUPT_KEY_RECORD`.
    /// Named like the operation everywhere else (`Operation::AuditVerify`,
    /// the proto's `AuditVerifyRequest`, `keyhold audit verify`).
    pub fn audit_verify(&self) -> Result<AuditVerdict> {
        // Records that cannot be written yet (full disk) are not verified;
        // what is committed still is.
        let _ = self.flush();
        // The store is held only to start a snapshot (its anchor and records
        // as of one instant); the walk runs on the snapshot, so signers and
        // journal flushes go on meanwhile (issue 10 item 4). Records
        // committed after this line are in neither the anchor nor the walk.
        let mut snapshot = lock(&self.store).audit_snapshot()?;
        let anchor = snapshot
            .anchor()
            .ok_or_else(|| Error::Internal("the store has no audit anchor after opening".into()))?;
        crate::audit::verify_anchored(&self.integrity, &anchor, &mut |from| {
            snapshot.audit_records(from, 1024)
        })
    }

    /// The engine's configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Number of unsealed keys currently cached.
    pub fn cached_key_count(&self) -> usize {
        self.cache.len()
    }

    /// Number of stored keys.
    pub fn key_count(&self) -> Result<u64> {
        lock(&self.store).key_count()
    }

    /// The sealer's name.
    pub fn sealer_name(&self) -> String {
        self.sealer.name()
    }

    /// What the store recorded about its wrapping key (label, security
    /// level asked and obtained, creation time).
    pub fn sealer_binding_info(&self) -> &SealerBindingInfo {
        &self.binding
    }
}

impl Drop for Keyhold {
    fn drop(&mut self) {
        // Records of lifecycle operations are already committed; the rest
        // are written now. If they cannot be, say so loudly: they are lost
        // with this process (the error names how many; records hold caller
        // descriptions and key ids, never secrets).
        if let Err(e) = self.flush() {
            eprintln!("keyhold: AUDIT RECORDS LOST AT SHUTDOWN: {e}");
        }
    }
}

/// Creates `dir` (and parents) with mode 0700 if missing.
fn create_private_dir(dir: &Path) -> Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    if dir.is_dir() {
        return Ok(());
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| Error::StorageOther(format!("cannot create {}: {e}", dir.display())))
}

#[cfg(test)]
mod child_policy_tests;
#[cfg(test)]
mod full_store_tests;
#[cfg(test)]
mod list_page_tests;
#[cfg(test)]
mod tests;
