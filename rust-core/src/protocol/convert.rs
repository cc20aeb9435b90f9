//! Conversions between prost messages and the core's types. Every incoming
//! field is checked: required fields present, enum values known, sizes
//! within limits.

use super::pb;
use crate::algorithm::{Algorithm, HdScheme, Operation, PublicKeyFormat, SignatureScheme};
use crate::caller::{AndroidPackage, Caller, CallerRule, CodeDigest};
use crate::crypto::Payload;
use crate::error::ErrorCode;
use crate::hd::DerivationPath;
use crate::key::{KeyId, KeyInfo, KeyOrigin, KeyRef, MAX_ALIAS_LEN};
use crate::policy::{KeyPolicy, OperationSet};
use crate::{Error, KeyOptions, Result};

use crate::limits::{MAX_APP_ID_LEN, MAX_PATH_LEN, MAX_POLICY_ENTRIES};
pub(super) use crate::limits::{MAX_IDENTITY_BYTES, MAX_KEY_MATERIAL, MAX_SMALL_BLOB};

/// Refuses `value` longer than `limit`.
pub(super) fn limit(what: &'static str, len: usize, limit: usize) -> Result<()> {
    if len > limit {
        Err(Error::RequestTooLarge {
            what,
            size: len,
            limit,
        })
    } else {
        Ok(())
    }
}

fn unknown(what: &str, value: i32) -> Error {
    Error::InvalidArgument(format!("unknown {what} value {value}"))
}

pub(super) fn algorithm(value: i32) -> Result<Option<Algorithm>> {
    use pb::Algorithm as P;
    Ok(
        match P::try_from(value).map_err(|_| unknown("algorithm", value))? {
            P::Unspecified => None,
            P::Secp256k1 => Some(Algorithm::Secp256k1),
            P::P256 => Some(Algorithm::P256),
            P::Ed25519 => Some(Algorithm::Ed25519),
            P::X25519 => Some(Algorithm::X25519),
            P::Aes256Gcm => Some(Algorithm::Aes256Gcm),
            P::HmacSha256 => Some(Algorithm::HmacSha256),
        },
    )
}

pub(super) fn algorithm_out(value: Algorithm) -> pb::Algorithm {
    use pb::Algorithm as P;
    match value {
        Algorithm::Secp256k1 => P::Secp256k1,
        Algorithm::P256 => P::P256,
        Algorithm::Ed25519 => P::Ed25519,
        Algorithm::X25519 => P::X25519,
        Algorithm::Aes256Gcm => P::Aes256Gcm,
        Algorithm::HmacSha256 => P::HmacSha256,
    }
}

pub(super) fn hd_scheme(value: i32) -> Result<Option<HdScheme>> {
    use pb::HdScheme as P;
    Ok(
        match P::try_from(value).map_err(|_| unknown("hd scheme", value))? {
            P::Unspecified => None,
            P::Bip32Secp256k1 => Some(HdScheme::Bip32Secp256k1),
            P::Slip10Ed25519 => Some(HdScheme::Slip10Ed25519),
            P::Slip10P256 => Some(HdScheme::Slip10P256),
        },
    )
}

fn hd_scheme_out(value: Option<HdScheme>) -> pb::HdScheme {
    use pb::HdScheme as P;
    match value {
        None => P::Unspecified,
        Some(HdScheme::Bip32Secp256k1) => P::Bip32Secp256k1,
        Some(HdScheme::Slip10Ed25519) => P::Slip10Ed25519,
        Some(HdScheme::Slip10P256) => P::Slip10P256,
    }
}

pub(super) fn signature_scheme(value: i32) -> Result<Option<SignatureScheme>> {
    use pb::SignatureScheme as P;
    Ok(
        match P::try_from(value).map_err(|_| unknown("signature scheme", value))? {
            P::Unspecified => None,
            P::EcdsaDer => Some(SignatureScheme::EcdsaDer),
            P::EcdsaCompact => Some(SignatureScheme::EcdsaCompact),
            P::EcdsaRecoverable => Some(SignatureScheme::EcdsaRecoverable),
            P::Bip340 => Some(SignatureScheme::Bip340),
            P::Ed25519 => Some(SignatureScheme::Ed25519),
            P::HmacSha256Tag => Some(SignatureScheme::HmacSha256),
        },
    )
}

