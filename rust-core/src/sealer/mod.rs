//! The hardware door: a [`Sealer`] wraps each key's secret under a key the
//! core never sees (Android Keystore, Secure Enclave, TPM) or, on hosts and
//! in tests, under a software key.
//!
//! When a store opens, the engine asks the sealer for its wrapping key once
//! ([`Sealer::open_key`]), telling it whether it may create one (see
//! [`KeyRequest`]); then it calls `seal` once when a key is stored and
//! `unseal` at most once per key per session (the engine caches unsealed
//! keys), because hardware sealers are slow: StrongBox takes tens to
//! hundreds of milliseconds.

mod aad;
mod binding;
#[cfg(any(test, feature = "test-support"))]
mod counting;
mod software;
mod store_key;

pub use aad::SealContext;
pub use binding::{KeyRequest, STORE_KEY_AAD, SealerBinding, SealerBindingInfo, WrappingKeyInfo};
#[cfg(any(test, feature = "test-support"))]
pub use counting::CountingSealer;
pub use software::SoftwareSealer;
pub(crate) use store_key::STORE_KEY_LEN;
pub use store_key::StoreKey;

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

    /// Finds the wrapping key, or creates it when `request` is
    /// [`KeyRequest::FindOrCreate`]. Called once when a store opens, before
    /// any `seal` or `unseal`.
    ///
    /// With [`KeyRequest::FindExisting`] an implementation must never
    /// create a key (nor delete one): a key it cannot find is
    /// [`SealerErrorKind::KeyNotFound`](crate::SealerErrorKind::KeyNotFound),
    /// a transient failure
    /// [`Unavailable`](crate::SealerErrorKind::Unavailable) (the engine
    /// retries both with bounded backoff), a key the platform has
    /// permanently invalidated
    /// [`KeyInvalidated`](crate::SealerErrorKind::KeyInvalidated).
    fn open_key(&self, request: &KeyRequest<'_>) -> Result<WrappingKeyInfo>;

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
    fn open_key(&self, request: &KeyRequest<'_>) -> Result<WrappingKeyInfo> {
        (**self).open_key(request)
    }
    fn seal(&self, secret: &[u8], aad: &[u8]) -> Result<Vec<u8>> {
        (**self).seal(secret, aad)
    }
    fn unseal(&self, sealed: &[u8], aad: &[u8]) -> Result<SecretBytes> {
        (**self).unseal(sealed, aad)
    }
}

#[cfg(test)]
mod tests;
