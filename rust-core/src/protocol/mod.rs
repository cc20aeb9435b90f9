//! The wire protocol: `proto/keyhold.proto` compiled by prost. The prost
//! types never leave this module; requests are converted into the engine's
//! typed API with checks on every field (missing, unknown enum value,
//! oversize), and results converted back.

mod convert;
mod dispatch;

use crate::caller::Caller;
use crate::engine::Keyhold;
use crate::{Error, Result};
use prost::Message;

/// Wire protocol version implemented by this crate.
pub const PROTOCOL_VERSION: u32 = 1;

#[allow(missing_docs, clippy::all, clippy::pedantic)]
mod pb {
    include!(concat!(env!("OUT_DIR"), "/keyhold.v1.rs"));
}

/// Decodes, runs and encodes one request. Never panics: a panic inside an
/// operation is caught and reported as `INTERNAL`.
pub(crate) fn handle(engine: &Keyhold, caller: &Caller, request: &[u8]) -> Vec<u8> {
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        dispatch::dispatch(engine, caller, request)
    }))
    .unwrap_or_else(|_| Err(Error::Internal("the operation panicked".into())));
    match outcome {
        Ok(response) => response.encode_to_vec(),
        Err(e) => encode_error(&e),
    }
}

/// An encoded `Response` carrying `error`.
pub(crate) fn encode_error(error: &Error) -> Vec<u8> {
    convert::error_response(error).encode_to_vec()
}

/// Decodes a `keyhold.v1.CallerIdentity` sent by a door that crosses a
/// language boundary (JNI, uniffi) into the core's [`Caller`]. Android
/// identities go through [`Caller::android`], so unknown and shared uids are
/// refused here.
pub fn caller_from_identity_bytes(bytes: &[u8]) -> Result<Caller> {
    if bytes.len() > convert::MAX_IDENTITY_BYTES {
        return Err(Error::RequestTooLarge {
            what: "caller identity",
            size: bytes.len(),
            limit: convert::MAX_IDENTITY_BYTES,
        });
    }
    let identity = pb::CallerIdentity::decode(bytes)
        .map_err(|e| Error::MalformedRequest(format!("caller identity: {e}")))?;
    convert::caller(identity)
}

/// Encodes a [`Caller`] as a `keyhold.v1.CallerIdentity` (for doors and tests).
pub fn caller_to_identity_bytes(caller: &Caller) -> Vec<u8> {
    convert::identity(caller).encode_to_vec()
}

#[cfg(test)]
mod tests;