pub(super) fn public_key_format(value: i32) -> Result<PublicKeyFormat> {
    use pb::PublicKeyFormat as P;
    Ok(
        match P::try_from(value).map_err(|_| unknown("public key format", value))? {
            // The canonical form is the default.
            P::Unspecified | P::Sec1Compressed => PublicKeyFormat::Sec1Compressed,
            P::Sec1Uncompressed => PublicKeyFormat::Sec1Uncompressed,
            P::Raw => PublicKeyFormat::Raw,
            P::SpkiDer => PublicKeyFormat::SpkiDer,
            P::SpkiPem => PublicKeyFormat::SpkiPem,
            P::Jwk => PublicKeyFormat::Jwk,
            P::Xpub => PublicKeyFormat::Xpub,
            P::EthAddress => PublicKeyFormat::EthAddress,
            P::BtcP2wpkh => PublicKeyFormat::BtcP2wpkh,
        },
    )
}

fn operation(value: i32) -> Result<Operation> {
    use pb::Operation as P;
    Ok(
        match P::try_from(value).map_err(|_| unknown("operation", value))? {
            P::Unspecified => return Err(unknown("operation", value)),
            P::GenerateKey => Operation::GenerateKey,
            P::ImportKey => Operation::ImportKey,
            P::GetPublicKey => Operation::GetPublicKey,
            P::Sign => Operation::Sign,
            P::Verify => Operation::Verify,
            P::DeriveKey => Operation::DeriveKey,
            P::Encrypt => Operation::Encrypt,
            P::Decrypt => Operation::Decrypt,
            P::Agree => Operation::Agree,
            P::DeleteKey => Operation::DeleteKey,
            P::ListKeys => Operation::ListKeys,
            P::GetKeyInfo => Operation::GetKeyInfo,
            P::AuditVerify => Operation::AuditVerify,
        },
    )
}

fn operation_out(value: Operation) -> pb::Operation {
    use pb::Operation as P;
    match value {
        Operation::GenerateKey => P::GenerateKey,
        Operation::ImportKey => P::ImportKey,
        Operation::GetPublicKey => P::GetPublicKey,
        Operation::Sign => P::Sign,
        Operation::Verify => P::Verify,
        Operation::DeriveKey => P::DeriveKey,
        Operation::Encrypt => P::Encrypt,
        Operation::Decrypt => P::Decrypt,
        Operation::Agree => P::Agree,
        Operation::DeleteKey => P::DeleteKey,
        Operation::ListKeys => P::ListKeys,
        Operation::GetKeyInfo => P::GetKeyInfo,
        Operation::AuditVerify => P::AuditVerify,
    }
}

fn origin_out(value: KeyOrigin) -> pb::KeyOrigin {
    match value {
        KeyOrigin::Generated => pb::KeyOrigin::Generated,
        KeyOrigin::Imported => pb::KeyOrigin::Imported,
        KeyOrigin::Derived => pb::KeyOrigin::Derived,
    }
}

pub(super) fn key_ref(value: Option<pb::KeyRef>) -> Result<KeyRef> {
    match value.and_then(|k| k.by) {
        None => Err(Error::MalformedRequest("missing key reference".into())),
        Some(pb::key_ref::By::Id(id)) => Ok(KeyRef::Id(KeyId::parse(&id)?)),
        Some(pb::key_ref::By::Alias(alias)) => {
            limit("alias", alias.len(), MAX_ALIAS_LEN)?;
            Ok(KeyRef::Alias(alias))
        }
    }
}

