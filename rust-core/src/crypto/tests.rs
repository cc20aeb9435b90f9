//! Unit tests of the algorithm layer: key parsing, the sign/verify matrix,
//! low-S, recoverable signatures, malformed input, key agreement, AEAD, HMAC,
//! HKDF, secret hygiene, and proptest round trips. Published vectors are in
//! `vectors_tests.rs`.

use super::*;
use crate::ErrorCode;
use crate::algorithm::SignatureScheme as S;
use proptest::prelude::*;

const MSG: &[u8] = b"keyhold unit test message";

fn key(algorithm: Algorithm) -> PrivateKey {
    PrivateKey::generate(algorithm).unwrap()
}

fn schemes_for(algorithm: Algorithm) -> Vec<SignatureScheme> {
    SignatureScheme::ALL
        .iter()
        .copied()
        .filter(|s| s.supports(algorithm))
        .collect()
}

#[test]
fn from_bytes_validates_lengths_and_ranges() {
    let n_k256 =
        hex::decode("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141").unwrap();
    let n_p256 =
        hex::decode("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551").unwrap();
    let bad: Vec<(Algorithm, Vec<u8>)> = vec![
        (Algorithm::Secp256k1, vec![0; 32]),
        (Algorithm::Secp256k1, n_k256.clone()),
        (Algorithm::Secp256k1, vec![1; 31]),
        (Algorithm::Secp256k1, vec![1; 33]),
        (Algorithm::P256, vec![0; 32]),
        (Algorithm::P256, n_p256.clone()),
        (Algorithm::P256, vec![1; 24]),
        (Algorithm::Ed25519, vec![1; 31]),
        (Algorithm::Ed25519, vec![1; 64]),
        (Algorithm::X25519, vec![1; 33]),
        (Algorithm::Aes256Gcm, vec![1; 16]),
        (Algorithm::Aes256Gcm, vec![1; 31]),
        (Algorithm::HmacSha256, vec![1; 15]),
        (Algorithm::HmacSha256, vec![1; 65]),
        (Algorithm::HmacSha256, vec![]),
    ];
    for (algorithm, bytes) in bad {
        let err = PrivateKey::from_bytes(algorithm, &bytes).unwrap_err();
        assert_eq!(
            err.code(),
            ErrorCode::InvalidKeyMaterial,
            "{algorithm} {}",
            bytes.len()
        );
    }
    // n - 1 is the largest valid scalar.
    let mut n_minus_1 = n_k256;
    n_minus_1[31] -= 1;
    PrivateKey::from_bytes(Algorithm::Secp256k1, &n_minus_1).unwrap();
    for len in [16, 32, 64] {
        PrivateKey::from_bytes(Algorithm::HmacSha256, &vec![7; len]).unwrap();
    }
}

#[test]
fn secret_bytes_round_trip_for_every_algorithm() {
    for algorithm in Algorithm::ALL {
        let k = key(*algorithm);
        assert_eq!(k.algorithm(), *algorithm);
        let secret = k.to_secret_bytes();
        let again = PrivateKey::from_bytes(*algorithm, secret.expose()).unwrap();
        assert!(again.to_secret_bytes().ct_eq(secret.expose()));
        assert_eq!(k.public_key(), again.public_key());
        assert_eq!(k.public_key().is_some(), algorithm.is_asymmetric());
    }
}

#[test]
fn debug_never_shows_key_bytes() {
    for algorithm in Algorithm::ALL {
        let k = key(*algorithm);
        let secret = k.to_secret_bytes();
        let shown = format!("{k:?} {:?} {k:#?}", secret);
        assert!(shown.contains("[redacted]"), "{shown}");
        let hex_lower = hex::encode(secret.expose());
        let hex_upper = hex_lower.to_uppercase();
        assert!(
            !shown.contains(&hex_lower) && !shown.contains(&hex_upper),
            "{shown}"
        );
        // Neither as a decimal byte list nor as any 4-byte hex window.
        assert!(!shown.contains(&format!("{:?}", secret.expose())));
        for w in secret.expose().windows(4) {
            assert!(!shown.contains(&hex::encode(w)), "{shown}");
        }
    }
}

