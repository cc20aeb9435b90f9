//! Issue 10 item 4: `audit verify` must not stall signers. The attack run
//! measured a 527 ms stall of every signer while `audit verify` walked 150k
//! records holding the engine's store lock.
//!
//! The test holds the verification *in the middle of its walk* (a store
//! double hands out snapshots whose page reads wait at a gate) until a
//! signer thread has completed signs that each commit their audit record
//! through the store (`audit_batch = 1`: every sign takes the store lock
//! to flush). If the walk held the store lock, the signer could not finish
//! one sign, the gate would time out and the verification would fail: the
//! test fails instead of deadlocking, and asserts no timing threshold.
//!
//! It also checks the verdict is taken on one snapshot: the signs committed
//! during the walk are neither counted nor mistaken for a break, and the
//! next verification counts them.
#![allow(clippy::unwrap_used)] // test helpers unwrap by design

use keyhold_core::{
    Algorithm, AuditAnchor, AuditRecord, AuditSnapshot, AuditVerdict, Caller, Config, Error, KeyId,
    KeyInfo, KeyOptions, KeyRef, KeySpec, KeyStore, Keyhold, Payload, PublicKeyFormat, Result,
    SealerBinding, SoftwareSealer, SqliteStore, StoreIntegrity, StoredKey,
};
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::Duration;

/// Audit records in the log before the verification starts.
const RECORDS: u64 = 20_000;
/// Signs the signer must complete while the walk is held.
const SIGNS_DURING_WALK: u64 = 25;
/// How long either side waits for the other before the test fails.
const PATIENCE: Duration = Duration::from_secs(30);

#[derive(Default)]
struct GateState {
    /// The walk is paused at the gate (set once).
    walk_paused: bool,
    /// The anchor seq of the snapshot being walked.
    snapshot_seq: Option<u64>,
    /// Signs the signer completed after the walk paused.
    signs: u64,
}

#[derive(Default)]
struct Gate {
    state: Mutex<GateState>,
    changed: Condvar,
}

impl Gate {
    /// Called by the walk before its second page: pauses until the signer
    /// has completed `SIGNS_DURING_WALK` signs, or fails the walk.
    fn pause_walk(&self) -> Result<()> {
        let mut state = self.state.lock().unwrap();
        if state.walk_paused {
            return Ok(());
        }
        state.walk_paused = true;
        self.changed.notify_all();
        let (state, timeout) = self
            .changed
            .wait_timeout_while(state, PATIENCE, |s| s.signs < SIGNS_DURING_WALK)
            .unwrap();
        if timeout.timed_out() {
            return Err(Error::Internal(format!(
                "only {} of {SIGNS_DURING_WALK} signs completed while the audit walk was paused: \
                 the walk blocks signing",
                state.signs
            )));
        }
        Ok(())
    }

    /// Called by the signer: waits until the walk is paused mid-way.
    fn wait_for_pause(&self) -> bool {
        let state = self.state.lock().unwrap();
        let (state, _) = self
            .changed
            .wait_timeout_while(state, PATIENCE, |s| !s.walk_paused)
            .unwrap();
        state.walk_paused
    }

    fn signed(&self) {
        self.state.lock().unwrap().signs += 1;
        self.changed.notify_all();
    }
}

/// The SQLite store, whose audit snapshots wait at `gate` mid-walk.
struct GatedStore {
    inner: SqliteStore,
    gate: Arc<Gate>,
}

struct GatedSnapshot {
    inner: Box<dyn AuditSnapshot>,
    gate: Arc<Gate>,
}

impl AuditSnapshot for GatedSnapshot {
    fn anchor(&self) -> Option<AuditAnchor> {
        self.inner.anchor()
    }

    fn audit_records(&mut self, from_seq: u64, limit: usize) -> Result<Vec<AuditRecord>> {
        if from_seq > 1 {
            // The first page has been walked: the engine is mid-walk.
            self.gate.pause_walk()?;
        }
        self.inner.audit_records(from_seq, limit)
    }
}

