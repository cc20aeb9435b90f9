//! The operations, one method per verb, and the key-loading path they share.

use super::cache::LoadedKey;
use super::journal::now_ms;
use super::material::{KeyMaterial, lock};
use super::{
    Agreement, DerivedKey, ImportMaterial, KdfParams, KeyOptions, KeyPage, KeySpec, Keyhold,
};
use crate::algorithm::{Algorithm, HdScheme, Operation, PublicKeyFormat, SignatureScheme};
use crate::caller::Caller;
use crate::crypto::{self, EncodedPublicKey, Payload, PrivateKey, PublicKey};
use crate::encoding::{EncodePublicKey as _, parse_public_key};
use crate::hd::{DerivationPath, ExtendedPrivateKey};
use crate::key::{KeyId, KeyInfo, KeyOrigin, KeyRef};
use crate::policy::{ChildOf, KeyPolicy};
use crate::sealer::SealContext;
use crate::secret::SecretBytes;
use crate::store::StoredKey;
use crate::{Error, Result};
use std::sync::Arc;

/// Most caller rules and path prefixes a policy may hold.
pub(crate) use crate::limits::MAX_POLICY_ENTRIES;

pub use crate::limits::{DEFAULT_LIST_PAGE_KEYS, MAX_LIST_PAGE_BYTES, MAX_LIST_PAGE_KEYS};

/// An upper bound of the bytes `info` takes in a listing, as protobuf or as
/// an Android `Parcel` (strings counted at 2 bytes per UTF-8 byte plus a
/// length and terminator, byte arrays plus a length and padding, 8 bytes per
/// scalar, fixed headers generously rounded up).
pub(crate) fn listing_size(info: &KeyInfo) -> usize {
    let string = |len: usize| 2 * len + 8;
    let rules: usize = info
        .policy
        .allowed_callers
        .iter()
        .map(|r| 64 + string(r.app_id.as_ref().map_or(0, String::len)) + 32 + 8)
        .sum();
    let prefixes: usize = info
        .policy
        .allowed_path_prefixes
        .iter()
        .map(|p| string(p.to_string().len()))
        .sum();
    // id (16 hex digits), algorithm, scheme, origin, counts, times, the
    // operation list (at most 64 values) and parcelable headers.
    let fixed = 256 + 64 * 8;
    fixed
        + string(info.alias.len())
        + string(info.sealer.len())
        + info.public_key.len()
        + 8
        + rules
        + prefixes
}

/// What an operation needs to remember for its audit record.
#[derive(Default)]
struct AuditCtx {
    key_id: Option<KeyId>,
    /// Set when the record was already committed with a write.
    committed: bool,
}

impl Keyhold {
    /// Creates a key inside the store: a single key of an algorithm, or an
    /// HD root from a fresh 32-byte seed. Returns its metadata.
    pub fn generate_key(
        &self,
        caller: &Caller,
        spec: KeySpec,
        options: KeyOptions,
    ) -> Result<KeyInfo> {
        self.audited(caller, Operation::GenerateKey, |ctx| {
            let (material, algorithm, hd) = match spec {
                KeySpec::Single(algorithm) => (
                    KeyMaterial::single(PrivateKey::generate(algorithm)?),
                    algorithm,
                    None,
                ),
                KeySpec::Hd(scheme) => {
                    let seed = SecretBytes::random(32)?;
                    let root = ExtendedPrivateKey::from_seed(scheme, seed.expose())?;
                    (KeyMaterial::hd(root)?, scheme.algorithm(), Some(scheme))
                }
            };
            let origin = KeyOrigin::Generated;
            self.create_key(
                caller,
                Operation::GenerateKey,
                ctx,
                options,
                None,
                NewMaterial {
                    material,
                    algorithm,
                    hd,
                    origin,
                },
            )
        })
    }

