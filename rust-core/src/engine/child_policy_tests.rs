//! Issue 10 item 2: a key created from another key (derive with
//! `store_as`, agree with a stored result) never gets a looser policy than
//! its source. The rule itself is `KeyPolicy::narrowed_for_child`; these
//! tests drive it through the engine's real paths.

use super::*;
use crate::algorithm::{Algorithm, HdScheme, Operation, PublicKeyFormat};
use crate::caller::CallerRule;
use crate::crypto::Payload;
use crate::error::ErrorCode;
use crate::hd::DerivationPath;
use crate::key::KeyRef;
use crate::policy::{KeyPolicy, OperationSet};
use crate::store::MemoryStore;

fn alice_with_exe(exe: u8) -> Caller {
    Caller::Unix {
        uid: 1000,
        gid: 1000,
        pid: 10,
        exe_sha256: Some([exe; 32]),
    }
}

fn alice() -> Caller {
    alice_with_exe(0xa1)
}

fn engine() -> Keyhold {
    let sealer = Arc::new(crate::sealer::SoftwareSealer::ephemeral().unwrap());
    Keyhold::open(Box::new(MemoryStore::new()), sealer, Config::default()).unwrap()
}

fn alias(a: &str) -> KeyRef {
    KeyRef::Alias(a.into())
}

fn path(p: &str) -> DerivationPath {
    DerivationPath::parse(p).unwrap()
}

/// The policy of the attack run (with 2 uses): sign and derive only.
fn limited_root(engine: &Keyhold, bind_code: bool, uses: u64) {
    let options = KeyOptions {
        alias: "root".into(),
        policy: KeyPolicy {
            allowed_operations: Some(OperationSet::of(&[Operation::Sign, Operation::DeriveKey])),
            max_uses: Some(uses),
            ..KeyPolicy::default()
        },
        bind_to_caller_code: bind_code,
    };
    engine
        .generate_key(&alice(), KeySpec::Hd(HdScheme::Bip32Secp256k1), options)
        .unwrap();
}

fn sign(engine: &Keyhold, caller: &Caller, key: &str) -> Result<Vec<u8>> {
    engine.sign(caller, &alias(key), None, None, Payload::Digest(&[7; 32]))
}

#[test]
fn an_unlimited_all_operations_request_gets_the_sources_limits() {
    let engine = engine();
    limited_root(&engine, false, 2);
    // The attack: store the child with a policy the caller chooses (none:
    // "everything, unlimited").
    let derived = engine
        .derive_key(
            &alice(),
            &alias("root"),
            &path("m/44'/60'/0'"),
            Some(KeyOptions::alias("copy")),
        )
        .unwrap();
    let child = derived.stored.unwrap().policy;
    assert_eq!(
        child.allowed_operations,
        Some(OperationSet::of(&[Operation::Sign, Operation::DeriveKey]))
    );
    // Root had 2 uses; the derivation spent one, so the child gets 1.
    assert_eq!(child.max_uses, Some(1));
    assert_eq!(
        engine
            .get_public_key(
                &alice(),
                &alias("copy"),
                None,
                PublicKeyFormat::Sec1Compressed
            )
            .unwrap_err()
            .code(),
        ErrorCode::OperationNotAllowed
    );
    sign(&engine, &alice(), "copy").unwrap();
    assert_eq!(
        sign(&engine, &alice(), "copy").unwrap_err().code(),
        ErrorCode::UsageLimitExceeded
    );
}

#[test]
fn explicitly_looser_requests_are_refused_and_store_nothing() {
    let engine = engine();
    limited_root(&engine, false, 5);
    let looser = [
        KeyPolicy {
            allowed_operations: Some(OperationSet::of(&[
                Operation::Sign,
                Operation::GetPublicKey,
            ])),
            ..KeyPolicy::default()
        },
        KeyPolicy {
            max_uses: Some(100),
            ..KeyPolicy::default()
        },
    ];
    for (i, policy) in looser.into_iter().enumerate() {
        let err = engine
            .derive_key(
                &alice(),
                &alias("root"),
                &path("m/0"),
                Some(KeyOptions {
                    alias: format!("wide{i}"),
                    policy,
                    bind_to_caller_code: false,
                }),
            )
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidArgument, "{err}");
        assert_eq!(
            engine
                .get_key_info(&alice(), &alias(&format!("wide{i}")))
                .unwrap_err()
                .code(),
            ErrorCode::KeyNotFound
        );
    }
}

#[test]
fn a_source_with_no_uses_left_cannot_store_a_child() {
    let engine = engine();
    limited_root(&engine, false, 2);
    sign(&engine, &alice(), "root").unwrap();
    // This derivation spends the last use: the child would have none.
    let err = engine
        .derive_key(
            &alice(),
            &alias("root"),
            &path("m/1"),
            Some(KeyOptions::alias("c")),
        )
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::UsageLimitExceeded);
}

