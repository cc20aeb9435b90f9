//! The hardware door as a foreign trait: Swift (Secure Enclave) and Kotlin
//! implement [`Sealer`]; [`ForeignSealer`] adapts it to the core's trait.

use crate::error::SealerError;
use keyhold_core::{KeyRequest, SecretBytes, SoftwareSealer};
use std::path::Path;
use std::sync::Arc;

/// What a foreign sealer reports about its wrapping key (the core's
/// `WrappingKeyInfo`).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct WrappingKeyInfo {
    /// Where the key lives (keychain label, Keystore alias).
    pub label: String,
    /// The protection asked for (`secure-enclave`, `software`...).
    pub level_requested: String,
    /// The protection the platform gave.
    pub level_obtained: String,
    /// True when this call created the key.
    pub created: bool,
}

/// Wraps and unwraps key secrets under a key the app holds in hardware
/// (on iOS a Secure Enclave key), binding the associated data `aad`.
///
/// Contract (the core's `Sealer`): `open_key` is called once when the store
/// opens, before anything else; `seal` once when a key is stored; `unseal`
/// at most once per key while it stays cached (and once for the store key
/// when the store opens). `unseal` must fail with
/// `AuthenticationFailed` when `sealed` or `aad` were
/// altered, and must never return unauthenticated bytes. Calls come from
/// the thread that called into Keyhold, possibly several at once.
#[uniffi::export(with_foreign)]
pub trait Sealer: Send + Sync {
    /// A stable name recorded with each key (e.g. `secure-enclave`).
    fn name(&self) -> String;

    /// Finds the wrapping key; creates it only when `may_create` is true.
    /// `expected_label` is the label the store recorded when it was first
    /// sealed (absent for a new store). When `may_create` is false a missing
    /// key is `KeyNotFound` (the core retries, then reports the store's key
    /// as invalidated) and nothing may be created or deleted.
    fn open_key(
        &self,
        may_create: bool,
        expected_label: Option<String>,
    ) -> Result<WrappingKeyInfo, SealerError>;

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

    fn open_key(
        &self,
        request: &KeyRequest<'_>,
    ) -> keyhold_core::Result<keyhold_core::WrappingKeyInfo> {
        let info = self.0.open_key(
            request.may_create(),
            request.expected_label().map(str::to_owned),
        )?;
        Ok(keyhold_core::WrappingKeyInfo {
            label: info.label,
            level_requested: info.level_requested,
            level_obtained: info.level_obtained,
            created: info.created,
        })
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

/// A software sealer for simulators, previews and tests: the core's
/// AES-256-GCM sealer under a random key that lives only in this process's
/// memory (a store sealed with it cannot be reopened by another process).
/// Not hardware-backed: never use it for real keys.
#[uniffi::export]
pub fn insecure_software_sealer_ephemeral() -> Result<Arc<dyn Sealer>, SealerError> {
    Ok(Arc::new(CoreSealer(SoftwareSealer::ephemeral()?)))
}

/// A software sealer whose AES-256 key is a 0600 file at `path` (created
/// with the store, read on reopen): for simulators and development
/// machines. Not hardware-backed: never use it for real keys.
#[uniffi::export]
pub fn insecure_software_sealer_key_file(path: String) -> Arc<dyn Sealer> {
    Arc::new(CoreSealer(SoftwareSealer::key_file(Path::new(&path))))
}

/// The foreign trait over one of the core's own sealers (the reverse of
/// [`ForeignSealer`]).
struct CoreSealer(SoftwareSealer);

impl Sealer for CoreSealer {
    fn name(&self) -> String {
        keyhold_core::Sealer::name(&self.0)
    }

    fn open_key(
        &self,
        may_create: bool,
        _expected_label: Option<String>,
    ) -> Result<WrappingKeyInfo, SealerError> {
        // The core's software sealer knows one key (its file); the label it
        // recorded is that file's path.
        let request = if may_create {
            KeyRequest::FindOrCreate
        } else {
            KeyRequest::FindExisting(None)
        };
        let info = keyhold_core::Sealer::open_key(&self.0, &request)?;
        Ok(WrappingKeyInfo {
            label: info.label,
            level_requested: info.level_requested,
            level_obtained: info.level_obtained,
            created: info.created,
        })
    }

    fn seal(&self, secret: Vec<u8>, aad: Vec<u8>) -> Result<Vec<u8>, SealerError> {
        let secret = SecretBytes::new(secret);
        Ok(keyhold_core::Sealer::seal(&self.0, secret.expose(), &aad)?)
    }

    fn unseal(&self, sealed: Vec<u8>, aad: Vec<u8>) -> Result<Vec<u8>, SealerError> {
        // The plaintext crosses into the foreign language by design (the
        // trait returns bytes), as every foreign sealer's does.
        Ok(keyhold_core::Sealer::unseal(&self.0, &sealed, &aad)?
            .expose()
            .to_vec())
    }
}
