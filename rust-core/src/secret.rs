//! Types that hold secret bytes: zeroized on drop, redacted in `Debug`, no
//! `Display`, compared in constant time.

use core::fmt;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// A heap buffer of secret bytes (key material, seeds, plaintexts).
///
/// Zeroized when dropped; `Debug` prints `[redacted]`; there is no `Display`
/// and no `Clone` into a non-zeroizing type.
#[derive(Clone, Default, Zeroize, ZeroizeOnDrop)]
pub struct SecretBytes(Vec<u8>);

impl SecretBytes {
    /// Takes ownership of `bytes`; the caller's buffer is moved, not copied.
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    /// Copies `bytes` into a new secret buffer.
    pub fn copy_from(bytes: &[u8]) -> Self {
        Self(bytes.to_vec())
    }

    /// Fills a new buffer of `len` bytes from the operating system's CSPRNG.
    pub fn random(len: usize) -> crate::Result<Self> {
        let mut bytes = vec![0u8; len];
        crate::random::fill(&mut bytes)?;
        Ok(Self(bytes))
    }

    /// The secret bytes. Do not copy them into non-zeroizing storage.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Constant-time equality (length is not secret).
    pub fn ct_eq(&self, other: &[u8]) -> bool {
        constant_time_eq(&self.0, other)
    }
}

impl From<Zeroizing<Vec<u8>>> for SecretBytes {
    fn from(mut value: Zeroizing<Vec<u8>>) -> Self {
        Self(core::mem::take(&mut *value))
    }
}

impl fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretBytes([redacted])")
    }
}

/// Compares two byte strings in time independent of their contents.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    // `subtle` compares the contents without branching on them; unequal
    // lengths (not secret) return false at once.
    bool::from(subtle::ConstantTimeEq::ct_eq(a, b))
}

#[cfg(test)]
mod tests;
