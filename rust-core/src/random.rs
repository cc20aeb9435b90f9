//! The one place the core draws randomness: the operating system's CSPRNG.

use crate::{Error, Result};

/// Fills `buf` with random bytes from the OS.
pub(crate) fn fill(buf: &mut [u8]) -> Result<()> {
    getrandom::fill(buf).map_err(|e| Error::Internal(format!("OS random source failed: {e}")))
}

/// A random `u64`.
pub(crate) fn u64() -> Result<u64> {
    let mut b = [0u8; 8];
    fill(&mut b)?;
    Ok(u64::from_le_bytes(b))
}
