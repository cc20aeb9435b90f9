use super::*;
use crate::algorithm::{Algorithm, HdScheme, Operation, PublicKeyFormat, SignatureScheme};
use crate::caller::CallerRule;
use crate::crypto::Payload;
use crate::error::ErrorCode;
use crate::hd::DerivationPath;
use crate::key::KeyRef;
use crate::policy::{KeyPolicy, OperationSet};
use crate::sealer::{CountingSealer, SoftwareSealer};
use crate::store::MemoryStore;

fn alice() -> Caller {
    Caller::Unix {
        uid: 1000,
        gid: 1000,
        pid: 10,
        exe_sha256: Some([0xa1; 32]),
    }
}

fn mallory() -> Caller {
    Caller::Unix {
        uid: 1001,
        gid: 1001,
        pid: 11,
        exe_sha256: Some([0xee; 32]),
    }
}

fn counting_engine(config: Config) -> (Keyhold, Arc<CountingSealer<SoftwareSealer>>) {
    let sealer = Arc::new(CountingSealer::new(SoftwareSealer::ephemeral().unwrap()));
    let engine = Keyhold::open(Box::new(MemoryStore::new()), sealer.clone(), config).unwrap();
    (engine, sealer)
}

fn alias(a: &str) -> KeyRef {
    KeyRef::Alias(a.into())
}

const DIGEST: [u8; 32] = [0x42; 32];

/// Generates one single key per (alias, algorithm) for alice.
fn generate_all(engine: &Keyhold, keys: &[(&str, Algorithm)]) {
    for (alias, alg) in keys {
        engine
            .generate_key(&alice(), KeySpec::Single(*alg), KeyOptions::alias(*alias))
            .unwrap();
    }
}

#[test]
fn n_signs_cost_at_most_one_unseal_per_key_per_session() {
    let (engine, sealer) = counting_engine(Config::default());
    generate_all(
        &engine,
        &[
            ("k1", Algorithm::Secp256k1),
            ("ed", Algorithm::Ed25519),
            ("p", Algorithm::P256),
        ],
    );
    let open_unseals = sealer.unseal_count();
    // Freshly generated keys are already in memory: no unseal at all.
    for _ in 0..50 {
        for name in ["k1", "p"] {
            engine
                .sign(&alice(), &alias(name), None, None, Payload::Digest(&DIGEST))
                .unwrap();
        }
        engine
            .sign(&alice(), &alias("ed"), None, None, Payload::Message(b"m"))
            .unwrap();
    }
    assert_eq!(sealer.unseal_count(), open_unseals);

    // After lock(), each key is unsealed exactly once more, however often it is used.
    engine.lock();
    assert_eq!(engine.cached_key_count(), 0);
    for _ in 0..50 {
        for name in ["k1", "p"] {
            engine
                .sign(&alice(), &alias(name), None, None, Payload::Digest(&DIGEST))
                .unwrap();
        }
    }
    assert_eq!(sealer.unseal_count(), open_unseals + 2);
}

#[test]
fn public_only_operations_never_unseal() {
    let (engine, sealer) = counting_engine(Config::default());
    engine
        .generate_key(
            &alice(),
            KeySpec::Single(Algorithm::Ed25519),
            KeyOptions::alias("ed"),
        )
        .unwrap();
    let sig = engine
        .sign(&alice(), &alias("ed"), None, None, Payload::Message(b"x"))
        .unwrap();
    engine.lock();
    let before = sealer.unseal_count();
    engine
        .get_public_key(&alice(), &alias("ed"), None, PublicKeyFormat::SpkiPem)
        .unwrap();
    assert!(
        engine
            .verify(
                &alice(),
                &alias("ed"),
                None,
                None,
                Payload::Message(b"x"),
                &sig
            )
            .unwrap()
    );
    engine.get_key_info(&alice(), &alias("ed")).unwrap();
    assert_eq!(sealer.unseal_count(), before);
}

