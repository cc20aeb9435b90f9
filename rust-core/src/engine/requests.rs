//! Typed inputs and outputs of the engine's operations.

use crate::algorithm::{Algorithm, HdScheme};
use crate::key::KeyInfo;
use crate::policy::KeyPolicy;
use crate::secret::SecretBytes;

/// What kind of key to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySpec {
    /// A single key of an algorithm.
    Single(Algorithm),
    /// An HD root from a fresh random 32-byte seed.
    Hd(HdScheme),
}

/// Options for a key about to be stored.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KeyOptions {
    /// Alias, unique in the caller's namespace.
    pub alias: String,
    /// Policy; empty `allowed_callers` means "the creator" (see
    /// [`Caller::default_rule`](crate::Caller::default_rule)).
    pub policy: KeyPolicy,
    /// With an empty caller list, also bind the key to the creator's code digest.
    pub bind_to_caller_code: bool,
}

impl KeyOptions {
    /// Options with an alias and the default policy.
    pub fn alias(alias: impl Into<String>) -> Self {
        Self {
            alias: alias.into(),
            ..Self::default()
        }
    }
}

/// Key material to import. Every variant holds its secret in zeroizing memory.
#[derive(Debug, Clone)]
pub enum ImportMaterial {
    /// A raw private key: 32-byte scalar, Ed25519 seed, X25519 secret, AES
    /// key, or HMAC key.
    RawPrivateKey {
        /// Its algorithm.
        algorithm: Algorithm,
        /// The bytes.
        secret: SecretBytes,
    },
    /// PKCS#8 PrivateKeyInfo, DER or PEM.
    Pkcs8 {
        /// DER or PEM bytes.
        data: SecretBytes,
        /// Expected algorithm, if the caller named one.
        algorithm: Option<Algorithm>,
    },
    /// SEC1 ECPrivateKey, DER or PEM.
    Sec1 {
        /// DER or PEM bytes.
        data: SecretBytes,
        /// Curve when the encoding omits it.
        algorithm: Option<Algorithm>,
    },
    /// A BIP39 mnemonic (English), with optional passphrase.
    Mnemonic {
        /// The words, UTF-8.
        phrase: SecretBytes,
        /// The passphrase, UTF-8 (empty for none).
        passphrase: SecretBytes,
        /// HD scheme of the resulting root.
        scheme: HdScheme,
    },
    /// A BIP32/SLIP-10 seed of 16..=64 bytes.
    Seed {
        /// The seed.
        seed: SecretBytes,
        /// HD scheme of the resulting root.
        scheme: HdScheme,
    },
    /// A base58check BIP32 extended private key.
    Xprv(SecretBytes),
}

/// Result of [`Keyhold::derive_key`](crate::Keyhold::derive_key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DerivedKey {
    /// The child's public key (SEC1 compressed, or raw for Ed25519).
    pub public_key: Vec<u8>,
    /// The child's xpub (BIP32 secp256k1 only).
    pub xpub: Option<String>,
    /// The stored child, when asked to store it.
    pub stored: Option<KeyInfo>,
}

/// HKDF-SHA256 parameters applied to a raw agreement secret.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KdfParams {
    /// HKDF salt.
    pub salt: Vec<u8>,
    /// HKDF info.
    pub info: Vec<u8>,
    /// Output length, 16..=64.
    pub length: usize,
}

/// Result of [`Keyhold::agree`](crate::Keyhold::agree).
#[derive(Debug, Clone)]
pub enum Agreement {
    /// The HKDF output, returned to the caller.
    Secret(SecretBytes),
    /// The HKDF output stored as a new AES-256-GCM key.
    Stored(KeyInfo),
}

/// One page of [`Keyhold::list_keys_page`](crate::Keyhold::list_keys_page):
/// keys in ascending key-id order, and where the next page starts.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KeyPage {
    /// The caller's keys with ids above the requested `after`, ascending.
    pub keys: Vec<KeyInfo>,
    /// The id of the last key of this page when more keys follow: pass
    /// it as `after` for the next page. `None` on the last page.
    pub next_after: Option<crate::key::KeyId>,
}
