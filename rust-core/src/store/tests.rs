//! The `KeyStore` contract, written once and run against every store.

use super::*;
use crate::algorithm::{Algorithm, HdScheme, Operation};
use crate::audit::{AuditChain, AuditVerdict, verify_chain};
use crate::caller::CallerRule;
use crate::error::{Error, ErrorCode, StoreContract};
use crate::hd::DerivationPath;
use crate::key::KeyOrigin;
use crate::policy::{KeyPolicy, OperationSet};

// ---- fixtures ---------------------------------------------------------------

/// A canonical-length public key for `algorithm` (the store checks lengths,
/// not points).
pub(super) fn public_key_for(algorithm: Algorithm) -> Vec<u8> {
    match check::public_key_len(algorithm) {
        0 => Vec::new(),
        33 => {
            let mut k = vec![0x02];
            k.extend_from_slice(&[0x5Au8; 32]);
            k
        }
        n => vec![0x33u8; n],
    }
}

/// A key of `owner` named `alias` with a non-trivial policy.
pub(super) fn sample_key(owner: &str, alias: &str, algorithm: Algorithm) -> StoredKey {
    StoredKey {
        info: KeyInfo {
            id: KeyId::random().unwrap(),
            alias: alias.to_string(),
            algorithm,
            hd_scheme: None,
            origin: KeyOrigin::Generated,
            public_key: public_key_for(algorithm),
            policy: KeyPolicy {
                allowed_callers: vec![
                    CallerRule {
                        uid: Some(1000),
                        app_id: None,
                        code_sha256: Some([0xC0; 32]),
                    },
                    CallerRule {
                        uid: None,
                        app_id: Some("com.example.wallet".into()),
                        code_sha256: None,
                    },
                ],
                allowed_operations: Some(OperationSet::of(&[
                    Operation::Sign,
                    Operation::GetPublicKey,
                ])),
                allowed_path_prefixes: Vec::new(),
                max_uses: None,
            },
            usage_count: 0,
            created_at_ms: 1_700_000_000_123,
            sealer: "software-ephemeral".into(),
        },
        owner: owner.to_string(),
        sealed_secret: format!("sealed:{owner}:{alias}").into_bytes(),
        sealed_schema_version: SCHEMA_VERSION,
    }
}

/// An HD root key with path prefixes, an unrestricted operation set and a
/// usage limit.
pub(super) fn hd_key(owner: &str, alias: &str, scheme: HdScheme) -> StoredKey {
    let mut k = sample_key(owner, alias, scheme.algorithm());
    k.info.hd_scheme = Some(scheme);
    k.info.origin = KeyOrigin::Imported;
    k.info.policy.allowed_operations = None;
    k.info.policy.allowed_path_prefixes = vec![
        DerivationPath::parse("m/44'/60'/0'").unwrap(),
        DerivationPath::parse("m/84'/0'/0'/0").unwrap(),
    ];
    k.info.policy.max_uses = Some(10);
    k.info.policy.allowed_callers = vec![CallerRule {
        uid: Some(0),
        app_id: Some("app".into()),
        code_sha256: Some([1u8; 32]),
    }];
    k
}

/// Audit records continuing the store's chain.
pub(super) fn next_audit(
    store: &mut dyn KeyStore,
    ops: &[(Operation, Option<KeyId>, Option<ErrorCode>)],
) -> Vec<AuditRecord> {
    let last = store.last_audit().unwrap();
    let mut chain = AuditChain::resume(last.as_ref());
    ops.iter()
        .map(|(op, key, outcome)| {
            chain.append(
                1_700_000_000_000,
                "unix uid=1000".into(),
                *op,
                *key,
                *outcome,
            )
        })
        .collect()
}

pub(super) fn verify(store: &mut dyn KeyStore) -> AuditVerdict {
    verify_chain(&mut |from| store.audit_records(from, 3)).unwrap()
}

fn load(store: &mut dyn KeyStore, owner: &str, key: KeyRef) -> crate::Result<StoredKey> {
    store.load_key(owner, &key, &mut |_| Ok(()))
}

fn audit_len(store: &mut dyn KeyStore) -> u64 {
    store.last_audit().unwrap().map_or(0, |r| r.seq)
}

// ---- the contract -----------------------------------------------------------

