//! The hardware door: a [`Sealer`] wraps each key's secret under a key the
//! core never sees (Android Keystore, Secure Enclave, TPM) or, on hosts and
//! in tests, under a software key.
//!
//! The core calls `seal` once when a key is stored and `unseal` at most once
//! per key per session (the engine caches unsealed keys), because hardware
//! sealers are slow: StrongBox takes tens to hundreds of milliseconds.

mod aad;
mod counting;
mod software;

pub use aad::SealContext;
pub use counting::CountingSealer;
pub use software::SoftwareSealer;

use crate::Result;
use crate::secret::SecretBytes;

/// Wraps and unwraps secrets with AES-256-GCM (or equivalent AEAD) under a
/// key held by the implementation, binding the associated data `aad`.
///
/// Implementations must fail closed: a failure is an
/// [`Error::Sealer`](crate::Error::Sealer), never cleartext output.
pub trait Sealer: Send + Sync {
    /// A stable name recorded with each key (e.g. `software-file`,
    /// `android-strongbox`, `android-tee`, `secure-enclave`).
    fn name(&self) -> String;

    /// Encrypts `secret`, authenticating `aad`. The output is opaque.
    fn seal(&self, secret: &[u8], aad: &[u8]) -> Result<Vec<u8>>;

    /// Decrypts `sealed`; fails with `AuthenticationFailed` if `sealed` or
    /// `aad` were altered.
    fn unseal(&self, sealed: &[u8], aad: &[u8]) -> Result<SecretBytes>;
}

impl<S: Sealer + ?Sized> Sealer for std::sync::Arc<S> {
    fn name(&self) -> String {
        (**self).name()
    }
    fn seal(&self, secret: &[u8], aad: &[u8]) -> Result<Vec<u8>> {
        (**self).seal(secret, aad)
    }
    fn unseal(&self, sealed: &[u8], aad: &[u8]) -> Result<SecretBytes> {
        (**self).unseal(sealed, aad)
    }
}

/// Seals and unseals a test value; run when a store opens so a broken
/// hardware key is reported before any key is written.
pub(crate) fn self_test(sealer: &dyn Sealer) -> Result<()> {
    let probe = SecretBytes::random(32)?;
    let aad = b"keyhold-sealer-self-test";
    let sealed = sealer.seal(probe.expose(), aad)?;
    if sealed.windows(probe.len()).any(|w| w == probe.expose()) {
        return Err(crate::Error::SelfTestFailed(format!(
            "sealer {} returned its input in clear",
            sealer.name()
        )));
    }
    let opened = sealer.unseal(&sealed, aad)?;
    if !opened.ct_eq(probe.expose()) {
        return Err(crate::Error::SelfTestFailed(format!(
            "sealer {} did not round-trip",
            sealer.name()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
