//! The associated data that binds a sealed secret to its row.

use crate::algorithm::{Algorithm, HdScheme};
use crate::key::KeyId;

/// What a sealed secret is bound to. Moving a sealed blob to another id,
/// owner, algorithm, HD scheme or schema version makes it fail to unseal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealContext<'a> {
    /// The key's id.
    pub key_id: KeyId,
    /// The key's owner namespace.
    pub owner: &'a str,
    /// The key's algorithm.
    pub algorithm: Algorithm,
    /// The HD scheme, for HD keys.
    pub hd_scheme: Option<HdScheme>,
    /// The store's schema version at sealing time.
    pub schema_version: u32,
}

impl SealContext<'_> {
    /// The canonical AAD bytes: a domain tag then length-prefixed fields.
    pub fn to_aad(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64 + self.owner.len());
        out.extend_from_slice(b"keyhold/seal/v1");
        out.extend_from_slice(&self.key_id.as_u64().to_be_bytes());
        push_field(&mut out, self.owner.as_bytes());
        push_field(&mut out, self.algorithm.name().as_bytes());
        push_field(&mut out, self.hd_scheme.map_or("", |s| s.name()).as_bytes());
        out.extend_from_slice(&self.schema_version.to_be_bytes());
        out
    }
}

fn push_field(out: &mut Vec<u8>, field: &[u8]) {
    // Owners and names are short; u32 lengths make the encoding injective.
    out.extend_from_slice(&(field.len() as u32).to_be_bytes());
    out.extend_from_slice(field);
}
