//! The wrapping key's lifecycle through `Keyhold::open`: what is created,
//! found, retried and refused, over the SQLite store on disk.

use crate::algorithm::Algorithm;
use crate::caller::Caller;
use crate::engine::{Config, KeyOptions, KeySpec, Keyhold};
use crate::error::{Error, ErrorCode, SealerErrorKind};
use crate::sealer::{
    CountingSealer, KeyRequest, STORE_KEY_AAD, Sealer, SoftwareSealer, WrappingKeyInfo,
};
use crate::secret::SecretBytes;
use crate::store::{KeyStore, MemoryStore, SqliteStore};
use std::collections::VecDeque;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn app() -> Caller {
    Caller::Embedded {
        app_id: "test".into(),
    }
}

/// Retries without pauses, so tests run at full speed.
fn config() -> Config {
    Config {
        sealer_retry_delays: vec![Duration::ZERO; 3],
        ..Config::default()
    }
}

fn open_dir(dir: &Path, sealer: Arc<dyn Sealer>) -> crate::Result<Keyhold> {
    let store = SqliteStore::open(&dir.join("keyhold.db"))?;
    Keyhold::open(Box::new(store), sealer, config())
}

fn key_file(dir: &Path) -> Arc<CountingSealer<SoftwareSealer>> {
    Arc::new(CountingSealer::new(SoftwareSealer::key_file(
        &dir.join("sealer.key"),
    )))
}

fn sign_once(engine: &Keyhold, alias: &str) {
    engine
        .sign(
            &app(),
            &crate::KeyRef::Alias(alias.into()),
            None,
            None,
            crate::Payload::Message(b"m"),
        )
        .unwrap();
}

fn sealer_kind(e: &Error) -> Option<SealerErrorKind> {
    match e {
        Error::Sealer { kind, .. } => Some(*kind),
        _ => None,
    }
}

/// A sealer over a software key whose `open_key` answers from a script
/// first (then delegates), and which records every request it got.
struct ScriptedSealer {
    inner: SoftwareSealer,
    open_script: Mutex<VecDeque<SealerErrorKind>>,
    unseal_script: Mutex<VecDeque<SealerErrorKind>>,
    requests: Mutex<Vec<String>>,
}

impl ScriptedSealer {
    fn new(inner: SoftwareSealer) -> Self {
        Self {
            inner,
            open_script: Mutex::default(),
            unseal_script: Mutex::default(),
            requests: Mutex::default(),
        }
    }

    fn fail_opens(self, kinds: &[SealerErrorKind]) -> Self {
        self.open_script.lock().unwrap().extend(kinds);
        self
    }

