//! The seed corpora, built from the published vectors ([`crate::vectors`])
//! and the fixture's keys. `seed_corpus` writes them to
//! `fuzz/corpus/<target>/` (a few hundred small files, regenerated on every
//! run rather than committed).

// Every proto message is built with `..Default::default()`, so a field
// added to keyhold.proto (as ListKeysRequest's paging was) does not break
// the seeds; clippy calls the update needless while no field is missing.
#![allow(clippy::needless_update)]

use crate::pb;
use crate::vectors;
use keyhold_core::Caller;
use prost::Message;

/// One seed: its file name and bytes.
pub type Seed = (String, Vec<u8>);

/// Every target's seeds.
pub fn all() -> Vec<(&'static str, Vec<Seed>)> {
    vec![
        ("handle", handle()),
        ("frame", frame()),
        ("identity", identity()),
        ("import_raw", import_raw()),
        ("import_pkcs8", import_pkcs8()),
        ("import_sec1", import_sec1()),
        ("import_seed", import_seed()),
        ("import_xprv", import_xprv()),
        ("mnemonic", mnemonic()),
        ("public_key", public_key()),
        ("derivation_path", derivation_path()),
    ]
}

fn request(operation: pb::request::Operation) -> Vec<u8> {
    pb::Request {
        version: keyhold_core::PROTOCOL_VERSION,
        operation: Some(operation),
        ..Default::default()
    }
    .encode_to_vec()
}

fn alias(a: &str) -> Option<pb::KeyRef> {
    Some(pb::KeyRef {
        by: Some(pb::key_ref::By::Alias(a.to_owned())),
        ..Default::default()
    })
}

fn import(material: pb::import_key_request::Material, algorithm: i32, hd: i32) -> Vec<u8> {
    request(pb::request::Operation::ImportKey(pb::ImportKeyRequest {
        alias: "imported".into(),
        policy: None,
        algorithm,
        hd_scheme: hd,
        material: Some(material),
        ..Default::default()
    }))
}

fn sign(key: &str, scheme: i32, message: &[u8], path: &str) -> Vec<u8> {
    request(pb::request::Operation::Sign(pb::SignRequest {
        key: alias(key),
        scheme,
        payload: Some(pb::sign_request::Payload::Message(message.to_vec())),
        path: path.into(),
        ..Default::default()
    }))
}

fn verify(key: &str, scheme: i32, message: &[u8], signature: &[u8]) -> Vec<u8> {
    request(pb::request::Operation::Verify(pb::VerifyRequest {
        key: alias(key),
        scheme,
        payload: Some(pb::verify_request::Payload::Message(message.to_vec())),
        signature: signature.to_vec(),
        path: String::new(),
        ..Default::default()
    }))
}

fn get_public_key(key: &str, format: i32, path: &str) -> Vec<u8> {
    request(pb::request::Operation::GetPublicKey(
        pb::GetPublicKeyRequest {
            key: alias(key),
            format,
            path: path.into(),
            ..Default::default()
        },
    ))
}

fn derive(key: &str, path: &str, store: &str) -> Vec<u8> {
    request(pb::request::Operation::DeriveKey(pb::DeriveKeyRequest {
        key: alias(key),
        path: path.into(),
        store_as_alias: store.into(),
        policy: None,
        ..Default::default()
    }))
}

fn agree(key: &str, peer: &[u8], store: &str) -> Vec<u8> {
    request(pb::request::Operation::Agree(pb::AgreeRequest {
        key: alias(key),
        peer_public_key: peer.to_vec(),
        hkdf_salt: b"salt".to_vec(),
        hkdf_info: b"info".to_vec(),
        output_length: 32,
        store_as_alias: store.into(),
        policy: None,
        ..Default::default()
    }))
}

