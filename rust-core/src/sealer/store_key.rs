//! The store key: 32 random bytes generated with a store, sealed under its
//! wrapping key (see [`SealerBinding`](super::SealerBinding)) and unsealed
//! once when the store opens. Integrity keys for the store's own metadata
//! are derived from it, so they are exactly as protected as the key
//! secrets.

use crate::secret::SecretBytes;
use zeroize::Zeroizing;

/// Length of the store key.
pub(crate) const STORE_KEY_LEN: usize = 32;

/// The unsealed store key. `Debug` is redacted; it is never written
/// anywhere unsealed.
pub struct StoreKey(SecretBytes);

impl StoreKey {
    /// Wraps unsealed key bytes; `None` if they are not 32 bytes long.
    pub(crate) fn new(bytes: SecretBytes) -> Option<Self> {
        (bytes.len() == STORE_KEY_LEN).then_some(Self(bytes))
    }

    /// A 32-byte key for one purpose, `label` (HKDF-SHA256, RFC 5869, with
    /// the label as `info` and no salt). Distinct labels give independent
    /// keys.
    pub fn derive(&self, label: &str) -> Zeroizing<[u8; 32]> {
        let okm = crate::crypto::hkdf_sha256(self.0.expose(), b"", label.as_bytes(), 32)
            .expect("32 bytes is within HKDF-SHA256's output range");
        let mut out = Zeroizing::new([0u8; 32]);
        out.copy_from_slice(okm.expose());
        out
    }
}

impl core::fmt::Debug for StoreKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("StoreKey([redacted])")
    }
}
