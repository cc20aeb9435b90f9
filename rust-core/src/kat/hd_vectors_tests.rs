//! Published test vectors for HD derivation and mnemonics.
//!
//! Sources:
//! - BIP32 test vectors 1-4 (bitcoin/bips `bip-0032.mediawiki`):
//!   `tests/vectors/bip32.txt`; test vector 5 (invalid extended keys):
//!   `tests/vectors/bip32_invalid.txt`;
//! - BIP39: trezor/python-mnemonic `vectors.json`, English, passphrase
//!   "TREZOR": `tests/vectors/bip39_trezor_vectors.json`;
//! - SLIP-10 (satoshilabs/slips `slip-0010.md`), secp256k1, nist256p1 and
//!   ed25519 vectors 1 and 2 plus the nist256p1 retry vectors:
//!   `tests/vectors/slip10.txt`;
//! - BIP84 (bitcoin/bips `bip-0084.mediawiki`, "Test vectors"): the
//!   P2WPKH addresses of the "abandon … about" mnemonic (inline below).

use crate::ErrorCode;
use crate::algorithm::{HdScheme, PublicKeyFormat};
use crate::crypto::PublicKey;
use crate::encoding::EncodePublicKey as _;
use crate::hd::*;

fn hx(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

fn data_lines(text: &str) -> impl Iterator<Item = Vec<&str>> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| l.split_whitespace().collect())
}

#[test]
fn bip32_test_vectors_1_to_4() {
    let mut master = None;
    let (mut vectors, mut chains) = (0, 0);
    for f in data_lines(include_str!("../../tests/vectors/bip32.txt")) {
        match f[0] {
            "vector" => vectors += 1,
            "seed" => {
                master = Some(
                    ExtendedPrivateKey::from_seed(HdScheme::Bip32Secp256k1, &hx(f[1])).unwrap(),
                );
            }
            path => {
                let (xpub, xprv) = (f[1], f[2]);
                let node = master
                    .as_ref()
                    .unwrap()
                    .derive(&DerivationPath::parse(path).unwrap())
                    .unwrap();
                assert_eq!(node.xpub().unwrap(), xpub, "vector {vectors} {path}: xpub");
                assert_eq!(
                    node.to_xprv().as_str(),
                    xprv,
                    "vector {vectors} {path}: xprv"
                );
                // The xprv imports back to the same node.
                let imported = ExtendedPrivateKey::from_xprv(xprv).unwrap();
                assert_eq!(imported.xpub().unwrap(), xpub);
                assert_eq!(imported.to_xprv().as_str(), xprv);
                assert!(
                    imported
                        .to_secret_bytes()
                        .ct_eq(node.to_secret_bytes().expose())
                );
                chains += 1;
            }
        }
    }
    assert_eq!((vectors, chains), (4, 17));
}

#[test]
fn bip32_derivation_is_incremental() {
    // Deriving m/0'/1 then /2' equals deriving m/0'/1/2' at once.
    let master = ExtendedPrivateKey::from_seed(
        HdScheme::Bip32Secp256k1,
        &hx("000102030405060708090a0b0c0d0e0f"),
    )
    .unwrap();
    let step = master
        .derive(&DerivationPath::parse("m/0'/1").unwrap())
        .unwrap()
        .derive(&DerivationPath::parse("m/2'").unwrap())
        .unwrap();
    let direct = master
        .derive(&DerivationPath::parse("m/0'/1/2'").unwrap())
        .unwrap();
    assert_eq!(step.xpub().unwrap(), direct.xpub().unwrap());
    assert_eq!(step.to_xprv().as_str(), direct.to_xprv().as_str());
}

#[test]
fn bip32_test_vector_5_invalid_keys_are_rejected() {
    let mut n = 0;
    for line in include_str!("../../tests/vectors/bip32_invalid.txt")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let (key, reason) = line.split_once(' ').unwrap();
        let err = ExtendedPrivateKey::from_xprv(key).unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidKeyMaterial, "{reason}");
        let text = err.to_string();
        assert!(!text.contains(key), "the key is not echoed: {text}");
        n += 1;
    }
    assert_eq!(n, 16);
}

/// The quoted strings of a JSON document, in order (enough for vectors.json,
/// whose strings contain no escapes).
fn json_strings(text: &str) -> Vec<&str> {
    text.split('"').skip(1).step_by(2).collect()
}

#[test]
fn bip39_trezor_vectors() {
    let strings = json_strings(include_str!(
        "../../tests/vectors/bip39_trezor_vectors.json"
    ));
    assert_eq!(strings[0], "english");
    let entries: Vec<&[&str]> = strings[1..].chunks(4).collect();
    assert_eq!(entries.len(), 24);
    for e in entries {
        let (entropy, phrase, seed, xprv) = (e[0], e[1], e[2], e[3]);
        let ours = mnemonic_to_seed(phrase, "TREZOR").unwrap();
        assert_eq!(hex::encode(ours.expose()), seed, "{entropy}: seed");
        let root = ExtendedPrivateKey::from_seed(HdScheme::Bip32Secp256k1, ours.expose()).unwrap();
        assert_eq!(root.to_xprv().as_str(), xprv, "{entropy}: xprv");
        // The mnemonic encodes the listed entropy (checksum and word list).
        let m = bip39::Mnemonic::parse_in_normalized(bip39::Language::English, phrase).unwrap();
        assert_eq!(hex::encode(m.to_entropy()), entropy);
    }
}

