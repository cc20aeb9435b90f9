//! Tamper tests: a sealed secret is bound to its key id, owner, algorithm
//! and schema version (the AEAD's associated data). Moving it to another
//! row, owner or algorithm, or flipping one bit, makes the key unusable with
//! a typed error; nothing else is disturbed.

#![allow(clippy::unwrap_used)] // test helpers unwrap by design

use keyhold_core::{
    Algorithm, Caller, CallerRule, Config, ErrorCode, KeyOptions, KeyRef, KeySpec, KeyStore,
    Keyhold, Payload, Sealer, SoftwareSealer, SqliteStore, StoredKey,
};
use std::path::Path;
use std::sync::Arc;

fn alice() -> Caller {
    Caller::Unix {
        uid: 1000,
        gid: 1000,
        pid: 1,
        exe_sha256: None,
    }
}

fn bob() -> Caller {
    Caller::Unix {
        uid: 2000,
        gid: 2000,
        pid: 2,
        exe_sha256: None,
    }
}

fn engine(db: &Path, sealer: &Arc<SoftwareSealer>) -> Keyhold {
    let sealer: Arc<dyn Sealer> = sealer.clone();
    Keyhold::open(
        Box::new(SqliteStore::open(db).unwrap()),
        sealer,
        Config::default(),
    )
    .unwrap()
}

fn load(store: &mut SqliteStore, owner: &str, alias: &str) -> StoredKey {
    store
        .load_key(owner, &KeyRef::Alias(alias.into()), &mut |_| Ok(()))
        .unwrap()
}

fn sign_code(engine: &Keyhold, caller: &Caller, alias: &str) -> Option<ErrorCode> {
    engine
        .sign(
            caller,
            &KeyRef::Alias(alias.into()),
            None,
            None,
            Payload::Digest(&[7; 32]),
        )
        .err()
        .map(|e| e.code())
}

/// Replaces a stored key by `edit(key)` under a fresh id/alias as needed.
fn rewrite(db: &Path, owner: &str, alias: &str, edit: impl FnOnce(&mut StoredKey)) {
    let mut store = SqliteStore::open(db).unwrap();
    let mut key = load(&mut store, owner, alias);
    store.delete_key(owner, key.info.id, &[]).unwrap();
    edit(&mut key);
    store.insert_key(&key, &[]).unwrap();
}

#[test]
fn sealed_secrets_do_not_survive_being_moved_or_altered() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("keyhold.db");
    let sealer = Arc::new(SoftwareSealer::ephemeral().unwrap());
    {
        let e = engine(&db, &sealer);
        for alias in ["a", "b", "c", "d", "e", "intact"] {
            e.generate_key(
                &alice(),
                KeySpec::Single(Algorithm::Secp256k1),
                KeyOptions::alias(alias),
            )
            .unwrap();
        }
    }
    let owner = alice().owner();

    // 1. b's row carries a's sealed secret.
    let a_blob = {
        let mut store = SqliteStore::open(&db).unwrap();
        load(&mut store, &owner, "a").sealed_secret
    };
    rewrite(&db, &owner, "b", |k| k.sealed_secret = a_blob.clone());

    // 2. c moved to another owner (and its policy rewritten to admit bob,
    //    so only the seal stands in the way).
    rewrite(&db, &owner, "c", |k| {
        k.owner = bob().owner();
        k.info.policy.allowed_callers = vec![CallerRule {
            uid: Some(2000),
            ..CallerRule::default()
        }];
    });

    // 3. d relabelled as a P-256 key (a 32-byte scalar parses on either curve).
    rewrite(&db, &owner, "d", |k| k.info.algorithm = Algorithm::P256);

    // 4. one bit of e's sealed secret flipped.
    rewrite(&db, &owner, "e", |k| {
        let last = k.sealed_secret.len() - 1;
        k.sealed_secret[last] ^= 0x01;
    });

    let e = engine(&db, &sealer);
    assert_eq!(
        sign_code(&e, &alice(), "b"),
        Some(ErrorCode::CorruptKeyRecord)
    );
    assert_eq!(
        sign_code(&e, &bob(), "c"),
        Some(ErrorCode::CorruptKeyRecord)
    );
    assert_eq!(
        sign_code(&e, &alice(), "d"),
        Some(ErrorCode::CorruptKeyRecord)
    );
    assert_eq!(
        sign_code(&e, &alice(), "e"),
        Some(ErrorCode::CorruptKeyRecord)
    );
    // The untouched keys keep working, and the service keeps serving.
    assert_eq!(sign_code(&e, &alice(), "a"), None);
    assert_eq!(sign_code(&e, &alice(), "intact"), None);
    // And the failures are in the audit log.
    assert_eq!(e.audit_verify().unwrap().first_broken_seq, None);
}

#[test]
fn another_sealer_key_cannot_open_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("keyhold.db");
    {
        let e = engine(&db, &Arc::new(SoftwareSealer::ephemeral().unwrap()));
        e.generate_key(
            &alice(),
            KeySpec::Single(Algorithm::Ed25519),
            KeyOptions::alias("k"),
        )
        .unwrap();
    }
    // The store refuses to open at all: the new key does not open the
    // store key recorded in its sealer binding, so the failure names the
    // wrapping key instead of reporting every record as corrupt.
    let err = Keyhold::open(
        Box::new(SqliteStore::open(&db).unwrap()),
        Arc::new(SoftwareSealer::ephemeral().unwrap()),
        Config::default(),
    )
    .unwrap_err();
    assert_eq!(err.code(), ErrorCode::SealerKeyInvalidated, "{err}");
}