#[test]
fn cache_is_bounded_by_capacity() {
    let config = Config {
        cache_capacity: 4,
        ..Config::default()
    };
    let (engine, sealer) = counting_engine(config);
    for i in 0..10 {
        engine
            .generate_key(
                &alice(),
                KeySpec::Single(Algorithm::Ed25519),
                KeyOptions::alias(format!("k{i}")),
            )
            .unwrap();
    }
    assert_eq!(engine.cached_key_count(), 4);
    let before = sealer.unseal_count();
    // k0 was evicted: using it unseals once and keeps the bound.
    engine
        .sign(&alice(), &alias("k0"), None, None, Payload::Message(b"m"))
        .unwrap();
    engine
        .sign(&alice(), &alias("k0"), None, None, Payload::Message(b"m"))
        .unwrap();
    assert_eq!(sealer.unseal_count(), before + 1);
    assert_eq!(engine.cached_key_count(), 4);
}

#[test]
fn idle_keys_expire_from_the_cache() {
    let config = Config {
        cache_idle_ttl: Duration::from_millis(0),
        ..Config::default()
    };
    let (engine, sealer) = counting_engine(config);
    engine
        .generate_key(
            &alice(),
            KeySpec::Single(Algorithm::P256),
            KeyOptions::alias("p"),
        )
        .unwrap();
    std::thread::sleep(Duration::from_millis(5));
    let before = sealer.unseal_count();
    engine
        .sign(&alice(), &alias("p"), None, None, Payload::Digest(&DIGEST))
        .unwrap();
    assert_eq!(sealer.unseal_count(), before + 1);
}

#[test]
fn refused_callers_get_a_typed_error_and_are_audited() {
    let (engine, _) = counting_engine(Config::default());
    let info = engine
        .generate_key(
            &alice(),
            KeySpec::Single(Algorithm::Secp256k1),
            KeyOptions::alias("mine"),
        )
        .unwrap();
    // Another uid cannot see alice's alias at all, nor use her key by id.
    let by_alias = engine.sign(
        &mallory(),
        &alias("mine"),
        None,
        None,
        Payload::Digest(&DIGEST),
    );
    assert_eq!(by_alias.unwrap_err().code(), ErrorCode::KeyNotFound);
    let by_id = engine.sign(
        &mallory(),
        &KeyRef::Id(info.id),
        None,
        None,
        Payload::Digest(&DIGEST),
    );
    assert_eq!(by_id.unwrap_err().code(), ErrorCode::KeyNotFound);

    // Same uid, other executable, key bound to alice's binary: refused.
    let options = KeyOptions {
        bind_to_caller_code: true,
        ..KeyOptions::alias("bound")
    };
    engine
        .generate_key(&alice(), KeySpec::Single(Algorithm::Ed25519), options)
        .unwrap();
    let other_exe = Caller::Unix {
        uid: 1000,
        gid: 1000,
        pid: 12,
        exe_sha256: Some([0xbb; 32]),
    };
    let refused = engine.sign(
        &other_exe,
        &alias("bound"),
        None,
        None,
        Payload::Message(b"m"),
    );
    assert_eq!(refused.unwrap_err().code(), ErrorCode::PermissionDenied);

    // The refusal is committed to the audit log at once.
    let mut store = lock(&engine.store);
    let records = store.audit_records(1, 100).unwrap();
    let last = records.last().unwrap();
    assert_eq!(last.operation, Operation::Sign);
    assert_eq!(last.outcome, Some(ErrorCode::PermissionDenied));
    assert!(last.caller.contains("pid=12"));
}

#[test]
fn every_operation_is_audited_and_the_chain_verifies() {
    let (engine, _) = counting_engine(Config::default());
    engine
        .generate_key(
            &alice(),
            KeySpec::Single(Algorithm::Ed25519),
            KeyOptions::alias("e"),
        )
        .unwrap();
    engine
        .sign(&alice(), &alias("e"), None, None, Payload::Message(b"1"))
        .unwrap();
    let _ = engine.sign(
        &alice(),
        &alias("missing"),
        None,
        None,
        Payload::Message(b"1"),
    );
    engine.list_keys(&alice()).unwrap();
    engine.delete_key(&alice(), &alias("e")).unwrap();
    let verdict = engine.audit_verify().unwrap();
    assert_eq!(verdict.entries, 5);
    assert_eq!(verdict.first_broken_seq, None);
    let records = lock(&engine.store).audit_records(1, 10).unwrap();
    let ops: Vec<_> = records.iter().map(|r| (r.operation, r.outcome)).collect();
    assert_eq!(
        ops,
        vec![
            (Operation::GenerateKey, None),
            (Operation::Sign, None),
            (Operation::Sign, Some(ErrorCode::KeyNotFound)),
            (Operation::ListKeys, None),
            (Operation::DeleteKey, None),
        ]
    );
}

