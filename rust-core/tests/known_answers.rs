//! End-to-end known answers through the public API: the BIP39 test mnemonic
//! "abandon ... about" (BIP39 test vectors, trezor/python-mnemonic
//! vectors.json, first entry, here with an empty passphrase) gives the
//! widely published BIP44 Ethereum account 0x9858EfFD232B4033E47d90003D41EC34EcaEda94
//! at m/44'/60'/0'/0/0 and the BIP84 address
//! bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu at m/84'/0'/0'/0/0 (BIP84 test
//! vectors, bitcoin/bips bip-0084.mediawiki).

#![allow(clippy::unwrap_used)] // test helpers unwrap by design

use keyhold_core::{
    Caller, Config, DerivationPath, ErrorCode, HdScheme, ImportMaterial, KeyOptions, KeyRef,
    Keyhold, MemoryStore, Payload, PublicKeyFormat, SecretBytes, SignatureScheme, SoftwareSealer,
};
use std::sync::Arc;

const ABANDON: &str =
    "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";

fn wallet() -> (Keyhold, Caller) {
    let engine = Keyhold::open(
        Box::new(MemoryStore::new()),
        Arc::new(SoftwareSealer::ephemeral().unwrap()),
        Config::default(),
    )
    .unwrap();
    let caller = Caller::Embedded {
        app_id: "test.wallet".into(),
    };
    engine
        .import_key(
            &caller,
            ImportMaterial::Mnemonic {
                phrase: SecretBytes::copy_from(ABANDON.as_bytes()),
                passphrase: SecretBytes::default(),
                scheme: HdScheme::Bip32Secp256k1,
            },
            KeyOptions::alias("wallet"),
        )
        .unwrap();
    (engine, caller)
}

fn path(p: &str) -> DerivationPath {
    DerivationPath::parse(p).unwrap()
}

#[test]
fn bip44_ethereum_and_bip84_bitcoin_addresses() {
    let (engine, caller) = wallet();
    let key = KeyRef::Alias("wallet".into());
    let text = |p: &str, format| {
        engine
            .get_public_key(&caller, &key, Some(&path(p)), format)
            .unwrap()
            .text
            .unwrap()
    };
    assert_eq!(
        text("m/44'/60'/0'/0/0", PublicKeyFormat::EthAddress),
        "0x9858EfFD232B4033E47d90003D41EC34EcaEda94"
    );
    assert_eq!(
        text("m/84'/0'/0'/0/0", PublicKeyFormat::BtcP2wpkh),
        "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu"
    );
    // BIP84 account xpub is serialised with xpub version bytes here (BIP32).
    let account = text("m/84'/0'/0'", PublicKeyFormat::Xpub);
    assert!(account.starts_with("xpub"));
}

#[test]
fn recoverable_signature_recovers_the_account_key() {
    let (engine, caller) = wallet();
    let key = KeyRef::Alias("wallet".into());
    let p = path("m/44'/60'/0'/0/0");
    let digest = [0x5au8; 32];
    let sig = engine
        .sign(
            &caller,
            &key,
            Some(&p),
            Some(SignatureScheme::EcdsaRecoverable),
            Payload::Digest(&digest),
        )
        .unwrap();
    assert_eq!(sig.len(), 65);
    assert!(sig[64] <= 1);
    let signature = k256::ecdsa::Signature::from_slice(&sig[..64]).unwrap();
    assert!(signature.normalize_s() == signature, "low-S");
    let recid = k256::ecdsa::RecoveryId::from_byte(sig[64]).unwrap();
    let recovered =
        k256::ecdsa::VerifyingKey::recover_from_prehash(&digest, &signature, recid).unwrap();
    let expected = engine
        .get_public_key(&caller, &key, Some(&p), PublicKeyFormat::Sec1Compressed)
        .unwrap();
    assert_eq!(
        recovered.to_sec1_point(true).as_bytes(),
        expected.bytes.as_slice()
    );
    assert!(
        engine
            .verify(
                &caller,
                &key,
                Some(&p),
                Some(SignatureScheme::EcdsaRecoverable),
                Payload::Digest(&digest),
                &sig
            )
            .unwrap()
    );
    let mut bad = sig.clone();
    bad[10] ^= 1;
    assert!(
        !engine
            .verify(
                &caller,
                &key,
                Some(&p),
                Some(SignatureScheme::EcdsaRecoverable),
                Payload::Digest(&digest),
                &bad
            )
            .unwrap()
    );
}

#[test]
fn other_apps_cannot_use_the_wallet() {
    let (engine, _) = wallet();
    let other = Caller::Embedded {
        app_id: "evil.app".into(),
    };
    let err = engine
        .sign(
            &other,
            &KeyRef::Alias("wallet".into()),
            None,
            None,
            Payload::Digest(&[1; 32]),
        )
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::KeyNotFound);
}
