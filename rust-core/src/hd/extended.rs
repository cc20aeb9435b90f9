//! Extended private keys: BIP32 over secp256k1 and SLIP-10 over Ed25519 and
//! NIST P-256.
//!
//! One derivation engine serves the three schemes, following SLIP-10 (which
//! is BIP32 generalised):
//! - master: `I = HMAC-SHA512(curve key, seed)`, `IL` the key and `IR` the
//!   chain code; for the EC curves an invalid `IL` (0 or >= n) is retried
//!   with `seed := I` (SLIP-10);
//! - child: hardened `0x00 || k || ser32(i)`, normal `serP(K) || ser32(i)`;
//!   Ed25519 takes `IL` as the child seed and has no normal derivation
//!   (`InvalidPath`); for the EC curves, if `IL >= n` or `IL + k = 0 (mod
//!   n)` the hash is retried with `0x01 || IR || ser32(i)` (SLIP-10). For
//!   secp256k1 that rule can only differ from BIP32's "skip to i+1" with
//!   probability below 2^-127, and SLIP-10 declares the two compatible.
//!
//! The `bip32` crate handles what it fits: the base58check `xprv`/`xpub`
//! serialisation (version bytes, checksum). Its own derivation is not used
//! because it only takes 16-, 32- or 64-byte seeds (BIP32 allows any length
//! from 16 to 64) and does not cover SLIP-10 curves.

use crate::algorithm::HdScheme;
use crate::crypto::{PrivateKey, PublicKey};
use crate::hd::{DerivationPath, HARDENED, MAX_DEPTH};
use crate::secret::SecretBytes;
use crate::{Error, Result};
use hmac::{Hmac, Mac};
use k256::elliptic_curve::ff::PrimeField;
use sha2::{Digest as _, Sha256, Sha512};
use zeroize::Zeroizing;

/// Accepted seed lengths (BIP32: 128 to 512 bits).
pub(crate) const SEED_LEN: core::ops::RangeInclusive<usize> = 16..=64;

/// Version byte of [`ExtendedPrivateKey::to_secret_bytes`].
const SECRET_FORMAT_V1: u8 = 1;
/// Length of the sealed form: version, depth, fingerprint, child, chain code, key.
const SECRET_LEN: usize = 1 + 1 + 4 + 4 + 32 + 32;

/// An HD node: private key + chain code + BIP32 metadata. Zeroized on drop.
pub(crate) struct ExtendedPrivateKey {
    scheme: HdScheme,
    depth: u8,
    parent_fingerprint: [u8; 4],
    child_number: u32,
    chain_code: Zeroizing<[u8; 32]>,
    /// The secret scalar (EC) or seed (Ed25519), big-endian as serialised.
    key: Zeroizing<[u8; 32]>,
    /// The public key of `key`, computed once.
    public: PublicKey,
}

impl core::fmt::Debug for ExtendedPrivateKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "ExtendedPrivateKey({}, [redacted])", self.scheme)
    }
}

/// HMAC-SHA512 over the concatenation of `parts`.
fn hmac512(key: &[u8], parts: &[&[u8]]) -> Zeroizing<[u8; 64]> {
    let mut mac =
        <Hmac<Sha512> as hmac::KeyInit>::new_from_slice(key).expect("HMAC takes any key length");
    for p in parts {
        mac.update(p);
    }
    let mut out = Zeroizing::new([0u8; 64]);
    out.copy_from_slice(&mac.finalize().into_bytes());
    out
}

/// Splits `I` into `(IL, IR)`.
fn split(i: &[u8; 64]) -> (Zeroizing<[u8; 32]>, Zeroizing<[u8; 32]>) {
    let mut il = Zeroizing::new([0u8; 32]);
    let mut ir = Zeroizing::new([0u8; 32]);
    il.copy_from_slice(&i[..32]);
    ir.copy_from_slice(&i[32..]);
    (il, ir)
}

/// RIPEMD160(SHA256(data)).
pub(crate) fn hash160(data: &[u8]) -> [u8; 20] {
    ripemd::Ripemd160::digest(Sha256::digest(data)).into()
}

/// The HMAC key of the master-key derivation.
fn curve_key(scheme: HdScheme) -> &'static [u8] {
    match scheme {
        HdScheme::Bip32Secp256k1 => b"Bitcoin seed",
        HdScheme::Slip10Ed25519 => b"ed25519 seed",
        HdScheme::Slip10P256 => b"Nist256p1 seed",
    }
}

