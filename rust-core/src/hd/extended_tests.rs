//! Unit tests of `ExtendedPrivateKey`; the published vectors are in
//! `vectors_tests.rs`.

use super::*;
use crate::ErrorCode;
use crate::algorithm::{Algorithm, SignatureScheme};
use crate::crypto::Payload;

const SEED: [u8; 16] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];

fn path(p: &str) -> DerivationPath {
    DerivationPath::parse(p).unwrap()
}

fn master(scheme: HdScheme) -> ExtendedPrivateKey {
    ExtendedPrivateKey::from_seed(scheme, &SEED).unwrap()
}

#[test]
fn seed_length_is_16_to_64_bytes() {
    for scheme in HdScheme::ALL {
        for len in [0, 15, 65, 128] {
            let err = ExtendedPrivateKey::from_seed(*scheme, &vec![1; len]).unwrap_err();
            assert_eq!(err.code(), ErrorCode::InvalidArgument, "{scheme} {len}");
        }
        // Any length in range, not only 16/32/64.
        for len in [16, 20, 33, 63, 64] {
            let node = ExtendedPrivateKey::from_seed(*scheme, &vec![1; len]).unwrap();
            assert_eq!(node.scheme(), *scheme);
        }
    }
}

#[test]
fn ed25519_derives_hardened_only() {
    let m = master(HdScheme::Slip10Ed25519);
    for p in ["m/0", "m/0'/1", "m/44'/501'/0'/0"] {
        assert_eq!(
            m.derive(&path(p)).unwrap_err().code(),
            ErrorCode::InvalidPath,
            "{p}"
        );
    }
    m.derive(&path("m/44'/501'/0'/0'")).unwrap();
    // The EC schemes do normal derivation.
    master(HdScheme::Slip10P256).derive(&path("m/0/1")).unwrap();
    master(HdScheme::Bip32Secp256k1)
        .derive(&path("m/0/1"))
        .unwrap();
}

#[test]
fn root_path_is_the_node_itself() {
    for scheme in HdScheme::ALL {
        let m = master(*scheme);
        let same = m.derive(&DerivationPath::root()).unwrap();
        assert!(same.to_secret_bytes().ct_eq(m.to_secret_bytes().expose()));
    }
}

#[test]
fn xpub_only_for_bip32() {
    assert!(
        master(HdScheme::Bip32Secp256k1)
            .xpub()
            .unwrap()
            .starts_with("xpub")
    );
    for scheme in [HdScheme::Slip10Ed25519, HdScheme::Slip10P256] {
        assert_eq!(
            master(scheme).xpub().unwrap_err().code(),
            ErrorCode::IncompatibleKey
        );
    }
}

#[test]
fn normal_child_public_keys_match_bip32_crate_public_derivation() {
    // CKDpub (the bip32 crate, from our xpub) equals CKDpriv (ours) for normal
    // indices: cross-checks the serP and tweak-add code paths.
    let node = master(HdScheme::Bip32Secp256k1)
        .derive(&path("m/44'/0'/0'"))
        .unwrap();
    let xpub: bip32::XPub = node.xpub().unwrap().parse().unwrap();
    for i in [0u32, 1, 7, 1000, 0x7fff_ffff] {
        let theirs = xpub.derive_child(bip32::ChildNumber(i)).unwrap();
        let ours = node.derive(&path(&format!("m/{i}"))).unwrap();
        assert_eq!(
            ours.xpub().unwrap(),
            theirs.to_extended_key(bip32::Prefix::XPUB).to_string(),
            "index {i}"
        );
    }
}

#[test]
fn secret_bytes_round_trip() {
    for scheme in HdScheme::ALL {
        let p = if *scheme == HdScheme::Slip10Ed25519 {
            "m/1'/2'/3'"
        } else {
            "m/1'/2/3"
        };
        for node in [master(*scheme), master(*scheme).derive(&path(p)).unwrap()] {
            let sealed = node.to_secret_bytes();
            assert_eq!(sealed.len(), 74);
            let back = ExtendedPrivateKey::from_secret_bytes(*scheme, sealed.expose()).unwrap();
            assert!(back.to_secret_bytes().ct_eq(sealed.expose()));
            assert_eq!(back.public_key(), node.public_key());
            let next = if *scheme == HdScheme::Slip10Ed25519 {
                "m/9'"
            } else {
                "m/9"
            };
            assert_eq!(
                back.derive(&path(next)).unwrap().public_key(),
                node.derive(&path(next)).unwrap().public_key()
            );
        }
    }
}

