//! Nothing secret is written unsealed: after importing known keys, a
//! mnemonic and a seed, the database file and its write-ahead log contain
//! none of their bytes (raw or hex); deleted keys' sealed blobs are gone too.

#![allow(clippy::unwrap_used)] // test helpers unwrap by design

use keyhold_core::{
    Algorithm, Caller, Config, HdScheme, ImportMaterial, KeyOptions, KeyRef, Keyhold, Payload,
    SecretBytes,
};
use std::path::Path;

fn alice() -> Caller {
    Caller::Unix {
        uid: 1000,
        gid: 1000,
        pid: 1,
        exe_sha256: None,
    }
}

fn files_of(dir: &Path) -> Vec<u8> {
    let mut all = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if name.starts_with("keyhold.db") {
            all.extend(std::fs::read(&path).unwrap());
        }
    }
    all
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

const MNEMONIC: &str =
    "legal winner thank year wave sausage worth useful legal winner thank yellow";

#[test]
fn database_and_wal_hold_no_secret_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let secp = [0x11u8; 32];
    let ed = [0x22u8; 32];
    let aes = [0x33u8; 32];
    let seed: Vec<u8> = (0u8..64).collect();
    let engine = Keyhold::open_in_dir(dir.path(), Config::default()).unwrap();
    let imports = [
        (
            "secp",
            ImportMaterial::RawPrivateKey {
                algorithm: Algorithm::Secp256k1,
                secret: SecretBytes::copy_from(&secp),
            },
        ),
        (
            "ed",
            ImportMaterial::RawPrivateKey {
                algorithm: Algorithm::Ed25519,
                secret: SecretBytes::copy_from(&ed),
            },
        ),
        (
            "aes",
            ImportMaterial::RawPrivateKey {
                algorithm: Algorithm::Aes256Gcm,
                secret: SecretBytes::copy_from(&aes),
            },
        ),
        (
            "seed",
            ImportMaterial::Seed {
                seed: SecretBytes::copy_from(&seed),
                scheme: HdScheme::Bip32Secp256k1,
            },
        ),
        (
            "words",
            ImportMaterial::Mnemonic {
                phrase: SecretBytes::copy_from(MNEMONIC.as_bytes()),
                passphrase: SecretBytes::copy_from(b"TREZOR"),
                scheme: HdScheme::Bip32Secp256k1,
            },
        ),
    ];
    for (alias, material) in imports {
        engine
            .import_key(&alice(), material, KeyOptions::alias(alias))
            .unwrap();
    }
    engine
        .sign(
            &alice(),
            &KeyRef::Alias("secp".into()),
            None,
            None,
            Payload::Digest(&[1; 32]),
        )
        .unwrap();
    engine.flush().unwrap();

    let bytes = files_of(dir.path());
    assert!(bytes.len() > 4096, "the scan must see the database");
    // Positive control: the scan does find what is stored in clear.
    assert!(contains(&bytes, b"words"));
    for secret in [
        &secp[..],
        &ed[..],
        &aes[..],
        &seed[..],
        &seed[..32],
        MNEMONIC.as_bytes(),
        b"legal winner thank",
    ] {
        assert!(!contains(&bytes, secret), "secret bytes found on disk");
        assert!(
            !contains(&bytes, hex::encode(secret).as_bytes()),
            "hex secret found on disk"
        );
    }
    drop(engine);
    let bytes = files_of(dir.path());
    assert!(!contains(&bytes, &secp));
}

#[test]
fn deleted_keys_leave_no_sealed_blob_behind() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Keyhold::open_in_dir(dir.path(), Config::default()).unwrap();
    let info = engine
        .import_key(
            &alice(),
            ImportMaterial::RawPrivateKey {
                algorithm: Algorithm::Ed25519,
                secret: SecretBytes::copy_from(&[0x44; 32]),
            },
            KeyOptions::alias("doomed"),
        )
        .unwrap();
    let sealed = {
        use keyhold_core::{KeyStore, SqliteStore};
        drop(engine);
        let mut store = SqliteStore::open(&dir.path().join("keyhold.db")).unwrap();
        let key = store
            .load_key(&alice().owner(), &KeyRef::Id(info.id), &mut |_| Ok(()))
            .unwrap();
        key.sealed_secret
    };
    assert!(contains(&files_of(dir.path()), &sealed));
    let engine = Keyhold::open_in_dir(dir.path(), Config::default()).unwrap();
    engine
        .delete_key(&alice(), &KeyRef::Alias("doomed".into()))
        .unwrap();
    drop(engine);
    assert!(
        !contains(&files_of(dir.path()), &sealed),
        "sealed blob survived deletion"
    );
}