#[test]
fn usage_limits_are_enforced_durably() {
    let (engine, _) = counting_engine(Config::default());
    let options = KeyOptions {
        policy: KeyPolicy {
            max_uses: Some(3),
            ..KeyPolicy::default()
        },
        ..KeyOptions::alias("limited")
    };
    engine
        .generate_key(&alice(), KeySpec::Single(Algorithm::Secp256k1), options)
        .unwrap();
    for _ in 0..3 {
        engine
            .sign(
                &alice(),
                &alias("limited"),
                None,
                None,
                Payload::Digest(&DIGEST),
            )
            .unwrap();
    }
    let err = engine
        .sign(
            &alice(),
            &alias("limited"),
            None,
            None,
            Payload::Digest(&DIGEST),
        )
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::UsageLimitExceeded);
    assert_eq!(
        engine
            .get_key_info(&alice(), &alias("limited"))
            .unwrap()
            .usage_count,
        3
    );
}

#[test]
fn unlimited_usage_is_counted_after_flush() {
    let (engine, _) = counting_engine(Config::default());
    engine
        .generate_key(
            &alice(),
            KeySpec::Single(Algorithm::Ed25519),
            KeyOptions::alias("e"),
        )
        .unwrap();
    for _ in 0..5 {
        engine
            .sign(&alice(), &alias("e"), None, None, Payload::Message(b"m"))
            .unwrap();
    }
    assert_eq!(
        engine
            .get_key_info(&alice(), &alias("e"))
            .unwrap()
            .usage_count,
        5
    );
}

#[test]
fn operation_policy_and_path_prefixes() {
    let (engine, _) = counting_engine(Config::default());
    let options = KeyOptions {
        policy: KeyPolicy {
            allowed_operations: Some(OperationSet::of(&[
                Operation::GetPublicKey,
                Operation::Sign,
            ])),
            allowed_path_prefixes: vec![DerivationPath::parse("m/44'/60'").unwrap()],
            ..KeyPolicy::default()
        },
        ..KeyOptions::alias("eth")
    };
    engine
        .generate_key(&alice(), KeySpec::Hd(HdScheme::Bip32Secp256k1), options)
        .unwrap();
    let ok_path = DerivationPath::parse("m/44'/60'/0'/0/0").unwrap();
    let bad_path = DerivationPath::parse("m/44'/0'/0'/0/0").unwrap();
    engine
        .sign(
            &alice(),
            &alias("eth"),
            Some(&ok_path),
            Some(SignatureScheme::EcdsaRecoverable),
            Payload::Digest(&DIGEST),
        )
        .unwrap();
    let err = engine
        .sign(
            &alice(),
            &alias("eth"),
            Some(&bad_path),
            None,
            Payload::Digest(&DIGEST),
        )
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::PathNotAllowed);
    // Signing with the root itself is outside the prefix too.
    let err = engine
        .sign(
            &alice(),
            &alias("eth"),
            None,
            None,
            Payload::Digest(&DIGEST),
        )
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::PathNotAllowed);
    let err = engine
        .derive_key(&alice(), &alias("eth"), &ok_path, None)
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::OperationNotAllowed);
    // Managing the key stays possible.
    engine.get_key_info(&alice(), &alias("eth")).unwrap();
    engine.delete_key(&alice(), &alias("eth")).unwrap();
}