#[test]
fn sign_verify_matrix() {
    for algorithm in Algorithm::ALL {
        let k = key(*algorithm);
        for scheme in SignatureScheme::ALL {
            let result = k.sign(*scheme, Payload::Message(MSG));
            if !scheme.supports(*algorithm) {
                assert_eq!(
                    result.unwrap_err().code(),
                    ErrorCode::IncompatibleKey,
                    "{algorithm} {scheme}"
                );
                if let Some(pk) = k.public_key() {
                    assert_eq!(
                        pk.verify(*scheme, Payload::Message(MSG), &[0; 64])
                            .unwrap_err()
                            .code(),
                        ErrorCode::IncompatibleKey
                    );
                }
                continue;
            }
            let sig = result.unwrap();
            assert!(
                k.verify(*scheme, Payload::Message(MSG), &sig).unwrap(),
                "{algorithm} {scheme}"
            );
            assert!(!k.verify(*scheme, Payload::Message(b"other"), &sig).unwrap());
            if let Some(pk) = k.public_key() {
                assert!(pk.verify(*scheme, Payload::Message(MSG), &sig).unwrap());
                // Another key of the same algorithm does not verify it.
                let other = key(*algorithm).public_key().unwrap();
                assert!(!other.verify(*scheme, Payload::Message(MSG), &sig).unwrap());
            }
            let expected_len = match scheme {
                S::EcdsaCompact | S::Bip340 | S::Ed25519 => Some(64),
                S::EcdsaRecoverable => Some(65),
                S::HmacSha256 => Some(32),
                S::EcdsaDer => None,
            };
            if let Some(len) = expected_len {
                assert_eq!(sig.len(), len, "{algorithm} {scheme}");
            }
        }
    }
}

#[test]
fn keys_that_cannot_sign_say_so() {
    for algorithm in [Algorithm::X25519, Algorithm::Aes256Gcm] {
        let k = key(algorithm);
        for scheme in SignatureScheme::ALL {
            let err = k.sign(*scheme, Payload::Message(MSG)).unwrap_err();
            assert_eq!(err.code(), ErrorCode::IncompatibleKey);
        }
    }
    let x = key(Algorithm::X25519).public_key().unwrap();
    assert_eq!(
        x.verify(S::Ed25519, Payload::Message(MSG), &[0; 64])
            .unwrap_err()
            .code(),
        ErrorCode::IncompatibleKey
    );
}

fn is_low_s_k256(compact: &[u8]) -> bool {
    let s = k256::ecdsa::Signature::from_slice(compact).unwrap();
    s.normalize_s() == s
}

fn is_low_s_p256(compact: &[u8]) -> bool {
    let s = p256::ecdsa::Signature::from_slice(compact).unwrap();
    s.normalize_s() == s
}

#[test]
fn ecdsa_signatures_are_low_s_and_deterministic() {
    let k1 = key(Algorithm::Secp256k1);
    let p1 = key(Algorithm::P256);
    for i in 0..40u32 {
        let m = i.to_be_bytes();
        let a = k1.sign(S::EcdsaCompact, Payload::Message(&m)).unwrap();
        let b = p1.sign(S::EcdsaCompact, Payload::Message(&m)).unwrap();
        assert!(is_low_s_k256(&a) && is_low_s_p256(&b));
        // RFC 6979: the same message gives the same signature.
        assert_eq!(a, k1.sign(S::EcdsaCompact, Payload::Message(&m)).unwrap());
        assert_eq!(b, p1.sign(S::EcdsaCompact, Payload::Message(&m)).unwrap());
    }
}

#[test]
fn der_and_compact_carry_the_same_r_and_s() {
    for algorithm in [Algorithm::Secp256k1, Algorithm::P256] {
        let k = key(algorithm);
        let der = k.sign(S::EcdsaDer, Payload::Message(MSG)).unwrap();
        let compact = k.sign(S::EcdsaCompact, Payload::Message(MSG)).unwrap();
        let from_der = match algorithm {
            Algorithm::Secp256k1 => k256::ecdsa::Signature::from_der(&der).unwrap().to_vec(),
            _ => p256::ecdsa::Signature::from_der(&der).unwrap().to_vec(),
        };
        assert_eq!(from_der, compact);
        // A DER signature is not accepted as compact, and vice versa.
        assert!(
            !k.verify(S::EcdsaCompact, Payload::Message(MSG), &der)
                .unwrap()
        );
        assert!(
            !k.verify(S::EcdsaDer, Payload::Message(MSG), &compact)
                .unwrap()
        );
    }
}