/// The `handle` input format: records of `[caller][len u16 LE][request]`;
/// a caller byte with the high bit set goes through `handle_with_identity`.
pub fn handle_input(records: &[(u8, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (caller, body) in records {
        out.push(*caller);
        let len = u16::try_from(body.len()).unwrap_or(u16::MAX);
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&body[..usize::from(len)]);
    }
    out
}

/// Single requests covering every operation, built from the vectors.
pub fn requests() -> Vec<(String, Vec<u8>)> {
    use pb::import_key_request::Material as M;
    let mut out: Vec<(String, Vec<u8>)> = Vec::new();
    let mut push = |name: String, bytes: Vec<u8>| out.push((name, bytes));
    for (i, v) in vectors::bip39().iter().enumerate().step_by(4) {
        let mnemonic = M::Mnemonic(pb::Mnemonic {
            phrase: v.mnemonic.as_bytes().to_vec(),
            passphrase: vectors::BIP39_PASSPHRASE.as_bytes().to_vec(),
            ..Default::default()
        });
        push(format!("import-mnemonic-{i}"), import(mnemonic, 0, 1));
        push(
            format!("import-xprv-bip39-{i}"),
            import(M::Xprv(v.xprv.clone().into_bytes()), 0, 0),
        );
    }
    for (i, chain) in vectors::bip32().iter().enumerate() {
        push(
            format!("import-seed-bip32-{i}"),
            import(M::Seed(chain.seed.clone()), 0, 1),
        );
        for (j, (path, xprv)) in chain.paths.iter().enumerate() {
            push(
                format!("import-xprv-bip32-{i}-{j}"),
                import(M::Xprv(xprv.clone().into_bytes()), 0, 0),
            );
            push(format!("derive-bip32-{i}-{j}"), derive("hd", path, ""));
            push(format!("xpub-bip32-{i}-{j}"), get_public_key("hd", 7, path));
        }
    }
    for (i, xprv) in vectors::bip32_invalid().iter().enumerate() {
        push(
            format!("import-xprv-invalid-{i}"),
            import(M::Xprv(xprv.clone().into_bytes()), 0, 0),
        );
    }
    for (i, chain) in vectors::slip10().iter().enumerate() {
        let (scheme, key) = match chain.curve.as_str() {
            "ed25519" => (2, "hd-ed"),
            "nist256p1" => (3, "hd-p256"),
            _ => (1, "hd"),
        };
        push(
            format!("import-seed-slip10-{i}"),
            import(M::Seed(chain.seed.clone()), 0, scheme),
        );
        for (j, (path, _)) in chain.paths.iter().enumerate() {
            push(format!("derive-slip10-{i}-{j}"), derive(key, path, ""));
            push(
                format!("sign-slip10-{i}-{j}"),
                sign(key, 0, b"keyhold", path),
            );
        }
    }
    for (name, bytes) in vectors::OPENSSL {
        let material = if name.contains("pkcs8") {
            M::Pkcs8(bytes.to_vec())
        } else if name.contains("sec1") {
            M::Sec1(bytes.to_vec())
        } else {
            continue;
        };
        push(format!("import-{name}"), import(material, 0, 0));
    }
    for (name, peer, key) in [
        ("secp256k1-pub.der", "secp256k1-pub.der", "k1"),
        ("secp256k1-pub.pem", "secp256k1-pub.pem", "k1"),
        ("p256-pub.der", "p256-pub.der", "p256"),
        ("p256-pub.pem", "p256-pub.pem", "p256"),
        ("x25519-pub.der", "x25519-pub.der", "x"),
        ("x25519-pub.pem", "x25519-pub.pem", "x"),
    ] {
        push(
            format!("agree-{name}"),
            agree(key, vectors::openssl(peer), ""),
        );
        push(
            format!("agree-store-{name}"),
            agree(key, vectors::openssl(peer), "shared"),
        );
    }
    for (i, v) in vectors::bip340().iter().enumerate() {
        push(
            format!("agree-bip340-xonly-{i}"),
            agree("k1", &v.public, ""),
        );
        push(
            format!("verify-bip340-{i}"),
            verify("k1", 4, &v.message, &v.signature),
        );
        push(format!("sign-bip340-{i}"), sign("k1", 4, &v.message, ""));
    }
    for (i, v) in vectors::rfc8032().iter().enumerate() {
        push(format!("sign-ed25519-{i}"), sign("ed", 5, &v.message, ""));
        push(
            format!("verify-ed25519-{i}"),
            verify("ed", 5, &v.message, &v.signature),
        );
        push(format!("agree-x25519-raw-{i}"), agree("x", &v.public, ""));
        push(
            format!("import-raw-ed25519-{i}"),
            import(M::RawPrivateKey(v.secret.clone()), 3, 0),
        );
    }
    for (key, scheme) in [
        ("k1", 1),
        ("k1", 2),
        ("k1", 3),
        ("k1-once", 3),
        ("bound", 1),
        ("p256", 1),
        ("p256", 2),
        ("hmac", 6),
        ("hd-eth", 3),
    ] {
        push(
            format!("sign-{key}-{scheme}"),
            sign(key, scheme, b"abc", ""),
        );
    }
    push(
        "sign-eth-path".into(),
        sign("hd-eth", 3, b"tx", "m/44'/60'/0'/0/0"),
    );
    push(
        "derive-eth-store".into(),
        derive("hd-eth", "m/44'/60'/0'", "child"),
    );
    for key in [
        "k1", "p256", "ed", "x", "hd", "hd-ed", "hd-p256", "hd-eth", "aes",
    ] {
        for format in 1..=9 {
            push(
                format!("pub-{key}-{format}"),
                get_public_key(key, format, ""),
            );
        }
    }
    push(
        "encrypt".into(),
        request(pb::request::Operation::Encrypt(pb::EncryptRequest {
            key: alias("aes"),
            plaintext: b"plaintext".to_vec(),
            associated_data: b"aad".to_vec(),
            ..Default::default()
        })),
    );
    push(
        "decrypt".into(),
        request(pb::request::Operation::Decrypt(pb::DecryptRequest {
            key: alias("aes"),
            ciphertext: vec![0u8; 12 + 16 + 4],
            associated_data: Vec::new(),
            ..Default::default()
        })),
    );
    for alg in 1..=6 {
        push(
            format!("generate-{alg}"),
            request(pb::request::Operation::GenerateKey(
                pb::GenerateKeyRequest {
                    alias: format!("gen{alg}"),
                    algorithm: alg,
                    policy: Some(pb::KeyPolicy {
                        allowed_callers: Vec::new(),
                        allowed_operations: vec![4, 5],
                        allowed_path_prefixes: vec!["m/44'".into()],
                        max_uses: 2,
                        bind_to_caller_code: alg % 2 == 0,
                        ..Default::default()
                    }),
                    hd_scheme: if alg <= 3 { alg } else { 0 },
                    ..Default::default()
                },
            )),
        );
    }
    push(
        "delete-k1".into(),
        request(pb::request::Operation::DeleteKey(pb::DeleteKeyRequest {
            key: alias("k1"),
            ..Default::default()
        })),
    );
    push(
        "info-bound".into(),
        request(pb::request::Operation::GetKeyInfo(pb::GetKeyInfoRequest {
            key: alias("bound"),
            ..Default::default()
        })),
    );
    push(
        "list".into(),
        request(pb::request::Operation::ListKeys(
            pb::ListKeysRequest::default(),
        )),
    );
    push(
        "audit".into(),
        request(pb::request::Operation::AuditVerify(
            pb::AuditVerifyRequest::default(),
        )),
    );
    out
}

fn handle() -> Vec<Seed> {
    let requests = requests();
    let mut out: Vec<Seed> = Vec::new();
    for (i, (name, body)) in requests.iter().enumerate() {
        // Mostly the owner; every few seeds another caller or the identity path.
        let caller = [0u8, 0, 0, 1, 2, 3, 4, 0x80, 0x81, 0x83][i % 10];
        out.push((name.clone(), handle_input(&[(caller, body.clone())])));
    }
    // Sequences: create then use, use twice, delete then recreate.
    let find = |n: &str| {
        requests
            .iter()
            .find(|(name, _)| name == n)
            .map(|(_, b)| b.clone())
            .unwrap_or_else(|| panic!("no seed request {n}"))
    };
    out.push((
        "seq-limited-twice".into(),
        handle_input(&[(0, find("sign-k1-once-3")), (0, find("sign-k1-once-3"))]),
    ));
    out.push((
        "seq-delete-recreate".into(),
        handle_input(&[
            (0, find("delete-k1")),
            (1, find("generate-1")),
            (2, find("list")),
            (0, find("list")),
        ]),
    ));
    out.push((
        "seq-derive-store-use".into(),
        handle_input(&[
            (0, find("derive-eth-store")),
            (0, sign("child", 3, b"x", "m/0/0")),
            (1, find("sign-bound-1")),
        ]),
    ));
    out
}

fn frame() -> Vec<Seed> {
    let requests = requests();
    let framed = |bodies: &[&Vec<u8>]| {
        let mut out = Vec::new();
        for body in bodies {
            out.extend_from_slice(&u32::try_from(body.len()).unwrap_or(0).to_be_bytes());
            out.extend_from_slice(body);
        }
        out
    };
    let mut out: Vec<Seed> = requests
        .iter()
        .step_by(7)
        .map(|(name, body)| (format!("frame-{name}"), framed(&[body])))
        .collect();
    let two: Vec<&Vec<u8>> = requests.iter().take(2).map(|(_, b)| b).collect();
    out.push(("two-frames".into(), framed(&two)));
    out.push(("empty-frame".into(), vec![0, 0, 0, 0]));
    out.push(("huge-header".into(), vec![0xff, 0xff, 0xff, 0xff]));
    out.push(("truncated".into(), vec![0, 0, 0, 9, 8]));
    out
}

fn identity() -> Vec<Seed> {
    let mut callers = crate::fixture::callers();
    callers.push(Caller::Unix {
        uid: 0,
        gid: 0,
        pid: 1,
        exe_sha256: None,
    });
    let mut out: Vec<Seed> = callers
        .iter()
        .enumerate()
        .map(|(i, c)| {
            (
                format!("caller-{i}"),
                keyhold_core::caller_to_identity_bytes(c),
            )
        })
        .collect();
    // A shared uid (two packages) and an unknown uid (none): both refused.
    let package = |name: &str| pb::AndroidPackage {
        package_name: name.into(),
        signing_cert_sha256: vec![vec![1; 32]],
        past_signing_cert_sha256: vec![vec![2; 32], vec![3; 31]],
        ..Default::default()
    };
    for (name, packages) in [
        ("shared-uid", vec![package("a.b"), package("c.d")]),
        ("unknown-uid", vec![]),
        ("one", vec![package("a.b")]),
    ] {
        let identity = pb::CallerIdentity {
            kind: Some(pb::caller_identity::Kind::Android(pb::AndroidApp {
                uid: 10_001,
                packages,
                ..Default::default()
            })),
            ..Default::default()
        };
        out.push((name.into(), identity.encode_to_vec()));
    }
    out
}

fn import_raw() -> Vec<Seed> {
    let mut out = Vec::new();
    for (i, v) in vectors::bip340().iter().enumerate() {
        if !v.secret.is_empty() {
            out.push((format!("bip340-{i}"), [vec![0], v.secret.clone()].concat()));
            out.push((
                format!("bip340-p256-{i}"),
                [vec![1], v.secret.clone()].concat(),
            ));
        }
    }
    for (i, v) in vectors::rfc8032().iter().enumerate() {
        out.push((format!("rfc8032-{i}"), [vec![2], v.secret.clone()].concat()));
        out.push((format!("x25519-{i}"), [vec![3], v.secret.clone()].concat()));
        out.push((format!("aes-{i}"), [vec![4], v.secret.clone()].concat()));
        out.push((format!("hmac-{i}"), [vec![5], v.message.clone()].concat()));
    }
    out
}

fn files_with(selector: u8, filter: &str) -> Vec<Seed> {
    vectors::OPENSSL
        .iter()
        .filter(|(name, _)| name.contains(filter))
        .map(|(name, bytes)| ((*name).to_owned(), [&[selector][..], bytes].concat()))
        .collect()
}

fn import_pkcs8() -> Vec<Seed> {
    let mut out = files_with(0, "pkcs8");
    // The same files with the algorithm named (selector 1 + index).
    out.extend(
        files_with(1, "secp256k1-pkcs8")
            .into_iter()
            .map(|(n, b)| (format!("named-{n}"), b)),
    );
    out.extend(
        files_with(2, "p256-pkcs8")
            .into_iter()
            .map(|(n, b)| (format!("named-{n}"), b)),
    );
    out.extend(
        files_with(3, "ed25519-pkcs8")
            .into_iter()
            .map(|(n, b)| (format!("named-{n}"), b)),
    );
    out.extend(
        files_with(4, "x25519-pkcs8")
            .into_iter()
            .map(|(n, b)| (format!("named-{n}"), b)),
    );
    out
}

fn import_sec1() -> Vec<Seed> {
    let mut out = files_with(0, "sec1");
    out.extend(
        files_with(1, "secp256k1-sec1")
            .into_iter()
            .map(|(n, b)| (format!("named-{n}"), b)),
    );
    out.extend(
        files_with(2, "p256-sec1")
            .into_iter()
            .map(|(n, b)| (format!("named-{n}"), b)),
    );
    out
}

fn import_seed() -> Vec<Seed> {
    let mut out = Vec::new();
    for (i, c) in vectors::bip32().iter().enumerate() {
        out.push((format!("bip32-{i}"), [vec![0], c.seed.clone()].concat()));
    }
    for (i, c) in vectors::slip10().iter().enumerate() {
        let scheme = match c.curve.as_str() {
            "ed25519" => 1,
            "nist256p1" => 2,
            _ => 0,
        };
        out.push((
            format!("slip10-{i}"),
            [vec![scheme], c.seed.clone()].concat(),
        ));
    }
    out
}

fn import_xprv() -> Vec<Seed> {
    let mut out = Vec::new();
    for (i, c) in vectors::bip32().iter().enumerate() {
        for (j, (_, xprv)) in c.paths.iter().enumerate() {
            out.push((format!("bip32-{i}-{j}"), xprv.clone().into_bytes()));
        }
    }
    for (i, key) in vectors::bip32_invalid().iter().enumerate() {
        out.push((format!("invalid-{i}"), key.clone().into_bytes()));
    }
    for (i, v) in vectors::bip39().iter().enumerate().step_by(3) {
        out.push((format!("bip39-{i}"), v.xprv.clone().into_bytes()));
    }
    out
}

/// The `mnemonic` input format: `[scheme][phrase]\0[passphrase]`.
pub fn mnemonic_input(scheme: u8, phrase: &str, passphrase: &str) -> Vec<u8> {
    [
        &[scheme][..],
        phrase.as_bytes(),
        b"\0",
        passphrase.as_bytes(),
    ]
    .concat()
}

fn mnemonic() -> Vec<Seed> {
    vectors::bip39()
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let scheme = u8::try_from(i % 3).unwrap_or(0);
            (
                format!("trezor-{i}"),
                mnemonic_input(scheme, &v.mnemonic, vectors::BIP39_PASSPHRASE),
            )
        })
        .collect()
}

