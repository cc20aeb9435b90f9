//! Derivation paths: `[key selector][path text]`. `DerivationPath::parse`
//! must agree with the grammar written from BIP32/BIP44 notation here
//! (`m`, then `/index` with `'`, `h` or `H` for hardened; decimal without
//! leading zeros; index < 2^31; depth <= 255), and a parsed path must print
//! and re-parse to itself. The path is then derived by the engine from the
//! fixture's HD keys (0: BIP32 "hd", 1: SLIP-10 Ed25519 "hd-ed", 2: SLIP-10
//! P-256 "hd-p256"): BIP32 children must equal the `bip32` crate's from
//! the same seed (BIP39 vector 0 with passphrase TREZOR); Ed25519 must
//! refuse exactly the paths with a non-hardened index (SLIP-10).
#![no_main]

use keyhold_core::{DerivationPath, ErrorCode, KeyRef};
use keyhold_fuzz::{fixture, oracle, split_selector, vectors};
use std::str::FromStr as _;

const HARDENED: u32 = 0x8000_0000;

/// The grammar, written independently of the core's parser.
fn grammar(text: &str) -> Option<Vec<u32>> {
    let rest = text.strip_prefix('m')?;
    let mut out = Vec::new();
    if rest.is_empty() {
        return Some(out);
    }
    for part in rest.strip_prefix('/')?.split('/') {
        let (digits, hardened) = match part.as_bytes().last()? {
            b'\'' | b'h' | b'H' => (&part[..part.len() - 1], true),
            _ => (part, false),
        };
        if digits.is_empty()
            || !digits.bytes().all(|b| b.is_ascii_digit())
            || (digits.len() > 1 && digits.starts_with('0'))
            || digits.len() > 10
        {
            return None;
        }
        let index: u64 = digits.parse().ok()?;
        if index >= u64::from(HARDENED) {
            return None;
        }
        let index = u32::try_from(index).ok()?;
        out.push(if hardened { index | HARDENED } else { index });
        if out.len() > 255 {
            return None;
        }
    }
    Some(out)
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let (selector, text) = split_selector(data);
    let Ok(text) = std::str::from_utf8(text) else {
        return; // the protocol carries paths as proto strings (UTF-8)
    };
    let parsed = DerivationPath::parse(text);
    let expected = grammar(text);
    let path = match (parsed, expected) {
        (Ok(path), Some(indices)) => {
            assert_eq!(
                path.indices(),
                indices.as_slice(),
                "{text:?} parsed differently"
            );
            let printed = path.to_string();
            assert_eq!(
                DerivationPath::parse(&printed).ok().as_ref(),
                Some(&path),
                "{printed:?} does not re-parse"
            );
            path
        }
        (Ok(path), None) => panic!("{text:?} accepted against the grammar as {path}"),
        (Err(e), Some(_)) => panic!("{text:?} refused against the grammar: {e}"),
        (Err(e), None) => {
            oracle::expect_code(&e, &[ErrorCode::InvalidPath], "parse");
            return;
        }
    };
    let alias = ["hd", "hd-ed", "hd-p256"][usize::from(selector) % 3];
    fixture::with_fixture_no_reset(|fx| {
        let derived =
            fx.engine
                .derive_key(&fx.callers[0], &KeyRef::Alias(alias.into()), &path, None);
        match (alias, derived) {
            ("hd", Ok(child)) => {
                let seed = &vectors::bip39()[0].seed;
                let bip32_path = bip32::DerivationPath::from_str(&path.to_string())
                    .expect("the bip32 crate reads canonical paths");
                let xprv = bip32::XPrv::derive_from_path(seed, &bip32_path)
                    .expect("derivation from a valid seed");
                assert_eq!(
                    child.public_key,
                    xprv.public_key().to_bytes().to_vec(),
                    "BIP32 child at {path} differs from the bip32 crate's"
                );
            }
            ("hd-ed", Ok(_)) => {
                assert!(path.is_fully_hardened(), "SLIP-10 Ed25519 derived {path}");
            }
            (_, Ok(_)) => {}
            (_, Err(e)) => {
                oracle::expect_code(
                    &e,
                    &[ErrorCode::InvalidPath, ErrorCode::IncompatibleKey],
                    "derive",
                );
                assert!(
                    alias == "hd-ed" && !path.is_fully_hardened(),
                    "{alias}: refused {path}: {e}"
                );
            }
        }
    });
});