#[test]
fn digest_payload_is_the_sha256_prehash_for_ecdsa() {
    use sha2::{Digest as _, Sha256};
    let digest: [u8; 32] = Sha256::digest(MSG).into();
    for algorithm in [Algorithm::Secp256k1, Algorithm::P256] {
        let k = key(algorithm);
        let by_message = k.sign(S::EcdsaDer, Payload::Message(MSG)).unwrap();
        let by_digest = k.sign(S::EcdsaDer, Payload::Digest(&digest)).unwrap();
        assert_eq!(by_message, by_digest);
        assert!(
            k.verify(S::EcdsaDer, Payload::Digest(&digest), &by_message)
                .unwrap()
        );
    }
}

#[test]
fn bip340_digest_payload_is_a_32_byte_message_and_aux_is_random() {
    let k = key(Algorithm::Secp256k1);
    let d = [0x42u8; 32];
    let a = k.sign(S::Bip340, Payload::Digest(&d)).unwrap();
    let b = k.sign(S::Bip340, Payload::Digest(&d)).unwrap();
    assert_ne!(a, b, "fresh aux_rand per signature");
    let pk = k.public_key().unwrap();
    for sig in [&a, &b] {
        assert!(pk.verify(S::Bip340, Payload::Digest(&d), sig).unwrap());
        assert!(pk.verify(S::Bip340, Payload::Message(&d), sig).unwrap());
    }
    // A variable-length message is signed as is, not hashed first.
    let long = vec![9u8; 1000];
    let sig = k.sign(S::Bip340, Payload::Message(&long)).unwrap();
    assert!(pk.verify(S::Bip340, Payload::Message(&long), &sig).unwrap());
    let PublicKey::Secp256k1(point) = &pk else {
        panic!("a secp256k1 key has a secp256k1 public key")
    };
    let x_only = point.to_sec1_point(true).as_bytes()[1..].to_vec(); // BIP340 x-only

    let xpk = k256::schnorr::VerifyingKey::from_slice(&x_only).unwrap();
    let s = k256::schnorr::Signature::from_slice(&sig).unwrap();
    assert!(xpk.verify_raw(&long, &s).is_ok());
}

#[test]
fn recoverable_signature_recovers_the_key_with_v_0_or_1() {
    let mut seen = [false; 2];
    for i in 0..32u32 {
        let k = key(Algorithm::Secp256k1);
        let m = i.to_le_bytes();
        let sig = k.sign(S::EcdsaRecoverable, Payload::Message(&m)).unwrap();
        let v = sig[64];
        assert!(v <= 1, "v is the recovery id");
        seen[usize::from(v)] = true;
        assert!(is_low_s_k256(&sig[..64]));
        let vk = k256::ecdsa::VerifyingKey::recover_from_msg(
            &m,
            &k256::ecdsa::Signature::from_slice(&sig[..64]).unwrap(),
            k256::ecdsa::RecoveryId::from_byte(v).unwrap(),
        )
        .unwrap();
        assert_eq!(PublicKey::Secp256k1(vk.into()), k.public_key().unwrap());
        assert!(
            k.verify(S::EcdsaRecoverable, Payload::Message(&m), &sig)
                .unwrap()
        );
        // The wrong recovery id, an Ethereum-style 27/28 v, or a missing v are refused.
        for bad_v in [v ^ 1, 27, 28, 4] {
            let mut bad = sig.clone();
            bad[64] = bad_v;
            assert!(
                !k.verify(S::EcdsaRecoverable, Payload::Message(&m), &bad)
                    .unwrap()
            );
        }
        assert!(
            !k.verify(S::EcdsaRecoverable, Payload::Message(&m), &sig[..64])
                .unwrap()
        );
        let mut long = sig.clone();
        long.push(0);
        assert!(
            !k.verify(S::EcdsaRecoverable, Payload::Message(&m), &long)
                .unwrap()
        );
    }
    assert!(seen[0] && seen[1], "both recovery ids occur");
}

/// The same signature with s replaced by n - s (the high-S twin).
fn high_s_k256(compact: &[u8]) -> Vec<u8> {
    use k256::elliptic_curve::ff::PrimeField;
    let (r, s) = k256::ecdsa::Signature::from_slice(compact)
        .unwrap()
        .split_scalars();
    let mut out = r.to_repr().to_vec();
    out.extend_from_slice(&(-*s.as_ref()).to_repr());
    out
}