    /// Imports key material (raw, PKCS#8, SEC1, BIP39 mnemonic, seed, xprv).
    /// The material is validated, self-tested and sealed; it can never be
    /// read back.
    pub fn import_key(
        &self,
        caller: &Caller,
        material: ImportMaterial,
        options: KeyOptions,
    ) -> Result<KeyInfo> {
        self.audited(caller, Operation::ImportKey, |ctx| {
            let new = parse_import(material)?;
            self.create_key(caller, Operation::ImportKey, ctx, options, None, new)
        })
    }

    /// A public key, optionally of the child at `path` of an HD key, in `format`.
    pub fn get_public_key(
        &self,
        caller: &Caller,
        key: &KeyRef,
        path: Option<&DerivationPath>,
        format: PublicKeyFormat,
    ) -> Result<EncodedPublicKey> {
        self.audited(caller, Operation::GetPublicKey, |ctx| {
            let info = self.load_info(caller, key, Operation::GetPublicKey, ctx)?;
            if info.hd_scheme.is_none() && path.is_none() {
                if format == PublicKeyFormat::Xpub {
                    return Err(Error::IncompatibleKey("an xpub needs an HD key".into()));
                }
                return stored_public_key(&info)?.encode(format);
            }
            let loaded = self.load(caller, key, Operation::GetPublicKey, ctx)?;
            let path = path.cloned().unwrap_or_default();
            loaded.info.policy.check_path(&path)?;
            let node = loaded.material.node_at(&path)?;
            match format {
                PublicKeyFormat::Xpub => Ok(EncodedPublicKey::text(node.node.xpub()?)),
                other => node.node.public_key().encode(other),
            }
        })
    }

    /// Signs `payload` with the key (or its HD child at `path`). `scheme`
    /// defaults to ECDSA DER, Ed25519 or HMAC by algorithm.
    pub fn sign(
        &self,
        caller: &Caller,
        key: &KeyRef,
        path: Option<&DerivationPath>,
        scheme: Option<SignatureScheme>,
        payload: Payload<'_>,
    ) -> Result<Vec<u8>> {
        self.audited(caller, Operation::Sign, |ctx| {
            let loaded = self.load(caller, key, Operation::Sign, ctx)?;
            let run = |k: &PrivateKey| {
                let scheme = resolve_scheme(scheme, k.algorithm())?;
                crypto::check_scheme(scheme, k.algorithm())?;
                self.consume_use(&loaded.info)?;
                k.sign(scheme, payload)
            };
            with_node_key(&loaded, path, run)
        })
    }

    /// Verifies `signature` over `payload` with the key (or its HD child).
    /// `Ok(false)` means the signature does not verify.
    pub fn verify(
        &self,
        caller: &Caller,
        key: &KeyRef,
        path: Option<&DerivationPath>,
        scheme: Option<SignatureScheme>,
        payload: Payload<'_>,
        signature: &[u8],
    ) -> Result<bool> {
        self.audited(caller, Operation::Verify, |ctx| {
            let info = self.load_info(caller, key, Operation::Verify, ctx)?;
            let needs_secret =
                info.hd_scheme.is_some() || path.is_some() || !info.algorithm.is_asymmetric();
            if !needs_secret {
                let public = stored_public_key(&info)?;
                let scheme = resolve_scheme(scheme, info.algorithm)?;
                return public.verify(scheme, payload, signature);
            }
            let loaded = self.load(caller, key, Operation::Verify, ctx)?;
            with_node_key(&loaded, path, |k| {
                let scheme = resolve_scheme(scheme, k.algorithm())?;
                k.verify(scheme, payload, signature)
            })
        })
    }

