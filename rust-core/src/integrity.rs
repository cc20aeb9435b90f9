//! Tamper evidence for what the seal does not cover: the audit log, each
//! key's policy and metadata, and its usage counter (issue 10 item 3).
//!
//! The keys are derived (HKDF-SHA256, see
//! [`StoreKey::derive`](crate::sealer::StoreKey::derive)) from the store key
//! the sealer protects, which the engine unseals once when the store opens,
//! so they cost no extra unseal and are exactly as protected as the key
//! secrets. Someone who can write the database but cannot use the sealer
//! cannot produce any of these MACs:
//!
//! - **audit records** from the anchor's `keyed_from` on carry
//!   HMAC-SHA256 under the audit key instead of a plain SHA-256 (same
//!   canonical encoding, domain `keyhold/audit/v2`), chained through
//!   `prev_hash`: an edited, removed or reordered record cannot be
//!   re-chained;
//! - the **anchor** (one row: the newest record's seq and hash, and
//!   `keyed_from`) is MAC'd under its own key and rewritten in the same
//!   transaction as every audit append, so removing the newest records
//!   (truncation) leaves the anchor ahead of the log;
//! - each **key row** has a metadata MAC over its id, owner, alias,
//!   algorithm, HD scheme, origin, public key, whole policy, creation time,
//!   sealer and sealed schema version, and a usage MAC over (id, count):
//!   loosening a policy, swapping a public key or lowering a counter in SQL
//!   is `CORRUPT_KEY_RECORD` when the row is read.
//!
//! What it cannot see (no secret state outside the database exists to
//! compare against): replacing the whole database, or a row, with an older
//! copy of itself (rollback), and the pre-upgrade history of a store created
//! before schema 4, whose records are trusted as found when it is upgraded
//! (they stay plain SHA-256 and are chained into the first keyed record).

use crate::key::{KeyId, KeyInfo};
use crate::sealer::StoreKey;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

type HmacSha256 = Hmac<Sha256>;

/// The store's integrity keys, each kept as a keyed HMAC state (cloned per
/// MAC, which saves hashing the key pads every time: the journal MACs every
/// audit record). `Debug` is redacted; the states are wiped on drop (the
/// `zeroize` features of `hmac` and `sha2`, enabled in Cargo.toml).
pub struct StoreIntegrity {
    audit: HmacSha256,
    anchor: HmacSha256,
    meta: HmacSha256,
    usage: HmacSha256,
}

impl core::fmt::Debug for StoreIntegrity {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("StoreIntegrity([redacted])")
    }
}

impl StoreIntegrity {
    /// The keys of the store whose unsealed store key is `store_key`.
    pub(crate) fn derive(store_key: &StoreKey) -> Self {
        let keyed = |label: &str| hmac(&store_key.derive(label));
        Self {
            audit: keyed("keyhold/integrity/audit-record/v1"),
            anchor: keyed("keyhold/integrity/audit-anchor/v1"),
            meta: keyed("keyhold/integrity/key-metadata/v1"),
            usage: keyed("keyhold/integrity/key-usage/v1"),
        }
    }

    /// Keys from a fixed seed, for tests of the stores alone.
    #[cfg(test)]
    pub(crate) fn for_tests(seed: u8) -> Self {
        let key = StoreKey::new(crate::secret::SecretBytes::new(vec![seed; 32])).expect("32 bytes");
        Self::derive(&key)
    }

    /// The audit-key MAC of the bytes `encode` feeds it (the audit module
    /// feeds a record's canonical encoding).
    pub(crate) fn audit_mac(&self, encode: impl FnOnce(&mut dyn FnMut(&[u8]))) -> [u8; 32] {
        let mut mac = self.audit.clone();
        encode(&mut |b| mac.update(b));
        mac.finalize().into_bytes().into()
    }

    /// The MAC of an anchor's (seq, head, keyed_from).
    pub(crate) fn anchor_mac(&self, seq: u64, head: &[u8; 32], keyed_from: u64) -> [u8; 32] {
        let mut mac = self.anchor.clone();
        mac.update(b"keyhold/audit-anchor/v1");
        mac.update(&seq.to_be_bytes());
        mac.update(head);
        mac.update(&keyed_from.to_be_bytes());
        mac.finalize().into_bytes().into()
    }

    /// The MAC of a key row's metadata and policy (everything but the
    /// usage count and the sealed secret, which its own AEAD protects):
    /// `owner`, `info` and the schema version the secret was sealed under.
    pub(crate) fn meta_mac(
        &self,
        owner: &str,
        info: &KeyInfo,
        sealed_schema_version: u32,
    ) -> [u8; 32] {
        let policy = &info.policy;
        let mut mac = self.meta.clone();
        let mut put = |b: &[u8]| mac.update(b);
        put(b"keyhold/key-metadata/v1");
        put(&info.id.as_u64().to_be_bytes());
        field(&mut put, owner.as_bytes());
        field(&mut put, info.alias.as_bytes());
        field(&mut put, info.algorithm.name().as_bytes());
        field(&mut put, info.hd_scheme.map_or("", |s| s.name()).as_bytes());
        put(&[info.origin.as_u8()]);
        field(&mut put, &info.public_key);
        optional(
            &mut put,
            policy.allowed_operations.map(|o| u64::from(o.bits())),
        );
        optional(&mut put, policy.max_uses);
        put(&(policy.allowed_callers.len() as u64).to_be_bytes());
        for rule in &policy.allowed_callers {
            optional(&mut put, rule.uid.map(u64::from));
            match &rule.app_id {
                Some(a) => {
                    put(&[1]);
                    field(&mut put, a.as_bytes());
                }
                None => put(&[0]),
            }
            match &rule.code_sha256 {
                Some(c) => {
                    put(&[1]);
                    put(c);
                }
                None => put(&[0]),
            }
        }
        put(&(policy.allowed_path_prefixes.len() as u64).to_be_bytes());
        for prefix in &policy.allowed_path_prefixes {
            field(&mut put, prefix.to_string().as_bytes());
        }
        put(&info.created_at_ms.to_be_bytes());
        field(&mut put, info.sealer.as_bytes());
        put(&sealed_schema_version.to_be_bytes());
        mac.finalize().into_bytes().into()
    }

    /// The MAC of a key's usage count.
    pub(crate) fn usage_mac(&self, id: KeyId, count: u64) -> [u8; 32] {
        let mut mac = self.usage.clone();
        mac.update(b"keyhold/key-usage/v1");
        mac.update(&id.as_u64().to_be_bytes());
        mac.update(&count.to_be_bytes());
        mac.finalize().into_bytes().into()
    }
}

/// Constant-time equality of a computed MAC and a stored one.
pub(crate) fn ct_eq(expected: &[u8; 32], stored: &[u8]) -> bool {
    // A stored MAC of another length is refused; its length is not secret.
    crate::secret::constant_time_eq(expected, stored)
}

fn hmac(key: &Zeroizing<[u8; 32]>) -> HmacSha256 {
    <HmacSha256 as hmac::KeyInit>::new_from_slice(key.as_slice())
        .expect("HMAC accepts 32-byte keys")
}

/// A u32 length prefix then the bytes, so the encoding is injective.
fn field(put: &mut impl FnMut(&[u8]), bytes: &[u8]) {
    let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
    put(&len.to_be_bytes());
    put(bytes);
}

fn optional(put: &mut impl FnMut(&[u8]), value: Option<u64>) {
    match value {
        Some(v) => {
            put(&[1]);
            put(&v.to_be_bytes());
        }
        None => put(&[0]),
    }
}

#[cfg(test)]
mod tests;