fn high_s_p256(compact: &[u8]) -> Vec<u8> {
    use p256::elliptic_curve::ff::PrimeField;
    let (r, s) = p256::ecdsa::Signature::from_slice(compact)
        .unwrap()
        .split_scalars();
    let mut out = r.to_repr().to_vec();
    out.extend_from_slice(&(-*s.as_ref()).to_repr());
    out
}

#[test]
fn high_s_rejected_for_secp256k1_accepted_for_p256() {
    let k = key(Algorithm::Secp256k1);
    let sig = k.sign(S::EcdsaCompact, Payload::Message(MSG)).unwrap();
    let hi = high_s_k256(&sig);
    assert!(!is_low_s_k256(&hi));
    assert!(
        !k.verify(S::EcdsaCompact, Payload::Message(MSG), &hi)
            .unwrap()
    );
    let hi_der = k256::ecdsa::Signature::from_slice(&hi).unwrap().to_der();
    assert!(
        !k.verify(S::EcdsaDer, Payload::Message(MSG), hi_der.as_bytes())
            .unwrap()
    );

    let p = key(Algorithm::P256);
    let sig = p.sign(S::EcdsaCompact, Payload::Message(MSG)).unwrap();
    let hi = high_s_p256(&sig);
    assert!(!is_low_s_p256(&hi));
    assert!(
        p.verify(S::EcdsaCompact, Payload::Message(MSG), &hi)
            .unwrap()
    );
    let hi_der = p256::ecdsa::Signature::from_slice(&hi).unwrap().to_der();
    assert!(
        p.verify(S::EcdsaDer, Payload::Message(MSG), hi_der.as_bytes())
            .unwrap()
    );
}

#[test]
fn ed25519_refuses_digests() {
    let k = key(Algorithm::Ed25519);
    let d = [1u8; 32];
    assert_eq!(
        k.sign(S::Ed25519, Payload::Digest(&d)).unwrap_err().code(),
        ErrorCode::InvalidArgument
    );
    let pk = k.public_key().unwrap();
    assert_eq!(
        pk.verify(S::Ed25519, Payload::Digest(&d), &[0; 64])
            .unwrap_err()
            .code(),
        ErrorCode::InvalidArgument
    );
    let h = key(Algorithm::HmacSha256);
    assert_eq!(
        h.sign(S::HmacSha256, Payload::Digest(&d))
            .unwrap_err()
            .code(),
        ErrorCode::InvalidArgument
    );
}

#[test]
fn malformed_signatures_are_false_not_errors() {
    let mut junk: Vec<Vec<u8>> = vec![
        vec![],
        vec![0],
        vec![0x30],
        vec![0x30, 0x00],
        vec![0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01],
        vec![0; 63],
        vec![0; 64],
        vec![0xff; 64],
        vec![0; 65],
        vec![0xff; 65],
        vec![0x30; 72],
        vec![1; 200],
    ];
    for len in 0..80u8 {
        junk.push(
            (0..len)
                .map(|i| i.wrapping_mul(37).wrapping_add(len))
                .collect(),
        );
    }
    for algorithm in Algorithm::ALL {
        let k = key(*algorithm);
        for scheme in schemes_for(*algorithm) {
            let good = k.sign(scheme, Payload::Message(MSG)).unwrap();
            for j in &junk {
                if *j == good {
                    continue;
                }
                assert!(
                    !k.verify(scheme, Payload::Message(MSG), j).unwrap(),
                    "{algorithm} {scheme}"
                );
            }
            // A bit flip in every byte of a good signature is refused (the
            // flipped bit walks through all eight positions).
            for i in 0..good.len() {
                let mut bad = good.clone();
                bad[i] ^= 1 << (i % 8);
                assert!(
                    !k.verify(scheme, Payload::Message(MSG), &bad).unwrap(),
                    "{algorithm} {scheme} byte {i}"
                );
            }
        }
    }
}

