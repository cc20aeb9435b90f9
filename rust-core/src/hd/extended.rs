//! Extended private keys (stub: to be implemented).
#![allow(unused_variables, dead_code)]
use crate::algorithm::HdScheme;
use crate::crypto::{PrivateKey, PublicKey};
use crate::hd::DerivationPath;
use crate::secret::SecretBytes;
use crate::Result;

/// An HD node: private key + chain code + BIP32 metadata. Zeroized on drop.
pub(crate) struct ExtendedPrivateKey {
    scheme: HdScheme,
}

impl core::fmt::Debug for ExtendedPrivateKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "ExtendedPrivateKey({}, [redacted])", self.scheme)
    }
}

impl ExtendedPrivateKey {
    /// Master node from a seed of 16..=64 bytes (BIP32 / SLIP-10 master key generation).
    pub(crate) fn from_seed(scheme: HdScheme, seed: &[u8]) -> Result<Self> {
        todo!()
    }
    /// Parses a base58check `xprv` (BIP32 secp256k1, mainnet or testnet version bytes).
    pub(crate) fn from_xprv(xprv: &str) -> Result<Self> {
        todo!()
    }
    /// The scheme.
    pub(crate) fn scheme(&self) -> HdScheme {
        self.scheme
    }
    /// Derives the node at `path` below this one. `InvalidPath` for a
    /// non-hardened step under SLIP-10 Ed25519.
    pub(crate) fn derive(&self, path: &DerivationPath) -> Result<Self> {
        todo!()
    }
    /// This node's private key as a signing key.
    pub(crate) fn private_key(&self) -> Result<PrivateKey> {
        todo!()
    }
    /// This node's public key.
    pub(crate) fn public_key(&self) -> PublicKey {
        todo!()
    }
    /// BIP32 xpub (mainnet version bytes) of this node; `IncompatibleKey` for SLIP-10 schemes.
    pub(crate) fn xpub(&self) -> Result<String> {
        todo!()
    }
    /// Versioned serialisation for sealing: version || depth || parent fingerprint || child number || chain code || key.
    pub(crate) fn to_secret_bytes(&self) -> SecretBytes {
        todo!()
    }
    /// Inverse of `to_secret_bytes`; `CorruptKeyRecord` on bad input.
    pub(crate) fn from_secret_bytes(scheme: HdScheme, bytes: &[u8]) -> Result<Self> {
        todo!()
    }
}
