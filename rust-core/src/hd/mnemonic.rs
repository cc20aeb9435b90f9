//! BIP39 (stub: to be implemented).
#![allow(unused_variables, dead_code)]
use crate::secret::SecretBytes;
use crate::Result;

/// Validates an English BIP39 mnemonic (words, length, checksum; NFKD) and
/// returns its 64-byte seed under `passphrase`. `InvalidMnemonic` otherwise.
pub(crate) fn mnemonic_to_seed(phrase: &str, passphrase: &str) -> Result<SecretBytes> {
    todo!()
}