/// True when `bytes` is a valid secret for the scheme (EC: 0 < k < n).
fn valid_secret(scheme: HdScheme, bytes: &[u8; 32]) -> bool {
    match scheme {
        HdScheme::Bip32Secp256k1 => {
            k256::SecretKey::from_bytes(&k256::FieldBytes::from(*bytes)).is_ok()
        }
        HdScheme::Slip10P256 => {
            p256::SecretKey::from_bytes(&p256::FieldBytes::from(*bytes)).is_ok()
        }
        HdScheme::Slip10Ed25519 => true,
    }
}

/// `(IL + k) mod n`, or `None` when `IL >= n` or the sum is zero.
fn tweak_add(scheme: HdScheme, il: &[u8; 32], k: &[u8; 32]) -> Option<Zeroizing<[u8; 32]>> {
    let mut out = Zeroizing::new([0u8; 32]);
    match scheme {
        HdScheme::Bip32Secp256k1 => {
            let t = Option::<k256::Scalar>::from(k256::Scalar::from_repr((*il).into()))?;
            let p = Option::<k256::Scalar>::from(k256::Scalar::from_repr((*k).into()))?;
            let sum = Option::<k256::NonZeroScalar>::from(k256::NonZeroScalar::new(t + p))?;
            out.copy_from_slice(&sum.to_repr());
        }
        HdScheme::Slip10P256 => {
            let t = Option::<p256::Scalar>::from(p256::Scalar::from_repr((*il).into()))?;
            let p = Option::<p256::Scalar>::from(p256::Scalar::from_repr((*k).into()))?;
            let sum = Option::<p256::NonZeroScalar>::from(p256::NonZeroScalar::new(t + p))?;
            out.copy_from_slice(&sum.to_repr());
        }
        HdScheme::Slip10Ed25519 => return None,
    }
    Some(out)
}

/// The public key of a validated secret.
fn public_of(scheme: HdScheme, key: &[u8; 32]) -> Result<PublicKey> {
    PrivateKey::from_bytes(scheme.algorithm(), key)?
        .public_key()
        .ok_or_else(|| Error::Internal("HD key without a public half".into()))
}

/// `serP`: SEC1 compressed for the EC curves, `0x00 || A` for Ed25519
/// (the 33-byte form SLIP-10 uses for fingerprints).
fn ser_p(public: &PublicKey) -> Vec<u8> {
    match public {
        PublicKey::Ed25519(k) => {
            let mut v = Vec::with_capacity(33);
            v.push(0);
            v.extend_from_slice(k.as_bytes());
            v
        }
        other => other.canonical_bytes(),
    }
}

impl ExtendedPrivateKey {
    fn new(
        scheme: HdScheme,
        depth: u8,
        parent_fingerprint: [u8; 4],
        child_number: u32,
        chain_code: Zeroizing<[u8; 32]>,
        key: Zeroizing<[u8; 32]>,
    ) -> Result<Self> {
        let public = public_of(scheme, &key)?;
        Ok(Self {
            scheme,
            depth,
            parent_fingerprint,
            child_number,
            chain_code,
            key,
            public,
        })
    }

    /// Master node from a seed of 16..=64 bytes (BIP32 / SLIP-10 master key generation).
    pub(crate) fn from_seed(scheme: HdScheme, seed: &[u8]) -> Result<Self> {
        if !SEED_LEN.contains(&seed.len()) {
            return Err(Error::InvalidArgument(format!(
                "an HD seed is 16 to 64 bytes, not {}",
                seed.len()
            )));
        }
        let mut i = hmac512(curve_key(scheme), &[seed]);
        loop {
            let (il, ir) = split(&i);
            if valid_secret(scheme, &il) {
                return Self::new(scheme, 0, [0; 4], 0, ir, il);
            }
            // SLIP-10: an invalid master key is retried with S := I.
            i = hmac512(curve_key(scheme), &[i.as_slice()]);
        }
    }

