//! Key identity and metadata as the core's callers see it.

use crate::algorithm::{Algorithm, HdScheme};
use crate::policy::KeyPolicy;
use crate::{Error, Result};
use core::fmt;

/// A key's random, stable identifier. Shown as 16 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(u64);

impl KeyId {
    /// Wraps a raw id.
    pub fn from_u64(value: u64) -> Self {
        Self(value)
    }

    /// The raw id.
    pub fn as_u64(self) -> u64 {
        self.0
    }

    /// A fresh random id (never 0).
    pub(crate) fn random() -> Result<Self> {
        loop {
            let v = crate::random::u64()?;
            if v != 0 {
                return Ok(Self(v));
            }
        }
    }

    /// Parses the 16-hex-digit form.
    pub fn parse(text: &str) -> Result<Self> {
        if text.len() != 16 {
            return Err(Error::InvalidArgument(format!(
                "key id must be 16 hex digits, got {} characters",
                text.len()
            )));
        }
        u64::from_str_radix(text, 16)
            .map(Self)
            .map_err(|_| Error::InvalidArgument("key id must be 16 hex digits".into()))
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({self})")
    }
}

/// How a request names a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyRef {
    /// By id.
    Id(KeyId),
    /// By alias, within the caller's namespace.
    Alias(String),
}

impl fmt::Display for KeyRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Id(id) => write!(f, "id {id}"),
            Self::Alias(a) => write!(f, "alias {a:?}"),
        }
    }
}

pub use crate::alias::MAX_ALIAS_LEN;

/// Where a key came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyOrigin {
    /// Generated inside the store.
    Generated,
    /// Imported from outside.
    Imported,
    /// Derived from another stored key (HD child or agreement).
    Derived,
}

impl KeyOrigin {
    /// Stable storage/wire number.
    pub fn as_u8(self) -> u8 {
        match self {
            Self::Generated => 1,
            Self::Imported => 2,
            Self::Derived => 3,
        }
    }

    /// Inverse of [`KeyOrigin::as_u8`].
    pub fn from_u8(value: u8) -> Option<Self> {
        match value {
            1 => Some(Self::Generated),
            2 => Some(Self::Imported),
            3 => Some(Self::Derived),
            _ => None,
        }
    }
}

/// Public metadata of a stored key. Holds no secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyInfo {
    /// Identifier.
    pub id: KeyId,
    /// Alias, unique per owner.
    pub alias: String,
    /// Algorithm of the key (for HD keys, of the derived keys).
    pub algorithm: Algorithm,
    /// Set for HD keys.
    pub hd_scheme: Option<HdScheme>,
    /// Where it came from.
    pub origin: KeyOrigin,
    /// Canonical public key: SEC1 compressed, or raw 32 bytes; empty for symmetric keys.
    pub public_key: Vec<u8>,
    /// Its policy.
    pub policy: KeyPolicy,
    /// Number of secret uses so far.
    pub usage_count: u64,
    /// Creation time, milliseconds since the Unix epoch.
    pub created_at_ms: i64,
    /// Name of the sealer that protects it.
    pub sealer: String,
}

#[cfg(test)]
mod tests;