    fn fail_unseals(&self, kinds: &[SealerErrorKind]) {
        self.unseal_script.lock().unwrap().extend(kinds);
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

impl Sealer for ScriptedSealer {
    fn name(&self) -> String {
        "scripted".into()
    }
    fn open_key(&self, request: &KeyRequest<'_>) -> crate::Result<WrappingKeyInfo> {
        let label = request.expected_label().unwrap_or("-");
        let what = if request.may_create() {
            "find-or-create".to_string()
        } else {
            format!("find-existing:{label}")
        };
        self.requests.lock().unwrap().push(what);
        if let Some(kind) = self.open_script.lock().unwrap().pop_front() {
            return Err(Error::sealer(kind, "scripted failure"));
        }
        self.inner.open_key(request)
    }
    fn seal(&self, secret: &[u8], aad: &[u8]) -> crate::Result<Vec<u8>> {
        self.inner.seal(secret, aad)
    }
    fn unseal(&self, sealed: &[u8], aad: &[u8]) -> crate::Result<SecretBytes> {
        if let Some(kind) = self.unseal_script.lock().unwrap().pop_front() {
            return Err(Error::sealer(kind, "scripted failure"));
        }
        self.inner.unseal(sealed, aad)
    }
}

#[test]
fn a_new_store_creates_its_key_records_the_binding_and_reopens_without_creating() {
    let dir = tempfile::tempdir().unwrap();
    let sealer = key_file(dir.path());
    let engine = open_dir(dir.path(), sealer.clone()).unwrap();
    // Creating the binding seals and unseals the store key once each.
    assert_eq!(
        (
            sealer.open_count(),
            sealer.seal_count(),
            sealer.unseal_count()
        ),
        (1, 1, 1)
    );
    let info = engine.sealer_binding_info().clone();
    assert_eq!(info.sealer, "software-file");
    assert_eq!(
        info.label,
        dir.path().join("sealer.key").display().to_string()
    );
    assert_eq!(
        (info.level_requested.as_str(), info.level_obtained.as_str()),
        ("software", "software")
    );
    assert!(info.created_at > 1_700_000_000, "{}", info.created_at);
    engine
        .generate_key(
            &app(),
            KeySpec::Single(Algorithm::Ed25519),
            KeyOptions::alias("k"),
        )
        .unwrap();
    drop(engine);

    let sealer = key_file(dir.path());
    let engine = open_dir(dir.path(), sealer.clone()).unwrap();
    // Reopening costs one unseal (the store key) and seals nothing.
    assert_eq!(
        (
            sealer.open_count(),
            sealer.seal_count(),
            sealer.unseal_count()
        ),
        (1, 0, 1)
    );
    assert_eq!(engine.sealer_binding_info(), &info);
    sign_once(&engine, "k");
}

#[test]
fn a_missing_key_is_never_recreated_for_a_store_with_records() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open_dir(dir.path(), key_file(dir.path())).unwrap();
    engine
        .generate_key(
            &app(),
            KeySpec::Single(Algorithm::Ed25519),
            KeyOptions::alias("k"),
        )
        .unwrap();
    drop(engine);
    let key_path = dir.path().join("sealer.key");
    std::fs::remove_file(&key_path).unwrap();

    let sealer = key_file(dir.path());
    let err = open_dir(dir.path(), sealer.clone()).unwrap_err();
    assert_eq!(err.code(), ErrorCode::SealerKeyInvalidated, "{err}");
    let text = err.to_string();
    assert!(text.contains("was not found in 4 attempts"), "{text}");
    assert!(text.contains("No new wrapping key was created"), "{text}");
    assert!(
        text.contains("sealer.key"),
        "the message names the key: {text}"
    );
    assert_eq!(sealer.open_count(), 4, "one try and three retries");
    assert!(!key_path.exists(), "a new key file was created");
    assert_eq!(sealer.seal_count(), 0);
}

#[test]
fn an_empty_but_bound_store_still_refuses_to_recreate_its_key() {
    // The store key is sealed under the wrapping key, so even a store whose
    // keys were all deleted is bound to it.
    let dir = tempfile::tempdir().unwrap();
    drop(open_dir(dir.path(), key_file(dir.path())).unwrap());
    std::fs::remove_file(dir.path().join("sealer.key")).unwrap();
    let err = open_dir(dir.path(), key_file(dir.path())).unwrap_err();
    assert_eq!(err.code(), ErrorCode::SealerKeyInvalidated, "{err}");
    assert!(!dir.path().join("sealer.key").exists());
}

#[test]
fn a_key_that_is_missing_for_a_while_is_found_by_the_retries() {
    // Android keystore1's getKey returns null on any error (e.g. while the
    // keystore daemon restarts): the key exists, the lookup said "absent".
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sealer.key");
    let first = ScriptedSealer::new(SoftwareSealer::key_file(&file));
    let engine = open_dir(dir.path(), Arc::new(first)).unwrap();
    engine
        .generate_key(
            &app(),
            KeySpec::Single(Algorithm::Ed25519),
            KeyOptions::alias("k"),
        )
        .unwrap();
    drop(engine);

    let flaky = Arc::new(
        ScriptedSealer::new(SoftwareSealer::key_file(&file)).fail_opens(&[
            SealerErrorKind::KeyNotFound,
            SealerErrorKind::Unavailable,
            SealerErrorKind::KeyNotFound,
        ]),
    );
    let engine = open_dir(dir.path(), flaky.clone()).unwrap();
    let label = file.display().to_string();
    assert_eq!(
        flaky.requests(),
        vec![format!("find-existing:{label}"); 4],
        "only ever asked to find the recorded key"
    );
    sign_once(&engine, "k");
}

#[test]
fn a_sealer_that_stays_unavailable_is_sealer_unavailable_not_invalidated() {
    let dir = tempfile::tempdir().unwrap();
    drop(open_dir(dir.path(), key_file(dir.path())).unwrap());
    let busy = Arc::new(
        ScriptedSealer::new(SoftwareSealer::key_file(&dir.path().join("sealer.key")))
            .fail_opens(&[SealerErrorKind::Unavailable; 4]),
    );
    let err = open_dir(dir.path(), busy.clone()).unwrap_err();
    assert_eq!(err.code(), ErrorCode::SealerUnavailable, "{err}");
    assert!(err.to_string().contains("4 attempts"), "{err}");
    // Nothing was lost: the next open succeeds.
    drop(busy);
    open_dir(dir.path(), key_file(dir.path())).unwrap();
}

#[test]
fn a_permanently_invalidated_key_is_reported_at_once() {
    let dir = tempfile::tempdir().unwrap();
    drop(open_dir(dir.path(), key_file(dir.path())).unwrap());
    let gone = Arc::new(
        ScriptedSealer::new(SoftwareSealer::key_file(&dir.path().join("sealer.key")))
            .fail_opens(&[SealerErrorKind::KeyInvalidated]),
    );
    let err = open_dir(dir.path(), gone.clone()).unwrap_err();
    assert_eq!(err.code(), ErrorCode::SealerKeyInvalidated, "{err}");
    assert_eq!(
        gone.requests().len(),
        1,
        "permanent failures are not retried"
    );
}

#[test]
fn another_wrapping_key_is_reported_as_invalidated_not_as_corrupt_records() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open_dir(dir.path(), key_file(dir.path())).unwrap();
    engine
        .generate_key(
            &app(),
            KeySpec::Single(Algorithm::Ed25519),
            KeyOptions::alias("k"),
        )
        .unwrap();
    drop(engine);
    // Someone replaced the key file with a new key.
    std::fs::remove_file(dir.path().join("sealer.key")).unwrap();
    let other = SoftwareSealer::key_file(&dir.path().join("sealer.key"));
    other.open_key(&KeyRequest::FindOrCreate).unwrap();

