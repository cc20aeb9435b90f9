//! BIP39 mnemonic import: `[scheme selector][phrase]\0[passphrase]`. The
//! core must accept exactly the phrases the `bip39` crate (English list,
//! NFKD, checksum) accepts, given a UTF-8 passphrase, and the root public
//! key must be that of the specification's seed (PBKDF2 through
//! `bip39::Mnemonic::to_seed`, then the SLIP-10/BIP32 master key).
#![no_main]

use keyhold_core::{ErrorCode, HdScheme, ImportMaterial, SecretBytes};
use keyhold_fuzz::{fixture, oracle, reference, split_selector};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let (selector, rest) = split_selector(data);
    let scheme = HdScheme::ALL[usize::from(selector) % HdScheme::ALL.len()];
    let (phrase, passphrase) = match rest.iter().position(|b| *b == 0) {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, &[][..]),
    };
    let reference_seed = match (std::str::from_utf8(phrase), std::str::from_utf8(passphrase)) {
        (Ok(p), Ok(pass)) => bip39::Mnemonic::parse_in(bip39::Language::English, p)
            .ok()
            .map(|m| m.to_seed(pass)),
        _ => None,
    };
    fixture::with_fixture_no_reset(|fx| {
        let material = ImportMaterial::Mnemonic {
            phrase: SecretBytes::copy_from(phrase),
            passphrase: SecretBytes::copy_from(passphrase),
            scheme,
        };
        match (fixture::import_and_delete(fx, material), reference_seed) {
            (Ok(info), Some(seed)) => {
                assert_eq!(
                    info.public_key,
                    reference::hd_root_public(scheme, &seed),
                    "{scheme}: root differs"
                );
            }
            (Ok(_), None) => panic!("the core accepted a mnemonic the bip39 crate refuses"),
            (Err(e), seed) => {
                oracle::expect_code(
                    &e,
                    &[
                        ErrorCode::InvalidMnemonic,
                        ErrorCode::InvalidArgument,
                        ErrorCode::RequestTooLarge,
                    ],
                    "import mnemonic",
                );
                assert!(
                    seed.is_none(),
                    "refused a mnemonic the bip39 crate accepts: {e}"
                );
            }
        }
    });
});