/// An optional path: empty means none.
pub(super) fn path(value: &str) -> Result<Option<DerivationPath>> {
    if value.is_empty() {
        return Ok(None);
    }
    limit("path", value.len(), MAX_PATH_LEN)?;
    DerivationPath::parse(value).map(Some)
}

/// A required path.
pub(super) fn required_path(value: &str) -> Result<DerivationPath> {
    path(value)?.ok_or_else(|| Error::InvalidPath("a derivation path is required".into()))
}

fn code_digest(bytes: &[u8], what: &str) -> Result<CodeDigest> {
    bytes.try_into().map_err(|_| {
        Error::InvalidArgument(format!("{what} must be 32 bytes, got {}", bytes.len()))
    })
}

fn caller_rule(rule: pb::CallerRule) -> Result<CallerRule> {
    if let Some(app_id) = &rule.app_id {
        limit("app id", app_id.len(), MAX_APP_ID_LEN)?;
    }
    Ok(CallerRule {
        uid: rule.uid,
        app_id: rule.app_id,
        code_sha256: if rule.code_sha256.is_empty() {
            None
        } else {
            Some(code_digest(&rule.code_sha256, "code_sha256")?)
        },
    })
}

/// A requested policy and its "bind to my code" flag.
pub(super) fn key_options(alias: String, policy: Option<pb::KeyPolicy>) -> Result<KeyOptions> {
    limit("alias", alias.len(), MAX_ALIAS_LEN)?;
    let policy = policy.unwrap_or_default();
    limit(
        "allowed callers",
        policy.allowed_callers.len(),
        MAX_POLICY_ENTRIES,
    )?;
    limit(
        "allowed operations",
        policy.allowed_operations.len(),
        MAX_POLICY_ENTRIES,
    )?;
    limit(
        "allowed path prefixes",
        policy.allowed_path_prefixes.len(),
        MAX_POLICY_ENTRIES,
    )?;
    let allowed_operations = if policy.allowed_operations.is_empty() {
        None
    } else {
        let ops = policy
            .allowed_operations
            .iter()
            .map(|v| operation(*v))
            .collect::<Result<Vec<_>>>()?;
        Some(OperationSet::of(&ops))
    };
    Ok(KeyOptions {
        alias,
        policy: KeyPolicy {
            allowed_callers: policy
                .allowed_callers
                .into_iter()
                .map(caller_rule)
                .collect::<Result<_>>()?,
            allowed_operations,
            allowed_path_prefixes: policy
                .allowed_path_prefixes
                .iter()
                .map(|p| required_path(p))
                .collect::<Result<_>>()?,
            max_uses: (policy.max_uses > 0).then_some(policy.max_uses),
        },
        bind_to_caller_code: policy.bind_to_caller_code,
    })
}

fn policy_out(policy: &KeyPolicy) -> pb::KeyPolicy {
    pb::KeyPolicy {
        allowed_callers: policy
            .allowed_callers
            .iter()
            .map(|r| pb::CallerRule {
                uid: r.uid,
                app_id: r.app_id.clone(),
                code_sha256: r.code_sha256.map(|d| d.to_vec()).unwrap_or_default(),
            })
            .collect(),
        allowed_operations: policy
            .allowed_operations
            .map(|set| set.iter().map(|o| operation_out(o) as i32).collect())
            .unwrap_or_default(),
        allowed_path_prefixes: policy
            .allowed_path_prefixes
            .iter()
            .map(ToString::to_string)
            .collect(),
        max_uses: policy.max_uses.unwrap_or(0),
        bind_to_caller_code: false,
    }
}

pub(super) fn key_info_out(info: &KeyInfo) -> pb::KeyInfo {
    pb::KeyInfo {
        id: info.id.to_string(),
        alias: info.alias.clone(),
        algorithm: algorithm_out(info.algorithm) as i32,
        hd_scheme: hd_scheme_out(info.hd_scheme) as i32,
        origin: origin_out(info.origin) as i32,
        public_key: info.public_key.clone(),
        policy: Some(policy_out(&info.policy)),
        usage_count: info.usage_count,
        created_at_ms: info.created_at_ms,
        sealer: info.sealer.clone(),
    }
}

