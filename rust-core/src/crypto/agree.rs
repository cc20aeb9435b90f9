//! ECDH and X25519. (stub: to be implemented)
#![allow(unused_variables, dead_code)]
use super::{PrivateKey, PublicKey};
use crate::algorithm::Algorithm;
use crate::secret::SecretBytes;
use crate::Result;

pub(super) fn from_bytes(algorithm: Algorithm, secret: &[u8]) -> Option<Result<PrivateKey>> {
    todo!()
}
pub(super) fn diffie_hellman(key: &PrivateKey, peer: &PublicKey) -> Result<SecretBytes> {
    todo!()
}