#[test]
fn policies_must_admit_their_creator() {
    let (engine, _) = counting_engine(Config::default());
    let options = KeyOptions {
        policy: KeyPolicy {
            allowed_callers: vec![CallerRule {
                uid: Some(4242),
                ..CallerRule::default()
            }],
            ..KeyPolicy::default()
        },
        ..KeyOptions::alias("x")
    };
    let err = engine
        .generate_key(&alice(), KeySpec::Single(Algorithm::P256), options)
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidArgument);
}

#[test]
fn aliases_are_unique_per_owner() {
    let (engine, sealer) = counting_engine(Config::default());
    engine
        .generate_key(
            &alice(),
            KeySpec::Single(Algorithm::P256),
            KeyOptions::alias("same"),
        )
        .unwrap();
    let seals = sealer.seal_count();
    let err = engine
        .generate_key(
            &alice(),
            KeySpec::Single(Algorithm::P256),
            KeyOptions::alias("same"),
        )
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::AliasExists);
    // The conflict is found before any (slow) hardware seal.
    assert_eq!(sealer.seal_count(), seals);
    // Another owner may use the same alias.
    engine
        .generate_key(
            &mallory(),
            KeySpec::Single(Algorithm::P256),
            KeyOptions::alias("same"),
        )
        .unwrap();
}

#[test]
fn delete_forgets_the_key_everywhere() {
    let (engine, _) = counting_engine(Config::default());
    engine
        .generate_key(
            &alice(),
            KeySpec::Single(Algorithm::Ed25519),
            KeyOptions::alias("gone"),
        )
        .unwrap();
    engine.delete_key(&alice(), &alias("gone")).unwrap();
    let err = engine
        .sign(&alice(), &alias("gone"), None, None, Payload::Message(b"m"))
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::KeyNotFound);
    assert_eq!(
        engine
            .delete_key(&alice(), &alias("gone"))
            .unwrap_err()
            .code(),
        ErrorCode::KeyNotFound
    );
    // The alias can be reused by a new key, which is a different key.
    engine
        .generate_key(
            &alice(),
            KeySpec::Single(Algorithm::Ed25519),
            KeyOptions::alias("gone"),
        )
        .unwrap();
    assert_eq!(engine.list_keys(&alice()).unwrap().len(), 1);
}

#[test]
fn encrypt_decrypt_and_hmac() {
    let (engine, _) = counting_engine(Config::default());
    engine
        .generate_key(
            &alice(),
            KeySpec::Single(Algorithm::Aes256Gcm),
            KeyOptions::alias("aes"),
        )
        .unwrap();
    let ct = engine
        .encrypt(&alice(), &alias("aes"), b"app data", b"ctx")
        .unwrap();
    assert_eq!(
        engine
            .decrypt(&alice(), &alias("aes"), &ct, b"ctx")
            .unwrap()
            .expose(),
        b"app data"
    );
    let err = engine
        .decrypt(&alice(), &alias("aes"), &ct, b"other")
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::DecryptionFailed);
    assert_eq!(
        engine
            .sign(&alice(), &alias("aes"), None, None, Payload::Message(b"m"))
            .unwrap_err()
            .code(),
        ErrorCode::IncompatibleKey
    );

    engine
        .generate_key(
            &alice(),
            KeySpec::Single(Algorithm::HmacSha256),
            KeyOptions::alias("mac"),
        )
        .unwrap();
    let tag = engine
        .sign(&alice(), &alias("mac"), None, None, Payload::Message(b"m"))
        .unwrap();
    assert_eq!(tag.len(), 32);
    assert!(
        engine
            .verify(
                &alice(),
                &alias("mac"),
                None,
                None,
                Payload::Message(b"m"),
                &tag
            )
            .unwrap()
    );
    assert!(
        !engine
            .verify(
                &alice(),
                &alias("mac"),
                None,
                None,
                Payload::Message(b"n"),
                &tag
            )
            .unwrap()
    );
    assert_eq!(
        engine
            .encrypt(&alice(), &alias("mac"), b"x", b"")
            .unwrap_err()
            .code(),
        ErrorCode::IncompatibleKey
    );
}

