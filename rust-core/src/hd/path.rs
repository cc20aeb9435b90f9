//! BIP32 derivation paths: `m/44'/60'/0'/0/0` (`'`, `h` or `H` mark hardened).

use crate::{Error, Result};
use core::fmt;

/// The hardened-index bit.
pub const HARDENED: u32 = 0x8000_0000;

/// Deepest path accepted (BIP32 stores depth in one byte).
pub const MAX_DEPTH: usize = 255;

/// A parsed derivation path relative to a stored HD node.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct DerivationPath(Vec<u32>);

impl DerivationPath {
    /// The empty path `m` (the node itself).
    pub fn root() -> Self {
        Self(Vec::new())
    }

    /// Parses `m`, `m/0'/1`, ... Rejects indices >= 2^31, empty
    /// components, a missing `m` and paths deeper than 255 (`MAX_DEPTH`).
    pub fn parse(text: &str) -> Result<Self> {
        let bad = |why: &str| Error::InvalidPath(format!("{text:?}: {why}"));
        let mut parts = text.split('/');
        if parts.next() != Some("m") {
            return Err(bad("must start with \"m\""));
        }
        let mut indices = Vec::new();
        for part in parts {
            let (digits, hardened) = match part.strip_suffix(['\'', 'h', 'H']) {
                Some(d) => (d, true),
                None => (part, false),
            };
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad("each component is a decimal index"));
            }
            if digits.len() > 1 && digits.starts_with('0') {
                return Err(bad("leading zeros are not allowed"));
            }
            let index: u32 = digits.parse().map_err(|_| bad("index out of range"))?;
            if index >= HARDENED {
                return Err(bad("index must be below 2^31"));
            }
            indices.push(if hardened { index | HARDENED } else { index });
            if indices.len() > MAX_DEPTH {
                return Err(bad("path too deep"));
            }
        }
        Ok(Self(indices))
    }

    /// The raw indices (hardened ones have bit 31 (`HARDENED`, 0x8000_0000) set).
    pub fn indices(&self) -> &[u32] {
        &self.0
    }

    /// True for `m`.
    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    /// True when every component is hardened.
    pub fn is_fully_hardened(&self) -> bool {
        self.0.iter().all(|i| i & HARDENED != 0)
    }

    /// True when `prefix` is a leading part of this path.
    pub fn starts_with(&self, prefix: &DerivationPath) -> bool {
        self.0.starts_with(&prefix.0)
    }

    /// The rest of this path after `prefix` (the whole path if it does not
    /// start with `prefix`).
    pub fn strip_prefix(&self, prefix: &DerivationPath) -> Self {
        match self.0.strip_prefix(prefix.0.as_slice()) {
            Some(rest) => Self(rest.to_vec()),
            None => self.clone(),
        }
    }

    /// This path followed by `child`.
    pub fn join(&self, child: &DerivationPath) -> Result<Self> {
        if self.0.len() + child.0.len() > MAX_DEPTH {
            return Err(Error::InvalidPath("path too deep".into()));
        }
        let mut v = self.0.clone();
        v.extend_from_slice(&child.0);
        Ok(Self(v))
    }
}

impl fmt::Display for DerivationPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("m")?;
        for i in &self.0 {
            if i & HARDENED != 0 {
                write!(f, "/{}'", i & !HARDENED)?;
            } else {
                write!(f, "/{i}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "path_tests.rs"]
mod tests;
