//! BIP32 extended private key import (base58check `xprv`/`tprv`). Whatever
//! the core accepts, the `bip32` crate must parse as an extended private key
//! with the same public key (the core is stricter: BIP32 test vector 5's
//! zero-depth keys with a parent fingerprint are refused by the core only).
#![no_main]

use keyhold_core::{ErrorCode, ImportMaterial, SecretBytes};
use keyhold_fuzz::{fixture, oracle};
use std::str::FromStr as _;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    fixture::with_fixture_no_reset(|fx| {
        let material = ImportMaterial::Xprv(SecretBytes::copy_from(data));
        match fixture::import_and_delete(fx, material) {
            Ok(info) => {
                let text = std::str::from_utf8(data).expect("the core accepted non-UTF-8");
                let xprv = bip32::XPrv::from_str(text.trim()).unwrap_or_else(|e| {
                    panic!("the core accepted an xprv the bip32 crate refuses: {e}")
                });
                assert_eq!(
                    info.public_key,
                    xprv.public_key().to_bytes().to_vec(),
                    "public key differs"
                );
            }
            Err(e) => oracle::expect_code(
                &e,
                &[
                    ErrorCode::InvalidKeyMaterial,
                    ErrorCode::InvalidArgument,
                    ErrorCode::RequestTooLarge,
                ],
                "import xprv",
            ),
        }
    });
});
