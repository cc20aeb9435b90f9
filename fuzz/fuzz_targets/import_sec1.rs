//! SEC1 ECPrivateKey import (DER and PEM): `[curve selector][bytes]`
//! (0: none named, 1: secp256k1, 2: P-256). Whatever the core accepts, the
//! RustCrypto SEC1 decoder of that curve must accept with the same public key.
#![no_main]

use keyhold_core::{Algorithm, ErrorCode, ImportMaterial, SecretBytes};
use keyhold_fuzz::{fixture, oracle, reference, split_selector};

fn reference_public(algorithm: Algorithm, data: &[u8]) -> Option<Vec<u8>> {
    let pem = std::str::from_utf8(data)
        .ok()
        .filter(|t| t.contains("-----BEGIN "))
        .map(|t| reference::pem_block(t, "EC PRIVATE KEY"));
    let pem = match pem {
        Some(None) => return None,
        Some(Some(block)) => Some(block),
        None => None,
    };
    match algorithm {
        Algorithm::Secp256k1 => {
            let sk = match pem {
                Some(t) => k256::SecretKey::from_sec1_pem(t).ok()?,
                None => k256::SecretKey::from_sec1_der(data).ok()?,
            };
            reference::k256_public(&sk.to_bytes())
        }
        Algorithm::P256 => {
            let sk = match pem {
                Some(t) => p256::SecretKey::from_sec1_pem(t).ok()?,
                None => p256::SecretKey::from_sec1_der(data).ok()?,
            };
            reference::p256_public(&sk.to_bytes())
        }
        _ => None,
    }
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let (selector, der_or_pem) = split_selector(data);
    let expected = match selector % 3 {
        0 => None,
        1 => Some(Algorithm::Secp256k1),
        _ => Some(Algorithm::P256),
    };
    fixture::with_fixture_no_reset(|fx| {
        let material = ImportMaterial::Sec1 {
            data: SecretBytes::copy_from(der_or_pem),
            algorithm: expected,
        };
        match fixture::import_and_delete(fx, material) {
            Ok(info) => {
                if let Some(want) = expected {
                    assert_eq!(info.algorithm, want, "stored another curve than named");
                }
                let public = reference_public(info.algorithm, der_or_pem).unwrap_or_else(|| {
                    panic!(
                        "{}: the core accepted SEC1 RustCrypto refuses",
                        info.algorithm
                    )
                });
                assert_eq!(
                    info.public_key, public,
                    "{}: public key differs",
                    info.algorithm
                );
            }
            Err(e) => oracle::expect_code(
                &e,
                &[
                    ErrorCode::InvalidKeyMaterial,
                    ErrorCode::IncompatibleKey,
                    ErrorCode::InvalidArgument,
                    ErrorCode::RequestTooLarge,
                ],
                "import SEC1",
            ),
        }
    });
});