    /// Derives the HD child at `path`: returns its public key and xpub, and
    /// stores it as a new HD key when `store_as` is given.
    pub fn derive_key(
        &self,
        caller: &Caller,
        key: &KeyRef,
        path: &DerivationPath,
        store_as: Option<KeyOptions>,
    ) -> Result<DerivedKey> {
        self.audited(caller, Operation::DeriveKey, |ctx| {
            let loaded = self.load(caller, key, Operation::DeriveKey, ctx)?;
            let root = loaded.material.hd_root()?;
            loaded.info.policy.check_path(path)?;
            let source_used = self.consume_use(&loaded.info)?;
            let child = loaded.material.node_at(path)?;
            let public_key = child.node.public_key().canonical_bytes();
            let xpub = match root.node.scheme() {
                HdScheme::Bip32Secp256k1 => Some(child.node.xpub()?),
                _ => None,
            };
            let stored = match store_as {
                None => None,
                Some(options) => {
                    let scheme = child.node.scheme();
                    let material = KeyMaterial::hd(ExtendedPrivateKey::from_secret_bytes(
                        scheme,
                        child.node.to_secret_bytes().expose(),
                    )?)?;
                    let new = NewMaterial {
                        material,
                        algorithm: scheme.algorithm(),
                        hd: Some(scheme),
                        origin: KeyOrigin::Derived,
                    };
                    let source = Source {
                        policy: &loaded.info.policy,
                        child: ChildOf {
                            source_used,
                            path: Some(path),
                        },
                    };
                    Some(self.create_key(
                        caller,
                        Operation::DeriveKey,
                        ctx,
                        options,
                        Some(source),
                        new,
                    )?)
                }
            };
            Ok(DerivedKey {
                public_key,
                xpub,
                stored,
            })
        })
    }

    /// Encrypts app data with an AES-256-GCM key: nonce || ciphertext || tag.
    pub fn encrypt(
        &self,
        caller: &Caller,
        key: &KeyRef,
        plaintext: &[u8],
        aad: &[u8],
    ) -> Result<Vec<u8>> {
        self.with_aes_key(caller, key, Operation::Encrypt, |k| {
            crypto::aes_gcm_encrypt(k, plaintext, aad)
        })
    }

    /// Decrypts what [`Keyhold::encrypt`] produced; `DecryptionFailed` if
    /// the ciphertext, tag or associated data was altered.
    pub fn decrypt(
        &self,
        caller: &Caller,
        key: &KeyRef,
        ciphertext: &[u8],
        aad: &[u8],
    ) -> Result<SecretBytes> {
        self.with_aes_key(caller, key, Operation::Decrypt, |k| {
            crypto::aes_gcm_decrypt(k, ciphertext, aad)
        })
    }

    /// Key agreement (ECDH on secp256k1/P-256, X25519) with a peer public
    /// key, then HKDF-SHA256. The raw shared secret never leaves; the HKDF
    /// output is returned, or stored as a new AES-256-GCM key.
    pub fn agree(
        &self,
        caller: &Caller,
        key: &KeyRef,
        peer_public_key: &[u8],
        kdf: &KdfParams,
        store_as: Option<KeyOptions>,
    ) -> Result<Agreement> {
        self.audited(caller, Operation::Agree, |ctx| {
            let length = if store_as.is_some() { 32 } else { kdf.length };
            if !(16..=64).contains(&length) {
                return Err(Error::InvalidArgument(
                    "agreement output length must be 16..=64".into(),
                ));
            }
            let loaded = self.load(caller, key, Operation::Agree, ctx)?;
            let private = loaded.material.root_key();
            if loaded.info.hd_scheme.is_some()
                || !matches!(
                    private.algorithm(),
                    Algorithm::Secp256k1 | Algorithm::P256 | Algorithm::X25519
                )
            {
                return Err(incompatible(&loaded.info, "agree"));
            }
            let peer = parse_public_key(private.algorithm(), peer_public_key)?;
            let source_used = self.consume_use(&loaded.info)?;
            let shared = private.diffie_hellman(&peer)?;
            let derived = crypto::hkdf_sha256(shared.expose(), &kdf.salt, &kdf.info, length)?;
            match store_as {
                None => Ok(Agreement::Secret(derived)),
                Some(options) => {
                    let material = KeyMaterial::single(PrivateKey::from_bytes(
                        Algorithm::Aes256Gcm,
                        derived.expose(),
                    )?);
                    let new = NewMaterial {
                        material,
                        algorithm: Algorithm::Aes256Gcm,
                        hd: None,
                        origin: KeyOrigin::Derived,
                    };
                    let source = Source {
                        policy: &loaded.info.policy,
                        child: ChildOf {
                            source_used,
                            path: None,
                        },
                    };
                    Ok(Agreement::Stored(self.create_key(
                        caller,
                        Operation::Agree,
                        ctx,
                        options,
                        Some(source),
                        new,
                    )?))
                }
            }
        })
    }

