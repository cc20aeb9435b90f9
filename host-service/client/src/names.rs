//! The one place where the core's named enums meet the wire enums.
//!
//! Humans (the CLI, the sample wallet) name things with the core's stable
//! names (`Algorithm::from_name("secp256k1")`, `PublicKeyFormat::from_name
//! ("eth-address")`, ...); this module turns those values into
//! `keyhold.v1` enum numbers and back. Nothing else in the client maps them.

use crate::error::{ClientError, Result};
use crate::proto as pb;
use keyhold_core::{
    Algorithm, ErrorCode, HdScheme, KeyId, KeyOrigin, KeyRef, Operation, PublicKeyFormat,
    SignatureScheme,
};

fn unknown(what: &str, value: i32) -> ClientError {
    ClientError::Protocol(format!("the service sent an unknown {what} value {value}"))
}

pub(crate) fn algorithm(value: Algorithm) -> pb::Algorithm {
    match value {
        Algorithm::Secp256k1 => pb::Algorithm::Secp256k1,
        Algorithm::P256 => pb::Algorithm::P256,
        Algorithm::Ed25519 => pb::Algorithm::Ed25519,
        Algorithm::X25519 => pb::Algorithm::X25519,
        Algorithm::Aes256Gcm => pb::Algorithm::Aes256Gcm,
        Algorithm::HmacSha256 => pb::Algorithm::HmacSha256,
    }
}

pub(crate) fn algorithm_from(value: i32) -> Result<Option<Algorithm>> {
    Ok(
        match pb::Algorithm::try_from(value).map_err(|_| unknown("algorithm", value))? {
            pb::Algorithm::Unspecified => None,
            pb::Algorithm::Secp256k1 => Some(Algorithm::Secp256k1),
            pb::Algorithm::P256 => Some(Algorithm::P256),
            pb::Algorithm::Ed25519 => Some(Algorithm::Ed25519),
            pb::Algorithm::X25519 => Some(Algorithm::X25519),
            pb::Algorithm::Aes256Gcm => Some(Algorithm::Aes256Gcm),
            pb::Algorithm::HmacSha256 => Some(Algorithm::HmacSha256),
        },
    )
}

pub(crate) fn hd_scheme(value: Option<HdScheme>) -> pb::HdScheme {
    match value {
        None => pb::HdScheme::Unspecified,
        Some(HdScheme::Bip32Secp256k1) => pb::HdScheme::Bip32Secp256k1,
        Some(HdScheme::Slip10Ed25519) => pb::HdScheme::Slip10Ed25519,
        Some(HdScheme::Slip10P256) => pb::HdScheme::Slip10P256,
    }
}

pub(crate) fn hd_scheme_from(value: i32) -> Result<Option<HdScheme>> {
    Ok(
        match pb::HdScheme::try_from(value).map_err(|_| unknown("HD scheme", value))? {
            pb::HdScheme::Unspecified => None,
            pb::HdScheme::Bip32Secp256k1 => Some(HdScheme::Bip32Secp256k1),
            pb::HdScheme::Slip10Ed25519 => Some(HdScheme::Slip10Ed25519),
            pb::HdScheme::Slip10P256 => Some(HdScheme::Slip10P256),
        },
    )
}

pub(crate) fn signature_scheme(value: Option<SignatureScheme>) -> pb::SignatureScheme {
    match value {
        None => pb::SignatureScheme::Unspecified,
        Some(SignatureScheme::EcdsaDer) => pb::SignatureScheme::EcdsaDer,
        Some(SignatureScheme::EcdsaCompact) => pb::SignatureScheme::EcdsaCompact,
        Some(SignatureScheme::EcdsaRecoverable) => pb::SignatureScheme::EcdsaRecoverable,
        Some(SignatureScheme::Bip340) => pb::SignatureScheme::Bip340,
        Some(SignatureScheme::Ed25519) => pb::SignatureScheme::Ed25519,
        Some(SignatureScheme::HmacSha256) => pb::SignatureScheme::HmacSha256Tag,
    }
}