    /// Parses a base58check `xprv` (BIP32 secp256k1, mainnet or testnet version bytes).
    pub(crate) fn from_xprv(xprv: &str) -> Result<Self> {
        let bad =
            |why: &str| Error::InvalidKeyMaterial(format!("invalid extended private key: {why}"));
        let ext: bip32::ExtendedKey = xprv
            .parse()
            .map_err(|_| bad("not base58check of 78 bytes"))?;
        let version = ext.prefix.version();
        if version != bip32::Prefix::XPRV.version() && version != bip32::Prefix::TPRV.version() {
            return Err(bad("version is not xprv or tprv"));
        }
        let attrs = &ext.attrs;
        if attrs.depth == 0 && (attrs.parent_fingerprint != [0; 4] || attrs.child_number.0 != 0) {
            return Err(bad(
                "a depth-0 key must have a zero parent fingerprint and index",
            ));
        }
        let (prefix, scalar) = ext.key_bytes.split_at(1);
        if prefix != [0] {
            return Err(bad("private key data must start with 0x00"));
        }
        let mut key = Zeroizing::new([0u8; 32]);
        key.copy_from_slice(scalar);
        if !valid_secret(HdScheme::Bip32Secp256k1, &key) {
            return Err(bad("private key is not in 1..n-1"));
        }
        Self::new(
            HdScheme::Bip32Secp256k1,
            attrs.depth,
            attrs.parent_fingerprint,
            attrs.child_number.0,
            Zeroizing::new(attrs.chain_code),
            key,
        )
    }

    /// The scheme.
    pub(crate) fn scheme(&self) -> HdScheme {
        self.scheme
    }

    /// Derives the node at `path` below this one. `InvalidPath` for a
    /// non-hardened step under SLIP-10 Ed25519.
    pub(crate) fn derive(&self, path: &DerivationPath) -> Result<Self> {
        let indices = path.indices();
        if usize::from(self.depth) + indices.len() > MAX_DEPTH {
            return Err(Error::InvalidPath(format!(
                "{path} below depth {} exceeds depth {MAX_DEPTH}",
                self.depth
            )));
        }
        if self.scheme == HdScheme::Slip10Ed25519 && !path.is_fully_hardened() {
            return Err(Error::InvalidPath(format!(
                "{path}: SLIP-10 Ed25519 derives hardened indices only"
            )));
        }
        let mut node = self.clone_node();
        for &index in indices {
            node = node.child(index)?;
        }
        Ok(node)
    }

    fn clone_node(&self) -> Self {
        Self {
            scheme: self.scheme,
            depth: self.depth,
            parent_fingerprint: self.parent_fingerprint,
            child_number: self.child_number,
            chain_code: self.chain_code.clone(),
            key: self.key.clone(),
            public: self.public.clone(),
        }
    }

    /// CKDpriv for one index.
    fn child(&self, index: u32) -> Result<Self> {
        let depth = self
            .depth
            .checked_add(1)
            .ok_or_else(|| Error::InvalidPath("path too deep".into()))?;
        let hardened = index & HARDENED != 0;
        let ser_i = index.to_be_bytes();
        let public = ser_p(&self.public);
        let mut i = if hardened {
            hmac512(
                self.chain_code.as_slice(),
                &[&[0], self.key.as_slice(), &ser_i],
            )
        } else if self.scheme == HdScheme::Slip10Ed25519 {
            return Err(Error::InvalidPath(
                "SLIP-10 Ed25519 derives hardened indices only".into(),
            ));
        } else {
            hmac512(self.chain_code.as_slice(), &[&public, &ser_i])
        };
        let fingerprint = {
            let h = hash160(&public);
            [h[0], h[1], h[2], h[3]]
        };
        loop {
            let (il, ir) = split(&i);
            let key = if self.scheme == HdScheme::Slip10Ed25519 {
                Some(il)
            } else {
                tweak_add(self.scheme, &il, &self.key)
            };
            if let Some(key) = key {
                return Self::new(self.scheme, depth, fingerprint, index, ir, key);
            }
            // SLIP-10: retry with 0x01 || IR || ser32(i).
            i = hmac512(self.chain_code.as_slice(), &[&[1], ir.as_slice(), &ser_i]);
        }
    }

    /// This node's private key as a signing key.
    pub(crate) fn private_key(&self) -> Result<PrivateKey> {
        PrivateKey::from_bytes(self.scheme.algorithm(), self.key.as_slice())
    }

    /// This node's public key.
    pub(crate) fn public_key(&self) -> PublicKey {
        self.public.clone()
    }