fn insert_and_load_round_trip(s: &mut dyn KeyStore) {
    let mut keys: Vec<StoredKey> = Algorithm::ALL
        .iter()
        .map(|a| sample_key("unix:1000", &format!("k-{a}"), *a))
        .collect();
    for scheme in HdScheme::ALL {
        keys.push(hd_key("unix:1000", &format!("hd-{scheme}"), *scheme));
    }
    let mut bare = sample_key("unix:1000", "bare", Algorithm::Ed25519);
    bare.info.policy = KeyPolicy::default();
    bare.info.origin = KeyOrigin::Derived;
    bare.info.created_at_ms = -5;
    keys.push(bare);

    for k in &keys {
        let audit = next_audit(s, &[(Operation::GenerateKey, Some(k.info.id), None)]);
        s.insert_key(k, &audit).unwrap();
        assert_eq!(
            s.last_audit().unwrap().as_ref(),
            audit.last(),
            "audit committed with the key"
        );
    }
    assert_eq!(s.key_count().unwrap(), keys.len() as u64);
    for k in &keys {
        let mut seen = 0;
        let by_id = s
            .load_key("unix:1000", &KeyRef::Id(k.info.id), &mut |got| {
                seen += 1;
                assert_eq!(got, k);
                Ok(())
            })
            .unwrap();
        assert_eq!(seen, 1, "check runs exactly once");
        assert_eq!(&by_id, k);
        let by_alias = load(s, "unix:1000", KeyRef::Alias(k.info.alias.clone())).unwrap();
        assert_eq!(&by_alias, k);
    }
    let mut infos: Vec<KeyInfo> = keys.iter().map(|k| k.info.clone()).collect();
    infos.sort_by(|a, b| a.alias.cmp(&b.alias));
    assert_eq!(s.list_keys("unix:1000").unwrap(), infos);
    assert_eq!(verify(s).first_broken_seq, None);
}

fn alias_taken_is_refused_and_nothing_changes(s: &mut dyn KeyStore) {
    let a = sample_key("unix:1", "wallet", Algorithm::Secp256k1);
    let audit = next_audit(s, &[(Operation::GenerateKey, Some(a.info.id), None)]);
    s.insert_key(&a, &audit).unwrap();
    let b = sample_key("unix:1", "wallet", Algorithm::P256);
    let audit = next_audit(s, &[(Operation::GenerateKey, Some(b.info.id), None)]);
    let err = s.insert_key(&b, &audit).unwrap_err();
    assert!(
        matches!(&err, Error::AliasExists(x) if x == "wallet"),
        "{err}"
    );
    assert_eq!(err.code(), ErrorCode::AliasExists);
    assert_eq!(s.key_count().unwrap(), 1);
    assert_eq!(
        audit_len(s),
        1,
        "the refused insert's audit records were not written"
    );
    assert_eq!(
        load(s, "unix:1", KeyRef::Alias("wallet".into())).unwrap(),
        a
    );
    // Same alias, another owner: fine.
    let c = sample_key("unix:2", "wallet", Algorithm::P256);
    s.insert_key(&c, &[]).unwrap();
    assert_eq!(s.key_count().unwrap(), 2);
}

fn duplicate_id_is_a_contract_violation_and_nothing_changes(s: &mut dyn KeyStore) {
    let a = sample_key("unix:1", "one", Algorithm::Ed25519);
    s.insert_key(&a, &[]).unwrap();
    let mut b = sample_key("unix:2", "two", Algorithm::Ed25519);
    b.info.id = a.info.id;
    let audit = next_audit(s, &[(Operation::GenerateKey, Some(b.info.id), None)]);
    let err = s.insert_key(&b, &audit).unwrap_err();
    assert!(
        matches!(
            err,
            Error::StoreContract(StoreContract::DuplicateKeyId { .. })
        ),
        "{err}"
    );
    assert_eq!(s.key_count().unwrap(), 1);
    assert_eq!(audit_len(s), 0);
    assert!(s.list_keys("unix:2").unwrap().is_empty());
}

