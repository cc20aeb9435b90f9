//! Unit tests of BIP39 handling; the Trezor vectors are in `vectors_tests.rs`.

use super::*;
use crate::ErrorCode;

const ABOUT: &str =
    "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
/// BIP39 seed of `ABOUT` with an empty passphrase (the widely published value,
/// also BIP84's test-vector seed).
const ABOUT_SEED: &str = "5eb00bbddcf069084889a8ab9155568165f5c453ccb85e70811aaed6f6da5fc19a5ac40b389cd370d086206dec8aa6c43daea6690f20ad3d8d48b2d2ce9e38e4";

fn invalid(phrase: &str) -> String {
    let err = mnemonic_to_seed(phrase, "").unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidMnemonic, "{phrase:?}");
    err.to_string()
}

#[test]
fn valid_mnemonic_gives_the_published_seed() {
    let seed = mnemonic_to_seed(ABOUT, "").unwrap();
    assert_eq!(seed.len(), 64);
    assert_eq!(hex::encode(seed.expose()), ABOUT_SEED);
    // The passphrase changes the seed.
    assert!(
        !mnemonic_to_seed(ABOUT, "TREZOR")
            .unwrap()
            .ct_eq(seed.expose())
    );
}

#[test]
fn bad_word_is_refused_without_echoing_words() {
    let text = invalid(
        "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abuot",
    );
    assert!(text.contains("word 12"), "{text}");
    assert!(
        !text.contains("abuot") && !text.contains("abandon"),
        "{text}"
    );
    invalid(
        "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon ABOUT",
    );
    invalid(
        "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about.",
    );
}

#[test]
fn bad_checksum_is_refused() {
    let text = invalid(
        "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon",
    );
    assert!(text.contains("checksum"), "{text}");
    invalid("zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo");
    invalid("legal winner thank year wave sausage worth useful legal winner thank year");
}

#[test]
fn bad_length_is_refused() {
    invalid("");
    invalid("   ");
    invalid("abandon");
    invalid(
        "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about",
    );
    invalid(&format!("{ABOUT} abandon"));
    invalid(&"abandon ".repeat(27));
}

#[test]
fn whitespace_is_normalised() {
    let messy = format!("  {}\n", ABOUT.replace(' ', " \t "));
    let seed = mnemonic_to_seed(&messy, "").unwrap();
    assert_eq!(hex::encode(seed.expose()), ABOUT_SEED);
}

#[test]
fn passphrase_is_nfkd_normalised() {
    // "é" precomposed (U+00E9) and decomposed (e + U+0301) give one seed.
    let composed = mnemonic_to_seed(ABOUT, "caf\u{e9}").unwrap();
    let decomposed = mnemonic_to_seed(ABOUT, "cafe\u{301}").unwrap();
    assert!(composed.ct_eq(decomposed.expose()));
    // Compatibility forms fold too (NFKD, not NFD): the "ﬁ" ligature is "fi".
    let ligature = mnemonic_to_seed(ABOUT, "\u{fb01}").unwrap();
    let plain = mnemonic_to_seed(ABOUT, "fi").unwrap();
    assert!(ligature.ct_eq(plain.expose()));
}
