//! `lock()` against a load that is already waiting on a slow unseal (the
//! hardware takes tens to hundreds of milliseconds): the key must not be
//! cached again after the lock, and a key deleted meanwhile must not come
//! back from the cache.
#![allow(clippy::unwrap_used)] // test helpers unwrap by design

use keyhold_core::{
    Algorithm, Caller, Config, Error, KeyOptions, KeyRef, KeyRequest, KeySpec, Keyhold,
    MemoryStore, Payload, Result, Sealer, SecretBytes, SoftwareSealer, WrappingKeyInfo,
};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread;

/// A software sealer whose `unseal` can be held at a gate: it reports that
/// it entered, then waits until the test lets it go.
struct GatedSealer {
    inner: SoftwareSealer,
    hold: AtomicBool,
    entered: Mutex<Option<SyncSender<()>>>,
    release: Mutex<Option<Receiver<()>>>,
    unseals: AtomicU64,
}

impl GatedSealer {
    fn new() -> Arc<Self> {
        Arc::new(Self {
            inner: SoftwareSealer::ephemeral().unwrap(),
            hold: AtomicBool::new(false),
            entered: Mutex::new(None),
            release: Mutex::new(None),
            unseals: AtomicU64::new(0),
        })
    }

    /// Holds the next unseal; returns (entered, release) for the test.
    fn hold_next(&self) -> (Receiver<()>, SyncSender<()>) {
        let (entered_tx, entered_rx) = sync_channel(1);
        let (release_tx, release_rx) = sync_channel(1);
        *self.entered.lock().unwrap() = Some(entered_tx);
        *self.release.lock().unwrap() = Some(release_rx);
        self.hold.store(true, Ordering::SeqCst);
        (entered_rx, release_tx)
    }
}

impl Sealer for GatedSealer {
    fn name(&self) -> String {
        self.inner.name()
    }
    fn open_key(&self, request: &KeyRequest<'_>) -> Result<WrappingKeyInfo> {
        self.inner.open_key(request)
    }
    fn seal(&self, secret: &[u8], aad: &[u8]) -> Result<Vec<u8>> {
        self.inner.seal(secret, aad)
    }
    fn unseal(&self, sealed: &[u8], aad: &[u8]) -> Result<SecretBytes> {
        self.unseals.fetch_add(1, Ordering::SeqCst);
        if self.hold.swap(false, Ordering::SeqCst) {
            let entered = self.entered.lock().unwrap().take().unwrap();
            let release = self.release.lock().unwrap().take().unwrap();
            entered.send(()).unwrap();
            release.recv().unwrap();
        }
        self.inner.unseal(sealed, aad)
    }
}

fn app() -> Caller {
    Caller::Embedded {
        app_id: "race-test".into(),
    }
}

const DIGEST: [u8; 32] = [0x42; 32];

fn engine_with_locked_key() -> (Arc<Keyhold>, Arc<GatedSealer>) {
    let sealer = GatedSealer::new();
    let engine = Keyhold::open(
        Box::new(MemoryStore::new()),
        sealer.clone(),
        Config::default(),
    )
    .unwrap();
    engine
        .generate_key(
            &app(),
            KeySpec::Single(Algorithm::P256),
            KeyOptions::alias("k"),
        )
        .unwrap();
    engine.lock();
    assert_eq!(engine.cached_key_count(), 0);
    (Arc::new(engine), sealer)
}

fn sign(engine: &Keyhold) -> std::result::Result<Vec<u8>, Error> {
    engine.sign(
        &app(),
        &KeyRef::Alias("k".into()),
        None,
        None,
        Payload::Digest(&DIGEST),
    )
}

#[test]
fn lock_during_an_unseal_leaves_nothing_cached() {
    let (engine, sealer) = engine_with_locked_key();
    let (entered, release) = sealer.hold_next();
    let signer = {
        let engine = Arc::clone(&engine);
        thread::spawn(move || sign(&engine))
    };
    entered.recv().unwrap();
    // The app goes to the background while the unseal is in flight.
    engine.lock();
    release.send(()).unwrap();
    // The request in flight is still served...
    assert!(signer.join().unwrap().is_ok());
    // ...but its key is not cached after the lock,
    assert_eq!(engine.cached_key_count(), 0);
    // so the next use unseals again.
    let before = sealer.unseals.load(Ordering::SeqCst);
    sign(&engine).unwrap();
    assert_eq!(sealer.unseals.load(Ordering::SeqCst), before + 1);
    assert_eq!(engine.cached_key_count(), 1);
}

#[test]
fn delete_during_an_unseal_does_not_bring_the_key_back() {
    let (engine, sealer) = engine_with_locked_key();
    let (entered, release) = sealer.hold_next();
    let signer = {
        let engine = Arc::clone(&engine);
        thread::spawn(move || sign(&engine))
    };
    entered.recv().unwrap();
    engine
        .delete_key(&app(), &KeyRef::Alias("k".into()))
        .unwrap();
    release.send(()).unwrap();
    let _ = signer.join().unwrap();
    assert_eq!(engine.cached_key_count(), 0);
    let err = sign(&engine).unwrap_err();
    assert!(matches!(err, Error::KeyNotFound(_)), "{err:?}");
}