fn owner_namespaces_are_separate(s: &mut dyn KeyStore) {
    let a = sample_key("android:com.a", "k", Algorithm::P256);
    s.insert_key(&a, &[]).unwrap();
    for key in [KeyRef::Id(a.info.id), KeyRef::Alias("k".into())] {
        let mut called = false;
        let err = s
            .load_key("android:com.b", &key, &mut |_| {
                called = true;
                Ok(())
            })
            .unwrap_err();
        assert!(matches!(err, Error::KeyNotFound(_)), "{err}");
        assert!(!called, "check must not see another owner's key");
    }
    let err = load(s, "android:com.a", KeyRef::Id(KeyId::from_u64(1))).unwrap_err();
    assert!(matches!(err, Error::KeyNotFound(_)), "{err}");
    // Aliases compare case-insensitively (issue 10 item 6, crate::alias).
    assert_eq!(
        load(s, "android:com.a", KeyRef::Alias("K".into())).unwrap(),
        a
    );
    let twin = sample_key("android:com.a", "K", Algorithm::P256);
    assert!(matches!(
        s.insert_key(&twin, &[]).unwrap_err(),
        Error::AliasExists(_)
    ));
    assert!(s.list_keys("android:com.b").unwrap().is_empty());
    assert_eq!(s.list_keys("android:com.a").unwrap(), vec![a.info.clone()]);
}

fn check_error_is_returned_unchanged(s: &mut dyn KeyStore) {
    let a = sample_key("unix:7", "k", Algorithm::Secp256k1);
    s.insert_key(&a, &[]).unwrap();
    let err = s
        .load_key("unix:7", &KeyRef::Alias("k".into()), &mut |_| {
            Err(Error::PermissionDenied(
                "unix uid=9 is not an allowed caller".into(),
            ))
        })
        .unwrap_err();
    match err {
        Error::PermissionDenied(m) => assert_eq!(m, "unix uid=9 is not an allowed caller"),
        other => panic!("check error changed: {other}"),
    }
    let err = s
        .load_key("unix:7", &KeyRef::Id(a.info.id), &mut |_| {
            Err(Error::UsageLimitExceeded(3))
        })
        .unwrap_err();
    assert!(matches!(err, Error::UsageLimitExceeded(3)));
    // A refusing check changes nothing.
    assert_eq!(load(s, "unix:7", KeyRef::Id(a.info.id)).unwrap(), a);
}

fn delete_removes_key_with_its_audit(s: &mut dyn KeyStore) {
    let a = sample_key("unix:1", "doomed", Algorithm::Secp256k1);
    let b = hd_key("unix:1", "kept", HdScheme::Bip32Secp256k1);
    s.insert_key(&a, &[]).unwrap();
    s.insert_key(&b, &[]).unwrap();

    // Another owner cannot delete it, and nothing is audited by the store.
    let audit = next_audit(s, &[(Operation::DeleteKey, Some(a.info.id), None)]);
    let err = s.delete_key("unix:2", a.info.id, &audit).unwrap_err();
    assert!(matches!(err, Error::KeyNotFound(_)), "{err}");
    assert_eq!(audit_len(s), 0);
    assert_eq!(s.key_count().unwrap(), 2);

    s.delete_key("unix:1", a.info.id, &audit).unwrap();
    assert_eq!(s.last_audit().unwrap().as_ref(), audit.last());
    assert_eq!(s.key_count().unwrap(), 1);
    for key in [KeyRef::Id(a.info.id), KeyRef::Alias("doomed".into())] {
        assert!(matches!(load(s, "unix:1", key), Err(Error::KeyNotFound(_))));
    }
    assert!(matches!(
        s.add_usage(a.info.id, 1, None),
        Err(Error::KeyNotFound(_))
    ));
    let again = next_audit(s, &[(Operation::DeleteKey, Some(a.info.id), None)]);
    assert!(matches!(
        s.delete_key("unix:1", a.info.id, &again),
        Err(Error::KeyNotFound(_))
    ));
    assert_eq!(audit_len(s), 1);
    assert_eq!(s.list_keys("unix:1").unwrap(), vec![b.info.clone()]);

    // The alias is free again, for a new key with a new id.
    let c = sample_key("unix:1", "doomed", Algorithm::Ed25519);
    s.insert_key(&c, &[]).unwrap();
    assert_eq!(
        load(s, "unix:1", KeyRef::Alias("doomed".into())).unwrap(),
        c
    );
    assert!(matches!(
        load(s, "unix:1", KeyRef::Id(a.info.id)),
        Err(Error::KeyNotFound(_))
    ));
    assert_eq!(verify(s).first_broken_seq, None);
}

