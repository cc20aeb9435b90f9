//! Secret input as an opaque object, so no generated `toString` or
//! `description` can print it (bdk-ffi's xprv leak, convention 10).

use crate::types::{Algorithm, HdScheme};
use keyhold_core::SecretBytes;
use std::sync::Arc;

/// Key material to import: build one with a constructor, pass it to
/// `import_key`. The secret is held in zeroizing memory and wiped when the
/// object is freed (Swift: when the last reference goes; Kotlin: `close()`
/// or `destroy()`, else when collected). It cannot be read back, and it
/// deliberately has no `Debug`/`Display` (no `toString`/`description` of
/// its contents in Kotlin or Swift). The arguments the app passed in (a
/// Swift `String`/`Data`, a Kotlin `String`/`ByteArray`) are the app's own
/// copies; Kotlin and Swift strings cannot be wiped, so prefer wiping a
/// byte array the app controls once the import returns.
#[derive(uniffi::Object)]
pub struct ImportMaterial(keyhold_core::ImportMaterial);

impl ImportMaterial {
    /// The core's material (a zeroizing copy).
    pub(crate) fn to_core(&self) -> keyhold_core::ImportMaterial {
        self.0.clone()
    }
}

#[uniffi::export]
impl ImportMaterial {
    /// A raw private key: 32-byte scalar (secp256k1, P-256), Ed25519 seed,
    /// X25519 secret, AES-256 key, or 16..=64-byte HMAC key.
    #[uniffi::constructor]
    pub fn raw_private_key(algorithm: Algorithm, secret: Vec<u8>) -> Arc<Self> {
        Arc::new(Self(keyhold_core::ImportMaterial::RawPrivateKey {
            algorithm: algorithm.into(),
            secret: SecretBytes::new(secret),
        }))
    }

    /// PKCS#8 PrivateKeyInfo, DER or PEM; `algorithm` if the app expects one.
    #[uniffi::constructor(default(algorithm = None))]
    pub fn pkcs8(data: Vec<u8>, algorithm: Option<Algorithm>) -> Arc<Self> {
        Arc::new(Self(keyhold_core::ImportMaterial::Pkcs8 {
            data: SecretBytes::new(data),
            algorithm: algorithm.map(Into::into),
        }))
    }

    /// SEC1 ECPrivateKey, DER or PEM; `algorithm` when the encoding omits the curve.
    #[uniffi::constructor(default(algorithm = None))]
    pub fn sec1(data: Vec<u8>, algorithm: Option<Algorithm>) -> Arc<Self> {
        Arc::new(Self(keyhold_core::ImportMaterial::Sec1 {
            data: SecretBytes::new(data),
            algorithm: algorithm.map(Into::into),
        }))
    }

    /// A BIP39 mnemonic (English) with an optional passphrase, as the root
    /// of an HD key of `scheme`.
    #[uniffi::constructor(default(passphrase = ""))]
    pub fn mnemonic(phrase: String, passphrase: String, scheme: HdScheme) -> Arc<Self> {
        Arc::new(Self(keyhold_core::ImportMaterial::Mnemonic {
            phrase: SecretBytes::new(phrase.into_bytes()),
            passphrase: SecretBytes::new(passphrase.into_bytes()),
            scheme: scheme.into(),
        }))
    }

    /// A BIP32/SLIP-10 seed of 16..=64 bytes.
    #[uniffi::constructor]
    pub fn seed(seed: Vec<u8>, scheme: HdScheme) -> Arc<Self> {
        Arc::new(Self(keyhold_core::ImportMaterial::Seed {
            seed: SecretBytes::new(seed),
            scheme: scheme.into(),
        }))
    }

    /// A base58check BIP32 extended private key (`xprv...`).
    #[uniffi::constructor]
    pub fn xprv(xprv: String) -> Arc<Self> {
        Arc::new(Self(keyhold_core::ImportMaterial::Xprv(SecretBytes::new(
            xprv.into_bytes(),
        ))))
    }
}