fn scheme_of(curve: &str) -> HdScheme {
    match curve {
        "secp256k1" => HdScheme::Bip32Secp256k1,
        "nist256p1" => HdScheme::Slip10P256,
        "ed25519" => HdScheme::Slip10Ed25519,
        other => panic!("unknown curve {other}"),
    }
}

/// SLIP-10's `serP`: compressed SEC1, or 0x00 || A for ed25519.
fn ser_p(public: &PublicKey) -> Vec<u8> {
    match public {
        PublicKey::Ed25519(k) => [&[0u8][..], k.as_bytes()].concat(),
        other => other.canonical_bytes(),
    }
}

#[test]
fn slip10_test_vectors() {
    let (mut scheme, mut master, mut chains) = (None, None, 0);
    for f in data_lines(include_str!("../../tests/vectors/slip10.txt")) {
        match f[0] {
            "curve" => scheme = Some(scheme_of(f[1])),
            "seed" => {
                master = Some(ExtendedPrivateKey::from_seed(scheme.unwrap(), &hx(f[1])).unwrap())
            }
            path => {
                let (fingerprint, chain_code, private, public) = (f[1], f[2], f[3], f[4]);
                let node = master
                    .as_ref()
                    .unwrap()
                    .derive(&DerivationPath::parse(path).unwrap())
                    .unwrap();
                let label = format!("{:?} {path}", scheme.unwrap());
                assert_eq!(
                    hex::encode(node.parent_fingerprint()),
                    fingerprint,
                    "{label}: fingerprint"
                );
                assert_eq!(
                    hex::encode(node.chain_code()),
                    chain_code,
                    "{label}: chain code"
                );
                assert_eq!(
                    hex::encode(node.private_key().unwrap().to_secret_bytes().expose()),
                    private,
                    "{label}: private"
                );
                assert_eq!(
                    hex::encode(ser_p(&node.public_key())),
                    public,
                    "{label}: public"
                );
                assert_eq!(
                    node.private_key().unwrap().public_key().unwrap(),
                    node.public_key()
                );
                chains += 1;
            }
        }
    }
    assert_eq!(chains, 40);
}

#[test]
fn bip84_addresses_from_the_abandon_mnemonic() {
    let seed = mnemonic_to_seed(
        "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about",
        "",
    )
    .unwrap();
    assert_eq!(
        hex::encode(seed.expose()),
        "5eb00bbddcf069084889a8ab9155568165f5c453ccb85e70811aaed6f6da5fc19a5ac40b389cd370d086206dec8aa6c43daea6690f20ad3d8d48b2d2ce9e38e4"
    );
    let root = ExtendedPrivateKey::from_seed(HdScheme::Bip32Secp256k1, seed.expose()).unwrap();
    for (path, public, address) in [
        (
            "m/84'/0'/0'/0/0",
            "0330d54fd0dd420a6e5f8d3624f5f3482cae350f79d5f0753bf5beef9c2d91af3c",
            "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu",
        ),
        (
            "m/84'/0'/0'/0/1",
            "03e775fd51f0dfb8cd865d9ff1cca2a158cf651fe997fdc9fee9c1d3b5e995ea77",
            "bc1qnjg0jd8228aq7egyzacy8cys3knf9xvrerkf9g",
        ),
        (
            "m/84'/0'/0'/1/0",
            "03025324888e429ab8e3dbaf1f7802648b9cd01e9b418485c5fa4c1b9b5700e1a6",
            "bc1q8c6fshw2dlwun7ekn9qwf37cu2rn755upcp6el",
        ),
    ] {
        let node = root.derive(&DerivationPath::parse(path).unwrap()).unwrap();
        let pk = node.public_key();
        assert_eq!(hex::encode(pk.canonical_bytes()), public, "{path}");
        assert_eq!(
            pk.encode(PublicKeyFormat::BtcP2wpkh)
                .unwrap()
                .text
                .as_deref(),
            Some(address),
            "{path}"
        );
    }
    // The same mnemonic's first BIP44 Ethereum account, as every wallet shows it.
    let eth = root
        .derive(&DerivationPath::parse("m/44'/60'/0'/0/0").unwrap())
        .unwrap();
    assert_eq!(
        eth.public_key()
            .encode(PublicKeyFormat::EthAddress)
            .unwrap()
            .text
            .as_deref(),
        Some("0x9858EfFD232B4033E47d90003D41EC34EcaEda94")
    );
}
