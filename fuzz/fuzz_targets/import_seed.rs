//! Seed import, per HD scheme: `[scheme selector][seed]` (0: BIP32
//! secp256k1, 1: SLIP-10 Ed25519, 2: SLIP-10 P-256). Exactly the seeds of
//! 16..=64 bytes are accepted (BIP32: "between 128 and 512 bits"), and the
//! root public key equals the one computed from the specification
//! (`keyhold_fuzz::reference::slip10_master`; BIP32's master key is the
//! SLIP-10 secp256k1 one, key "Bitcoin seed").
#![no_main]

use keyhold_core::{ErrorCode, HdScheme, ImportMaterial, SecretBytes};
use keyhold_fuzz::{fixture, oracle, reference, split_selector};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let (selector, seed) = split_selector(data);
    let scheme = HdScheme::ALL[usize::from(selector) % HdScheme::ALL.len()];
    fixture::with_fixture_no_reset(|fx| {
        let material = ImportMaterial::Seed {
            seed: SecretBytes::copy_from(seed),
            scheme,
        };
        let valid_length = (16..=64).contains(&seed.len());
        match fixture::import_and_delete(fx, material) {
            Ok(info) => {
                assert!(
                    valid_length,
                    "{scheme}: accepted a {}-byte seed",
                    seed.len()
                );
                assert_eq!(info.hd_scheme, Some(scheme));
                assert_eq!(
                    info.public_key,
                    reference::hd_root_public(scheme, seed),
                    "{scheme}: root differs"
                );
            }
            Err(e) => {
                oracle::expect_code(
                    &e,
                    &[ErrorCode::InvalidKeyMaterial, ErrorCode::InvalidArgument],
                    "import seed",
                );
                assert!(
                    !valid_length,
                    "{scheme}: refused a {}-byte seed: {e}",
                    seed.len()
                );
            }
        }
    });
});