    /// Deletes a key: its row and sealed secret are overwritten on disk and
    /// its unsealed copy leaves the cache.
    pub fn delete_key(&self, caller: &Caller, key: &KeyRef) -> Result<()> {
        self.audited(caller, Operation::DeleteKey, |ctx| {
            let info = self.load_info(caller, key, Operation::DeleteKey, ctx)?;
            let owner = caller.owner();
            lock(&self.journal).commit_with(caller, Operation::DeleteKey, info.id, |records| {
                lock(&self.store).delete_key(&owner, info.id, records)
            })?;
            ctx.committed = true;
            self.cache.remove(info.id);
            Ok(())
        })
    }

    /// Metadata of every key in the caller's namespace, ordered by alias, in
    /// one unbounded list: for in-process callers (uniffi), where no
    /// transport buffer limits a reply. Transports answer with bounded pages
    /// ([`Keyhold::list_keys_page`]; the protocol's `ListKeys` is paged).
    pub fn list_keys(&self, caller: &Caller) -> Result<Vec<KeyInfo>> {
        self.audited(caller, Operation::ListKeys, |_| {
            // Best effort: on a full disk the listing still serves what is
            // committed (buffered use counts show once written).
            let _ = self.flush();
            lock(&self.store).list_keys(&caller.owner())
        })
    }

    /// One bounded page of the caller's keys, in ascending key-id order
    /// (ids are random and never change, so the order is stable: keys added
    /// or deleted between pages neither shift nor repeat the others; a key
    /// added behind the cursor shows on the next full listing).
    ///
    /// `after`: start after this id (`None`: from the start); it need not
    /// name an existing key, so the cursor survives the deletion of the key
    /// it names. `limit`: most keys, 0 meaning [`DEFAULT_LIST_PAGE_KEYS`],
    /// capped at [`MAX_LIST_PAGE_KEYS`]; the page also stops before it
    /// passes [`MAX_LIST_PAGE_BYTES`] (always holding at least one key).
    /// `next_after` is set when more keys follow.
    pub fn list_keys_page(
        &self,
        caller: &Caller,
        after: Option<KeyId>,
        limit: u32,
    ) -> Result<KeyPage> {
        self.audited(caller, Operation::ListKeys, |_| {
            let _ = self.flush();
            let mut all = lock(&self.store).list_keys(&caller.owner())?;
            all.retain(|k| after.is_none_or(|a| k.id > a));
            all.sort_unstable_by_key(|k| k.id);
            let limit = match limit {
                0 => DEFAULT_LIST_PAGE_KEYS,
                n => n.min(MAX_LIST_PAGE_KEYS),
            } as usize;
            let mut keys = Vec::new();
            let (mut bytes, mut more) = (0usize, false);
            for info in all {
                let size = listing_size(&info);
                if keys.len() == limit || (!keys.is_empty() && bytes + size > MAX_LIST_PAGE_BYTES) {
                    more = true;
                    break;
                }
                bytes += size;
                keys.push(info);
            }
            let next_after = if more {
                keys.last().map(|k| k.id)
            } else {
                None
            };
            Ok(KeyPage { keys, next_after })
        })
    }

    /// Metadata of one key, with its current usage count.
    pub fn get_key_info(&self, caller: &Caller, key: &KeyRef) -> Result<KeyInfo> {
        self.audited(caller, Operation::GetKeyInfo, |ctx| {
            let _ = self.flush();
            self.load_stored(caller, key, Operation::GetKeyInfo, ctx)
                .map(|s| s.info)
        })
    }

    // ---- shared paths -------------------------------------------------

