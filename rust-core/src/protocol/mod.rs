//! The wire protocol (prost types stay in this module). (being written)
#![allow(missing_docs, dead_code)]

/// Wire protocol version implemented by this crate.
pub const PROTOCOL_VERSION: u32 = 1;

mod pb {
    include!(concat!(env!("OUT_DIR"), "/keyhold.v1.rs"));
}

/// Decodes a `CallerIdentity` message sent by a door across a language boundary.
pub fn caller_from_identity_bytes(_bytes: &[u8]) -> crate::Result<crate::Caller> {
    todo!()
}