fn add_usage_counts_and_limits(s: &mut dyn KeyStore) {
    let a = sample_key("unix:1", "counted", Algorithm::P256);
    s.insert_key(&a, &[]).unwrap();
    let id = a.info.id;
    assert_eq!(s.add_usage(id, 1, None).unwrap(), 1);
    assert_eq!(
        s.add_usage(id, 4, Some(5)).unwrap(),
        5,
        "reaching the limit is allowed"
    );
    let err = s.add_usage(id, 1, Some(5)).unwrap_err();
    assert!(matches!(err, Error::UsageLimitExceeded(5)), "{err}");
    assert_eq!(err.code(), ErrorCode::UsageLimitExceeded);
    let err = s.add_usage(id, u64::MAX, Some(100)).unwrap_err();
    assert!(matches!(err, Error::UsageLimitExceeded(100)), "{err}");
    assert_eq!(s.add_usage(id, 0, Some(5)).unwrap(), 5);
    assert_eq!(s.add_usage(id, 1000, None).unwrap(), 1005);
    assert!(
        s.add_usage(id, u64::MAX, None).is_err(),
        "overflow is refused"
    );
    assert_eq!(
        load(s, "unix:1", KeyRef::Id(id)).unwrap().info.usage_count,
        1005
    );
    assert_eq!(s.list_keys("unix:1").unwrap()[0].usage_count, 1005);
    let err = s.add_usage(KeyId::from_u64(12345), 1, None).unwrap_err();
    assert!(matches!(err, Error::KeyNotFound(_)), "{err}");
}

fn audit_appends_pages_and_verifies(s: &mut dyn KeyStore) {
    assert_eq!(s.last_audit().unwrap(), None);
    assert!(s.audit_records(1, 10).unwrap().is_empty());
    s.append_audit(&[]).unwrap();
    let first = next_audit(
        s,
        &[
            (Operation::ListKeys, None, None),
            (
                Operation::Sign,
                Some(KeyId::from_u64(u64::MAX)),
                Some(ErrorCode::PermissionDenied),
            ),
        ],
    );
    s.append_audit(&first).unwrap();
    let ops: Vec<_> = (0..8)
        .map(|i| (Operation::Verify, Some(KeyId::from_u64(i)), None))
        .collect();
    let second = next_audit(s, &ops);
    s.append_audit(&second).unwrap();
    let all: Vec<AuditRecord> = first.iter().chain(&second).cloned().collect();
    assert_eq!(s.last_audit().unwrap().as_ref(), all.last());
    assert_eq!(s.audit_records(1, 100).unwrap(), all);
    assert_eq!(s.audit_records(0, 100).unwrap(), all);
    assert_eq!(s.audit_records(4, 3).unwrap(), all[3..6].to_vec());
    assert_eq!(s.audit_records(10, 3).unwrap(), all[9..].to_vec());
    assert!(s.audit_records(11, 3).unwrap().is_empty());
    assert!(s.audit_records(u64::MAX, 3).unwrap().is_empty());
    assert!(s.audit_records(1, 0).unwrap().is_empty());
    assert_eq!(
        verify(s),
        AuditVerdict {
            entries: 10,
            first_broken_seq: None
        }
    );
}

fn audit_refuses_what_does_not_extend_the_chain(s: &mut dyn KeyStore) {
    let good = next_audit(
        s,
        &[
            (Operation::ListKeys, None, None),
            (Operation::ListKeys, None, None),
        ],
    );
    s.append_audit(&good[..1]).unwrap();

    // A gap: record 2 skipped.
    let mut chain = AuditChain::resume(Some(&good[1]));
    let gap = chain.append(1, "x".into(), Operation::Sign, None, None);
    assert!(matches!(
        s.append_audit(&[gap]),
        Err(Error::StoreContract(StoreContract::AuditOutOfSequence {
            seq: 3,
            last: 1
        }))
    ));
    // A replay of record 1.
    assert!(matches!(
        s.append_audit(&good[..1]),
        Err(Error::StoreContract(StoreContract::AuditOutOfSequence {
            seq: 1,
            last: 1
        }))
    ));
    // Right seq, wrong link.
    let mut forged = good[1].clone();
    forged.prev_hash = [9u8; 32];
    forged.hash = crate::audit::record_hash(&forged);
    assert!(matches!(
        s.append_audit(&[forged]),
        Err(Error::StoreContract(StoreContract::AuditNotLinked {
            seq: 2
        }))
    ));
    // Right link, wrong hash.
    let mut edited = good[1].clone();
    edited.caller.push('!');
    assert!(matches!(
        s.append_audit(&[edited]),
        Err(Error::StoreContract(StoreContract::AuditNotLinked {
            seq: 2
        }))
    ));
    // A batch with a bad second record appends nothing.
    let mut batch = next_audit(
        s,
        &[(Operation::Sign, None, None), (Operation::Sign, None, None)],
    );
    batch[1].seq += 1;
    assert!(matches!(
        s.append_audit(&batch),
        Err(Error::StoreContract(StoreContract::AuditOutOfSequence {
            seq: 4,
            last: 2
        }))
    ));
    assert_eq!(audit_len(s), 1);

    s.append_audit(&good[1..]).unwrap();
    assert_eq!(audit_len(s), 2);
    assert_eq!(verify(s).first_broken_seq, None);
}

