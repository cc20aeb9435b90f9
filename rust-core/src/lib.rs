//! # keyhold-core
//!
//! The Keyhold key-management engine. Keys are generated, imported, derived
//! and used *inside* this crate; callers get public keys, signatures,
//! ciphertexts and derived public material, never private key bytes.
//!
//! - [`Keyhold`] is the typed Rust API; [`Keyhold::handle`] is the single
//!   byte-level entry point every transport calls with a [`Caller`] it
//!   established itself.
//! - Secrets are sealed by a [`Sealer`] (the hardware door) and stored by a
//!   [`KeyStore`] ([`SqliteStore`] or [`MemoryStore`]).
//! - Every operation is checked against the key's [`KeyPolicy`] and recorded
//!   in a hash-chained audit log.
//!
//! The public API is the `pub use` list below and nothing else: every module
//! is private. The modules form an acyclic graph (checked by
//! `tests/module_graph.rs`; the one exception, engine <-> protocol, goes
//! with issue 11 item 1). Test doubles (`CountingSealer`) need the
//! `test-support` feature.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod algorithm;
mod alias;
mod audit;
mod caller;
mod crypto;
mod encoding;
mod engine;
mod error;
mod hd;
mod integrity;
mod kat;
mod key;
mod limits;
mod policy;
mod protocol;
mod random;
mod sealer;
mod secret;
mod store;

pub use algorithm::{Algorithm, HdScheme, Operation, PublicKeyFormat, SignatureScheme};
pub use alias::{alias_key, normalize_alias};
pub use audit::{AuditAnchor, AuditChain, AuditRecord, AuditVerdict, verify_chain};
pub use caller::{AndroidPackage, Caller, CallerRule, CodeDigest};
pub use crypto::{EncodedPublicKey, Payload};
pub use engine::{
    Agreement, Config, DEFAULT_LIST_PAGE_KEYS, DerivedKey, ImportMaterial, KdfParams, KeyOptions,
    KeyPage, KeySpec, Keyhold, MAX_LIST_PAGE_BYTES, MAX_LIST_PAGE_KEYS,
};
pub use error::{Error, ErrorCode, Result, SealerErrorKind, StoreContract};
pub use hd::DerivationPath;
pub use integrity::StoreIntegrity;
pub use key::{KeyId, KeyInfo, KeyOrigin, KeyRef};
pub use limits::DEFAULT_MAX_REQUEST_BYTES;
pub use policy::{ChildOf, KeyPolicy, OperationSet};
pub use protocol::{PROTOCOL_VERSION, caller_from_identity_bytes, caller_to_identity_bytes};
pub use sealer::{
    KeyRequest, STORE_KEY_AAD, SealContext, Sealer, SealerBinding, SealerBindingInfo,
    SoftwareSealer, WrappingKeyInfo,
};
pub use secret::SecretBytes;
pub use store::{AuditSnapshot, KeyStore, MemoryStore, SCHEMA_VERSION, SqliteStore, StoredKey};

/// Test doubles for dependents' tests and benches, behind the `test-support`
/// feature (enable it under `[dev-dependencies]`); not part of the product API.
#[cfg(any(test, feature = "test-support"))]
pub use sealer::CountingSealer;
