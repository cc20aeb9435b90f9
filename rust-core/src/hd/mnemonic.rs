//! BIP39 mnemonics (English word list) via the `bip39` crate.
//!
//! The phrase and the passphrase are NFKD-normalised (BIP39 "Generating the
//! seed"); words may be separated by any whitespace, and the seed is
//! computed over the words joined by single spaces, as the reference
//! implementation does. The word count (12, 15, 18, 21, 24), every word and
//! the checksum are validated; failures are `InvalidMnemonic` with a reason
//! that never repeats the words.

use crate::secret::SecretBytes;
use crate::{Error, Result};
use bip39::{Language, Mnemonic};
use std::borrow::Cow;
use zeroize::Zeroizing;

/// NFKD form of `text`, in a buffer zeroized on drop.
fn nfkd(text: &str) -> Zeroizing<String> {
    let mut cow = Cow::Borrowed(text);
    Mnemonic::normalize_utf8_cow(&mut cow);
    Zeroizing::new(cow.into_owned())
}

/// Validates an English BIP39 mnemonic (words, length, checksum; NFKD) and
/// returns its 64-byte seed under `passphrase`. `InvalidMnemonic` otherwise.
pub(crate) fn mnemonic_to_seed(phrase: &str, passphrase: &str) -> Result<SecretBytes> {
    let phrase = nfkd(phrase);
    let mnemonic = Mnemonic::parse_in_normalized(Language::English, &phrase).map_err(|e| {
        Error::InvalidMnemonic(match e {
            bip39::Error::BadWordCount(n) => {
                format!("{n} words; a mnemonic has 12, 15, 18, 21 or 24")
            }
            bip39::Error::UnknownWord(i) => {
                format!("word {} is not in the BIP39 English list", i + 1)
            }
            bip39::Error::BadEntropyBitCount(_) => "bad entropy length".into(),
            bip39::Error::InvalidChecksum => "checksum mismatch".into(),
            bip39::Error::AmbiguousLanguages(_) => "ambiguous language".into(),
        })
    })?;
    let passphrase = nfkd(passphrase);
    let seed = Zeroizing::new(mnemonic.to_seed_normalized(&passphrase));
    Ok(SecretBytes::copy_from(seed.as_slice()))
}

#[cfg(test)]
#[path = "mnemonic_tests.rs"]
mod tests;