    /// Runs `op` (audited, authorised, counted) with the key's AES-256-GCM secret.
    fn with_aes_key<T>(
        &self,
        caller: &Caller,
        key: &KeyRef,
        operation: Operation,
        op: impl FnOnce(&SecretBytes) -> Result<T>,
    ) -> Result<T> {
        self.audited(caller, operation, |ctx| {
            let loaded = self.load(caller, key, operation, ctx)?;
            let PrivateKey::Aes256Gcm(k) = loaded.material.root_key() else {
                return Err(incompatible(&loaded.info, operation.name()));
            };
            self.consume_use(&loaded.info)?;
            op(k)
        })
    }

    /// Runs `op` and records its outcome in the audit journal.
    fn audited<T>(
        &self,
        caller: &Caller,
        operation: Operation,
        op: impl FnOnce(&mut AuditCtx) -> Result<T>,
    ) -> Result<T> {
        let mut ctx = AuditCtx::default();
        let result = match self.writable_for(operation) {
            Gate::Open => op(&mut ctx),
            Gate::Refused(e) => Err(e),
            // Counted, not recorded: committed as one record later.
            Gate::Full(e) => return Err(e),
        };
        if ctx.committed {
            return result;
        }
        let outcome = result.as_ref().err().map(Error::code);
        let refused = matches!(outcome, Some(crate::ErrorCode::PermissionDenied));
        let mut journal = lock(&self.journal);
        journal.record(caller, operation, ctx.key_id, outcome);
        let due = journal.due(self.config.audit_batch, self.config.audit_max_delay);
        if (refused && journal.may_retry()) || due {
            // A refusal is committed at once; so is a full batch. A record
            // that cannot be written stays in the journal for a retry (see
            // journal.rs): this operation's result stands, and later uses
            // of secrets are refused until the journal is written.
            let _ = journal.flush(&mut **lock(&self.store));
        }
        result
    }

    /// Refuses, before it runs, an operation the journal cannot take: any
    /// use of a secret while audit records cannot be written (after one
    /// more attempt), and everything once too many records wait.
    fn writable_for(&self, operation: Operation) -> Gate {
        let mut journal = lock(&self.journal);
        if let Err(e) = journal.refuse_if_full(self.config.audit_batch) {
            return Gate::Full(e);
        }
        if operation.uses_secret() && journal.unwritable() {
            if journal.may_retry() {
                let _ = journal.flush(&mut **lock(&self.store));
            }
            if journal.unwritable() {
                return Gate::Refused(journal.refusal());
            }
        }
        Gate::Open
    }

    /// The stored record, authorised for `operation`, without unsealing.
    fn load_stored(
        &self,
        caller: &Caller,
        key: &KeyRef,
        operation: Operation,
        ctx: &mut AuditCtx,
    ) -> Result<StoredKey> {
        let owner = caller.owner();
        let mut seen = None;
        let stored = lock(&self.store).load_key(&owner, key, &mut |s| {
            seen = Some(s.info.id);
            authorize(&s.info.policy, caller, operation)
        });
        ctx.key_id = seen;
        stored
    }

    /// Public metadata, authorised for `operation`: from the cache when the
    /// key is there, else from the store (no unseal).
    fn load_info(
        &self,
        caller: &Caller,
        key: &KeyRef,
        operation: Operation,
        ctx: &mut AuditCtx,
    ) -> Result<KeyInfo> {
        if let Some(hit) = self.cached(caller, key) {
            ctx.key_id = Some(hit.info.id);
            authorize(&hit.info.policy, caller, operation)?;
            return Ok(hit.info.clone());
        }
        self.load_stored(caller, key, operation, ctx)
            .map(|s| s.info)
    }