    let err = open_dir(dir.path(), key_file(dir.path())).unwrap_err();
    assert_eq!(err.code(), ErrorCode::SealerKeyInvalidated, "{err}");
    assert!(
        err.to_string()
            .contains("not the key the store was sealed with"),
        "{err}"
    );
}

#[test]
fn a_store_from_before_bindings_finds_its_key_and_gets_a_binding() {
    // A row written by a version without bindings: the sealer is asked to
    // find its key (never to create one), then the binding is recorded.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sealer.key");
    let old = SoftwareSealer::key_file(&file);
    old.open_key(&KeyRequest::FindOrCreate).unwrap();
    let mut store = SqliteStore::open(&dir.path().join("keyhold.db")).unwrap();
    let row = crate::store::StoredKey {
        info: crate::key::KeyInfo {
            id: crate::KeyId::from_u64(7),
            alias: "legacy".into(),
            algorithm: Algorithm::Ed25519,
            hd_scheme: None,
            origin: crate::key::KeyOrigin::Generated,
            public_key: vec![0; 32],
            policy: crate::policy::KeyPolicy::default(),
            usage_count: 0,
            created_at_ms: 1,
            sealer: "software-file".into(),
        },
        owner: app().owner(),
        sealed_secret: old.seal(&[1; 32], b"row aad").unwrap(),
        sealed_schema_version: 2,
    };
    store.insert_key(&row, &[]).unwrap();
    assert!(store.sealer_binding().unwrap().is_none());

    let sealer = Arc::new(ScriptedSealer::new(SoftwareSealer::key_file(&file)));
    let engine = Keyhold::open(Box::new(store), sealer.clone(), config()).unwrap();
    assert_eq!(sealer.requests(), vec!["find-existing:-".to_string()]);
    assert_eq!(engine.sealer_binding_info().sealer, "scripted");
    drop(engine);
    let mut store = SqliteStore::open(&dir.path().join("keyhold.db")).unwrap();
    let binding = store.sealer_binding().unwrap().expect("binding recorded");
    assert_eq!(binding.label, file.display().to_string());
    assert_eq!(store.key_count().unwrap(), 1);
}