#[test]
fn a_code_bound_source_gives_code_bound_children() {
    let engine = engine();
    limited_root(&engine, true, 5);
    // Same uid, other binary: refused on the root...
    let other_exe = alice_with_exe(0xbb);
    assert_eq!(
        sign(&engine, &other_exe, "root").unwrap_err().code(),
        ErrorCode::PermissionDenied
    );
    // ...and on a child stored with the default (empty) caller list.
    engine
        .derive_key(
            &alice(),
            &alias("root"),
            &path("m/2"),
            Some(KeyOptions::alias("c")),
        )
        .unwrap();
    assert_eq!(
        sign(&engine, &other_exe, "c").unwrap_err().code(),
        ErrorCode::PermissionDenied
    );
    // A rule naming only the uid is wider than the root's: refused.
    let wide = KeyOptions {
        alias: "uid-only".into(),
        policy: KeyPolicy {
            allowed_callers: vec![CallerRule {
                uid: Some(1000),
                ..CallerRule::default()
            }],
            ..KeyPolicy::default()
        },
        bind_to_caller_code: false,
    };
    let err = engine
        .derive_key(&alice(), &alias("root"), &path("m/3"), Some(wide))
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidArgument, "{err}");
}

#[test]
fn path_prefixes_are_rerooted_and_grandchildren_stay_inside() {
    let engine = engine();
    let options = KeyOptions {
        alias: "root".into(),
        policy: KeyPolicy {
            allowed_path_prefixes: vec![path("m/44'/60'")],
            ..KeyPolicy::default()
        },
        bind_to_caller_code: false,
    };
    engine
        .generate_key(&alice(), KeySpec::Hd(HdScheme::Bip32Secp256k1), options)
        .unwrap();
    // Outside the prefix: no child at all.
    assert_eq!(
        engine
            .derive_key(
                &alice(),
                &alias("root"),
                &path("m/44'/0'"),
                Some(KeyOptions::alias("btc"))
            )
            .unwrap_err()
            .code(),
        ErrorCode::PathNotAllowed
    );
    // Inside: a child asking for its own prefix keeps it.
    let child = engine
        .derive_key(
            &alice(),
            &alias("root"),
            &path("m/44'/60'/0'"),
            Some(KeyOptions {
                alias: "acct".into(),
                policy: KeyPolicy {
                    allowed_path_prefixes: vec![path("m/0")],
                    ..KeyPolicy::default()
                },
                bind_to_caller_code: false,
            }),
        )
        .unwrap()
        .stored
        .unwrap();
    assert_eq!(child.policy.allowed_path_prefixes, vec![path("m/0")]);
    // And the grandchild of that child inherits the child's prefix.
    assert_eq!(
        engine
            .derive_key(
                &alice(),
                &alias("acct"),
                &path("m/1"),
                Some(KeyOptions::alias("g"))
            )
            .unwrap_err()
            .code(),
        ErrorCode::PathNotAllowed
    );
    let g = engine
        .derive_key(
            &alice(),
            &alias("acct"),
            &path("m/0/5"),
            Some(KeyOptions::alias("g")),
        )
        .unwrap()
        .stored
        .unwrap();
    assert!(g.policy.allowed_path_prefixes.is_empty());
}

#[test]
fn an_agreement_result_inherits_callers_and_remaining_uses() {
    let engine = engine();
    let options = KeyOptions {
        alias: "x".into(),
        policy: KeyPolicy {
            allowed_operations: Some(OperationSet::of(&[Operation::Agree])),
            max_uses: Some(3),
            ..KeyPolicy::default()
        },
        bind_to_caller_code: true,
    };
    engine
        .generate_key(&alice(), KeySpec::Single(Algorithm::X25519), options)
        .unwrap();
    let peer = crate::crypto::PrivateKey::generate(Algorithm::X25519)
        .unwrap()
        .public_key()
        .unwrap()
        .canonical_bytes();
    let kdf = KdfParams {
        length: 32,
        ..KdfParams::default()
    };
    let Agreement::Stored(info) = engine
        .agree(
            &alice(),
            &alias("x"),
            &peer,
            &kdf,
            Some(KeyOptions::alias("aes")),
        )
        .unwrap()
    else {
        panic!("expected a stored key")
    };
    assert_eq!(info.policy.max_uses, Some(2));
    assert_eq!(info.policy.allowed_callers[0].code_sha256, Some([0xa1; 32]));
    // Its own kind of use is allowed (the agreement already yields this
    // secret), bounded by the inherited uses and callers.
    engine.encrypt(&alice(), &alias("aes"), b"m", b"").unwrap();
    assert_eq!(
        engine
            .encrypt(&alice_with_exe(0xbb), &alias("aes"), b"m", b"")
            .unwrap_err()
            .code(),
        ErrorCode::PermissionDenied
    );
    engine.encrypt(&alice(), &alias("aes"), b"m", b"").unwrap();
    assert_eq!(
        engine
            .encrypt(&alice(), &alias("aes"), b"m", b"")
            .unwrap_err()
            .code(),
        ErrorCode::UsageLimitExceeded
    );
    // Asking for more uses than remain is refused.
    let err = engine
        .agree(
            &alice(),
            &alias("x"),
            &peer,
            &kdf,
            Some(KeyOptions {
                alias: "aes2".into(),
                policy: KeyPolicy {
                    max_uses: Some(50),
                    ..KeyPolicy::default()
                },
                bind_to_caller_code: false,
            }),
        )
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidArgument);
}