fn public_key() -> Vec<Seed> {
    let mut out = Vec::new();
    for (sel, filter) in [
        (0u8, "secp256k1-pub"),
        (1, "p256-pub"),
        (2, "x25519-pub"),
        (3, "ed25519-pub"),
    ] {
        out.extend(files_with(sel, filter));
    }
    for (i, v) in vectors::bip340().iter().enumerate() {
        out.push((
            format!("bip340-xonly-{i}"),
            [vec![0], v.public.clone()].concat(),
        ));
        if let Ok(sk) = k256::SecretKey::from_slice(&v.secret) {
            let point = sk.public_key().to_sec1_bytes().to_vec();
            out.push((format!("bip340-sec1-{i}"), [vec![0], point].concat()));
        }
    }
    for (i, v) in vectors::rfc8032().iter().enumerate() {
        out.push((format!("rfc8032-{i}"), [vec![2], v.public.clone()].concat()));
    }
    out
}

fn derivation_path() -> Vec<Seed> {
    let mut paths: Vec<String> = Vec::new();
    for chain in vectors::bip32().iter().chain(vectors::slip10().iter()) {
        for (path, _) in &chain.paths {
            if !paths.contains(path) {
                paths.push(path.clone());
            }
        }
    }
    paths.extend(["m/44'/60'/0'/0/0", "m/84h/0H/0'/0/1", "m/2147483647'/0"].map(String::from));
    paths
        .into_iter()
        .enumerate()
        .map(|(i, p)| {
            (
                format!("path-{i}"),
                [&[u8::try_from(i % 3).unwrap_or(0)][..], p.as_bytes()].concat(),
            )
        })
        .collect()
}
