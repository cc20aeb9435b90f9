//! Tests of the key formats.
//!
//! Sources of the known answers:
//! - RFC 8037 §A.2 (Ed25519 JWK of the RFC 8032 TEST 1 key) and §A.6
//!   (X25519 JWKs of the RFC 7748 §6.1 keys);
//! - RFC 7517 §A.2 (the P-256 example key: `d` gives `x`, `y`);
//! - eth-account documentation (`Account.recover_transaction` example):
//!   key `4c0883a6…` has address 0x2c7536E3605D9C16a7a3D7b1898e529396a65c23;
//! - BIP173 (bitcoin/bips `bip-0173.mediawiki`, "Examples"): the P2WPKH
//!   address of the generator point G is bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4;
//! - OpenSSL 3 key files under `tests/vectors/openssl/` (made by
//!   `generate.sh` there), for SPKI, PKCS#8 and SEC1 interoperability.

use super::*;
use crate::crypto::Payload;
use crate::{ErrorCode, SignatureScheme};
use der::asn1::AnyRef;

fn hx(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

const ASYMMETRIC: [Algorithm; 4] = [
    Algorithm::Secp256k1,
    Algorithm::P256,
    Algorithm::Ed25519,
    Algorithm::X25519,
];

fn public(algorithm: Algorithm) -> (PrivateKey, PublicKey) {
    let k = PrivateKey::generate(algorithm).unwrap();
    let p = k.public_key().unwrap();
    (k, p)
}

/// Which formats each algorithm has (the table in the module docs).
fn supported(algorithm: Algorithm, format: PublicKeyFormat) -> bool {
    use PublicKeyFormat as F;
    match format {
        F::Sec1Compressed | F::Sec1Uncompressed => {
            matches!(algorithm, Algorithm::Secp256k1 | Algorithm::P256)
        }
        F::Raw => algorithm != Algorithm::P256,
        F::SpkiDer | F::SpkiPem | F::Jwk => true,
        F::Xpub => false,
        F::EthAddress | F::BtcP2wpkh => algorithm == Algorithm::Secp256k1,
    }
}

#[test]
fn every_format_for_every_algorithm() {
    for algorithm in ASYMMETRIC {
        let (_, pk) = public(algorithm);
        for format in PublicKeyFormat::ALL {
            let result = pk.encode(*format);
            if *format == PublicKeyFormat::Xpub {
                assert_eq!(result.unwrap_err().code(), ErrorCode::InvalidArgument);
                continue;
            }
            if !supported(algorithm, *format) {
                assert_eq!(
                    result.unwrap_err().code(),
                    ErrorCode::IncompatibleKey,
                    "{algorithm} {format}"
                );
                continue;
            }
            let enc = result.unwrap();
            let label = format!("{algorithm} {format}");
            match format {
                PublicKeyFormat::Sec1Compressed => assert_eq!(enc.bytes.len(), 33, "{label}"),
                PublicKeyFormat::Sec1Uncompressed => assert_eq!(enc.bytes.len(), 65, "{label}"),
                PublicKeyFormat::Raw => assert_eq!(enc.bytes.len(), 32, "{label}"),
                PublicKeyFormat::SpkiDer => assert_eq!(enc.bytes[0], 0x30, "{label}"),
                PublicKeyFormat::SpkiPem => {
                    let text = enc.text.as_deref().unwrap();
                    assert!(
                        text.starts_with("-----BEGIN PUBLIC KEY-----\n")
                            && text.ends_with("-----END PUBLIC KEY-----\n"),
                        "{label}"
                    );
                }
                PublicKeyFormat::Jwk => {
                    let text = enc.text.as_deref().unwrap();
                    assert!(
                        text.starts_with("{\"crv\":") && !text.contains(' ') && !text.contains('='),
                        "{label}: {text}"
                    );
                }
                PublicKeyFormat::EthAddress => {
                    let text = enc.text.as_deref().unwrap();
                    assert!(text.starts_with("0x") && text.len() == 42, "{text}");
                }
                PublicKeyFormat::BtcP2wpkh => {
                    let text = enc.text.as_deref().unwrap();
                    assert!(text.starts_with("bc1q") && text.len() == 42, "{text}");
                }
                PublicKeyFormat::Xpub => unreachable!(),
            }
            // Text formats carry their UTF-8 as bytes too.
            if let Some(text) = &enc.text {
                assert_eq!(enc.bytes, text.as_bytes());
            }
        }
    }
}

#[test]
fn parseable_formats_round_trip() {
    for algorithm in ASYMMETRIC {
        for _ in 0..8 {
            let (_, pk) = public(algorithm);
            for format in [
                PublicKeyFormat::Sec1Compressed,
                PublicKeyFormat::Sec1Uncompressed,
                PublicKeyFormat::Raw,
                PublicKeyFormat::SpkiDer,
                PublicKeyFormat::SpkiPem,
            ] {
                let Ok(enc) = pk.encode(format) else { continue };
                let back = parse_public_key(algorithm, &enc.bytes).unwrap();
                if algorithm == Algorithm::Secp256k1 && format == PublicKeyFormat::Raw {
                    // x-only: the key with the same x and even y.
                    let even = back.encode(PublicKeyFormat::Sec1Compressed).unwrap().bytes;
                    let orig = pk.encode(PublicKeyFormat::Sec1Compressed).unwrap().bytes;
                    assert_eq!(even[0], 2);
                    assert_eq!(even[1..], orig[1..]);
                } else {
                    assert_eq!(back, pk, "{algorithm} {format}");
                }
            }
            assert_eq!(
                parse_public_key(algorithm, &pk.canonical_bytes()).unwrap(),
                pk
            );
        }
    }
}

#[test]
fn jwk_known_answers() {
    // RFC 8037 §A.2: the RFC 8032 TEST 1 key.
    let ed = PrivateKey::from_bytes(
        Algorithm::Ed25519,
        &hx("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"),
    )
    .unwrap();
    assert_eq!(
        ed.public_key()
            .unwrap()
            .encode(PublicKeyFormat::Jwk)
            .unwrap()
            .text
            .unwrap(),
        r#"{"crv":"Ed25519","kty":"OKP","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#
    );
    // RFC 8037 §A.6: the RFC 7748 keys of Alice and Bob.
    let alice = PrivateKey::from_bytes(
        Algorithm::X25519,
        &hx("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"),
    )
    .unwrap();
    assert_eq!(
        alice
            .public_key()
            .unwrap()
            .encode(PublicKeyFormat::Jwk)
            .unwrap()
            .text
            .unwrap(),
        r#"{"crv":"X25519","kty":"OKP","x":"hSDwCYkwp1R0i33ctD73Wg2_Og0mOBr066SpjqqbTmo"}"#
    );
    let bob = parse_public_key(
        Algorithm::X25519,
        &hx("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"),
    )
    .unwrap();
    assert_eq!(
        bob.encode(PublicKeyFormat::Jwk).unwrap().text.unwrap(),
        r#"{"crv":"X25519","kty":"OKP","x":"3p7bfXt9wbTTW2HC7OQ1Nz-DQ8hbeGdNrfx-FG-IK08"}"#
    );
    // RFC 7517 §A.2: the P-256 example private key d and its x, y.
    use base64ct::Encoding as _;
    let d = base64ct::Base64UrlUnpadded::decode_vec("870MB6gfuTJ4HtUnUvYMyJpr5eUZNP4Bk43bVdj3eAE")
        .unwrap();
    let p = PrivateKey::from_bytes(Algorithm::P256, &d).unwrap();
    assert_eq!(
        p.public_key()
            .unwrap()
            .encode(PublicKeyFormat::Jwk)
            .unwrap()
            .text
            .unwrap(),
        r#"{"crv":"P-256","kty":"EC","x":"MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4","y":"4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM"}"#
    );
    // secp256k1 uses the RFC 8812 curve name and 32-byte coordinates.
    let k = PrivateKey::from_bytes(Algorithm::Secp256k1, &[1; 32]).unwrap();
    let jwk = k
        .public_key()
        .unwrap()
        .encode(PublicKeyFormat::Jwk)
        .unwrap()
        .text
        .unwrap();
    assert!(
        jwk.starts_with(r#"{"crv":"secp256k1","kty":"EC","x":""#),
        "{jwk}"
    );
    assert_eq!(
        jwk.len(),
        r#"{"crv":"secp256k1","kty":"EC","x":"","y":""}"#.len() + 2 * 43
    );
}

#[test]
fn address_known_answers() {
    let k = PrivateKey::from_bytes(
        Algorithm::Secp256k1,
        &hx("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"),
    )
    .unwrap();
    assert_eq!(
        k.public_key()
            .unwrap()
            .encode(PublicKeyFormat::EthAddress)
            .unwrap()
            .text
            .as_deref(),
        Some("0x2c7536E3605D9C16a7a3D7b1898e529396a65c23")
    );
    // BIP173: the generator point G.
    let g = parse_public_key(
        Algorithm::Secp256k1,
        &hx("0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"),
    )
    .unwrap();
    assert_eq!(
        g.encode(PublicKeyFormat::BtcP2wpkh)
            .unwrap()
            .text
            .as_deref(),
        Some("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4")
    );
    assert_eq!(
        g.encode(PublicKeyFormat::Raw).unwrap().bytes,
        hx("79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798")
    );
}

#[test]
fn public_key_parse_rejects_bad_input() {
    let (_, k1) = public(Algorithm::Secp256k1);
    let compressed = k1.canonical_bytes();
    let uncompressed = k1.encode(PublicKeyFormat::Sec1Uncompressed).unwrap().bytes;
    let mut hybrid = uncompressed.clone();
    hybrid[0] = 6 | (uncompressed[64] & 1);
    let mut off_curve = uncompressed.clone();
    off_curve[64] ^= 1;
    let mut bad_prefix = compressed.clone();
    bad_prefix[0] = 4;
    let field_p = hx("fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2f");
    for bad in [
        vec![],
        vec![0],
        hybrid,
        off_curve,
        bad_prefix,
        // BIP340 test vector 5's x, which is not on the curve.
        hx("02eefdea4cdb677750a420fee807eacf21eb9898ae79b9768766e4faa04a2d4a34"),
        hx("eefdea4cdb677750a420fee807eacf21eb9898ae79b9768766e4faa04a2d4a34"),
        [0x05]
            .iter()
            .copied()
            .chain(compressed[1..].iter().copied())
            .collect(),
        field_p,
        vec![0; 33],
        vec![0x30, 0x00],
    ] {
        let err = parse_public_key(Algorithm::Secp256k1, &bad).unwrap_err();
        assert_eq!(
            err.code(),
            ErrorCode::InvalidKeyMaterial,
            "{}",
            hex::encode(&bad)
        );
    }
    // An SPKI of another algorithm is the wrong key, not a bad one.
    let (_, ed) = public(Algorithm::Ed25519);
    let spki = ed.encode(PublicKeyFormat::SpkiDer).unwrap().bytes;
    assert_eq!(
        parse_public_key(Algorithm::X25519, &spki)
            .unwrap_err()
            .code(),
        ErrorCode::IncompatibleKey
    );
    let p256_spki = public(Algorithm::P256)
        .1
        .encode(PublicKeyFormat::SpkiDer)
        .unwrap()
        .bytes;
    assert_eq!(
        parse_public_key(Algorithm::Secp256k1, &p256_spki)
            .unwrap_err()
            .code(),
        ErrorCode::IncompatibleKey
    );
    // Trailing bytes after the SPKI, and explicit NULL parameters for Ed25519.
    let mut trailing = spki.clone();
    trailing.push(0);
    assert_eq!(
        parse_public_key(Algorithm::Ed25519, &trailing)
            .unwrap_err()
            .code(),
        ErrorCode::InvalidKeyMaterial
    );
    let with_null = [
        &[
            0x30, 0x2c, 0x30, 0x07, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x05, 0x00,
        ][..],
        &spki[9..],
    ]
    .concat();
    assert_eq!(
        parse_public_key(Algorithm::Ed25519, &with_null)
            .unwrap_err()
            .code(),
        ErrorCode::InvalidKeyMaterial
    );
    for n in [31, 33, 64] {
        assert_eq!(
            parse_public_key(Algorithm::Ed25519, &vec![1; n])
                .unwrap_err()
                .code(),
            ErrorCode::InvalidKeyMaterial
        );
        assert_eq!(
            parse_public_key(Algorithm::X25519, &vec![1; n])
                .unwrap_err()
                .code(),
            ErrorCode::InvalidKeyMaterial
        );
    }
    assert_eq!(
        parse_public_key(Algorithm::Aes256Gcm, &[0; 32])
            .unwrap_err()
            .code(),
        ErrorCode::IncompatibleKey
    );
    assert_eq!(
        parse_public_key(Algorithm::HmacSha256, &[0; 32])
            .unwrap_err()
            .code(),
        ErrorCode::IncompatibleKey
    );
    // P-256 has no raw form.
    assert!(parse_public_key(Algorithm::P256, &[1; 32]).is_err());
}

// ---------------------------------------------------------------- OpenSSL fixtures

struct Fixture {
    algorithm: Algorithm,
    pkcs8_der: &'static [u8],
    pkcs8_pem: &'static str,
    sec1: Option<(&'static [u8], &'static str)>,
    pub_der: &'static [u8],
    pub_pem: &'static str,
}

macro_rules! fixture_file {
    ($name:literal) => {
        concat!("../../tests/vectors/openssl/", $name)
    };
}

fn fixtures() -> [Fixture; 4] {
    [
        Fixture {
            algorithm: Algorithm::Secp256k1,
            pkcs8_der: include_bytes!(fixture_file!("secp256k1-pkcs8.der")),
            pkcs8_pem: include_str!(fixture_file!("secp256k1-pkcs8.pem")),
            sec1: Some((
                include_bytes!(fixture_file!("secp256k1-sec1.der")),
                include_str!(fixture_file!("secp256k1-sec1.pem")),
            )),
            pub_der: include_bytes!(fixture_file!("secp256k1-pub.der")),
            pub_pem: include_str!(fixture_file!("secp256k1-pub.pem")),
        },
        Fixture {
            algorithm: Algorithm::P256,
            pkcs8_der: include_bytes!(fixture_file!("p256-pkcs8.der")),
            pkcs8_pem: include_str!(fixture_file!("p256-pkcs8.pem")),
            sec1: Some((
                include_bytes!(fixture_file!("p256-sec1.der")),
                include_str!(fixture_file!("p256-sec1.pem")),
            )),
            pub_der: include_bytes!(fixture_file!("p256-pub.der")),
            pub_pem: include_str!(fixture_file!("p256-pub.pem")),
        },
        Fixture {
            algorithm: Algorithm::Ed25519,
            pkcs8_der: include_bytes!(fixture_file!("ed25519-pkcs8.der")),
            pkcs8_pem: include_str!(fixture_file!("ed25519-pkcs8.pem")),
            sec1: None,
            pub_der: include_bytes!(fixture_file!("ed25519-pub.der")),
            pub_pem: include_str!(fixture_file!("ed25519-pub.pem")),
        },
        Fixture {
            algorithm: Algorithm::X25519,
            pkcs8_der: include_bytes!(fixture_file!("x25519-pkcs8.der")),
            pkcs8_pem: include_str!(fixture_file!("x25519-pkcs8.pem")),
            sec1: None,
            pub_der: include_bytes!(fixture_file!("x25519-pub.der")),
            pub_pem: include_str!(fixture_file!("x25519-pub.pem")),
        },
    ]
}

fn curve_oid(algorithm: Algorithm) -> ObjectIdentifier {
    match algorithm {
        Algorithm::Secp256k1 => OID_SECP256K1,
        _ => OID_P256,
    }
}

/// Test-only SEC1 ECPrivateKey encoder (private keys never leave the core,
/// so production code has none): version 1, key, named curve, public key.
fn encode_sec1(key: &PrivateKey, with_parameters: bool) -> Vec<u8> {
    let secret = key.to_secret_bytes();
    let point = key
        .public_key()
        .unwrap()
        .encode(PublicKeyFormat::Sec1Uncompressed)
        .unwrap()
        .bytes;
    sec1::EcPrivateKey {
        private_key: secret.expose(),
        parameters: with_parameters
            .then(|| sec1::EcParameters::NamedCurve(curve_oid(key.algorithm()))),
        public_key: Some(&point),
    }
    .to_der()
    .unwrap()
}

/// Test-only PKCS#8 v1 encoder, in OpenSSL's layout.
fn encode_pkcs8(key: &PrivateKey) -> Vec<u8> {
    let algorithm = key.algorithm();
    let secret = key.to_secret_bytes();
    let curve = curve_oid(algorithm);
    let (oid, parameters, inner) = match algorithm {
        Algorithm::Secp256k1 | Algorithm::P256 => (
            OID_EC_PUBLIC_KEY,
            Some(AnyRef::from(&curve)),
            encode_sec1(key, false),
        ),
        Algorithm::Ed25519 => (
            OID_ED25519,
            None,
            OctetStringRef::new(secret.expose())
                .unwrap()
                .to_der()
                .unwrap(),
        ),
        _ => (
            OID_X25519,
            None,
            OctetStringRef::new(secret.expose())
                .unwrap()
                .to_der()
                .unwrap(),
        ),
    };
    pkcs8::PrivateKeyInfoRef::new(
        AlgorithmIdentifier { oid, parameters },
        OctetStringRef::new(&inner).unwrap(),
    )
    .to_der()
    .unwrap()
}

#[test]
fn openssl_fixtures_parse_and_re_encode_byte_for_byte() {
    for f in fixtures() {
        let a = f.algorithm;
        let from_der = parse_pkcs8(f.pkcs8_der, Some(a)).unwrap();
        let from_pem = parse_pkcs8(f.pkcs8_pem.as_bytes(), None).unwrap();
        assert_eq!(from_der.algorithm(), a);
        assert!(
            from_der
                .to_secret_bytes()
                .ct_eq(from_pem.to_secret_bytes().expose()),
            "{a}"
        );
        // PKCS#8 parse -> re-encode gives OpenSSL's bytes back.
        assert_eq!(
            encode_pkcs8(&from_der),
            f.pkcs8_der,
            "{a} PKCS#8 round trip"
        );
        // Our SPKI equals OpenSSL's, in DER and PEM.
        let pk = from_der.public_key().unwrap();
        assert_eq!(
            pk.encode(PublicKeyFormat::SpkiDer).unwrap().bytes,
            f.pub_der,
            "{a} SPKI DER"
        );
        assert_eq!(
            pk.encode(PublicKeyFormat::SpkiPem).unwrap().text.as_deref(),
            Some(f.pub_pem),
            "{a} SPKI PEM"
        );
        assert_eq!(parse_public_key(a, f.pub_der).unwrap(), pk);
        assert_eq!(parse_public_key(a, f.pub_pem.as_bytes()).unwrap(), pk);
        if let Some((sec1_der, sec1_pem)) = f.sec1 {
            let k = parse_sec1(sec1_der, None).unwrap();
            // The PEM starts with OpenSSL's EC PARAMETERS block.
            assert!(sec1_pem.starts_with("-----BEGIN EC PARAMETERS-----"));
            let kp = parse_sec1(sec1_pem.as_bytes(), Some(a)).unwrap();
            assert!(
                k.to_secret_bytes()
                    .ct_eq(from_der.to_secret_bytes().expose()),
                "{a}"
            );
            assert!(
                kp.to_secret_bytes()
                    .ct_eq(from_der.to_secret_bytes().expose()),
                "{a}"
            );
            assert_eq!(encode_sec1(&k, true), sec1_der, "{a} SEC1 round trip");
        } else {
            assert_eq!(
                parse_sec1(f.pkcs8_der, Some(a)).unwrap_err().code(),
                ErrorCode::IncompatibleKey
            );
        }
        // Our generated keys survive our test encoders and the parsers too.
        let fresh = PrivateKey::generate(a).unwrap();
        let again = parse_pkcs8(&encode_pkcs8(&fresh), Some(a)).unwrap();
        assert!(
            again
                .to_secret_bytes()
                .ct_eq(fresh.to_secret_bytes().expose())
        );
    }
}

#[test]
fn pkcs8_and_sec1_errors() {
    let [k1, p256, ed, _x] = fixtures();
    let inv = |r: Result<PrivateKey>| r.unwrap_err().code();
    // Wrong expected algorithm, symmetric algorithms, garbage.
    assert_eq!(
        inv(parse_pkcs8(k1.pkcs8_der, Some(Algorithm::P256))),
        ErrorCode::InvalidKeyMaterial
    );
    assert_eq!(
        inv(parse_pkcs8(ed.pkcs8_der, Some(Algorithm::X25519))),
        ErrorCode::InvalidKeyMaterial
    );
    assert_eq!(
        inv(parse_pkcs8(ed.pkcs8_der, Some(Algorithm::Aes256Gcm))),
        ErrorCode::IncompatibleKey
    );
    for bad in [
        &b""[..],
        b"\x30\x00",
        b"-----BEGIN PRIVATE KEY-----\n!!\n-----END PRIVATE KEY-----\n",
        &k1.pkcs8_der[..40],
        k1.pub_der,
    ] {
        assert_eq!(inv(parse_pkcs8(bad, None)), ErrorCode::InvalidKeyMaterial);
    }
    let mut trailing = k1.pkcs8_der.to_vec();
    trailing.push(0);
    assert_eq!(
        inv(parse_pkcs8(&trailing, None)),
        ErrorCode::InvalidKeyMaterial
    );
    // A SEC1 document is not PKCS#8, and PEM labels are checked.
    assert_eq!(
        inv(parse_pkcs8(k1.sec1.unwrap().0, None)),
        ErrorCode::InvalidKeyMaterial
    );
    assert_eq!(
        inv(parse_pkcs8(k1.sec1.unwrap().1.as_bytes(), None)),
        ErrorCode::InvalidKeyMaterial
    );
    assert_eq!(
        inv(parse_sec1(k1.pkcs8_pem.as_bytes(), None)),
        ErrorCode::InvalidKeyMaterial
    );
    // Encrypted PKCS#8 is refused.
    let encrypted = include_str!(fixture_file!("p256-pkcs8-encrypted.pem"));
    assert_eq!(
        inv(parse_pkcs8(encrypted.as_bytes(), None)),
        ErrorCode::InvalidKeyMaterial
    );

    // SEC1: curve from parameters or from `expected`, and they must agree.
    let k = parse_sec1(p256.sec1.unwrap().0, None).unwrap();
    let bare = encode_sec1(&k, false);
    assert_eq!(inv(parse_sec1(&bare, None)), ErrorCode::InvalidKeyMaterial);
    assert!(
        parse_sec1(&bare, Some(Algorithm::P256))
            .unwrap()
            .to_secret_bytes()
            .ct_eq(k.to_secret_bytes().expose())
    );
    assert_eq!(
        inv(parse_sec1(p256.sec1.unwrap().0, Some(Algorithm::Secp256k1))),
        ErrorCode::InvalidKeyMaterial
    );
    assert_eq!(
        inv(parse_sec1(p256.sec1.unwrap().0, Some(Algorithm::Ed25519))),
        ErrorCode::IncompatibleKey
    );
    // Without parameters, the bare key under the wrong curve fails its
    // embedded public key check.
    assert_eq!(
        inv(parse_sec1(&bare, Some(Algorithm::Secp256k1))),
        ErrorCode::InvalidKeyMaterial
    );

    // An embedded public key that is not the key's own is refused.
    let other = PrivateKey::generate(Algorithm::P256).unwrap();
    let other_point = other
        .public_key()
        .unwrap()
        .encode(PublicKeyFormat::Sec1Uncompressed)
        .unwrap()
        .bytes;
    let secret = k.to_secret_bytes();
    let mismatched = sec1::EcPrivateKey {
        private_key: secret.expose(),
        parameters: Some(sec1::EcParameters::NamedCurve(OID_P256)),
        public_key: Some(&other_point),
    }
    .to_der()
    .unwrap();
    assert_eq!(
        inv(parse_sec1(&mismatched, None)),
        ErrorCode::InvalidKeyMaterial
    );
    // Same for a PKCS#8 v2 (RFC 5958) public key.
    let ed_key = parse_pkcs8(ed.pkcs8_der, None).unwrap();
    let ed_secret = ed_key.to_secret_bytes();
    let inner = OctetStringRef::new(ed_secret.expose())
        .unwrap()
        .to_der()
        .unwrap();
    let v2 = |public: &[u8]| {
        let mut info = pkcs8::PrivateKeyInfoRef::new(
            AlgorithmIdentifier {
                oid: OID_ED25519,
                parameters: None,
            },
            OctetStringRef::new(&inner).unwrap(),
        );
        info.public_key = Some(BitStringRef::from_bytes(public).unwrap());
        info.to_der().unwrap()
    };
    let own = ed_key.public_key().unwrap().canonical_bytes();
    assert!(parse_pkcs8(&v2(&own), None).is_ok());
    let wrong = PrivateKey::generate(Algorithm::Ed25519)
        .unwrap()
        .public_key()
        .unwrap()
        .canonical_bytes();
    assert_eq!(
        inv(parse_pkcs8(&v2(&wrong), None)),
        ErrorCode::InvalidKeyMaterial
    );
    // A short (leading-zero-stripped) EC scalar is left-padded.
    let small =
        PrivateKey::from_bytes(Algorithm::Secp256k1, &[[0u8; 31].as_slice(), &[5]].concat())
            .unwrap();
    let point = small
        .public_key()
        .unwrap()
        .encode(PublicKeyFormat::Sec1Uncompressed)
        .unwrap()
        .bytes;
    let stripped = sec1::EcPrivateKey {
        private_key: &[5],
        parameters: Some(sec1::EcParameters::NamedCurve(OID_SECP256K1)),
        public_key: Some(&point),
    }
    .to_der()
    .unwrap();
    assert_eq!(
        parse_sec1(&stripped, None).unwrap().public_key(),
        small.public_key()
    );
}

#[test]
fn parsed_keys_work_and_errors_do_not_echo_them() {
    for f in fixtures() {
        let k = parse_pkcs8(f.pkcs8_der, None).unwrap();
        k.public_key().unwrap();
    }
    let [k1, ..] = fixtures();
    let mut damaged = k1.pkcs8_der.to_vec();
    let len = damaged.len();
    damaged[len - 70] ^= 0xff;
    if let Err(e) = parse_pkcs8(&damaged, None) {
        let text = format!("{e} {e:?}");
        let secret = parse_pkcs8(k1.pkcs8_der, None).unwrap().to_secret_bytes();
        assert!(
            !text.contains(&hex::encode(&secret.expose()[..8])),
            "{text}"
        );
    }
}

// ---------------------------------------------------------------- OpenSSL CLI interop

/// Runs `openssl` with `args`; `None` when the binary is not installed.
fn openssl(args: &[&str]) -> Option<std::process::Output> {
    std::process::Command::new("openssl")
        .args(args)
        .output()
        .ok()
}

#[test]
fn openssl_verifies_our_signatures_and_derives_our_secrets() {
    if openssl(&["version"]).is_none() {
        eprintln!("openssl not installed: interop test skipped");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_owned();
    let msg = b"keyhold openssl interop";
    std::fs::write(path("msg"), msg).unwrap();
    for (algorithm, scheme) in [
        (Algorithm::Secp256k1, SignatureScheme::EcdsaDer),
        (Algorithm::P256, SignatureScheme::EcdsaDer),
        (Algorithm::Ed25519, SignatureScheme::Ed25519),
    ] {
        let key = PrivateKey::generate(algorithm).unwrap();
        let pem = key
            .public_key()
            .unwrap()
            .encode(PublicKeyFormat::SpkiPem)
            .unwrap()
            .text
            .unwrap();
        std::fs::write(path("pub.pem"), pem).unwrap();
        std::fs::write(
            path("sig"),
            key.sign(scheme, Payload::Message(msg)).unwrap(),
        )
        .unwrap();
        let out = if algorithm == Algorithm::Ed25519 {
            openssl(&[
                "pkeyutl",
                "-verify",
                "-pubin",
                "-inkey",
                &path("pub.pem"),
                "-rawin",
                "-in",
                &path("msg"),
                "-sigfile",
                &path("sig"),
            ])
        } else {
            openssl(&[
                "dgst",
                "-sha256",
                "-verify",
                &path("pub.pem"),
                "-signature",
                &path("sig"),
                &path("msg"),
            ])
        }
        .unwrap();
        assert!(
            out.status.success(),
            "{algorithm}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
    // Key agreement against the OpenSSL fixtures' private keys.
    for f in fixtures()
        .into_iter()
        .filter(|f| f.algorithm != Algorithm::Ed25519)
    {
        let ours = PrivateKey::generate(f.algorithm).unwrap();
        let pem = ours
            .public_key()
            .unwrap()
            .encode(PublicKeyFormat::SpkiPem)
            .unwrap()
            .text
            .unwrap();
        std::fs::write(path("peer.pem"), pem).unwrap();
        std::fs::write(path("key.pem"), f.pkcs8_pem).unwrap();
        let out = openssl(&[
            "pkeyutl",
            "-derive",
            "-inkey",
            &path("key.pem"),
            "-peerkey",
            &path("peer.pem"),
        ])
        .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let theirs = parse_public_key(f.algorithm, f.pub_der).unwrap();
        assert!(
            ours.diffie_hellman(&theirs).unwrap().ct_eq(&out.stdout),
            "{}",
            f.algorithm
        );
    }
    // And we verify OpenSSL's P-256 and Ed25519 signatures. (OpenSSL does not
    // normalise secp256k1 signatures to low-S, which we require.)
    for f in fixtures()
        .into_iter()
        .filter(|f| matches!(f.algorithm, Algorithm::P256 | Algorithm::Ed25519))
    {
        std::fs::write(path("key.pem"), f.pkcs8_pem).unwrap();
        let out = if f.algorithm == Algorithm::Ed25519 {
            openssl(&[
                "pkeyutl",
                "-sign",
                "-inkey",
                &path("key.pem"),
                "-rawin",
                "-in",
                &path("msg"),
            ])
        } else {
            openssl(&["dgst", "-sha256", "-sign", &path("key.pem"), &path("msg")])
        }
        .unwrap();
        assert!(out.status.success());
        let scheme = if f.algorithm == Algorithm::Ed25519 {
            SignatureScheme::Ed25519
        } else {
            SignatureScheme::EcdsaDer
        };
        let pk = parse_public_key(f.algorithm, f.pub_der).unwrap();
        assert!(
            pk.verify(scheme, Payload::Message(msg), &out.stdout)
                .unwrap(),
            "{}",
            f.algorithm
        );
    }
}
