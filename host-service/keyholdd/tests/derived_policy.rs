//! Issue 10 item 2 through the real daemon: a key stored by `derive_key`
//! (and `agree`) cannot be looser than its source. The attack run's case:
//! a root limited to 2 uses and to sign + derive, derived with
//! `store_as_alias` and the caller's own (empty = "everything") policy,
//! became an unlimited copy allowing every operation.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure

mod common;

use common::TestDaemon;
use keyhold_core::{
    Agreement, Algorithm, DerivationPath, ErrorCode, HdScheme, KdfParams, KeyOptions, KeyPolicy,
    KeyRef, KeySpec, Operation, OperationSet, Payload, PublicKeyFormat,
};

fn alias(a: &str) -> KeyRef {
    KeyRef::Alias(a.into())
}

fn limited(alias: &str, uses: u64, ops: &[Operation]) -> KeyOptions {
    KeyOptions {
        alias: alias.into(),
        policy: KeyPolicy {
            allowed_operations: Some(OperationSet::of(ops)),
            max_uses: Some(uses),
            ..KeyPolicy::default()
        },
        bind_to_caller_code: false,
    }
}

#[test]
fn derived_and_agreed_keys_keep_their_sources_limits() {
    let daemon = TestDaemon::start(&[]);
    let mut c = daemon.client();
    c.generate_key(
        KeySpec::Hd(HdScheme::Bip32Secp256k1),
        &limited("root", 2, &[Operation::Sign, Operation::DeriveKey]),
    )
    .unwrap();
    let path = DerivationPath::parse("m/44'/60'/0'").unwrap();
    let derived = c
        .derive_key(&alias("root"), &path, Some(&KeyOptions::alias("copy")))
        .unwrap();
    let child = derived.stored.expect("stored");
    assert_eq!(
        child.policy.max_uses,
        Some(1),
        "capped at the root's remaining use"
    );
    assert_eq!(
        child.policy.allowed_operations,
        Some(OperationSet::of(&[Operation::Sign, Operation::DeriveKey]))
    );
    // The loosened uses the attack went for are refused.
    assert_eq!(
        c.get_public_key(&alias("copy"), None, PublicKeyFormat::SpkiDer)
            .unwrap_err()
            .code(),
        Some(ErrorCode::OperationNotAllowed)
    );
    let digest = Payload::Digest(&[0x11; 32]);
    c.sign(&alias("copy"), None, None, digest).unwrap();
    assert_eq!(
        c.sign(&alias("copy"), None, None, digest)
            .unwrap_err()
            .code(),
        Some(ErrorCode::UsageLimitExceeded)
    );
    // The root's last use: a child stored now would have none.
    assert_eq!(
        c.derive_key(&alias("root"), &path, Some(&KeyOptions::alias("copy2")))
            .unwrap_err()
            .code(),
        Some(ErrorCode::UsageLimitExceeded)
    );

    // Explicitly wider requests are refused and store nothing.
    c.generate_key(
        KeySpec::Hd(HdScheme::Bip32Secp256k1),
        &limited("root5", 5, &[Operation::Sign, Operation::DeriveKey]),
    )
    .unwrap();
    for (i, policy) in [
        KeyPolicy {
            max_uses: Some(1000),
            ..KeyPolicy::default()
        },
        KeyPolicy {
            allowed_operations: Some(OperationSet::of(&[
                Operation::Sign,
                Operation::GetPublicKey,
            ])),
            ..KeyPolicy::default()
        },
    ]
    .into_iter()
    .enumerate()
    {
        let options = KeyOptions {
            alias: format!("wide{i}"),
            policy,
            bind_to_caller_code: false,
        };
        assert_eq!(
            c.derive_key(&alias("root5"), &path, Some(&options))
                .unwrap_err()
                .code(),
            Some(ErrorCode::InvalidArgument)
        );
        assert_eq!(
            c.get_key_info(&alias(&format!("wide{i}")))
                .unwrap_err()
                .code(),
            Some(ErrorCode::KeyNotFound)
        );
    }

    // Agreement: the stored AES key inherits the remaining uses.
    c.generate_key(
        KeySpec::Single(Algorithm::X25519),
        &limited("x", 2, &[Operation::Agree]),
    )
    .unwrap();
    let peer = c
        .generate_key(
            KeySpec::Single(Algorithm::X25519),
            &KeyOptions::alias("peer"),
        )
        .unwrap()
        .public_key;
    let kdf = KdfParams {
        length: 32,
        ..KdfParams::default()
    };
    let Agreement::Stored(aes) = c
        .agree(&alias("x"), &peer, &kdf, Some(&KeyOptions::alias("aes")))
        .unwrap()
    else {
        panic!("expected a stored key")
    };
    assert_eq!(aes.policy.max_uses, Some(1));
    c.encrypt(&alias("aes"), b"m", b"").unwrap();
    assert_eq!(
        c.encrypt(&alias("aes"), b"m", b"").unwrap_err().code(),
        Some(ErrorCode::UsageLimitExceeded)
    );
}

#[test]
fn aliases_that_look_alike_name_one_key_or_are_refused() {
    // Issue 10 item 6 through the daemon (the rule is crate::alias).
    let daemon = TestDaemon::start(&[]);
    let mut c = daemon.client();
    let info = c
        .generate_key(
            KeySpec::Single(Algorithm::Ed25519),
            &KeyOptions::alias("wallet"),
        )
        .unwrap();
    for twin in ["Wallet", "WALLET", "wa11et"] {
        assert_eq!(
            c.generate_key(
                KeySpec::Single(Algorithm::Ed25519),
                &KeyOptions::alias(twin)
            )
            .unwrap_err()
            .code(),
            Some(ErrorCode::AliasExists),
            "{twin}"
        );
        assert_eq!(c.get_key_info(&alias(twin)).unwrap().id, info.id, "{twin}");
    }
    for bad in [
        "wal\u{200B}let",
        "\u{202E}tellaw",
        "w\u{0430}llet",
        "\u{FF57}allet",
        "wallet\u{2066}",
    ] {
        assert_eq!(
            c.generate_key(KeySpec::Single(Algorithm::Ed25519), &KeyOptions::alias(bad))
                .unwrap_err()
                .code(),
            Some(ErrorCode::InvalidArgument),
            "{bad:?}"
        );
    }
    // NFD input is stored and found as its NFC form.
    let cafe = c
        .generate_key(
            KeySpec::Single(Algorithm::Ed25519),
            &KeyOptions::alias("cafe\u{301}"),
        )
        .unwrap();
    assert_eq!(cafe.alias, "caf\u{e9}");
    assert_eq!(c.get_key_info(&alias("CAF\u{c9}")).unwrap().id, cafe.id);
}
