//! The closed sets the core works with: algorithms, HD schemes, signature
//! schemes, public-key formats and operations, each with its one stable name.
//!
//! The names are what the CLI accepts and what humans see; every door uses
//! the same names (`secp256k1`, `ecdsa-recoverable`, `eth-address`, ...).

use crate::{Error, Result};

/// Declares a fieldless enum with a stable kebab-case name per variant.
macro_rules! named_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal $(| $alias:literal)*,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl $name {
            /// Every variant.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The stable name.
            pub fn name(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }

            /// Parses a stable name (or a documented alias).
            pub fn from_name(text: &str) -> Result<Self> {
                match text {
                    $($text $(| $alias)* => Ok($name::$variant),)+
                    other => Err(Error::InvalidArgument(format!(
                        concat!("unknown ", stringify!($name), " {:?}"),
                        other
                    ))),
                }
            }
        }

        impl core::fmt::Display for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str(self.name())
            }
        }
    };
}

named_enum!(
    /// A key algorithm.
    Algorithm {
        /// secp256k1: ECDSA, BIP340 Schnorr, ECDH.
        Secp256k1 => "secp256k1",
        /// NIST P-256: ECDSA, ECDH.
        P256 => "p256" | "secp256r1" | "prime256v1",
        /// Ed25519 (pure EdDSA).
        Ed25519 => "ed25519",
        /// X25519 key agreement.
        X25519 => "x25519",
        /// AES-256-GCM for app data.
        Aes256Gcm => "aes256-gcm" | "aes-256-gcm" | "aes",
        /// HMAC-SHA256.
        HmacSha256 => "hmac-sha256" | "hmac",
    }
);

impl Algorithm {
    /// True for algorithms whose keys have a public half.
    pub fn is_asymmetric(self) -> bool {
        !matches!(self, Self::Aes256Gcm | Self::HmacSha256)
    }
}

named_enum!(
    /// Hierarchical-deterministic derivation schemes.
    HdScheme {
        /// BIP32 over secp256k1 (identical to SLIP-10 secp256k1).
        Bip32Secp256k1 => "bip32-secp256k1" | "bip32",
        /// SLIP-10 over Ed25519 (hardened derivation only).
        Slip10Ed25519 => "slip10-ed25519",
        /// SLIP-10 over NIST P-256.
        Slip10P256 => "slip10-p256",
    }
);

impl HdScheme {
    /// The algorithm of the keys this scheme derives.
    pub fn algorithm(self) -> Algorithm {
        match self {
            Self::Bip32Secp256k1 => Algorithm::Secp256k1,
            Self::Slip10Ed25519 => Algorithm::Ed25519,
            Self::Slip10P256 => Algorithm::P256,
        }
    }

    /// The scheme for an algorithm, if it has one.
    pub fn for_algorithm(algorithm: Algorithm) -> Result<Self> {
        match algorithm {
            Algorithm::Secp256k1 => Ok(Self::Bip32Secp256k1),
            Algorithm::Ed25519 => Ok(Self::Slip10Ed25519),
            Algorithm::P256 => Ok(Self::Slip10P256),
            other => Err(Error::IncompatibleKey(format!(
                "{other} has no hierarchical-deterministic scheme"
            ))),
        }
    }
}

named_enum!(
    /// Signature encodings.
    SignatureScheme {
        /// ECDSA (RFC 6979, low-S) in ASN.1 DER.
        EcdsaDer => "ecdsa-der" | "ecdsa",
        /// ECDSA r||s, 64 bytes, low-S.
        EcdsaCompact => "ecdsa-compact" | "ecdsa-raw",
        /// secp256k1 ECDSA r||s||v (v = recovery id 0/1), 65 bytes.
        EcdsaRecoverable => "ecdsa-recoverable",
        /// BIP340 Schnorr over secp256k1.
        Bip340 => "bip340" | "schnorr",
        /// Pure Ed25519.
        Ed25519 => "ed25519",
        /// HMAC-SHA256 tag.
        HmacSha256 => "hmac-sha256",
    }
);

