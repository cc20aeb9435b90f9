//! Records and enums of the bindings, each a mirror of a core type with
//! conversions both ways. Conversions that can fail (paths, ids, digests)
//! use the core's own parsers, so the core reports the error and its code.

use crate::error::KeyholdError;
use keyhold_core as core_;

/// Declares a fieldless uniffi enum mirroring a core enum, with `From` both
/// ways. The matches are exhaustive: a variant added to the core breaks the
/// build here until the bindings carry it too.
macro_rules! mirror_enum {
    ($(#[$meta:meta])* $name:ident => $core:path { $($(#[$vmeta:meta])* $variant:ident,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl From<$name> for $core {
            fn from(value: $name) -> Self {
                match value {
                    $($name::$variant => <$core>::$variant,)+
                }
            }
        }

        impl From<$core> for $name {
            fn from(value: $core) -> Self {
                match value {
                    $(<$core>::$variant => $name::$variant,)+
                }
            }
        }
    };
}

mirror_enum!(
    /// A key algorithm.
    Algorithm => core_::Algorithm {
        /// secp256k1: ECDSA, BIP340 Schnorr, ECDH.
        Secp256k1,
        /// NIST P-256: ECDSA, ECDH.
        P256,
        /// Ed25519 (pure EdDSA).
        Ed25519,
        /// X25519 key agreement.
        X25519,
        /// AES-256-GCM for app data.
        Aes256Gcm,
        /// HMAC-SHA256.
        HmacSha256,
    }
);

mirror_enum!(
    /// Hierarchical-deterministic derivation schemes.
    HdScheme => core_::HdScheme {
        /// BIP32 over secp256k1.
        Bip32Secp256k1,
        /// SLIP-10 over Ed25519 (hardened derivation only).
        Slip10Ed25519,
        /// SLIP-10 over NIST P-256.
        Slip10P256,
    }
);

mirror_enum!(
    /// Signature encodings.
    SignatureScheme => core_::SignatureScheme {
        /// ECDSA (RFC 6979, low-S) in ASN.1 DER.
        EcdsaDer,
        /// ECDSA r||s, 64 bytes, low-S.
        EcdsaCompact,
        /// secp256k1 ECDSA r||s||v (v = recovery id 0/1), 65 bytes.
        EcdsaRecoverable,
        /// BIP340 Schnorr over secp256k1.
        Bip340,
        /// Pure Ed25519.
        Ed25519,
        /// HMAC-SHA256 tag.
        HmacSha256,
    }
);

mirror_enum!(
    /// Public-key output formats.
    PublicKeyFormat => core_::PublicKeyFormat {
        /// SEC1 compressed point (33 bytes).
        Sec1Compressed,
        /// SEC1 uncompressed point (65 bytes).
        Sec1Uncompressed,
        /// Raw 32 bytes: Ed25519/X25519, or BIP340 x-only for secp256k1.
        Raw,
        /// SubjectPublicKeyInfo, DER.
        SpkiDer,
        /// SubjectPublicKeyInfo, PEM.
        SpkiPem,
        /// JSON Web Key.
        Jwk,
        /// BIP32 extended public key.
        Xpub,
        /// Ethereum address with EIP-55 checksum.
        EthAddress,
        /// Bitcoin P2WPKH bech32 address (mainnet).
        BtcP2wpkh,
    }
);

mirror_enum!(
    /// Operations, as named in policies. (The core calls this `Operation`;
    /// here it is `KeyOperation` so that it does not shadow Foundation's
    /// `Operation` in Swift.)
    KeyOperation => core_::Operation {
        /// Create a key in the store.
        GenerateKey,
        /// Import key material.
        ImportKey,
        /// Read a public key.
        GetPublicKey,
        /// Sign.
        Sign,
        /// Verify a signature.
        Verify,
        /// HD derivation.
        DeriveKey,
        /// AEAD encryption.
        Encrypt,
        /// AEAD decryption.
        Decrypt,
        /// Key agreement.
        Agree,
        /// Delete a key.
        DeleteKey,
        /// List keys.
        ListKeys,
        /// Read key metadata.
        GetKeyInfo,
        /// Verify the audit chain.
        AuditVerify,
    }
);

