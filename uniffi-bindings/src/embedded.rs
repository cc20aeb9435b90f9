//! The engine object: the core's verbs for the embedding app, one line each.

use crate::error::KeyholdError;
use crate::import::ImportMaterial;
use crate::sealer::{ForeignSealer, Sealer};
use crate::types::{
    Agreement, AuditVerdict, DerivedKey, EncodedPublicKey, KdfParams, KeyInfo, KeyOptions, KeyRef,
    KeySpec, Payload, PublicKeyFormat, SignatureScheme, parse_path,
};
use keyhold_core::{Caller, Config, Keyhold};
use std::path::Path;
use std::sync::Arc;

/// Result type of every operation.
type Result<T> = std::result::Result<T, KeyholdError>;

/// Keyhold embedded in the app: a SQLite store in `data_dir`, secrets
/// sealed by the app's `Sealer`, every call made as the app
/// (`Caller::Embedded { app_id }`, namespace `app:<app_id>`).
///
/// Thread-safe: share one instance. Keys are unsealed lazily, once per key
/// while cached; `lock` forgets every unsealed key (call
/// it when the app goes to the background). Dropping the object (Kotlin:
/// `close()`) commits buffered audit records.
#[derive(uniffi::Object)]
pub struct KeyholdEmbedded {
    engine: Keyhold,
    caller: Caller,
}

impl core::fmt::Debug for KeyholdEmbedded {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("KeyholdEmbedded")
            .field("engine", &self.engine)
            .field("caller", &self.caller)
            .finish()
    }
}

#[uniffi::export]
impl KeyholdEmbedded {
    /// Opens (creating if needed, mode 0700) the store in `data_dir`
    /// (`keyhold.db`). Runs the algorithms' known-answer tests and a
    /// seal/unseal round trip through `sealer` first: a broken sealer fails
    /// here, with its code, before any key is written.
    #[uniffi::constructor]
    pub fn new(data_dir: String, app_id: String, sealer: Arc<dyn Sealer>) -> Result<Arc<Self>> {
        let engine = Keyhold::open_in_dir_with(
            Path::new(&data_dir),
            Arc::new(ForeignSealer(sealer)),
            Config::default(),
        )?;
        Ok(Arc::new(Self {
            engine,
            caller: Caller::Embedded { app_id },
        }))
    }

    /// Creates a key inside the store (a single key, or an HD root from a
    /// fresh seed) and returns its metadata.
    pub fn generate_key(&self, spec: KeySpec, options: KeyOptions) -> Result<KeyInfo> {
        Ok(self
            .engine
            .generate_key(&self.caller, spec.into(), options.try_into()?)?
            .into())
    }

    /// Imports key material; it is validated, sealed and can never be read back.
    pub fn import_key(
        &self,
        material: Arc<ImportMaterial>,
        options: KeyOptions,
    ) -> Result<KeyInfo> {
        Ok(self
            .engine
            .import_key(&self.caller, material.to_core(), options.try_into()?)?
            .into())
    }

    /// A public key (of the HD child at `path`, when given) in `format`.
    #[uniffi::method(default(path = None))]
    pub fn get_public_key(
        &self,
        key: KeyRef,
        path: Option<String>,
        format: PublicKeyFormat,
    ) -> Result<EncodedPublicKey> {
        let path = parse_path(path.as_deref())?;
        Ok(self
            .engine
            .get_public_key(&self.caller, &key.try_into()?, path.as_ref(), format.into())?
            .into())
    }

    /// Signs `payload` with the key (or its HD child at `path`). `scheme`
    /// defaults to ECDSA DER, Ed25519 or HMAC by algorithm.
    #[uniffi::method(default(path = None, scheme = None))]
    pub fn sign(
        &self,
        key: KeyRef,
        path: Option<String>,
        scheme: Option<SignatureScheme>,
        payload: Payload,
    ) -> Result<Vec<u8>> {
        let path = parse_path(path.as_deref())?;
        Ok(self.engine.sign(
            &self.caller,
            &key.try_into()?,
            path.as_ref(),
            scheme.map(Into::into),
            payload.as_core()?,
        )?)
    }

