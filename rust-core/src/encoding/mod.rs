//! Standard key formats: public-key encodings (SEC1, raw, SPKI, JWK,
//! addresses) and private-key import parsers (PKCS#8, SEC1). (stub)
#![allow(unused_variables, dead_code)]

use crate::algorithm::{Algorithm, PublicKeyFormat};
use crate::crypto::{EncodedPublicKey, PrivateKey, PublicKey};
use crate::Result;

/// Encodes `key` in `format`; `IncompatibleKey` when the format does not fit
/// the algorithm (e.g. an Ethereum address of an Ed25519 key), `InvalidArgument` for `Xpub`.
pub(crate) fn encode_public_key(key: &PublicKey, format: PublicKeyFormat) -> Result<EncodedPublicKey> {
    todo!()
}

/// Parses a public key of `algorithm`: SEC1, raw 32 bytes or SPKI DER.
pub(crate) fn parse_public_key(algorithm: Algorithm, bytes: &[u8]) -> Result<PublicKey> {
    todo!()
}

/// Parses PKCS#8 PrivateKeyInfo (DER or PEM); the algorithm comes from the OID.
/// `expected`, when given, must match. `InvalidKeyMaterial` otherwise.
pub(crate) fn parse_pkcs8(der_or_pem: &[u8], expected: Option<Algorithm>) -> Result<PrivateKey> {
    todo!()
}

/// Parses a SEC1 ECPrivateKey (DER or PEM). The curve comes from the
/// parameters when present, else from `expected`.
pub(crate) fn parse_sec1(der_or_pem: &[u8], expected: Option<Algorithm>) -> Result<PrivateKey> {
    todo!()
}