    /// The unsealed key, authorised for `operation`. Unseals at most once per
    /// key while it stays cached.
    fn load(
        &self,
        caller: &Caller,
        key: &KeyRef,
        operation: Operation,
        ctx: &mut AuditCtx,
    ) -> Result<Arc<LoadedKey>> {
        if let Some(hit) = self.cached(caller, key) {
            ctx.key_id = Some(hit.info.id);
            authorize(&hit.info.policy, caller, operation)?;
            return Ok(hit);
        }
        let _gate = lock(&self.unseal_gate);
        if let Some(hit) = self.cached(caller, key) {
            ctx.key_id = Some(hit.info.id);
            authorize(&hit.info.policy, caller, operation)?;
            return Ok(hit);
        }
        let generation = self.cache.generation();
        let stored = self.load_stored(caller, key, operation, ctx)?;
        let aad = self
            .seal_context(&stored.info, &stored.owner, stored.sealed_schema_version)
            .to_aad();
        let secret = self.with_sealer_retry(|| self.sealer.unseal(&stored.sealed_secret, &aad))?;
        let material = KeyMaterial::from_secret_bytes(
            stored.info.algorithm,
            stored.info.hd_scheme,
            secret.expose(),
        )?;
        let loaded = Arc::new(LoadedKey {
            info: stored.info,
            owner: stored.owner,
            material,
            by_alias: matches!(key, KeyRef::Alias(_)),
        });
        self.cache.insert(Arc::clone(&loaded), generation);
        Ok(loaded)
    }

    /// Runs a `seal` or `unseal`, once more after a pause if it failed
    /// transiently (hardware busy, IPC hiccup).
    fn with_sealer_retry<T>(&self, f: impl FnMut() -> Result<T>) -> Result<T> {
        let delays = &self.config.sealer_retry_delays;
        super::attach::retry(
            &delays[..delays.len().min(1)],
            super::attach::is_transient,
            f,
        )
    }

    fn cached(&self, caller: &Caller, key: &KeyRef) -> Option<Arc<LoadedKey>> {
        let owner = caller.owner();
        match key {
            KeyRef::Id(id) => self.cache.get_by_id(&owner, *id),
            KeyRef::Alias(alias) => self.cache.get_by_alias(&owner, alias),
        }
    }

    /// Counts a use of the key's secret: durably before the use when the
    /// key has a limit, otherwise in the journal. Returns the key's count
    /// after this use for a limited key (for an unlimited one, the count as
    /// loaded: it bounds nothing).
    fn consume_use(&self, info: &KeyInfo) -> Result<u64> {
        match info.policy.max_uses {
            Some(limit) => lock(&self.store).add_usage(info.id, 1, Some(limit)),
            None => {
                lock(&self.journal).count_use(info.id);
                Ok(info.usage_count)
            }
        }
    }

    fn seal_context<'a>(
        &self,
        info: &KeyInfo,
        owner: &'a str,
        schema_version: u32,
    ) -> SealContext<'a> {
        SealContext {
            key_id: info.id,
            owner,
            algorithm: info.algorithm,
            hd_scheme: info.hd_scheme,
            schema_version,
        }
    }

    /// Self-tests, seals and stores new material, committing its audit
    /// record with the insert, and caches it (so it never needs an unseal
    /// this session).
    fn create_key(
        &self,
        caller: &Caller,
        operation: Operation,
        ctx: &mut AuditCtx,
        options: KeyOptions,
        source: Option<Source<'_>>,
        new: NewMaterial,
    ) -> Result<KeyInfo> {
        let alias = crate::alias::normalize_alias(&options.alias)?;
        let policy = resolve_policy(
            caller,
            options.policy,
            options.bind_to_caller_code,
            new.hd,
            source,
        )?;
        let owner = caller.owner();
        // Refuse a taken alias before spending a (slow) hardware seal.
        match lock(&self.store).load_key(&owner, &KeyRef::Alias(alias.clone()), &mut |_| Ok(())) {
            Ok(_) => return Err(Error::AliasExists(alias)),
            Err(Error::KeyNotFound(_)) => {}
            Err(e) => return Err(e),
        }
        crate::kat::pairwise_consistency(new.material.root_key())?;
        let info = KeyInfo {
            id: KeyId::random()?,
            alias,
            algorithm: new.algorithm,
            hd_scheme: new.hd,
            origin: new.origin,
            public_key: new
                .material
                .root_public_key()
                .map(|p| p.canonical_bytes())
                .unwrap_or_default(),
            policy,
            usage_count: 0,
            created_at_ms: now_ms(),
            sealer: self.sealer.name(),
        };
        let aad = self
            .seal_context(&info, &owner, self.schema_version)
            .to_aad();
        let generation = self.cache.generation();
        let plain = new.material.to_secret_bytes();
        let sealed_secret = self.with_sealer_retry(|| self.sealer.seal(plain.expose(), &aad))?;
        drop(plain);
        let stored = StoredKey {
            info,
            owner,
            sealed_secret,
            sealed_schema_version: self.schema_version,
        };
        lock(&self.journal).commit_with(caller, operation, stored.info.id, |records| {
            lock(&self.store).insert_key(&stored, records)
        })?;
        ctx.committed = true;
        let info = stored.info.clone();
        self.cache.insert(
            Arc::new(LoadedKey {
                info: stored.info,
                owner: stored.owner,
                material: new.material,
                by_alias: true,
            }),
            generation,
        );
        Ok(info)
    }
}