impl SignatureScheme {
    /// The scheme used when a request names none.
    pub fn default_for(algorithm: Algorithm) -> Result<Self> {
        match algorithm {
            Algorithm::Secp256k1 | Algorithm::P256 => Ok(Self::EcdsaDer),
            Algorithm::Ed25519 => Ok(Self::Ed25519),
            Algorithm::HmacSha256 => Ok(Self::HmacSha256),
            other => Err(Error::IncompatibleKey(format!("{other} keys cannot sign"))),
        }
    }

    /// True when `algorithm` can produce this scheme.
    pub fn supports(self, algorithm: Algorithm) -> bool {
        matches!(
            (self, algorithm),
            (
                Self::EcdsaDer | Self::EcdsaCompact,
                Algorithm::Secp256k1 | Algorithm::P256
            ) | (Self::EcdsaRecoverable | Self::Bip340, Algorithm::Secp256k1)
                | (Self::Ed25519, Algorithm::Ed25519)
                | (Self::HmacSha256, Algorithm::HmacSha256)
        )
    }
}

named_enum!(
    /// Public-key output formats.
    PublicKeyFormat {
        /// SEC1 compressed point (33 bytes).
        Sec1Compressed => "sec1" | "sec1-compressed",
        /// SEC1 uncompressed point (65 bytes).
        Sec1Uncompressed => "sec1-uncompressed",
        /// Raw 32 bytes: Ed25519/X25519, or BIP340 x-only for secp256k1.
        Raw => "raw",
        /// SubjectPublicKeyInfo, DER.
        SpkiDer => "spki-der" | "spki",
        /// SubjectPublicKeyInfo, PEM.
        SpkiPem => "spki-pem" | "pem",
        /// JSON Web Key (RFC 7517 / RFC 8037).
        Jwk => "jwk",
        /// BIP32 extended public key.
        Xpub => "xpub",
        /// Ethereum address with EIP-55 checksum.
        EthAddress => "eth-address",
        /// Bitcoin P2WPKH bech32 address (mainnet).
        BtcP2wpkh => "btc-p2wpkh",
    }
);

named_enum!(
    /// Operations, as named in policies and audit records.
    Operation {
        /// Create a key in the store.
        GenerateKey => "generate_key",
        /// Import key material.
        ImportKey => "import_key",
        /// Read a public key.
        GetPublicKey => "get_public_key",
        /// Sign.
        Sign => "sign",
        /// Verify a signature.
        Verify => "verify",
        /// HD derivation.
        DeriveKey => "derive_key",
        /// AEAD encryption.
        Encrypt => "encrypt",
        /// AEAD decryption.
        Decrypt => "decrypt",
        /// Key agreement.
        Agree => "agree",
        /// Delete a key.
        DeleteKey => "delete_key",
        /// List keys.
        ListKeys => "list_keys",
        /// Read key metadata.
        GetKeyInfo => "get_key_info",
        /// Verify the audit chain.
        AuditVerify => "audit_verify",
    }
);

impl Operation {
    /// A bit for this operation in an operation set.
    pub fn bit(self) -> u32 {
        1 << (self as u32)
    }

    /// Operations that use a key (as opposed to managing it); these are the
    /// ones a policy's operation list governs.
    pub fn is_key_use(self) -> bool {
        matches!(
            self,
            Self::GetPublicKey
                | Self::Sign
                | Self::Verify
                | Self::DeriveKey
                | Self::Encrypt
                | Self::Decrypt
                | Self::Agree
        )
    }

    /// Operations that consume a key's secret (counted against `max_uses`).
    pub fn uses_secret(self) -> bool {
        matches!(
            self,
            Self::Sign | Self::Decrypt | Self::Encrypt | Self::Agree | Self::DeriveKey
        )
    }
}

#[cfg(test)]
mod tests;
