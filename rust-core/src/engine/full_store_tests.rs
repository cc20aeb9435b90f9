//! Issue 10 item 7: the journal when the store cannot be written. A store
//! double fails every write while `full` is set, as SQLite does on a full
//! disk (SQLITE_FULL, a STORAGE_FAILURE); reads keep working. The real
//! thing, on a real full tmpfs, is `tests/full_disk.rs`.

use super::*;
use crate::algorithm::{Algorithm, Operation, PublicKeyFormat};
use crate::audit::{AuditAnchor, AuditRecord};
use crate::crypto::Payload;
use crate::error::ErrorCode;
use crate::integrity::StoreIntegrity;
use crate::key::{KeyId, KeyRef};
use crate::sealer::SealerBinding;
use crate::store::{MemoryStore, StoredKey};
use std::sync::atomic::{AtomicBool, Ordering};

struct FullableStore {
    inner: MemoryStore,
    full: Arc<AtomicBool>,
}

impl FullableStore {
    fn write(&self) -> Result<()> {
        if self.full.load(Ordering::SeqCst) {
            Err(Error::StorageOther("database or disk is full".into()))
        } else {
            Ok(())
        }
    }
}

impl KeyStore for FullableStore {
    fn insert_key(&mut self, key: &StoredKey, audit: &[AuditRecord]) -> Result<()> {
        self.write()?;
        self.inner.insert_key(key, audit)
    }
    fn load_key(
        &mut self,
        owner: &str,
        key: &KeyRef,
        check: &mut dyn FnMut(&StoredKey) -> Result<()>,
    ) -> Result<StoredKey> {
        self.inner.load_key(owner, key, check)
    }
    fn delete_key(&mut self, owner: &str, id: KeyId, audit: &[AuditRecord]) -> Result<()> {
        self.write()?;
        self.inner.delete_key(owner, id, audit)
    }
    fn list_keys(&mut self, owner: &str) -> Result<Vec<crate::KeyInfo>> {
        self.inner.list_keys(owner)
    }
    fn add_usage(&mut self, id: KeyId, delta: u64, limit: Option<u64>) -> Result<u64> {
        self.write()?;
        self.inner.add_usage(id, delta, limit)
    }
    fn append_audit(&mut self, records: &[AuditRecord]) -> Result<()> {
        self.write()?;
        self.inner.append_audit(records)
    }
    fn last_audit(&mut self) -> Result<Option<AuditRecord>> {
        self.inner.last_audit()
    }
    fn audit_records(&mut self, from_seq: u64, limit: usize) -> Result<Vec<AuditRecord>> {
        self.inner.audit_records(from_seq, limit)
    }
    fn key_count(&mut self) -> Result<u64> {
        self.inner.key_count()
    }
    fn schema_version(&self) -> u32 {
        self.inner.schema_version()
    }
    fn sealer_binding(&mut self) -> Result<Option<SealerBinding>> {
        self.inner.sealer_binding()
    }
    fn put_sealer_binding(&mut self, binding: &SealerBinding) -> Result<()> {
        self.write()?;
        self.inner.put_sealer_binding(binding)
    }
    fn attach_integrity(&mut self, integrity: Arc<StoreIntegrity>) -> Result<AuditAnchor> {
        self.inner.attach_integrity(integrity)
    }
    fn audit_anchor(&mut self) -> Result<Option<AuditAnchor>> {
        self.inner.audit_anchor()
    }
}

fn alice() -> Caller {
    Caller::Embedded {
        app_id: "wallet".into(),
    }
}

fn engine(batch: usize) -> (Keyhold, Arc<AtomicBool>) {
    let full = Arc::new(AtomicBool::new(false));
    let store = FullableStore {
        inner: MemoryStore::new(),
        full: Arc::clone(&full),
    };
    let config = Config {
        audit_batch: batch,
        audit_max_delay: Duration::ZERO,
        ..Config::default()
    };
    let sealer = Arc::new(crate::sealer::SoftwareSealer::ephemeral().unwrap());
    let k = Keyhold::open(Box::new(store), sealer, config).unwrap();
    k.generate_key(
        &alice(),
        KeySpec::Single(Algorithm::Ed25519),
        KeyOptions::alias("e"),
    )
    .unwrap();
    (k, full)
}

fn public(k: &Keyhold) -> Result<()> {
    k.get_public_key(
        &alice(),
        &KeyRef::Alias("e".into()),
        None,
        PublicKeyFormat::Raw,
    )
    .map(drop)
}

fn sign(k: &Keyhold) -> Result<Vec<u8>> {
    k.sign(
        &alice(),
        &KeyRef::Alias("e".into()),
        None,
        None,
        Payload::Message(b"m"),
    )
}

#[test]
fn reads_are_served_secrets_refused_and_every_record_kept() {
    let (k, full) = engine(4096);
    full.store(true, Ordering::SeqCst);
    public(&k).unwrap();
    // The failed commit made the journal unwritable: no secret is used.
    let err = sign(&k).unwrap_err();
    assert_eq!(err.code(), ErrorCode::StorageFailure);
    assert!(
        err.to_string().contains("audit log cannot be written"),
        "{err}"
    );
    public(&k).unwrap();
    assert_eq!(k.pending_audit_records(), 3);
    full.store(false, Ordering::SeqCst);
    std::thread::sleep(super::journal::RETRY_PAUSE);
    sign(&k).unwrap();
    k.flush().unwrap();
    let records = lock(&k.store).audit_records(1, 100).unwrap();
    let ops: Vec<(Operation, Option<ErrorCode>)> =
        records.iter().map(|r| (r.operation, r.outcome)).collect();
    assert_eq!(
        ops,
        vec![
            (Operation::GenerateKey, None),
            (Operation::GetPublicKey, None),
            (Operation::Sign, Some(ErrorCode::StorageFailure)),
            (Operation::GetPublicKey, None),
            (Operation::Sign, None),
        ]
    );
    assert_eq!(k.audit_verify().unwrap().first_broken_seq, None);
}

#[test]
fn a_full_buffer_refuses_everything_and_counts_it_in_one_record() {
    let (k, full) = engine(2);
    full.store(true, Ordering::SeqCst);
    let cap = 2 * super::journal::MAX_PENDING_BATCHES;
    for _ in 0..cap {
        public(&k).unwrap();
    }
    assert_eq!(k.pending_audit_records(), cap);
    for _ in 0..5 {
        assert_eq!(public(&k).unwrap_err().code(), ErrorCode::StorageFailure);
    }
    assert_eq!(k.pending_audit_records(), cap, "refused, not buffered");
    full.store(false, Ordering::SeqCst);
    k.flush().unwrap();
    let records = lock(&k.store).audit_records(1, 100).unwrap();
    let last = records.last().unwrap();
    assert_eq!(last.outcome, Some(ErrorCode::StorageFailure));
    assert!(
        last.caller.contains("5 operations refused unrecorded"),
        "{}",
        last.caller
    );
    assert_eq!(records.len(), 1 + cap + 1);
    public(&k).unwrap();
    assert_eq!(k.audit_verify().unwrap().first_broken_seq, None);
}