fn insert_with_bad_audit_inserts_nothing(s: &mut dyn KeyStore) {
    let a = sample_key("unix:1", "k", Algorithm::Ed25519);
    let mut audit = next_audit(s, &[(Operation::GenerateKey, Some(a.info.id), None)]);
    audit[0].seq = 2;
    assert!(matches!(
        s.insert_key(&a, &audit),
        Err(Error::StoreContract(StoreContract::AuditOutOfSequence {
            seq: 2,
            last: 0
        }))
    ));
    assert_eq!(s.key_count().unwrap(), 0);
    assert!(matches!(
        load(s, "unix:1", KeyRef::Id(a.info.id)),
        Err(Error::KeyNotFound(_))
    ));

    s.insert_key(&a, &[]).unwrap();
    let mut audit = next_audit(s, &[(Operation::DeleteKey, Some(a.info.id), None)]);
    audit[0].hash[0] ^= 1;
    assert!(matches!(
        s.delete_key("unix:1", a.info.id, &audit),
        Err(Error::StoreContract(StoreContract::AuditNotLinked {
            seq: 1
        }))
    ));
    assert_eq!(
        s.key_count().unwrap(),
        1,
        "a delete whose audit fails deletes nothing"
    );
}

fn refuses_keys_it_could_not_read_back(s: &mut dyn KeyStore) {
    let mut short = sample_key("unix:1", "a", Algorithm::Secp256k1);
    short.info.public_key.pop();
    assert!(matches!(
        s.insert_key(&short, &[]),
        Err(Error::StoreContract(StoreContract::PublicKeyLength {
            expected: 33,
            got: 32,
            ..
        }))
    ));

    let mut sym = sample_key("unix:1", "b", Algorithm::Aes256Gcm);
    sym.info.public_key = vec![1];
    assert!(matches!(
        s.insert_key(&sym, &[]),
        Err(Error::StoreContract(StoreContract::PublicKeyLength {
            expected: 0,
            got: 1,
            ..
        }))
    ));

    let mut mismatch = hd_key("unix:1", "c", HdScheme::Slip10Ed25519);
    mismatch.info.algorithm = Algorithm::X25519;
    assert!(matches!(
        s.insert_key(&mismatch, &[]),
        Err(Error::StoreContract(StoreContract::HdSchemeMismatch { .. }))
    ));

    let mut empty = sample_key("unix:1", "d", Algorithm::P256);
    empty.sealed_secret.clear();
    assert!(matches!(
        s.insert_key(&empty, &[]),
        Err(Error::StoreContract(
            StoreContract::EmptySealedSecret { .. }
        ))
    ));

    let mut huge = sample_key("unix:1", "e", Algorithm::P256);
    huge.info.policy.max_uses = Some(u64::MAX);
    assert!(matches!(
        s.insert_key(&huge, &[]),
        Err(Error::InvalidArgument(_))
    ));

    let mut future = sample_key("unix:1", "f", Algorithm::P256);
    future.sealed_schema_version = SCHEMA_VERSION + 1;
    assert!(matches!(
        s.insert_key(&future, &[]),
        Err(Error::StoreContract(
            StoreContract::UnknownSchemaVersion { .. }
        ))
    ));

    assert_eq!(s.key_count().unwrap(), 0);
}

fn schema_version_is_current(s: &mut dyn KeyStore) {
    assert_eq!(s.schema_version(), SCHEMA_VERSION);
}