/// The stored key a new key is made from (derive, agree): its policy
/// bounds the new key's (see [`KeyPolicy::narrowed_for_child`]).
struct Source<'a> {
    policy: &'a KeyPolicy,
    child: ChildOf<'a>,
}

/// Whether an operation may run, given the journal's state.
enum Gate {
    Open,
    /// Refused before running, and recorded like any refusal.
    Refused(Error),
    /// Refused before running and only counted (the buffer is full).
    Full(Error),
}

/// Material about to become a key.
struct NewMaterial {
    material: KeyMaterial,
    algorithm: Algorithm,
    hd: Option<HdScheme>,
    origin: KeyOrigin,
}

fn authorize(policy: &KeyPolicy, caller: &Caller, operation: Operation) -> Result<()> {
    policy.check_caller(caller)?;
    policy.check_operation(operation)
}

/// Runs `f` with the key at `path` (checked against the policy) or the key itself.
fn with_node_key<T>(
    loaded: &LoadedKey,
    path: Option<&DerivationPath>,
    f: impl FnOnce(&PrivateKey) -> Result<T>,
) -> Result<T> {
    match (path, loaded.info.hd_scheme) {
        (None, None) => f(loaded.material.root_key()),
        (Some(_), None) => Err(Error::InvalidPath(
            "a derivation path needs a hierarchical-deterministic key".into(),
        )),
        (path, Some(_)) => {
            let path = path.cloned().unwrap_or_default();
            loaded.info.policy.check_path(&path)?;
            let node = loaded.material.node_at(&path)?;
            f(&node.key)
        }
    }
}

fn resolve_scheme(
    scheme: Option<SignatureScheme>,
    algorithm: Algorithm,
) -> Result<SignatureScheme> {
    match scheme {
        Some(s) => Ok(s),
        None => SignatureScheme::default_for(algorithm),
    }
}

fn stored_public_key(info: &KeyInfo) -> Result<PublicKey> {
    if !info.algorithm.is_asymmetric() {
        return Err(Error::IncompatibleKey(format!(
            "{} keys have no public key",
            info.algorithm
        )));
    }
    parse_public_key(info.algorithm, &info.public_key).map_err(|e| {
        Error::CorruptKeyRecord(format!(
            "stored public key of {} does not parse: {e}",
            info.id
        ))
    })
}

fn incompatible(info: &KeyInfo, what: &str) -> Error {
    let kind = if info.hd_scheme.is_some() { " HD" } else { "" };
    Error::IncompatibleKey(format!("{}{kind} keys cannot {what}", info.algorithm))
}

