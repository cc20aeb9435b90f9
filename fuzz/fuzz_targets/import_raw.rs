//! Raw private-key import, per algorithm: `[algorithm selector][secret]`.
//! Compared with the RustCrypto reference: secp256k1 and P-256 accept
//! exactly the scalars in [1, n) (32 bytes), Ed25519 exactly 32-byte seeds,
//! and the stored public key is the reference's; X25519, AES and HMAC keys
//! are checked for length and (X25519) public key.
#![no_main]

use keyhold_core::{Algorithm, ErrorCode, ImportMaterial, SecretBytes};
use keyhold_fuzz::{fixture, oracle, reference, split_selector};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let (selector, secret) = split_selector(data);
    let algorithm = Algorithm::ALL[usize::from(selector) % Algorithm::ALL.len()];
    fixture::with_fixture_no_reset(|fx| {
        let material = ImportMaterial::RawPrivateKey {
            algorithm,
            secret: SecretBytes::copy_from(secret),
        };
        let result = fixture::import_and_delete(fx, material);
        let expected = match algorithm {
            Algorithm::Secp256k1 => reference::k256_public(secret).map(Some),
            Algorithm::P256 => reference::p256_public(secret).map(Some),
            Algorithm::Ed25519 => reference::ed25519_public(secret).map(Some),
            Algorithm::X25519 => reference::x25519_public(secret).map(Some),
            // Symmetric keys: the length check is all there is to compare.
            Algorithm::Aes256Gcm => (secret.len() == 32).then_some(None),
            Algorithm::HmacSha256 => None,
        };
        match (result, expected) {
            (Ok(info), Some(Some(public))) => {
                assert_eq!(info.algorithm, algorithm);
                assert_eq!(info.public_key, public, "{algorithm}: public key differs");
            }
            (Ok(info), Some(None)) => assert!(info.public_key.is_empty()),
            (Ok(_), None) if algorithm == Algorithm::HmacSha256 => {}
            (Ok(_), None) => panic!("{algorithm}: accepted a key the reference refuses"),
            (Err(e), expected) => {
                oracle::expect_code(
                    &e,
                    &[
                        ErrorCode::InvalidKeyMaterial,
                        ErrorCode::InvalidArgument,
                        ErrorCode::RequestTooLarge,
                    ],
                    "import raw",
                );
                assert!(
                    expected.is_none() || algorithm == Algorithm::HmacSha256,
                    "{algorithm}: refused a key the reference accepts: {e}"
                );
            }
        }
    });
});