#[test]
fn agreement_matches_on_both_sides_and_can_be_stored() {
    let (engine, _) = counting_engine(Config::default());
    generate_all(
        &engine,
        &[
            ("x1", Algorithm::X25519),
            ("x2", Algorithm::X25519),
            ("k1", Algorithm::Secp256k1),
            ("k2", Algorithm::Secp256k1),
            ("p1", Algorithm::P256),
            ("p2", Algorithm::P256),
        ],
    );
    let kdf = KdfParams {
        salt: b"salt".to_vec(),
        info: b"keyhold test".to_vec(),
        length: 32,
    };
    for (a, b) in [("x1", "x2"), ("k1", "k2"), ("p1", "p2")] {
        let pa = engine.get_key_info(&alice(), &alias(a)).unwrap().public_key;
        let pb = engine.get_key_info(&alice(), &alias(b)).unwrap().public_key;
        let Agreement::Secret(s1) = engine.agree(&alice(), &alias(a), &pb, &kdf, None).unwrap()
        else {
            panic!("expected a secret")
        };
        let Agreement::Secret(s2) = engine.agree(&alice(), &alias(b), &pa, &kdf, None).unwrap()
        else {
            panic!("expected a secret")
        };
        assert_eq!(s1.len(), 32);
        assert!(s1.ct_eq(s2.expose()), "{a}/{b}");
    }
    let pb = engine
        .get_key_info(&alice(), &alias("x2"))
        .unwrap()
        .public_key;
    let Agreement::Stored(info) = engine
        .agree(
            &alice(),
            &alias("x1"),
            &pb,
            &kdf,
            Some(KeyOptions::alias("session")),
        )
        .unwrap()
    else {
        panic!("expected a stored key")
    };
    assert_eq!(info.algorithm, Algorithm::Aes256Gcm);
    let ct = engine
        .encrypt(&alice(), &alias("session"), b"hello", b"")
        .unwrap();
    assert_eq!(
        engine
            .decrypt(&alice(), &alias("session"), &ct, b"")
            .unwrap()
            .expose(),
        b"hello"
    );
    // A peer key of another type and bad lengths are typed errors. (A SEC1
    // point of one curve may also be a valid point of another: raw SEC1
    // bytes carry no curve, so that case cannot be told apart.)
    let x = engine
        .get_key_info(&alice(), &alias("x2"))
        .unwrap()
        .public_key;
    assert_eq!(
        engine
            .agree(&alice(), &alias("p1"), &x, &kdf, None)
            .unwrap_err()
            .code(),
        ErrorCode::InvalidKeyMaterial
    );
    engine
        .generate_key(
            &alice(),
            KeySpec::Single(Algorithm::Ed25519),
            KeyOptions::alias("ed"),
        )
        .unwrap();
    assert_eq!(
        engine
            .agree(&alice(), &alias("ed"), &x, &kdf, None)
            .unwrap_err()
            .code(),
        ErrorCode::IncompatibleKey
    );
    let short = KdfParams {
        length: 8,
        ..kdf.clone()
    };
    assert_eq!(
        engine
            .agree(&alice(), &alias("x1"), &pb, &short, None)
            .unwrap_err()
            .code(),
        ErrorCode::InvalidArgument
    );
}