    /// Verifies `signature` over `payload`; `false` when it does not verify.
    #[uniffi::method(default(path = None, scheme = None))]
    pub fn verify(
        &self,
        key: KeyRef,
        path: Option<String>,
        scheme: Option<SignatureScheme>,
        payload: Payload,
        signature: Vec<u8>,
    ) -> Result<bool> {
        let path = parse_path(path.as_deref())?;
        Ok(self.engine.verify(
            &self.caller,
            &key.try_into()?,
            path.as_ref(),
            scheme.map(Into::into),
            payload.as_core()?,
            &signature,
        )?)
    }

    /// Derives the HD child at `path` (e.g. `m/44'/60'/0'/0/0`): its public
    /// key and xpub, and stores it as a new key when `store_as` is given.
    #[uniffi::method(default(store_as = None))]
    pub fn derive_key(
        &self,
        key: KeyRef,
        path: String,
        store_as: Option<KeyOptions>,
    ) -> Result<DerivedKey> {
        let path = keyhold_core::DerivationPath::parse(&path)?;
        let store_as = store_as.map(TryInto::try_into).transpose()?;
        Ok(self
            .engine
            .derive_key(&self.caller, &key.try_into()?, &path, store_as)?
            .into())
    }

    /// Encrypts app data with an AES-256-GCM key: nonce || ciphertext || tag.
    #[uniffi::method(default(aad))]
    pub fn encrypt(&self, key: KeyRef, plaintext: Vec<u8>, aad: Vec<u8>) -> Result<Vec<u8>> {
        Ok(self
            .engine
            .encrypt(&self.caller, &key.try_into()?, &plaintext, &aad)?)
    }

    /// Decrypts what `encrypt` produced. The plaintext is the app's own data
    /// and is returned as a plain byte array.
    #[uniffi::method(default(aad))]
    pub fn decrypt(&self, key: KeyRef, ciphertext: Vec<u8>, aad: Vec<u8>) -> Result<Vec<u8>> {
        Ok(self
            .engine
            .decrypt(&self.caller, &key.try_into()?, &ciphertext, &aad)?
            .expose()
            .to_vec())
    }

    /// ECDH/X25519 with `peer_public_key`, then HKDF-SHA256: returns the
    /// output, or stores it as a new AES-256-GCM key when `store_as` is given.
    #[uniffi::method(default(store_as = None))]
    pub fn agree(
        &self,
        key: KeyRef,
        peer_public_key: Vec<u8>,
        kdf: KdfParams,
        store_as: Option<KeyOptions>,
    ) -> Result<Agreement> {
        let store_as = store_as.map(TryInto::try_into).transpose()?;
        Ok(self
            .engine
            .agree(
                &self.caller,
                &key.try_into()?,
                &peer_public_key,
                &kdf.into(),
                store_as,
            )?
            .into())
    }

    /// Deletes a key (its sealed secret is overwritten on disk).
    pub fn delete_key(&self, key: KeyRef) -> Result<()> {
        Ok(self.engine.delete_key(&self.caller, &key.try_into()?)?)
    }

    /// Metadata of every key of this app, ordered by alias.
    pub fn list_keys(&self) -> Result<Vec<KeyInfo>> {
        Ok(self
            .engine
            .list_keys(&self.caller)?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// Metadata of one key, with its current usage count.
    pub fn get_key_info(&self, key: KeyRef) -> Result<KeyInfo> {
        Ok(self
            .engine
            .get_key_info(&self.caller, &key.try_into()?)?
            .into())
    }

    /// Checks the whole hash-chained audit log.
    pub fn audit_verify(&self) -> Result<AuditVerdict> {
        Ok(self.engine.audit_verify()?.into())
    }

    /// Forgets every unsealed key; the next use of each unseals again.
    pub fn lock(&self) {
        self.engine.lock()
    }

    /// Commits buffered audit records and usage counts.
    pub fn flush(&self) -> Result<()> {
        Ok(self.engine.flush()?)
    }
}