impl KeyStore for GatedStore {
    fn insert_key(&mut self, key: &StoredKey, audit: &[AuditRecord]) -> Result<()> {
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
        self.inner.delete_key(owner, id, audit)
    }
    fn list_keys(&mut self, owner: &str) -> Result<Vec<KeyInfo>> {
        self.inner.list_keys(owner)
    }
    fn add_usage(&mut self, id: KeyId, delta: u64, limit: Option<u64>) -> Result<u64> {
        self.inner.add_usage(id, delta, limit)
    }
    fn append_audit(&mut self, records: &[AuditRecord]) -> Result<()> {
        self.inner.append_audit(records)
    }
    fn commit_journal(&mut self, records: &[AuditRecord], usage: &[(KeyId, u64)]) -> Result<()> {
        self.inner.commit_journal(records, usage)
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
        self.inner.put_sealer_binding(binding)
    }
    fn attach_integrity(&mut self, integrity: Arc<StoreIntegrity>) -> Result<AuditAnchor> {
        self.inner.attach_integrity(integrity)
    }
    fn audit_anchor(&mut self) -> Result<Option<AuditAnchor>> {
        self.inner.audit_anchor()
    }
    fn audit_snapshot(&mut self) -> Result<Box<dyn AuditSnapshot>> {
        let inner = self.inner.audit_snapshot()?;
        self.gate.state.lock().unwrap().snapshot_seq = inner.anchor().map(|a| a.seq);
        Ok(Box::new(GatedSnapshot {
            inner,
            gate: Arc::clone(&self.gate),
        }))
    }
}

fn app() -> Caller {
    Caller::Embedded {
        app_id: "audit-concurrency".into(),
    }
}

fn sign(engine: &Keyhold) -> Result<Vec<u8>> {
    engine.sign(
        &app(),
        &KeyRef::Alias("signer".into()),
        None,
        None,
        Payload::Message(b"signed during an audit walk"),
    )
}

/// A store in `dir` whose log holds at least `RECORDS` audit records,
/// written quickly: public-key reads of a cached key, group-committed.
fn fill(dir: &Path) {
    let engine = Keyhold::open_in_dir(dir, Config::default()).unwrap();
    engine
        .generate_key(
            &app(),
            KeySpec::Single(Algorithm::Ed25519),
            KeyOptions::alias("signer"),
        )
        .unwrap();
    let key = KeyRef::Alias("signer".into());
    for _ in 0..RECORDS {
        engine
            .get_public_key(&app(), &key, None, PublicKeyFormat::Raw)
            .unwrap();
    }
    engine.flush().unwrap();
}

#[test]
fn signing_proceeds_while_the_audit_log_is_verified() {
    let dir = tempfile::tempdir().unwrap();
    fill(dir.path());

    let gate = Arc::new(Gate::default());
    let store = GatedStore {
        inner: SqliteStore::open(&dir.path().join("keyhold.db")).unwrap(),
        gate: Arc::clone(&gate),
    };
    let config = Config {
        // Every sign commits its record at once, through the store lock.
        audit_batch: 1,
        ..Config::default()
    };
    let sealer = Arc::new(SoftwareSealer::key_file(&dir.path().join("sealer.key")));
    let engine = Arc::new(Keyhold::open(Box::new(store), sealer, config).unwrap());
    // Unseal the key now, so the signs during the walk need the store only
    // to commit their audit records.
    sign(&engine).unwrap();

    let verifier = {
        let engine = Arc::clone(&engine);
        thread::spawn(move || engine.audit_verify())
    };
    let signer = {
        let engine = Arc::clone(&engine);
        let gate = Arc::clone(&gate);
        thread::spawn(move || -> std::result::Result<u64, String> {
            if !gate.wait_for_pause() {
                return Err("the audit walk never reached its second page".into());
            }
            for _ in 0..SIGNS_DURING_WALK {
                sign(&engine).map_err(|e| e.to_string())?;
                gate.signed();
            }
            Ok(SIGNS_DURING_WALK)
        })
    };

    let verdict = verifier.join().unwrap();
    let signed = signer.join().unwrap();
    assert_eq!(signed, Ok(SIGNS_DURING_WALK));
    let verdict = verdict.unwrap();

    // The verdict covers exactly the snapshot: intact, every record up to
    // the snapshot's anchor, none of the signs committed during the walk.
    let snapshot_seq = gate.state.lock().unwrap().snapshot_seq.unwrap();
    assert!(snapshot_seq > RECORDS, "{snapshot_seq}");
    assert_eq!(
        verdict,
        AuditVerdict {
            entries: snapshot_seq,
            first_broken_seq: None
        }
    );
    assert_eq!(gate.state.lock().unwrap().signs, SIGNS_DURING_WALK);

    // The signs made during the walk were committed: the next verification
    // (its snapshot taken after them) counts them, still intact.
    let after = engine.audit_verify().unwrap();
    assert_eq!(
        after,
        AuditVerdict {
            entries: snapshot_seq + SIGNS_DURING_WALK,
            first_broken_seq: None
        }
    );
}
