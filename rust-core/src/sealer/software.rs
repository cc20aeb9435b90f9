//! Software sealer for hosts and tests (stub: to be implemented).
#![allow(unused_variables, dead_code)]
use super::Sealer;
use crate::secret::SecretBytes;
use crate::Result;
use std::path::Path;

/// AES-256-GCM under a 32-byte key held in zeroizing memory, loaded from a
/// 0600 key file or derived from a passphrase with Argon2id.
pub struct SoftwareSealer {
    key: SecretBytes,
    name: &'static str,
}

impl core::fmt::Debug for SoftwareSealer {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "SoftwareSealer({}, [redacted])", self.name)
    }
}

impl SoftwareSealer {
    /// Opens the key file at `path`, creating it (32 random bytes, mode
    /// 0600, parent directory 0700) when missing. Refuses a file readable
    /// by group or others, or of the wrong length.
    pub fn open_key_file(path: &Path) -> Result<Self> {
        todo!()
    }
    /// Derives the key from `passphrase` with Argon2id and a 16-byte `salt`.
    pub fn from_passphrase(passphrase: &[u8], salt: &[u8; 16]) -> Result<Self> {
        todo!()
    }
    /// A random in-memory key (tests, ephemeral stores).
    pub fn ephemeral() -> Result<Self> {
        todo!()
    }
}

impl Sealer for SoftwareSealer {
    fn name(&self) -> String {
        self.name.to_string()
    }
    fn seal(&self, secret: &[u8], aad: &[u8]) -> Result<Vec<u8>> {
        todo!()
    }
    fn unseal(&self, sealed: &[u8], aad: &[u8]) -> Result<SecretBytes> {
        todo!()
    }
}