mirror_enum!(
    /// Where a key came from.
    KeyOrigin => core_::KeyOrigin {
        /// Generated inside the store.
        Generated,
        /// Imported from outside.
        Imported,
        /// Derived from another stored key (HD child or agreement).
        Derived,
    }
);

/// How a call names a key.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum KeyRef {
    /// By id: the 16 lowercase hex digits of `KeyInfo.id`.
    Id {
        /// The id.
        id: String,
    },
    /// By alias, within the app's namespace.
    Alias {
        /// The alias.
        alias: String,
    },
}

impl TryFrom<KeyRef> for core_::KeyRef {
    type Error = KeyholdError;
    fn try_from(value: KeyRef) -> Result<Self, KeyholdError> {
        Ok(match value {
            KeyRef::Id { id } => Self::Id(core_::KeyId::parse(&id)?),
            KeyRef::Alias { alias } => Self::Alias(alias),
        })
    }
}

/// What kind of key to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum KeySpec {
    /// A single key of an algorithm.
    Single {
        /// The algorithm.
        algorithm: Algorithm,
    },
    /// An HD root from a fresh random 32-byte seed.
    Hd {
        /// The scheme.
        scheme: HdScheme,
    },
}

impl From<KeySpec> for core_::KeySpec {
    fn from(value: KeySpec) -> Self {
        match value {
            KeySpec::Single { algorithm } => Self::Single(algorithm.into()),
            KeySpec::Hd { scheme } => Self::Hd(scheme.into()),
        }
    }
}

/// A rule permitting callers; every field that is set must match. An
/// embedded store has one caller (the app), so apps rarely need this.
#[derive(Debug, Clone, PartialEq, Eq, Default, uniffi::Record)]
pub struct CallerRule {
    /// Required uid.
    #[uniffi(default)]
    pub uid: Option<u32>,
    /// Required app id / package name.
    #[uniffi(default)]
    pub app_id: Option<String>,
    /// Required SHA-256 code digest (32 bytes).
    #[uniffi(default)]
    pub code_sha256: Option<Vec<u8>>,
}

impl TryFrom<CallerRule> for core_::CallerRule {
    type Error = KeyholdError;
    fn try_from(value: CallerRule) -> Result<Self, KeyholdError> {
        let code_sha256 = match value.code_sha256 {
            None => None,
            Some(d) => Some(<core_::CodeDigest>::try_from(d.as_slice()).map_err(|_| {
                core_::Error::InvalidArgument("code_sha256 must be 32 bytes".into())
            })?),
        };
        Ok(Self {
            uid: value.uid,
            app_id: value.app_id,
            code_sha256,
        })
    }
}

impl From<core_::CallerRule> for CallerRule {
    fn from(value: core_::CallerRule) -> Self {
        Self {
            uid: value.uid,
            app_id: value.app_id,
            code_sha256: value.code_sha256.map(|d| d.to_vec()),
        }
    }
}

/// The policy stored with a key; immutable after creation. The default
/// (all fields empty) means: only this app, every operation the algorithm
/// supports, any path, no usage limit.
#[derive(Debug, Clone, PartialEq, Eq, Default, uniffi::Record)]
pub struct KeyPolicy {
    /// Callers allowed to use the key; empty means the creating app.
    #[uniffi(default)]
    pub allowed_callers: Vec<CallerRule>,
    /// Allowed operations; `None` allows all the algorithm supports.
    #[uniffi(default)]
    pub allowed_operations: Option<Vec<KeyOperation>>,
    /// For HD keys, allowed derivation path prefixes (`m/44'/60'`); empty
    /// allows any path.
    #[uniffi(default)]
    pub allowed_path_prefixes: Vec<String>,
    /// Maximum number of secret uses; `None` is unlimited.
    #[uniffi(default)]
    pub max_uses: Option<u64>,
}

