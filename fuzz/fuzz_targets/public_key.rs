//! The public-key parser (`PublicKey::parse`: SEC1, BIP340 x-only, raw
//! X25519, SPKI DER and PEM), reached as untrusted bytes reach it: the peer
//! key of `agree`. Input: `[key selector][peer key]` (0: the secp256k1 key
//! "k1", 1: "p256", 2: the X25519 key "x", 3: the Ed25519 key "ed", which
//! cannot agree). The fixture's private keys are known (vectors), so the
//! agreement is recomputed with RustCrypto: SEC1, x-only and raw X25519
//! peers are accepted exactly when the reference accepts them (X25519:
//! refused exactly when the shared secret is all zero, RFC 7748 §6.1), and
//! the HKDF output must match; an SPKI the core accepts must parse with the
//! RustCrypto SPKI decoder to the same agreement.
#![no_main]

use k256::pkcs8::DecodePublicKey as _;
use keyhold_core::{Agreement, Algorithm, ErrorCode, KdfParams, KeyRef};
use keyhold_fuzz::{fixture, oracle, reference, split_selector, vectors};

enum Expect {
    /// The reference accepts the key; the raw shared secret.
    Shared(Vec<u8>),
    /// The reference refuses the key.
    Refused,
    /// Not a form compared both ways (SPKI): the shared secret if the
    /// reference parses it.
    OneWay(Option<Vec<u8>>),
}

fn is_sec1(peer: &[u8]) -> bool {
    matches!(
        (peer.len(), peer.first()),
        (33, Some(2 | 3)) | (65, Some(4))
    )
}

fn spki_text(peer: &[u8]) -> Option<&str> {
    std::str::from_utf8(peer)
        .ok()
        .filter(|t| t.contains("-----BEGIN "))
}

fn k256_expect(peer: &[u8]) -> Expect {
    let secret = &vectors::bip340()[1].secret;
    let sk = k256::SecretKey::from_slice(secret).expect("BIP340 vector 1 secret");
    let dh = |pk: k256::PublicKey| {
        k256::ecdh::diffie_hellman(sk.to_nonzero_scalar(), pk.as_affine())
            .raw_secret_bytes()
            .to_vec()
    };
    if is_sec1(peer) {
        return k256::PublicKey::from_sec1_bytes(peer)
            .map_or(Expect::Refused, |pk| Expect::Shared(dh(pk)));
    }
    if peer.len() == 32 && spki_text(peer).is_none() {
        // BIP340 x-only: the point with even y.
        return match k256::schnorr::VerifyingKey::from_slice(peer) {
            Ok(vk) => k256::PublicKey::from_affine(*vk.as_affine())
                .map_or(Expect::Refused, |pk| Expect::Shared(dh(pk))),
            Err(_) => Expect::Refused,
        };
    }
    let parsed = match spki_text(peer) {
        Some(t) => k256::PublicKey::from_public_key_pem(t).ok(),
        None => k256::PublicKey::from_public_key_der(peer).ok(),
    };
    Expect::OneWay(parsed.map(dh))
}

fn p256_expect(peer: &[u8]) -> Expect {
    let sk =
        p256::SecretKey::from_sec1_der(vectors::openssl("p256-sec1.der")).expect("P-256 vector");
    let dh = |pk: p256::PublicKey| {
        p256::ecdh::diffie_hellman(sk.to_nonzero_scalar(), pk.as_affine())
            .raw_secret_bytes()
            .to_vec()
    };
    if is_sec1(peer) {
        return p256::PublicKey::from_sec1_bytes(peer)
            .map_or(Expect::Refused, |pk| Expect::Shared(dh(pk)));
    }
    let parsed = match spki_text(peer) {
        Some(t) => p256::PublicKey::from_public_key_pem(t).ok(),
        None => p256::PublicKey::from_public_key_der(peer).ok(),
    };
    Expect::OneWay(parsed.map(dh))
}

fn x25519_expect(peer: &[u8]) -> Expect {
    let pkcs8 = vectors::openssl("x25519-pkcs8.der");
    let secret: [u8; 32] = pkcs8[pkcs8.len() - 32..]
        .try_into()
        .expect("RFC 8410 layout");
    let secret = x25519_dalek::StaticSecret::from(secret);
    let dh = |raw: [u8; 32]| {
        let shared = secret.diffie_hellman(&x25519_dalek::PublicKey::from(raw));
        shared
            .was_contributory()
            .then(|| shared.as_bytes().to_vec())
    };
    if peer.len() == 32 && spki_text(peer).is_none() {
        let raw: [u8; 32] = peer.try_into().expect("32 bytes");
        return dh(raw).map_or(Expect::Refused, Expect::Shared);
    }
    // RFC 8410 SPKI: 12-byte prefix then the 32-byte key, for DER only.
    let from_der = (peer.len() == 44)
        .then(|| <[u8; 32]>::try_from(&peer[12..]).ok())
        .flatten()
        .and_then(dh);
    Expect::OneWay(from_der)
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let (selector, peer) = split_selector(data);
    let (alias, algorithm) = [
        ("k1", Algorithm::Secp256k1),
        ("p256", Algorithm::P256),
        ("x", Algorithm::X25519),
        ("ed", Algorithm::Ed25519),
    ][usize::from(selector) % 4];
    let kdf = KdfParams {
        salt: b"salt".to_vec(),
        info: b"info".to_vec(),
        length: 32,
    };
    let expect = match algorithm {
        Algorithm::Secp256k1 => k256_expect(peer),
        Algorithm::P256 => p256_expect(peer),
        Algorithm::X25519 => x25519_expect(peer),
        _ => Expect::Refused,
    };
    fixture::with_fixture_no_reset(|fx| {
        let result = fx.engine.agree(
            &fx.callers[0],
            &KeyRef::Alias(alias.into()),
            peer,
            &kdf,
            None,
        );
        match result {
            Ok(Agreement::Secret(secret)) => {
                let shared = match expect {
                    Expect::Shared(s) => s,
                    Expect::OneWay(Some(s)) if algorithm != Algorithm::X25519 => s,
                    // X25519 SPKI PEM: no independent decoder here; the
                    // output length is all that is checked.
                    Expect::OneWay(_)
                        if algorithm == Algorithm::X25519 && spki_text(peer).is_some() =>
                    {
                        assert_eq!(secret.len(), 32);
                        return;
                    }
                    Expect::OneWay(Some(s)) => s,
                    Expect::OneWay(None) | Expect::Refused => {
                        panic!("{algorithm}: agreed with a peer key the reference refuses")
                    }
                };
                assert_eq!(
                    secret.expose(),
                    reference::hkdf(&shared, &kdf.salt, &kdf.info, 32).as_slice(),
                    "{algorithm}: agreement differs from the reference"
                );
            }
            Ok(Agreement::Stored(_)) => panic!("agree stored a key it was not asked to store"),
            Err(e) => {
                oracle::expect_code(
                    &e,
                    &[
                        ErrorCode::InvalidKeyMaterial,
                        ErrorCode::IncompatibleKey,
                        ErrorCode::InvalidArgument,
                    ],
                    "agree",
                );
                if algorithm == Algorithm::Ed25519 {
                    assert_eq!(e.code(), ErrorCode::IncompatibleKey, "Ed25519 cannot agree");
                }
                assert!(
                    !matches!(expect, Expect::Shared(_)),
                    "{algorithm}: refused a peer key the reference accepts: {e}"
                );
            }
        }
    });
});
