//! The door from Rust: `KeyholdEmbedded` over a sealer implemented through
//! the same foreign trait Swift and Kotlin implement. These check the glue
//! (conversions, error codes, sealer adaptation); the logic is tested in
//! keyhold-core.

use keyhold_core::{ErrorCode, KeyRequest, Sealer as _, SoftwareSealer};
use keyhold_uniffi::{
    Algorithm, HdScheme, ImportMaterial, KeyOptions, KeyPolicy, KeyRef, KeySpec, KeyholdEmbedded,
    KeyholdError, Payload, PublicKeyFormat, Sealer, SealerError, WrappingKeyInfo,
};
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU32, Ordering};

const ABANDON: &str =
    "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";

/// A foreign-style sealer: the core's software sealer behind the uniffi
/// trait, counting unseals, with a switch to fail like hardware does.
struct TestSealer {
    inner: SoftwareSealer,
    unseals: AtomicU32,
    /// 0 = work, 1 = unavailable, 2 = key invalidated, 3 = auth failed.
    fail: AtomicU8,
    /// `open_key` says the key is gone.
    key_missing: AtomicBool,
    /// What `open_key` was asked: (may_create, expected_label).
    opens: Mutex<Vec<(bool, Option<String>)>>,
}

impl TestSealer {
    fn new() -> Arc<Self> {
        Arc::new(Self {
            inner: SoftwareSealer::ephemeral().expect("ephemeral sealer"),
            unseals: AtomicU32::new(0),
            fail: AtomicU8::new(0),
            key_missing: AtomicBool::new(false),
            opens: Mutex::new(Vec::new()),
        })
    }

    fn failure(&self) -> Result<(), SealerError> {
        let detail = "test".to_string();
        match self.fail.load(Ordering::SeqCst) {
            1 => Err(SealerError::Unavailable { detail }),
            2 => Err(SealerError::KeyInvalidated { detail }),
            3 => Err(SealerError::AuthenticationFailed { detail }),
            _ => Ok(()),
        }
    }
}

impl Sealer for TestSealer {
    fn name(&self) -> String {
        "rust-test".into()
    }

    fn open_key(
        &self,
        may_create: bool,
        expected_label: Option<String>,
    ) -> Result<WrappingKeyInfo, SealerError> {
        self.opens
            .lock()
            .expect("lock")
            .push((may_create, expected_label));
        if self.key_missing.load(Ordering::SeqCst) {
            return Err(SealerError::KeyNotFound {
                detail: "test".into(),
            });
        }
        let info = self
            .inner
            .open_key(&KeyRequest::FindOrCreate)
            .map_err(|e| SealerError::Unavailable {
                detail: e.to_string(),
            })?;
        Ok(WrappingKeyInfo {
            label: "test-key".into(),
            level_requested: "secure-enclave".into(),
            level_obtained: "software".into(),
            created: may_create && info.created,
        })
    }

    fn seal(&self, secret: Vec<u8>, aad: Vec<u8>) -> Result<Vec<u8>, SealerError> {
        self.failure()?;
        self.inner
            .seal(&secret, &aad)
            .map_err(|e| SealerError::Unavailable {
                detail: e.to_string(),
            })
    }

    fn unseal(&self, sealed: Vec<u8>, aad: Vec<u8>) -> Result<Vec<u8>, SealerError> {
        self.unseals.fetch_add(1, Ordering::SeqCst);
        self.failure()?;
        self.inner
            .unseal(&sealed, &aad)
            .map(|s| s.expose().to_vec())
            .map_err(|e| SealerError::AuthenticationFailed {
                detail: e.to_string(),
            })
    }
}

fn open(dir: &tempfile::TempDir, sealer: &Arc<TestSealer>) -> Arc<KeyholdEmbedded> {
    let path = dir.path().join("store").to_string_lossy().into_owned();
    KeyholdEmbedded::new(path, "dev.keyhold.rusttest".into(), sealer.clone()).expect("open")
}

fn alias(a: &str) -> KeyRef {
    KeyRef::Alias { alias: a.into() }
}

fn options(a: &str) -> KeyOptions {
    KeyOptions {
        alias: a.into(),
        policy: KeyPolicy::default(),
    }
}

fn message(m: &[u8]) -> Payload {
    Payload::Message {
        message: m.to_vec(),
    }
}

#[test]
fn sign_and_verify_through_the_door() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sealer = TestSealer::new();
    let k = open(&dir, &sealer);
    let info = k
        .generate_key(
            KeySpec::Single {
                algorithm: Algorithm::Ed25519,
            },
            options("ed"),
        )
        .expect("generate");
    assert_eq!(info.algorithm, Algorithm::Ed25519);
    assert_eq!(info.sealer, "rust-test");
    let sig = k
        .sign(alias("ed"), None, None, message(b"hi"))
        .expect("sign");
    assert_eq!(sig.len(), 64);
    let by_id = KeyRef::Id {
        id: info.id.clone(),
    };
    assert!(
        k.verify(by_id.clone(), None, None, message(b"hi"), sig.clone())
            .expect("verify")
    );
    assert!(
        !k.verify(by_id, None, None, message(b"ho"), sig)
            .expect("verify")
    );
}

#[test]
fn bip44_known_answer_through_the_door() {
    let dir = tempfile::tempdir().expect("tempdir");
    let k = open(&dir, &TestSealer::new());
    let material =
        ImportMaterial::mnemonic(ABANDON.into(), String::new(), HdScheme::Bip32Secp256k1);
    k.import_key(material, options("w")).expect("import");
    let address = k
        .get_public_key(
            alias("w"),
            Some("m/44'/60'/0'/0/0".into()),
            PublicKeyFormat::EthAddress,
        )
        .expect("address");
    assert_eq!(
        address.text.as_deref(),
        Some("0x9858EfFD232B4033E47d90003D41EC34EcaEda94")
    );
}