impl TryFrom<KeyPolicy> for core_::KeyPolicy {
    type Error = KeyholdError;
    fn try_from(value: KeyPolicy) -> Result<Self, KeyholdError> {
        Ok(Self {
            allowed_callers: value
                .allowed_callers
                .into_iter()
                .map(TryInto::try_into)
                .collect::<Result<_, _>>()?,
            allowed_operations: value.allowed_operations.map(|ops| {
                let ops: Vec<core_::Operation> = ops.into_iter().map(Into::into).collect();
                core_::OperationSet::of(&ops)
            }),
            allowed_path_prefixes: value
                .allowed_path_prefixes
                .iter()
                .map(|p| core_::DerivationPath::parse(p))
                .collect::<Result<_, _>>()?,
            max_uses: value.max_uses,
        })
    }
}

impl From<core_::KeyPolicy> for KeyPolicy {
    fn from(value: core_::KeyPolicy) -> Self {
        Self {
            allowed_callers: value.allowed_callers.into_iter().map(Into::into).collect(),
            allowed_operations: value
                .allowed_operations
                .map(|set| set.iter().map(Into::into).collect()),
            allowed_path_prefixes: value
                .allowed_path_prefixes
                .iter()
                .map(ToString::to_string)
                .collect(),
            max_uses: value.max_uses,
        }
    }
}

/// Options for a key about to be stored.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct KeyOptions {
    /// Alias, unique in the app's namespace (1..=128 bytes).
    pub alias: String,
    /// Its policy.
    #[uniffi(default)]
    pub policy: KeyPolicy,
}

impl TryFrom<KeyOptions> for core_::KeyOptions {
    type Error = KeyholdError;
    fn try_from(value: KeyOptions) -> Result<Self, KeyholdError> {
        Ok(Self {
            alias: value.alias,
            policy: value.policy.try_into()?,
            // An embedded caller has no code digest to bind to.
            bind_to_caller_code: false,
        })
    }
}

/// Public metadata of a stored key. Holds no secret.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct KeyInfo {
    /// Identifier: 16 lowercase hex digits.
    pub id: String,
    /// Alias, unique per app.
    pub alias: String,
    /// Algorithm (for HD keys, of the derived keys).
    pub algorithm: Algorithm,
    /// Set for HD keys.
    pub hd_scheme: Option<HdScheme>,
    /// Where it came from.
    pub origin: KeyOrigin,
    /// Canonical public key: SEC1 compressed, or raw 32 bytes; empty for
    /// symmetric keys.
    pub public_key: Vec<u8>,
    /// Its policy.
    pub policy: KeyPolicy,
    /// Number of secret uses so far.
    pub usage_count: u64,
    /// Creation time, milliseconds since the Unix epoch.
    pub created_at_ms: i64,
    /// Name of the sealer that protects it.
    pub sealer: String,
}

impl From<core_::KeyInfo> for KeyInfo {
    fn from(value: core_::KeyInfo) -> Self {
        Self {
            id: value.id.to_string(),
            alias: value.alias,
            algorithm: value.algorithm.into(),
            hd_scheme: value.hd_scheme.map(Into::into),
            origin: value.origin.into(),
            public_key: value.public_key,
            policy: value.policy.into(),
            usage_count: value.usage_count,
            created_at_ms: value.created_at_ms,
            sealer: value.sealer,
        }
    }
}

/// What is signed or verified.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum Payload {
    /// A message, hashed as the scheme prescribes (SHA-256 for ECDSA).
    Message {
        /// The message.
        message: Vec<u8>,
    },
    /// A 32-byte digest computed by the app (not for Ed25519).
    Digest {
        /// The digest.
        digest: Vec<u8>,
    },
}