fn debug_hides_sealed_bytes(s: &mut dyn KeyStore) {
    let a = sample_key("unix:1", "k", Algorithm::P256);
    s.insert_key(&a, &[]).unwrap();
    let loaded = load(s, "unix:1", KeyRef::Id(a.info.id)).unwrap();
    let text = format!("{loaded:?} {s:?}", s = "");
    assert!(!text.contains("sealed:unix"), "{text}");
    assert!(text.contains("sealed bytes"));
}

/// `audit_snapshot`: the anchor and the records as of one instant. Records
/// appended (and a key deleted, whose SQLite WAL truncation a reader would
/// otherwise wait for) after the snapshot is taken are in neither; the store
/// itself and a later snapshot see them.
fn audit_snapshot_is_consistent_and_independent(s: &mut dyn KeyStore) {
    // Before integrity: no anchor, the records as they are.
    let before = next_audit(s, &[(Operation::ListKeys, None, None)]);
    s.append_audit(&before).unwrap();
    let mut unkeyed = s.audit_snapshot().unwrap();
    assert_eq!(unkeyed.anchor(), None);
    assert_eq!(unkeyed.audit_records(1, 10).unwrap(), before);
    drop(unkeyed);

    let keys = Arc::new(crate::integrity::StoreIntegrity::for_tests(7));
    let anchor = s.attach_integrity(Arc::clone(&keys)).unwrap();
    assert_eq!((anchor.seq, anchor.head), (1, before[0].hash));
    let mut chain = AuditChain::resume_keyed(&anchor, Arc::clone(&keys));
    fn append(s: &mut dyn KeyStore, chain: &mut AuditChain, n: u64) -> Vec<AuditRecord> {
        let records: Vec<AuditRecord> = (0..n)
            .map(|i| {
                chain.append(
                    1,
                    "unix uid=1000".into(),
                    Operation::Sign,
                    Some(KeyId::from_u64(i)),
                    None,
                )
            })
            .collect();
        s.append_audit(&records).unwrap();
        records
    }
    let key = sample_key("app", "doomed", Algorithm::Ed25519);
    s.insert_key(&key, &[]).unwrap();
    let mut committed: Vec<AuditRecord> = before.clone();
    committed.extend(append(s, &mut chain, 9));

    let mut snap = s.audit_snapshot().unwrap();
    let snap_anchor = snap.anchor().expect("anchor after attach");
    assert_eq!(Some(snap_anchor), s.audit_anchor().unwrap());
    assert_eq!((snap_anchor.seq, snap_anchor.head), (10, committed[9].hash));

    // The store goes on writing while the snapshot is open.
    let later = append(s, &mut chain, 5);
    let deleted = vec![chain.append(
        2,
        "unix uid=1000".into(),
        Operation::DeleteKey,
        Some(key.info.id),
        None,
    )];
    s.delete_key("app", key.info.id, &deleted).unwrap();
    assert_eq!(s.last_audit().unwrap().map(|r| r.seq), Some(16));

    // The snapshot still shows the instant it was taken, page by page.
    assert_eq!(snap.anchor(), Some(snap_anchor));
    assert_eq!(snap.audit_records(1, 100).unwrap(), committed);
    assert_eq!(snap.audit_records(0, 4).unwrap(), committed[..4].to_vec());
    assert_eq!(snap.audit_records(4, 3).unwrap(), committed[3..6].to_vec());
    assert_eq!(snap.audit_records(9, 100).unwrap(), committed[8..].to_vec());
    assert!(snap.audit_records(11, 100).unwrap().is_empty());
    assert!(snap.audit_records(u64::MAX, 3).unwrap().is_empty());
    let verdict =
        crate::audit::verify_anchored(&keys, &snap_anchor, &mut |from| snap.audit_records(from, 3))
            .unwrap();
    assert_eq!(
        verdict,
        AuditVerdict {
            entries: 10,
            first_broken_seq: None
        }
    );
    drop(snap);

    // A new snapshot sees everything committed since.
    let mut all = committed;
    all.extend(later);
    all.extend(deleted);
    let mut fresh = s.audit_snapshot().unwrap();
    let fresh_anchor = fresh.anchor().unwrap();
    assert_eq!((fresh_anchor.seq, fresh_anchor.head), (16, all[15].hash));
    assert_eq!(fresh.audit_records(1, 100).unwrap(), all);
    drop(fresh);
    assert_eq!(s.audit_records(1, 100).unwrap(), all);
    // The store still writes after the snapshots are gone.
    append(s, &mut chain, 1);
}