#[test]
fn errors_carry_the_core_codes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let k = open(&dir, &TestSealer::new());
    let e = k.get_key_info(alias("missing")).unwrap_err();
    assert!(matches!(e, KeyholdError::KeyNotFound { .. }), "{e:?}");
    assert_eq!(e.code(), ErrorCode::KeyNotFound.as_u32());

    let bad = ImportMaterial::mnemonic(
        ABANDON.replace("about", "abandon"),
        String::new(),
        HdScheme::Bip32Secp256k1,
    );
    let e = k.import_key(bad, options("bad")).unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidMnemonic.as_u32());

    let e = k.get_key_info(KeyRef::Id { id: "xyz".into() }).unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidArgument.as_u32());
}

#[test]
fn n_signs_cost_one_unseal_and_sealer_failures_map_to_codes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sealer = TestSealer::new();
    let k = open(&dir, &sealer);
    k.generate_key(
        KeySpec::Single {
            algorithm: Algorithm::Secp256k1,
        },
        options("k"),
    )
    .expect("generate");
    k.lock();
    let before = sealer.unseals.load(Ordering::SeqCst);
    for _ in 0..25 {
        k.sign(alias("k"), None, None, message(b"tx"))
            .expect("sign");
    }
    assert_eq!(sealer.unseals.load(Ordering::SeqCst), before + 1);

    for (mode, code) in [
        (1, ErrorCode::SealerUnavailable),
        (2, ErrorCode::SealerKeyInvalidated),
        (3, ErrorCode::CorruptKeyRecord),
    ] {
        k.lock();
        sealer.fail.store(mode, Ordering::SeqCst);
        let e = k.sign(alias("k"), None, None, message(b"tx")).unwrap_err();
        assert_eq!(e.code(), code.as_u32(), "mode {mode}: {e:?}");
    }
    sealer.fail.store(0, Ordering::SeqCst);
    k.sign(alias("k"), None, None, message(b"tx"))
        .expect("sign after recovery");
}

#[test]
fn a_store_whose_wrapping_key_is_gone_fails_to_open_with_code_17() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sealer = TestSealer::new();
    let k = open(&dir, &sealer);
    k.generate_key(
        KeySpec::Single {
            algorithm: Algorithm::Ed25519,
        },
        options("k"),
    )
    .expect("generate");
    drop(k);
    // Reopening asks for the recorded key and never allows creation.
    let k = open(&dir, &sealer);
    k.sign(alias("k"), None, None, message(b"m")).expect("sign");
    drop(k);
    assert_eq!(
        *sealer.opens.lock().expect("lock"),
        vec![(true, None), (false, Some("test-key".to_string()))]
    );

    sealer.key_missing.store(true, Ordering::SeqCst);
    let path = dir.path().join("store").to_string_lossy().into_owned();
    let Err(e) = KeyholdEmbedded::new(path, "dev.keyhold.rusttest".into(), sealer.clone()) else {
        panic!("the store must not open without its key");
    };
    assert_eq!(e.code(), ErrorCode::SealerKeyInvalidated.as_u32(), "{e:?}");
    assert!(
        sealer.opens.lock().expect("lock")[2..]
            .iter()
            .all(|(may_create, _)| !may_create),
        "a missing key was never allowed to be created"
    );
}

#[test]
fn the_exported_software_sealers_seal_for_real() {
    let dir = tempfile::tempdir().expect("tempdir");
    let key_file = dir.path().join("sealer.key").display().to_string();
    let data = dir.path().join("store").display().to_string();
    let sealer = keyhold_uniffi::insecure_software_sealer_key_file(key_file.clone());
    let info = sealer.open_key(true, None).expect("open");
    assert!(info.created);
    let blob = sealer
        .seal(b"secret".to_vec(), b"aad".to_vec())
        .expect("seal");
    assert!(!blob.windows(6).any(|w| w == b"secret"), "sealed in clear");
    assert_eq!(
        sealer
            .unseal(blob.clone(), b"aad".to_vec())
            .expect("unseal"),
        b"secret"
    );
    assert!(matches!(
        sealer.unseal(blob, b"other".to_vec()),
        Err(SealerError::AuthenticationFailed { .. })
    ));

    // A store sealed with the key file reopens with a new sealer on it.
    {
        let engine = KeyholdEmbedded::new(data.clone(), "app".into(), sealer).expect("open store");
        engine
            .generate_key(
                KeySpec::Single {
                    algorithm: Algorithm::Ed25519,
                },
                options("k"),
            )
            .expect("generate");
    }
    let again = keyhold_uniffi::insecure_software_sealer_key_file(key_file);
    let engine = KeyholdEmbedded::new(data.clone(), "app".into(), again).expect("reopen");
    engine
        .sign(alias("k"), None, None, message(b"m"))
        .expect("sign after reopen");
    drop(engine);

    // An ephemeral sealer's key dies with it: the store then reports its
    // key as invalidated (17), not a corrupt record.
    let ephemeral = keyhold_uniffi::insecure_software_sealer_ephemeral().expect("ephemeral");
    let error = KeyholdEmbedded::new(data, "app".into(), ephemeral).expect_err("other key");
    assert_eq!(error.code(), ErrorCode::SealerKeyInvalidated.as_u32());
}