impl Payload {
    /// The core's borrowed form; a digest must be 32 bytes.
    pub(crate) fn as_core(&self) -> Result<core_::Payload<'_>, KeyholdError> {
        Ok(match self {
            Self::Message { message } => core_::Payload::Message(message),
            Self::Digest { digest } => {
                core_::Payload::Digest(digest.as_slice().try_into().map_err(|_| {
                    core_::Error::InvalidArgument("a digest must be 32 bytes".into())
                })?)
            }
        })
    }
}

/// An encoded public key: always bytes, and text for textual formats.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct EncodedPublicKey {
    /// The encoding's bytes (UTF-8 of `text` for textual formats).
    pub bytes: Vec<u8>,
    /// PEM, JWK JSON, xpub or address.
    pub text: Option<String>,
}

impl From<core_::EncodedPublicKey> for EncodedPublicKey {
    fn from(value: core_::EncodedPublicKey) -> Self {
        Self {
            bytes: value.bytes,
            text: value.text,
        }
    }
}

/// Result of `derive_key`.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DerivedKey {
    /// The child's public key (SEC1 compressed, or raw for Ed25519).
    pub public_key: Vec<u8>,
    /// The child's xpub (BIP32 secp256k1 only).
    pub xpub: Option<String>,
    /// The stored child, when asked to store it.
    pub stored: Option<KeyInfo>,
}

impl From<core_::DerivedKey> for DerivedKey {
    fn from(value: core_::DerivedKey) -> Self {
        Self {
            public_key: value.public_key,
            xpub: value.xpub,
            stored: value.stored.map(Into::into),
        }
    }
}

/// HKDF-SHA256 parameters applied to a raw agreement secret.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct KdfParams {
    /// HKDF salt.
    #[uniffi(default)]
    pub salt: Vec<u8>,
    /// HKDF info.
    #[uniffi(default)]
    pub info: Vec<u8>,
    /// Output length, 16..=64 (ignored when the result is stored: 32).
    #[uniffi(default = 32)]
    pub length: u32,
}

impl From<KdfParams> for core_::KdfParams {
    fn from(value: KdfParams) -> Self {
        Self {
            salt: value.salt,
            info: value.info,
            length: value.length as usize,
        }
    }
}

/// Result of `agree`.
///
/// `Secret` is application data the app asked for (the HKDF output, never
/// the raw shared secret): a plain byte array, which Kotlin and Swift do not
/// print by content. Prefer `store_as` to keep it inside Keyhold.
#[derive(Clone, PartialEq, Eq, uniffi::Enum)]
pub enum Agreement {
    /// The HKDF output.
    Secret {
        /// The derived bytes.
        secret: Vec<u8>,
    },
    /// The HKDF output stored as a new AES-256-GCM key.
    Stored {
        /// The new key.
        info: KeyInfo,
    },
}

impl core::fmt::Debug for Agreement {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Secret { secret } => {
                write!(f, "Agreement::Secret([{} bytes redacted])", secret.len())
            }
            Self::Stored { info } => f
                .debug_struct("Agreement::Stored")
                .field("info", info)
                .finish(),
        }
    }
}

impl From<core_::Agreement> for Agreement {
    fn from(value: core_::Agreement) -> Self {
        match value {
            core_::Agreement::Secret(s) => Self::Secret {
                secret: s.expose().to_vec(),
            },
            core_::Agreement::Stored(info) => Self::Stored { info: info.into() },
        }
    }
}

/// Result of checking the audit chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct AuditVerdict {
    /// Records examined.
    pub entries: u64,
    /// The first record whose link or hash is wrong, if any.
    pub first_broken_seq: Option<u64>,
}

impl From<core_::AuditVerdict> for AuditVerdict {
    fn from(value: core_::AuditVerdict) -> Self {
        Self {
            entries: value.entries,
            first_broken_seq: value.first_broken_seq,
        }
    }
}

/// Parses an optional derivation path with the core's parser.
pub(crate) fn parse_path(
    path: Option<&str>,
) -> Result<Option<core_::DerivationPath>, KeyholdError> {
    Ok(path.map(core_::DerivationPath::parse).transpose()?)
}

#[cfg(test)]
mod tests;