    fn bip32_attrs(&self) -> bip32::ExtendedKeyAttrs {
        bip32::ExtendedKeyAttrs {
            depth: self.depth,
            parent_fingerprint: self.parent_fingerprint,
            child_number: bip32::ChildNumber(self.child_number),
            chain_code: *self.chain_code,
        }
    }

    /// BIP32 xpub (mainnet version bytes) of this node; `IncompatibleKey` for SLIP-10 schemes.
    pub(crate) fn xpub(&self) -> Result<String> {
        if self.scheme != HdScheme::Bip32Secp256k1 {
            return Err(Error::IncompatibleKey(format!(
                "{} nodes have no BIP32 xpub",
                self.scheme
            )));
        }
        let compressed = self.public.canonical_bytes();
        let key_bytes = <[u8; 33]>::try_from(compressed.as_slice())
            .map_err(|_| Error::Internal("compressed point is not 33 bytes".into()))?;
        let ext = bip32::ExtendedKey {
            prefix: bip32::Prefix::XPUB,
            attrs: self.bip32_attrs(),
            key_bytes,
        };
        Ok(ext.to_string())
    }

    /// BIP32 xprv (mainnet) of this node, for the vector tests only: private
    /// keys never leave the core.
    #[cfg(test)]
    pub(crate) fn to_xprv(&self) -> Zeroizing<String> {
        let mut key_bytes = [0u8; 33];
        key_bytes[1..].copy_from_slice(self.key.as_slice());
        let ext = bip32::ExtendedKey {
            prefix: bip32::Prefix::XPRV,
            attrs: self.bip32_attrs(),
            key_bytes,
        };
        Zeroizing::new(ext.to_string())
    }

    /// Chain code, for the vector tests.
    #[cfg(test)]
    pub(crate) fn chain_code(&self) -> [u8; 32] {
        *self.chain_code
    }

    /// Parent fingerprint, for the vector tests.
    #[cfg(test)]
    pub(crate) fn parent_fingerprint(&self) -> [u8; 4] {
        self.parent_fingerprint
    }

    /// Versioned serialisation for sealing: version || depth || parent fingerprint || child number || chain code || key.
    pub(crate) fn to_secret_bytes(&self) -> SecretBytes {
        let mut out = Zeroizing::new(Vec::with_capacity(SECRET_LEN));
        out.push(SECRET_FORMAT_V1);
        out.push(self.depth);
        out.extend_from_slice(&self.parent_fingerprint);
        out.extend_from_slice(&self.child_number.to_be_bytes());
        out.extend_from_slice(self.chain_code.as_slice());
        out.extend_from_slice(self.key.as_slice());
        SecretBytes::from(out)
    }

    /// Inverse of `to_secret_bytes`; `CorruptKeyRecord` on bad input.
    pub(crate) fn from_secret_bytes(scheme: HdScheme, bytes: &[u8]) -> Result<Self> {
        let corrupt = |why: &str| Error::CorruptKeyRecord(format!("HD node: {why}"));
        if bytes.len() != SECRET_LEN {
            return Err(corrupt("wrong length"));
        }
        if bytes[0] != SECRET_FORMAT_V1 {
            return Err(corrupt("unknown format version"));
        }
        let depth = bytes[1];
        let mut parent_fingerprint = [0u8; 4];
        parent_fingerprint.copy_from_slice(&bytes[2..6]);
        let mut child = [0u8; 4];
        child.copy_from_slice(&bytes[6..10]);
        let child_number = u32::from_be_bytes(child);
        let mut chain_code = Zeroizing::new([0u8; 32]);
        chain_code.copy_from_slice(&bytes[10..42]);
        let mut key = Zeroizing::new([0u8; 32]);
        key.copy_from_slice(&bytes[42..74]);
        if depth == 0 && (parent_fingerprint != [0; 4] || child_number != 0) {
            return Err(corrupt("inconsistent depth-0 metadata"));
        }
        if !valid_secret(scheme, &key) {
            return Err(corrupt("invalid private key"));
        }
        Self::new(
            scheme,
            depth,
            parent_fingerprint,
            child_number,
            chain_code,
            key,
        )
        .map_err(|_| corrupt("invalid private key"))
    }
}

#[cfg(test)]
#[path = "extended_tests.rs"]
mod tests;