#[test]
fn agreement_is_symmetric_and_checks_curves() {
    for algorithm in [Algorithm::Secp256k1, Algorithm::P256, Algorithm::X25519] {
        let a = key(algorithm);
        let b = key(algorithm);
        let ab = a.diffie_hellman(&b.public_key().unwrap()).unwrap();
        let ba = b.diffie_hellman(&a.public_key().unwrap()).unwrap();
        assert_eq!(ab.len(), 32);
        assert!(ab.ct_eq(ba.expose()), "{algorithm}");
        let c = key(algorithm);
        assert!(
            !a.diffie_hellman(&c.public_key().unwrap())
                .unwrap()
                .ct_eq(ab.expose())
        );
    }
    let k1 = key(Algorithm::Secp256k1);
    let p = key(Algorithm::P256).public_key().unwrap();
    let x = key(Algorithm::X25519).public_key().unwrap();
    let e = key(Algorithm::Ed25519).public_key().unwrap();
    for peer in [&p, &x, &e] {
        assert_eq!(
            k1.diffie_hellman(peer).unwrap_err().code(),
            ErrorCode::IncompatibleKey
        );
    }
    for algorithm in [
        Algorithm::Ed25519,
        Algorithm::Aes256Gcm,
        Algorithm::HmacSha256,
    ] {
        assert_eq!(
            key(algorithm).diffie_hellman(&x).unwrap_err().code(),
            ErrorCode::IncompatibleKey
        );
    }
}

