//! PKCS#8 import (DER and PEM): `[expected-algorithm selector][bytes]`
//! (selector 0: none named; 1..=6: `Algorithm::ALL[s - 1]`). Whatever the
//! core accepts, the RustCrypto PKCS#8 decoder of that algorithm must also
//! accept, with the same public key; a named algorithm must be the one
//! stored. X25519 has no RustCrypto PKCS#8 decoder: its key is compared
//! through RFC 8410's layout (the last 32 bytes of the 48-byte v1 DER).
#![no_main]

use ed25519_dalek::pkcs8::DecodePrivateKey as _;
use keyhold_core::{Algorithm, ErrorCode, ImportMaterial, SecretBytes};
use keyhold_fuzz::{fixture, oracle, reference, split_selector};

/// The public key RustCrypto finds in `data`, if it decodes as `algorithm`.
fn reference_public(algorithm: Algorithm, data: &[u8]) -> Option<Vec<u8>> {
    let pem = std::str::from_utf8(data)
        .ok()
        .filter(|t| t.contains("-----BEGIN "))
        .map(|t| reference::pem_block(t, "PRIVATE KEY"));
    let pem = match pem {
        Some(None) => return None,
        Some(Some(block)) => Some(block),
        None => None,
    };
    match algorithm {
        Algorithm::Secp256k1 => {
            let sk = match pem {
                Some(t) => k256::SecretKey::from_pkcs8_pem(t).ok()?,
                None => k256::SecretKey::from_pkcs8_der(data).ok()?,
            };
            reference::k256_public(&sk.to_bytes())
        }
        Algorithm::P256 => {
            let sk = match pem {
                Some(t) => p256::SecretKey::from_pkcs8_pem(t).ok()?,
                None => p256::SecretKey::from_pkcs8_der(data).ok()?,
            };
            reference::p256_public(&sk.to_bytes())
        }
        Algorithm::Ed25519 => {
            let sk = match pem {
                Some(t) => ed25519_dalek::SigningKey::from_pkcs8_pem(t).ok()?,
                None => ed25519_dalek::SigningKey::from_pkcs8_der(data).ok()?,
            };
            Some(sk.verifying_key().to_bytes().to_vec())
        }
        Algorithm::X25519 if pem.is_none() && data.len() == 48 => {
            reference::x25519_public(&data[16..])
        }
        _ => None,
    }
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let (selector, der_or_pem) = split_selector(data);
    let expected = match usize::from(selector) % (Algorithm::ALL.len() + 1) {
        0 => None,
        n => Some(Algorithm::ALL[n - 1]),
    };
    fixture::with_fixture_no_reset(|fx| {
        let material = ImportMaterial::Pkcs8 {
            data: SecretBytes::copy_from(der_or_pem),
            algorithm: expected,
        };
        match fixture::import_and_delete(fx, material) {
            Ok(info) => {
                if let Some(want) = expected {
                    assert_eq!(info.algorithm, want, "stored another algorithm than named");
                }
                let is_x25519_pem_or_v2 = info.algorithm == Algorithm::X25519
                    && (der_or_pem.len() != 48 || der_or_pem.starts_with(b"-"));
                if !is_x25519_pem_or_v2 {
                    let public =
                        reference_public(info.algorithm, der_or_pem).unwrap_or_else(|| {
                            panic!(
                                "{}: the core accepted PKCS#8 RustCrypto refuses",
                                info.algorithm
                            )
                        });
                    assert_eq!(
                        info.public_key, public,
                        "{}: public key differs",
                        info.algorithm
                    );
                }
            }
            Err(e) => oracle::expect_code(
                &e,
                &[
                    ErrorCode::InvalidKeyMaterial,
                    ErrorCode::IncompatibleKey,
                    ErrorCode::InvalidArgument,
                    ErrorCode::RequestTooLarge,
                ],
                "import PKCS#8",
            ),
        }
    });
});