#[test]
fn derive_returns_public_material_and_can_store_the_child() {
    let (engine, _) = counting_engine(Config::default());
    engine
        .generate_key(
            &alice(),
            KeySpec::Hd(HdScheme::Bip32Secp256k1),
            KeyOptions::alias("root"),
        )
        .unwrap();
    let path = DerivationPath::parse("m/44'/60'/0'").unwrap();
    let derived = engine
        .derive_key(
            &alice(),
            &alias("root"),
            &path,
            Some(KeyOptions::alias("acct")),
        )
        .unwrap();
    assert_eq!(derived.public_key.len(), 33);
    let xpub = derived.xpub.clone().unwrap();
    assert!(xpub.starts_with("xpub"));
    let stored = derived.stored.unwrap();
    assert_eq!(stored.public_key, derived.public_key);
    // The stored child derives the same grandchildren as the root does.
    let tail = DerivationPath::parse("m/0/7").unwrap();
    let full = path.join(&tail).unwrap();
    let via_root = engine
        .get_public_key(
            &alice(),
            &alias("root"),
            Some(&full),
            PublicKeyFormat::EthAddress,
        )
        .unwrap();
    let via_child = engine
        .get_public_key(
            &alice(),
            &alias("acct"),
            Some(&tail),
            PublicKeyFormat::EthAddress,
        )
        .unwrap();
    assert_eq!(via_root, via_child);
    assert_eq!(
        engine
            .get_public_key(&alice(), &alias("acct"), None, PublicKeyFormat::Xpub)
            .unwrap()
            .text
            .unwrap(),
        xpub
    );

    // Ed25519 SLIP-10: hardened only.
    engine
        .generate_key(
            &alice(),
            KeySpec::Hd(HdScheme::Slip10Ed25519),
            KeyOptions::alias("sol"),
        )
        .unwrap();
    let ok = DerivationPath::parse("m/44'/501'/0'/0'").unwrap();
    let sig = engine
        .sign(
            &alice(),
            &alias("sol"),
            Some(&ok),
            None,
            Payload::Message(b"m"),
        )
        .unwrap();
    assert!(
        engine
            .verify(
                &alice(),
                &alias("sol"),
                Some(&ok),
                None,
                Payload::Message(b"m"),
                &sig
            )
            .unwrap()
    );
    let soft = DerivationPath::parse("m/44'/501'/0").unwrap();
    assert_eq!(
        engine
            .derive_key(&alice(), &alias("sol"), &soft, None)
            .unwrap_err()
            .code(),
        ErrorCode::InvalidPath
    );
    // A path on a single key is refused.
    engine
        .generate_key(
            &alice(),
            KeySpec::Single(Algorithm::Ed25519),
            KeyOptions::alias("single"),
        )
        .unwrap();
    assert_eq!(
        engine
            .sign(
                &alice(),
                &alias("single"),
                Some(&ok),
                None,
                Payload::Message(b"m")
            )
            .unwrap_err()
            .code(),
        ErrorCode::InvalidPath
    );
}

#[test]
fn failing_sealer_fails_closed() {
    struct Broken;
    impl crate::Sealer for Broken {
        fn name(&self) -> String {
            "broken".into()
        }
        fn open_key(&self, _: &crate::KeyRequest<'_>) -> Result<crate::WrappingKeyInfo> {
            Ok(crate::WrappingKeyInfo {
                label: "broken".into(),
                level_requested: "tee".into(),
                level_obtained: "tee".into(),
                created: true,
            })
        }
        fn seal(&self, _: &[u8], _: &[u8]) -> Result<Vec<u8>> {
            Err(Error::sealer(
                crate::SealerErrorKind::Unavailable,
                "hardware busy",
            ))
        }
        fn unseal(&self, _: &[u8], _: &[u8]) -> Result<crate::SecretBytes> {
            Err(Error::sealer(
                crate::SealerErrorKind::KeyInvalidated,
                "key gone",
            ))
        }
    }
    let err = Keyhold::open(
        Box::new(MemoryStore::new()),
        Arc::new(Broken),
        Config::default(),
    )
    .unwrap_err();
    assert_eq!(err.code(), ErrorCode::SealerUnavailable);
    // Sealers that leak or do not round-trip: engine/attach/tests.rs.
}

#[test]
fn concurrent_first_use_unseals_once() {
    let (engine, sealer) = counting_engine(Config::default());
    let engine = Arc::new(engine);
    engine
        .generate_key(
            &alice(),
            KeySpec::Single(Algorithm::Secp256k1),
            KeyOptions::alias("hot"),
        )
        .unwrap();
    engine.lock();
    let before = sealer.unseal_count();
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let e = Arc::clone(&engine);
            std::thread::spawn(move || {
                for _ in 0..20 {
                    e.sign(
                        &alice(),
                        &alias("hot"),
                        None,
                        None,
                        Payload::Digest(&DIGEST),
                    )
                    .unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(sealer.unseal_count(), before + 1);
}