pub(crate) fn public_key_format(value: PublicKeyFormat) -> pb::PublicKeyFormat {
    match value {
        PublicKeyFormat::Sec1Compressed => pb::PublicKeyFormat::Sec1Compressed,
        PublicKeyFormat::Sec1Uncompressed => pb::PublicKeyFormat::Sec1Uncompressed,
        PublicKeyFormat::Raw => pb::PublicKeyFormat::Raw,
        PublicKeyFormat::SpkiDer => pb::PublicKeyFormat::SpkiDer,
        PublicKeyFormat::SpkiPem => pb::PublicKeyFormat::SpkiPem,
        PublicKeyFormat::Jwk => pb::PublicKeyFormat::Jwk,
        PublicKeyFormat::Xpub => pb::PublicKeyFormat::Xpub,
        PublicKeyFormat::EthAddress => pb::PublicKeyFormat::EthAddress,
        PublicKeyFormat::BtcP2wpkh => pb::PublicKeyFormat::BtcP2wpkh,
    }
}

pub(crate) fn operation(value: Operation) -> pb::Operation {
    match value {
        Operation::GenerateKey => pb::Operation::GenerateKey,
        Operation::ImportKey => pb::Operation::ImportKey,
        Operation::GetPublicKey => pb::Operation::GetPublicKey,
        Operation::Sign => pb::Operation::Sign,
        Operation::Verify => pb::Operation::Verify,
        Operation::DeriveKey => pb::Operation::DeriveKey,
        Operation::Encrypt => pb::Operation::Encrypt,
        Operation::Decrypt => pb::Operation::Decrypt,
        Operation::Agree => pb::Operation::Agree,
        Operation::DeleteKey => pb::Operation::DeleteKey,
        Operation::ListKeys => pb::Operation::ListKeys,
        Operation::GetKeyInfo => pb::Operation::GetKeyInfo,
        Operation::AuditVerify => pb::Operation::AuditVerify,
    }
}

pub(crate) fn operation_from(value: i32) -> Result<Operation> {
    Ok(
        match pb::Operation::try_from(value).map_err(|_| unknown("operation", value))? {
            pb::Operation::Unspecified => return Err(unknown("operation", value)),
            pb::Operation::GenerateKey => Operation::GenerateKey,
            pb::Operation::ImportKey => Operation::ImportKey,
            pb::Operation::GetPublicKey => Operation::GetPublicKey,
            pb::Operation::Sign => Operation::Sign,
            pb::Operation::Verify => Operation::Verify,
            pb::Operation::DeriveKey => Operation::DeriveKey,
            pb::Operation::Encrypt => Operation::Encrypt,
            pb::Operation::Decrypt => Operation::Decrypt,
            pb::Operation::Agree => Operation::Agree,
            pb::Operation::DeleteKey => Operation::DeleteKey,
            pb::Operation::ListKeys => Operation::ListKeys,
            pb::Operation::GetKeyInfo => Operation::GetKeyInfo,
            pb::Operation::AuditVerify => Operation::AuditVerify,
        },
    )
}

pub(crate) fn key_origin_from(value: i32) -> Result<KeyOrigin> {
    match pb::KeyOrigin::try_from(value).map_err(|_| unknown("key origin", value))? {
        pb::KeyOrigin::Unspecified => Err(unknown("key origin", value)),
        pb::KeyOrigin::Generated => Ok(KeyOrigin::Generated),
        pb::KeyOrigin::Imported => Ok(KeyOrigin::Imported),
        pb::KeyOrigin::Derived => Ok(KeyOrigin::Derived),
    }
}

/// The core's code for a wire error number (equal by contract).
pub(crate) fn error_code_from(value: i32) -> Result<ErrorCode> {
    u32::try_from(value)
        .ok()
        .and_then(ErrorCode::from_u32)
        .ok_or_else(|| unknown("error code", value))
}

/// The wire number of a core error code.
pub(crate) fn error_code(code: ErrorCode) -> i32 {
    i32::try_from(code.as_u32()).unwrap_or(pb::ErrorCode::Internal as i32)
}

/// Parses how a command line names a key: `id:<16 hex digits>` is a key id,
/// anything else an alias in the caller's namespace.
pub fn parse_key_ref(text: &str) -> Result<KeyRef> {
    match text.strip_prefix("id:") {
        Some(id) => KeyId::parse(id)
            .map(KeyRef::Id)
            .map_err(|e| ClientError::Argument(e.to_string())),
        None if text.is_empty() => {
            Err(ClientError::Argument("a key name must not be empty".into()))
        }
        None => Ok(KeyRef::Alias(text.to_owned())),
    }
}

#[cfg(test)]
mod tests;
