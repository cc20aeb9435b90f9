//! ECDSA (secp256k1, P-256) and BIP340 Schnorr. (stub: to be implemented)
#![allow(unused_variables, dead_code)]
use super::{Payload, PrivateKey};
use crate::algorithm::{Algorithm, SignatureScheme};
use crate::Result;

pub(super) fn from_bytes(algorithm: Algorithm, secret: &[u8]) -> Option<Result<PrivateKey>> {
    todo!()
}
pub(super) fn sign_k256(k: &k256::ecdsa::SigningKey, scheme: SignatureScheme, payload: Payload<'_>) -> Result<Vec<u8>> {
    todo!()
}
pub(super) fn sign_p256(k: &p256::ecdsa::SigningKey, scheme: SignatureScheme, payload: Payload<'_>) -> Result<Vec<u8>> {
    todo!()
}
pub(super) fn verify_k256(k: &k256::PublicKey, scheme: SignatureScheme, payload: Payload<'_>, sig: &[u8]) -> Result<bool> {
    todo!()
}
pub(super) fn verify_p256(k: &p256::PublicKey, scheme: SignatureScheme, payload: Payload<'_>, sig: &[u8]) -> Result<bool> {
    todo!()
}