#[test]
fn corrupt_secret_bytes_are_refused() {
    let good = master(HdScheme::Bip32Secp256k1)
        .derive(&path("m/1"))
        .unwrap()
        .to_secret_bytes();
    let good = good.expose().to_vec();
    let mut cases: Vec<Vec<u8>> = vec![
        vec![],
        good[..73].to_vec(),
        [good.as_slice(), &[0]].concat(),
    ];
    let mut bad_version = good.clone();
    bad_version[0] = 2;
    cases.push(bad_version);
    let mut zero_key = good.clone();
    zero_key[42..].fill(0);
    cases.push(zero_key);
    let mut key_n = good.clone();
    key_n[42..].copy_from_slice(
        &hex::decode("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141").unwrap(),
    );
    cases.push(key_n);
    let root = master(HdScheme::Bip32Secp256k1).to_secret_bytes();
    let mut depth0_with_parent = root.expose().to_vec();
    depth0_with_parent[2] = 1;
    cases.push(depth0_with_parent);
    for (i, bytes) in cases.iter().enumerate() {
        let err =
            ExtendedPrivateKey::from_secret_bytes(HdScheme::Bip32Secp256k1, bytes).unwrap_err();
        assert_eq!(err.code(), ErrorCode::CorruptKeyRecord, "case {i}");
    }
    // A P-256 scalar above its order is refused too; any 32 bytes are an
    // Ed25519 seed.
    let mut p256_n = master(HdScheme::Slip10P256)
        .to_secret_bytes()
        .expose()
        .to_vec();
    p256_n[42..].fill(0xff);
    assert!(ExtendedPrivateKey::from_secret_bytes(HdScheme::Slip10P256, &p256_n).is_err());
    let mut ed = master(HdScheme::Slip10Ed25519)
        .to_secret_bytes()
        .expose()
        .to_vec();
    ed[42..].fill(0);
    ExtendedPrivateKey::from_secret_bytes(HdScheme::Slip10Ed25519, &ed).unwrap();
}

#[test]
fn depth_is_limited_to_255() {
    let deep = format!("m{}", "/1".repeat(255));
    let node = master(HdScheme::Bip32Secp256k1)
        .derive(&path(&deep))
        .unwrap();
    assert_eq!(
        node.derive(&path("m/1")).unwrap_err().code(),
        ErrorCode::InvalidPath
    );
    assert_eq!(
        node.derive(&DerivationPath::root()).unwrap().public_key(),
        node.public_key()
    );
}

#[test]
fn derived_keys_sign_with_their_public_key() {
    for (scheme, sig_scheme) in [
        (HdScheme::Bip32Secp256k1, SignatureScheme::EcdsaDer),
        (HdScheme::Slip10P256, SignatureScheme::EcdsaDer),
        (HdScheme::Slip10Ed25519, SignatureScheme::Ed25519),
    ] {
        let node = master(scheme).derive(&path("m/44'/1'")).unwrap();
        let key = node.private_key().unwrap();
        assert_eq!(key.algorithm(), scheme.algorithm());
        let sig = key.sign(sig_scheme, Payload::Message(b"hd")).unwrap();
        assert!(
            node.public_key()
                .verify(sig_scheme, Payload::Message(b"hd"), &sig)
                .unwrap()
        );
    }
}

#[test]
fn xprv_import_rejects_garbage_and_accepts_tprv() {
    for bad in [
        "",
        "xprv",
        " xprv9s21ZrQH143K3QTDL4LXw2F7HEK3wJUD2nW2nRk4stbPy6cq3jPPqjiChkVvvNKmPGJxWUtg6LnF5kejMRNNU3TGtRBeJgk33yuGBxrMPHi",
        "not base58 0OIl",
    ] {
        assert_eq!(
            ExtendedPrivateKey::from_xprv(bad).unwrap_err().code(),
            ErrorCode::InvalidKeyMaterial
        );
    }
    // An xpub is not a private key.
    let m = master(HdScheme::Bip32Secp256k1);
    assert_eq!(
        ExtendedPrivateKey::from_xprv(&m.xpub().unwrap())
            .unwrap_err()
            .code(),
        ErrorCode::InvalidKeyMaterial
    );
    // The same node under testnet version bytes imports to the same key.
    let mut ext: bip32::ExtendedKey = m.to_xprv().parse().unwrap();
    ext.prefix = bip32::Prefix::TPRV;
    let tprv = ext.to_string();
    assert!(tprv.starts_with("tprv"));
    let imported = ExtendedPrivateKey::from_xprv(&tprv).unwrap();
    assert_eq!(imported.public_key(), m.public_key());
    assert_eq!(imported.xpub().unwrap(), m.xpub().unwrap());
}

#[test]
fn debug_is_redacted() {
    for scheme in HdScheme::ALL {
        let node = master(*scheme);
        let shown = format!("{node:?} {node:#?}");
        assert!(shown.contains("[redacted]"));
        let sealed = node.to_secret_bytes();
        let key_hex = hex::encode(&sealed.expose()[42..]);
        let chain_hex = hex::encode(&sealed.expose()[10..42]);
        assert!(
            !shown.contains(&key_hex) && !shown.contains(&chain_hex),
            "{shown}"
        );
    }
}

#[test]
fn every_scheme_has_its_algorithm() {
    for scheme in HdScheme::ALL {
        let alg = master(*scheme).public_key().algorithm();
        assert_eq!(alg, scheme.algorithm());
        assert!(matches!(
            alg,
            Algorithm::Secp256k1 | Algorithm::P256 | Algorithm::Ed25519
        ));
    }
}
