//! A sealer wrapper that counts calls, for tests and benchmarks that check
//! the hardware budget (N operations on a key cost at most one unseal).

use super::{KeyRequest, Sealer, WrappingKeyInfo};
use crate::Result;
use crate::secret::SecretBytes;
use std::sync::atomic::{AtomicU64, Ordering};

/// Counts `open_key`, `seal` and `unseal` calls of an inner sealer.
#[derive(Debug)]
pub struct CountingSealer<S> {
    inner: S,
    opens: AtomicU64,
    seals: AtomicU64,
    unseals: AtomicU64,
}

impl<S: Sealer> CountingSealer<S> {
    /// Wraps `inner`.
    pub fn new(inner: S) -> Self {
        Self {
            inner,
            opens: AtomicU64::new(0),
            seals: AtomicU64::new(0),
            unseals: AtomicU64::new(0),
        }
    }

    /// `open_key` calls so far.
    pub fn open_count(&self) -> u64 {
        self.opens.load(Ordering::Relaxed)
    }

    /// `seal` calls so far.
    pub fn seal_count(&self) -> u64 {
        self.seals.load(Ordering::Relaxed)
    }

    /// `unseal` calls so far.
    pub fn unseal_count(&self) -> u64 {
        self.unseals.load(Ordering::Relaxed)
    }
}

impl<S: Sealer> Sealer for CountingSealer<S> {
    fn name(&self) -> String {
        self.inner.name()
    }
    fn open_key(&self, request: &KeyRequest<'_>) -> Result<WrappingKeyInfo> {
        self.opens.fetch_add(1, Ordering::Relaxed);
        self.inner.open_key(request)
    }
    fn seal(&self, secret: &[u8], aad: &[u8]) -> Result<Vec<u8>> {
        self.seals.fetch_add(1, Ordering::Relaxed);
        self.inner.seal(secret, aad)
    }
    fn unseal(&self, sealed: &[u8], aad: &[u8]) -> Result<SecretBytes> {
        self.unseals.fetch_add(1, Ordering::Relaxed);
        self.inner.unseal(sealed, aad)
    }
}