/// The payload oneof of sign/verify: a message, or a digest of exactly 32 bytes.
pub(super) fn payload<'a>(
    message: Option<&'a [u8]>,
    digest: Option<&'a [u8]>,
) -> Result<Payload<'a>> {
    match (message, digest) {
        (Some(m), None) => Ok(Payload::Message(m)),
        (None, Some(d)) => d.try_into().map(Payload::Digest).map_err(|_| {
            Error::InvalidArgument(format!("a digest must be 32 bytes, got {}", d.len()))
        }),
        _ => Err(Error::MalformedRequest("missing message or digest".into())),
    }
}

/// A Response carrying `error`.
pub(super) fn error_response(error: &Error) -> pb::Response {
    pb::Response {
        result: Some(pb::response::Result::Error(pb::Error {
            code: error_code_out(error.code()) as i32,
            message: error.to_string(),
        })),
    }
}

/// The wire enum for a code: the numbers are equal by construction, so this
/// is a lookup by number (a test checks every code maps to the wire value of
/// the same name; a code missing from the proto would come out `INTERNAL`).
pub(super) fn error_code_out(code: ErrorCode) -> pb::ErrorCode {
    pb::ErrorCode::try_from(code.as_u32() as i32).unwrap_or(pb::ErrorCode::Internal)
}

pub(super) fn caller(identity: pb::CallerIdentity) -> Result<Caller> {
    use pb::caller_identity::Kind;
    match identity.kind {
        None => Err(Error::MalformedRequest(
            "caller identity has no kind".into(),
        )),
        Some(Kind::Unix(peer)) => Ok(Caller::Unix {
            uid: peer.uid,
            gid: peer.gid,
            pid: peer.pid,
            exe_sha256: if peer.exe_sha256.is_empty() {
                None
            } else {
                Some(code_digest(&peer.exe_sha256, "exe_sha256")?)
            },
        }),
        Some(Kind::Android(app)) => {
            let packages = app
                .packages
                .into_iter()
                .map(|p| {
                    Ok(AndroidPackage {
                        package_name: p.package_name,
                        signing_certs: p
                            .signing_cert_sha256
                            .iter()
                            .map(|c| code_digest(c, "signing certificate digest"))
                            .collect::<Result<_>>()?,
                        past_signing_certs: p
                            .past_signing_cert_sha256
                            .iter()
                            .map(|c| code_digest(c, "past signing certificate digest"))
                            .collect::<Result<_>>()?,
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            Caller::android(app.uid, packages)
        }
        Some(Kind::Embedded(app)) => {
            if app.app_id.is_empty() {
                return Err(Error::MalformedRequest(
                    "embedded caller has no app id".into(),
                ));
            }
            Ok(Caller::Embedded { app_id: app.app_id })
        }
    }
}

pub(super) fn identity(caller: &Caller) -> pb::CallerIdentity {
    use pb::caller_identity::Kind;
    let kind = match caller {
        Caller::Unix {
            uid,
            gid,
            pid,
            exe_sha256,
        } => Kind::Unix(pb::UnixPeer {
            uid: *uid,
            gid: *gid,
            pid: *pid,
            exe_sha256: exe_sha256.map(|d| d.to_vec()).unwrap_or_default(),
        }),
        Caller::Android { uid, package } => Kind::Android(pb::AndroidApp {
            uid: *uid,
            packages: vec![pb::AndroidPackage {
                package_name: package.package_name.clone(),
                signing_cert_sha256: package.signing_certs.iter().map(|d| d.to_vec()).collect(),
                past_signing_cert_sha256: package
                    .past_signing_certs
                    .iter()
                    .map(|d| d.to_vec())
                    .collect(),
            }],
        }),
        Caller::Embedded { app_id } => Kind::Embedded(pb::EmbeddedApp {
            app_id: app_id.clone(),
        }),
    };
    pb::CallerIdentity { kind: Some(kind) }
}