#[test]
fn x25519_refuses_low_order_points() {
    // The points of small order on Curve25519 (and their non-canonical
    // encodings), each of which forces an all-zero shared secret.
    let low_order = [
        "0000000000000000000000000000000000000000000000000000000000000000",
        "0100000000000000000000000000000000000000000000000000000000000000",
        "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
        "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    ];
    let k = key(Algorithm::X25519);
    for p in low_order {
        let raw: [u8; 32] = hex::decode(p).unwrap().try_into().unwrap();
        let peer = PublicKey::X25519(x25519_dalek::PublicKey::from(raw));
        assert_eq!(
            k.diffie_hellman(&peer).unwrap_err().code(),
            ErrorCode::InvalidKeyMaterial,
            "{p}"
        );
    }
}

#[test]
fn aes_gcm_round_trip_and_layout() {
    let k = SecretBytes::random(32).unwrap();
    for len in [0usize, 1, 15, 16, 17, 1000] {
        let pt = vec![0xa5u8; len];
        let sealed = aes_gcm_encrypt(&k, &pt, b"aad").unwrap();
        assert_eq!(sealed.len(), 12 + len + 16);
        assert!(aes_gcm_decrypt(&k, &sealed, b"aad").unwrap().ct_eq(&pt));
    }
    let a = aes_gcm_encrypt(&k, MSG, b"").unwrap();
    let b = aes_gcm_encrypt(&k, MSG, b"").unwrap();
    assert_ne!(a[..12], b[..12], "a fresh random nonce per message");
}

#[test]
fn aes_gcm_any_failure_is_decryption_failed() {
    let k = SecretBytes::random(32).unwrap();
    let sealed = aes_gcm_encrypt(&k, MSG, b"aad").unwrap();
    let dfail =
        |r: Result<SecretBytes>| assert_eq!(r.unwrap_err().code(), ErrorCode::DecryptionFailed);
    for i in 0..sealed.len() {
        let mut bad = sealed.clone();
        bad[i] ^= 0x80;
        dfail(aes_gcm_decrypt(&k, &bad, b"aad"));
    }
    dfail(aes_gcm_decrypt(&k, &sealed, b"aaD"));
    dfail(aes_gcm_decrypt(&k, &sealed, b""));
    dfail(aes_gcm_decrypt(
        &SecretBytes::random(32).unwrap(),
        &sealed,
        b"aad",
    ));
    dfail(aes_gcm_decrypt(
        &SecretBytes::random(16).unwrap(),
        &sealed,
        b"aad",
    ));
    for len in [0, 1, 12, 27] {
        dfail(aes_gcm_decrypt(&k, &sealed[..len], b"aad"));
    }
    dfail(aes_gcm_decrypt(&k, &sealed[..sealed.len() - 1], b"aad"));
    let mut longer = sealed.clone();
    longer.push(0);
    dfail(aes_gcm_decrypt(&k, &longer, b"aad"));
    // Encrypting with a key of the wrong length is a key-material error.
    assert_eq!(
        aes_gcm_encrypt(&SecretBytes::random(16).unwrap(), MSG, b"")
            .unwrap_err()
            .code(),
        ErrorCode::InvalidKeyMaterial
    );
}

#[test]
fn hmac_known_answer_and_verify() {
    // RFC 4231 test case 1 (20-byte key, within our 16..=64 range).
    let k = PrivateKey::from_bytes(Algorithm::HmacSha256, &[0x0b; 20]).unwrap();
    let tag = k
        .sign(S::HmacSha256, Payload::Message(b"Hi There"))
        .unwrap();
    assert_eq!(
        hex::encode(&tag),
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
    );
    assert!(
        k.verify(S::HmacSha256, Payload::Message(b"Hi There"), &tag)
            .unwrap()
    );
    assert!(
        !k.verify(S::HmacSha256, Payload::Message(b"Hi There"), &tag[..31])
            .unwrap()
    );
    assert!(k.public_key().is_none());
}

#[test]
fn hkdf_known_answers_and_limits() {
    // RFC 5869 test case 3: empty salt and info.
    let okm = hkdf_sha256(&[0x0b; 22], &[], &[], 42).unwrap();
    assert_eq!(
        hex::encode(okm.expose()),
        "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8"
    );
    assert_eq!(
        hkdf_sha256(b"ikm", b"", b"", 0).unwrap_err().code(),
        ErrorCode::InvalidArgument
    );
    assert_eq!(
        hkdf_sha256(b"ikm", b"", b"", 255 * 32 + 1)
            .unwrap_err()
            .code(),
        ErrorCode::InvalidArgument
    );
    assert_eq!(
        hkdf_sha256(b"ikm", b"", b"", 255 * 32).unwrap().len(),
        255 * 32
    );
}

#[test]
fn key_errors_do_not_echo_secrets() {
    let secret = [0xabu8; 31];
    for algorithm in Algorithm::ALL {
        if let Err(e) = PrivateKey::from_bytes(*algorithm, &secret) {
            let text = format!("{e} {e:?}");
            assert!(
                !text.contains("abab") && !text.contains("171, 171"),
                "{text}"
            );
        }
    }
}

fn any_signing_algorithm() -> impl Strategy<Value = Algorithm> {
    prop_oneof![
        Just(Algorithm::Secp256k1),
        Just(Algorithm::P256),
        Just(Algorithm::Ed25519),
        Just(Algorithm::HmacSha256),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn prop_sign_verify_round_trip(
        algorithm in any_signing_algorithm(),
        seed in proptest::array::uniform32(1u8..),
        msg in proptest::collection::vec(any::<u8>(), 0..300),
        flip in any::<usize>(),
    ) {
        // A fixed-seed key: valid for every algorithm here except with
        // negligible probability for the EC curves (then skip).
        let Ok(k) = PrivateKey::from_bytes(algorithm, &seed) else { return Ok(()); };
        for scheme in schemes_for(algorithm) {
            let sig = k.sign(scheme, Payload::Message(&msg)).unwrap();
            prop_assert!(k.verify(scheme, Payload::Message(&msg), &sig).unwrap());
            let mut other = msg.clone();
            if other.is_empty() { other.push(0) } else { let i = flip % other.len(); other[i] ^= 1; }
            prop_assert!(!k.verify(scheme, Payload::Message(&other), &sig).unwrap());
        }
    }

    #[test]
    fn prop_aes_gcm_round_trip(
        pt in proptest::collection::vec(any::<u8>(), 0..500),
        aad in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        let k = SecretBytes::random(32).unwrap();
        let sealed = aes_gcm_encrypt(&k, &pt, &aad).unwrap();
        prop_assert!(aes_gcm_decrypt(&k, &sealed, &aad).unwrap().ct_eq(&pt));
    }

    #[test]
    fn prop_agreement_matches(seed_a in proptest::array::uniform32(any::<u8>()), seed_b in proptest::array::uniform32(any::<u8>())) {
        let a = PrivateKey::from_bytes(Algorithm::X25519, &seed_a).unwrap();
        let b = PrivateKey::from_bytes(Algorithm::X25519, &seed_b).unwrap();
        let ab = a.diffie_hellman(&b.public_key().unwrap()).unwrap();
        let ba = b.diffie_hellman(&a.public_key().unwrap()).unwrap();
        prop_assert!(ab.ct_eq(ba.expose()));
    }
}
