//! Ed25519 (pure). (stub: to be implemented)
#![allow(unused_variables, dead_code)]
use super::{Payload, PrivateKey};
use crate::algorithm::Algorithm;
use crate::Result;

pub(super) fn from_bytes(algorithm: Algorithm, secret: &[u8]) -> Option<Result<PrivateKey>> {
    todo!()
}
pub(super) fn sign(k: &ed25519_dalek::SigningKey, payload: Payload<'_>) -> Result<Vec<u8>> {
    todo!()
}
pub(super) fn verify(k: &ed25519_dalek::VerifyingKey, payload: Payload<'_>, sig: &[u8]) -> Result<bool> {
    todo!()
}
