//! The hardware door as a foreign trait: Swift (Secure Enclave) and Kotlin
//! implement [`Sealer`]; [`ForeignSealer`] adapts it to the core's trait.

use crate::error::SealerError;
use keyhold_core::SecretBytes;
use std::sync::Arc;

/// Wraps and unwraps key secrets under a key the app holds in hardware
/// (on iOS a Secure Enclave key), binding the associated data `aad`.
///
/// Contract (the core's `Sealer`): `seal` is called once when a key is
/// stored, `unseal` at most once per key while it stays cached (and once by
/// the self-test when the store opens). `unseal` must fail with
/// `AuthenticationFailed` when `sealed` or `aad` were
/// altered, and must never return unauthenticated bytes. Calls come from
/// the thread that called into Keyhold, possibly several at once.
#[uniffi::export(with_foreign)]
pub trait Sealer: Send + Sync {
    /// A stable name recorded with each key (e.g. `secure-enclave`).
    fn name(&self) -> String;

    /// Encrypts `secret`, authenticating `aad`. The output is opaque.
    fn seal(&self, secret: Vec<u8>, aad: Vec<u8>) -> Result<Vec<u8>, SealerError>;

    /// Decrypts what `seal` returned for the same `aad`.
    fn unseal(&self, sealed: Vec<u8>, aad: Vec<u8>) -> Result<Vec<u8>, SealerError>;
}

/// The core's `Sealer` over a foreign one.
pub(crate) struct ForeignSealer(pub(crate) Arc<dyn Sealer>);

impl keyhold_core::Sealer for ForeignSealer {
    fn name(&self) -> String {
        self.0.name()
    }

    fn seal(&self, secret: &[u8], aad: &[u8]) -> keyhold_core::Result<Vec<u8>> {
        Ok(self.0.seal(secret.to_vec(), aad.to_vec())?)
    }

    fn unseal(&self, sealed: &[u8], aad: &[u8]) -> keyhold_core::Result<SecretBytes> {
        Ok(SecretBytes::new(
            self.0.unseal(sealed.to_vec(), aad.to_vec())?,
        ))
    }
}