/// Fills in the creator's rule when no callers are named, narrows the
/// policy of a key made from another key to its source's, and bounds it.
fn resolve_policy(
    caller: &Caller,
    mut policy: KeyPolicy,
    bind_code: bool,
    hd: Option<HdScheme>,
    source: Option<Source<'_>>,
) -> Result<KeyPolicy> {
    if policy.allowed_callers.len() > MAX_POLICY_ENTRIES
        || policy.allowed_path_prefixes.len() > MAX_POLICY_ENTRIES
    {
        return Err(Error::InvalidArgument(format!(
            "a policy holds at most {MAX_POLICY_ENTRIES} entries per list"
        )));
    }
    if policy.max_uses == Some(0) {
        policy.max_uses = None;
    }
    if let Some(source) = source {
        let code = if bind_code {
            caller.default_rule(true)?.code_sha256
        } else {
            None
        };
        policy = source
            .policy
            .narrowed_for_child(policy, code, source.child)?;
    }
    if policy.allowed_callers.is_empty() {
        policy.allowed_callers.push(caller.default_rule(bind_code)?);
    } else if !policy.allowed_callers.iter().any(|r| caller.matches(r)) {
        return Err(Error::InvalidArgument(
            "the policy's allowed callers must include the creating caller".into(),
        ));
    }
    if policy.allowed_callers.len() > MAX_POLICY_ENTRIES
        || policy.allowed_path_prefixes.len() > MAX_POLICY_ENTRIES
    {
        return Err(Error::InvalidArgument(format!(
            "a policy holds at most {MAX_POLICY_ENTRIES} entries per list"
        )));
    }
    if !policy.allowed_path_prefixes.is_empty() && hd.is_none() {
        return Err(Error::InvalidArgument(
            "path prefixes apply only to HD keys".into(),
        ));
    }
    Ok(policy)
}

/// Turns import material into a key, validating it.
fn parse_import(material: ImportMaterial) -> Result<NewMaterial> {
    let imported = |material: KeyMaterial, algorithm, hd| NewMaterial {
        material,
        algorithm,
        hd,
        origin: KeyOrigin::Imported,
    };
    Ok(match material {
        ImportMaterial::RawPrivateKey { algorithm, secret } => {
            let key = PrivateKey::from_bytes(algorithm, secret.expose())?;
            imported(KeyMaterial::single(key), algorithm, None)
        }
        ImportMaterial::Pkcs8 { data, algorithm } => {
            let key = crate::encoding::parse_pkcs8(data.expose(), algorithm)?;
            let algorithm = key.algorithm();
            imported(KeyMaterial::single(key), algorithm, None)
        }
        ImportMaterial::Sec1 { data, algorithm } => {
            let key = crate::encoding::parse_sec1(data.expose(), algorithm)?;
            let algorithm = key.algorithm();
            imported(KeyMaterial::single(key), algorithm, None)
        }
        ImportMaterial::Mnemonic {
            phrase,
            passphrase,
            scheme,
        } => {
            let phrase = std::str::from_utf8(phrase.expose())
                .map_err(|_| Error::InvalidMnemonic("mnemonic is not UTF-8".into()))?;
            let passphrase = std::str::from_utf8(passphrase.expose())
                .map_err(|_| Error::InvalidArgument("passphrase is not UTF-8".into()))?;
            let seed = crate::hd::mnemonic_to_seed(phrase, passphrase)?;
            let root = ExtendedPrivateKey::from_seed(scheme, seed.expose())?;
            imported(KeyMaterial::hd(root)?, scheme.algorithm(), Some(scheme))
        }
        ImportMaterial::Seed { seed, scheme } => {
            let root = ExtendedPrivateKey::from_seed(scheme, seed.expose())?;
            imported(KeyMaterial::hd(root)?, scheme.algorithm(), Some(scheme))
        }
        ImportMaterial::Xprv(text) => {
            let text = std::str::from_utf8(text.expose())
                .map_err(|_| Error::InvalidKeyMaterial("xprv is not ASCII".into()))?;
            let root = ExtendedPrivateKey::from_xprv(text.trim())?;
            let scheme = root.scheme();
            imported(KeyMaterial::hd(root)?, scheme.algorithm(), Some(scheme))
        }
    })
}
