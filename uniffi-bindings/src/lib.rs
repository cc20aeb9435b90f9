//! # keyhold-uniffi
//!
//! The in-process door to `keyhold-core` for Swift (iOS, where the wrapping
//! key lives in the Secure Enclave) and Kotlin (JVM/desktop), generated with
//! [uniffi](https://mozilla.github.io/uniffi-rs).
//!
//! This crate is deliberately thin (conventions 1 and 2): it converts types
//! and delegates, in one line per operation, to [`keyhold_core::Keyhold`].
//! There is no cryptography, policy or key handling here.
//!
//! - [`KeyholdEmbedded`] carries the core's verbs (`generate_key`, `sign`,
//!   ...; `generateKey`, `sign`, ... in Swift and Kotlin) for the embedding
//!   app, which the core sees as `Caller::Embedded { app_id }`.
//! - [`Sealer`] is implemented by the app (Swift: Secure Enclave; Kotlin
//!   tests: javax.crypto) and adapted to the core's `Sealer` trait. The
//!   core's own software sealer is exported through the same trait
//!   ([`insecure_software_sealer_ephemeral`],
//!   [`insecure_software_sealer_key_file`]) for simulators and tests.
//! - [`KeyholdError`] is a small error enum whose every variant carries the
//!   core's stable numeric code (`keyhold_core::ErrorCode`).
//!
//! ## Secrets across the boundary
//!
//! Secret *inputs* (imported keys, mnemonics, seeds) enter through
//! [`ImportMaterial`], an opaque object with no `Debug`, `Display`,
//! `toString` or `description` of its contents. Secret *outputs* do not
//! exist, with two documented exceptions that are application data rather
//! than keys: `decrypt` returns the plaintext the app encrypted, and `agree`
//! (without `store_as`) returns the HKDF output the app asked for. Both are
//! plain byte arrays, which Kotlin and Swift print as `[B@…` / `N bytes`.
//!
//! The bytes a sealer wraps do cross into the foreign language (that is what
//! a sealer is for); uniffi copies them through a `RustBuffer` that it frees
//! without zeroizing. In-process embedding shares one address space anyway.
#![forbid(unsafe_code)]
// The `extern "C"` scaffolding that uniffi's macros generate is expanded from
// an external proc-macro, which the `unsafe_code` lint does not report, so
// `forbid` holds for every line written here.
#![warn(missing_docs)]

mod embedded;
mod error;
mod import;
mod sealer;
mod types;

pub use embedded::KeyholdEmbedded;
pub use error::{KeyholdError, SealerError};
pub use import::ImportMaterial;
pub use sealer::{
    Sealer, WrappingKeyInfo, insecure_software_sealer_ephemeral, insecure_software_sealer_key_file,
};
pub use types::{
    Agreement, Algorithm, AuditVerdict, CallerRule, DerivedKey, EncodedPublicKey, HdScheme,
    KdfParams, KeyInfo, KeyOperation, KeyOptions, KeyOrigin, KeyPolicy, KeyRef, KeySpec, Payload,
    PublicKeyFormat, SignatureScheme,
};

uniffi::setup_scaffolding!();