/// Runs each contract check as its own test against each store.
macro_rules! contract {
    ($($check:ident),* $(,)?) => {
        mod memory_store {
            $(
                #[test]
                fn $check() {
                    super::$check(&mut super::MemoryStore::new());
                }
            )*
        }
        mod sqlite_store {
            $(
                #[test]
                fn $check() {
                    let dir = tempfile::tempdir().unwrap();
                    let mut store = super::SqliteStore::open(&dir.path().join("keyhold.db")).unwrap();
                    super::$check(&mut store);
                }
            )*
        }
    };
}

contract!(
    insert_and_load_round_trip,
    alias_taken_is_refused_and_nothing_changes,
    duplicate_id_is_a_contract_violation_and_nothing_changes,
    owner_namespaces_are_separate,
    check_error_is_returned_unchanged,
    delete_removes_key_with_its_audit,
    add_usage_counts_and_limits,
    audit_appends_pages_and_verifies,
    audit_refuses_what_does_not_extend_the_chain,
    insert_with_bad_audit_inserts_nothing,
    refuses_keys_it_could_not_read_back,
    schema_version_is_current,
    debug_hides_sealed_bytes,
    audit_snapshot_is_consistent_and_independent,
);

#[test]
fn stores_are_usable_as_trait_objects() {
    fn assert_send<T: Send>() {}
    assert_send::<MemoryStore>();
    assert_send::<SqliteStore>();
    let _boxed: Box<dyn KeyStore> = Box::new(MemoryStore::new());
}

type Edit = Box<dyn Fn(&mut StoredKey)>;

/// A stored key with every policy field set.
fn key_with_every_field() -> StoredKey {
    let mut k = hd_key("unix:1000", "k", HdScheme::Bip32Secp256k1);
    k.info.policy.allowed_operations = Some(OperationSet::of(&[Operation::Sign]));
    k
}

/// The metadata MAC (crate::integrity) covers every identity and policy
/// field of a row, and not the usage count, which has its own MAC.
#[test]
fn meta_mac_covers_every_policy_field_and_identity_field() {
    let i = crate::integrity::StoreIntegrity::for_tests(1);
    let base = key_with_every_field();
    let mac = base.meta_mac(&i);
    let edits: Vec<Edit> = vec![
        Box::new(|k| k.info.alias.push('x')),
        Box::new(|k| k.owner.push('x')),
        Box::new(|k| k.info.public_key[1] ^= 1),
        Box::new(|k| k.info.policy.max_uses = None),
        Box::new(|k| k.info.policy.max_uses = Some(99)),
        Box::new(|k| k.info.policy.allowed_operations = None),
        Box::new(|k| k.info.policy.allowed_operations = Some(OperationSet::empty())),
        Box::new(|k| k.info.policy.allowed_callers[0].code_sha256 = None),
        Box::new(|k| k.info.policy.allowed_callers.push(CallerRule::default())),
        Box::new(|k| k.info.policy.allowed_path_prefixes.clear()),
        Box::new(|k| {
            k.info.policy.allowed_path_prefixes[0] = DerivationPath::parse("m/1").unwrap()
        }),
        Box::new(|k| k.info.created_at_ms += 1),
        Box::new(|k| k.info.sealer.push('x')),
        Box::new(|k| k.sealed_schema_version -= 1),
        Box::new(|k| k.info.id = crate::key::KeyId::from_u64(k.info.id.as_u64() ^ 1)),
    ];
    for (n, edit) in edits.iter().enumerate() {
        let mut k = base.clone();
        edit(&mut k);
        assert_ne!(k.meta_mac(&i), mac, "edit {n} is not covered");
    }
    // The usage count is not in the metadata MAC (it changes on every use)...
    let mut used = base.clone();
    used.info.usage_count += 1;
    assert_eq!(used.meta_mac(&i), mac);
    // ...but in its own, bound to the key id.
    let id = base.info.id;
    assert_ne!(i.usage_mac(id, 1), i.usage_mac(id, 0));
    assert_ne!(
        i.usage_mac(id, 1),
        i.usage_mac(crate::key::KeyId::from_u64(id.as_u64() ^ 1), 1)
    );
}