#[test]
fn a_transient_unseal_failure_is_retried_once() {
    let sealer = Arc::new(ScriptedSealer::new(SoftwareSealer::ephemeral().unwrap()));
    let engine = Keyhold::open(Box::new(MemoryStore::new()), sealer.clone(), config()).unwrap();
    engine
        .generate_key(
            &app(),
            KeySpec::Single(Algorithm::Ed25519),
            KeyOptions::alias("k"),
        )
        .unwrap();
    engine.lock();
    sealer.fail_unseals(&[SealerErrorKind::Unavailable]);
    sign_once(&engine, "k");

    engine.lock();
    sealer.fail_unseals(&[SealerErrorKind::Unavailable, SealerErrorKind::Unavailable]);
    let err = engine
        .sign(
            &app(),
            &crate::KeyRef::Alias("k".into()),
            None,
            None,
            crate::Payload::Message(b"m"),
        )
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::SealerUnavailable, "{err}");
    // The service keeps serving: the next try works.
    sign_once(&engine, "k");
}

/// A broken sealer that returns its input.
struct Identity;
impl Sealer for Identity {
    fn name(&self) -> String {
        "identity".into()
    }
    fn open_key(&self, _request: &KeyRequest<'_>) -> crate::Result<WrappingKeyInfo> {
        Ok(WrappingKeyInfo {
            label: "identity".into(),
            level_requested: "none".into(),
            level_obtained: "none".into(),
            created: false,
        })
    }
    fn seal(&self, secret: &[u8], _aad: &[u8]) -> crate::Result<Vec<u8>> {
        Ok(secret.to_vec())
    }
    fn unseal(&self, sealed: &[u8], _aad: &[u8]) -> crate::Result<SecretBytes> {
        Ok(SecretBytes::copy_from(sealed))
    }
}

/// A broken sealer that does not round-trip.
struct Lossy;
impl Sealer for Lossy {
    fn name(&self) -> String {
        "lossy".into()
    }
    fn open_key(&self, request: &KeyRequest<'_>) -> crate::Result<WrappingKeyInfo> {
        Identity.open_key(request)
    }
    fn seal(&self, secret: &[u8], _aad: &[u8]) -> crate::Result<Vec<u8>> {
        Ok(secret.iter().map(|b| b ^ 0x5A).collect())
    }
    fn unseal(&self, sealed: &[u8], _aad: &[u8]) -> crate::Result<SecretBytes> {
        Ok(SecretBytes::new(vec![0u8; sealed.len()]))
    }
}

#[test]
fn sealers_that_leak_or_do_not_round_trip_are_refused_at_open() {
    for (sealer, why) in [
        (Arc::new(Identity) as Arc<dyn Sealer>, "in clear"),
        (Arc::new(Lossy), "did not round-trip"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let err = open_dir(dir.path(), sealer).unwrap_err();
        assert_eq!(err.code(), ErrorCode::SelfTestFailed, "{err}");
        assert!(err.to_string().contains(why), "{err}");
        // Nothing was recorded: a fixed sealer can still bind this store.
        let mut store = SqliteStore::open(&dir.path().join("keyhold.db")).unwrap();
        assert!(store.sealer_binding().unwrap().is_none());
    }
}

#[test]
fn the_recorded_store_key_opens_only_with_its_associated_data() {
    let dir = tempfile::tempdir().unwrap();
    let sealer = key_file(dir.path());
    drop(open_dir(dir.path(), sealer.clone()).unwrap());
    let mut store = SqliteStore::open(&dir.path().join("keyhold.db")).unwrap();
    let binding = store.sealer_binding().unwrap().unwrap();
    let key = sealer
        .unseal(&binding.sealed_store_key, STORE_KEY_AAD)
        .unwrap();
    assert_eq!(key.len(), 32);
    let err = sealer
        .unseal(&binding.sealed_store_key, b"keyhold/seal/v1")
        .unwrap_err();
    assert_eq!(
        sealer_kind(&err),
        Some(SealerErrorKind::AuthenticationFailed)
    );
    // The binding is written once.
    let err = store.put_sealer_binding(&binding).unwrap_err();
    assert!(err.to_string().contains("already recorded"), "{err}");
}
