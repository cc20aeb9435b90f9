//! Conversions between the wire messages and the core's domain types.
//! Incoming messages are checked (known enum values, 32-byte digests,
//! parseable ids and paths); anything else is a protocol error.

use crate::error::{ClientError, Result};
use crate::names;
use crate::proto as pb;
use keyhold_core::{
    CallerRule, DerivationPath, ImportMaterial, KeyId, KeyInfo, KeyOptions, KeyPolicy, KeyRef,
    OperationSet, Payload,
};
use zeroize::Zeroize;

fn protocol(what: &str, e: impl std::fmt::Display) -> ClientError {
    ClientError::Protocol(format!("{what}: {e}"))
}

pub(crate) fn key_ref(key: &KeyRef) -> pb::KeyRef {
    pb::KeyRef {
        by: Some(match key {
            KeyRef::Id(id) => pb::key_ref::By::Id(id.to_string()),
            KeyRef::Alias(alias) => pb::key_ref::By::Alias(alias.clone()),
        }),
    }
}

pub(crate) fn policy(options: &KeyOptions) -> pb::KeyPolicy {
    let p = &options.policy;
    pb::KeyPolicy {
        allowed_callers: p
            .allowed_callers
            .iter()
            .map(|r| pb::CallerRule {
                uid: r.uid,
                app_id: r.app_id.clone(),
                code_sha256: r.code_sha256.map(|d| d.to_vec()).unwrap_or_default(),
            })
            .collect(),
        allowed_operations: p
            .allowed_operations
            .map(|set| set.iter().map(|o| names::operation(o) as i32).collect())
            .unwrap_or_default(),
        allowed_path_prefixes: p
            .allowed_path_prefixes
            .iter()
            .map(ToString::to_string)
            .collect(),
        max_uses: p.max_uses.unwrap_or(0),
        bind_to_caller_code: options.bind_to_caller_code,
    }
}

fn policy_from(p: pb::KeyPolicy) -> Result<KeyPolicy> {
    let allowed_callers = p
        .allowed_callers
        .into_iter()
        .map(|r| {
            let code_sha256 = if r.code_sha256.is_empty() {
                None
            } else {
                Some(
                    <[u8; 32]>::try_from(r.code_sha256.as_slice())
                        .map_err(|_| protocol("caller rule", "code digest is not 32 bytes"))?,
                )
            };
            Ok(CallerRule {
                uid: r.uid,
                app_id: r.app_id,
                code_sha256,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let allowed_operations = if p.allowed_operations.is_empty() {
        None
    } else {
        let ops = p
            .allowed_operations
            .iter()
            .map(|v| names::operation_from(*v))
            .collect::<Result<Vec<_>>>()?;
        Some(OperationSet::of(&ops))
    };
    let allowed_path_prefixes = p
        .allowed_path_prefixes
        .iter()
        .map(|s| DerivationPath::parse(s).map_err(|e| protocol("path prefix", e)))
        .collect::<Result<Vec<_>>>()?;
    Ok(KeyPolicy {
        allowed_callers,
        allowed_operations,
        allowed_path_prefixes,
        max_uses: (p.max_uses > 0).then_some(p.max_uses),
    })
}

pub(crate) fn key_info(k: Option<pb::KeyInfo>) -> Result<KeyInfo> {
    let k = k.ok_or_else(|| ClientError::Protocol("response without key info".into()))?;
    Ok(KeyInfo {
        id: KeyId::parse(&k.id).map_err(|e| protocol("key id", e))?,
        alias: k.alias,
        algorithm: names::algorithm_from(k.algorithm)?
            .ok_or_else(|| ClientError::Protocol("key info without algorithm".into()))?,
        hd_scheme: names::hd_scheme_from(k.hd_scheme)?,
        origin: names::key_origin_from(k.origin)?,
        public_key: k.public_key,
        policy: policy_from(k.policy.unwrap_or_default())?,
        usage_count: k.usage_count,
        created_at_ms: k.created_at_ms,
        sealer: k.sealer,
    })
}

/// Moves import material into the request. The copies made here live in
/// the request message, which [`scrub`] zeroizes after encoding; the caller's
/// `SecretBytes` zeroize themselves on drop.
pub(crate) fn import_request(
    material: &ImportMaterial,
    options: &KeyOptions,
) -> Result<pb::ImportKeyRequest> {
    use pb::import_key_request::Material as M;
    let mut request = pb::ImportKeyRequest {
        alias: options.alias.clone(),
        policy: Some(policy(options)),
        ..Default::default()
    };
    let (algorithm, scheme, material) = match material {
        ImportMaterial::RawPrivateKey { algorithm, secret } => (
            Some(*algorithm),
            None,
            M::RawPrivateKey(secret.expose().to_vec()),
        ),
        ImportMaterial::Pkcs8 { data, algorithm } => {
            (*algorithm, None, M::Pkcs8(data.expose().to_vec()))
        }
        ImportMaterial::Sec1 { data, algorithm } => {
            (*algorithm, None, M::Sec1(data.expose().to_vec()))
        }
        ImportMaterial::Mnemonic {
            phrase,
            passphrase,
            scheme,
        } => (
            None,
            Some(*scheme),
            M::Mnemonic(pb::Mnemonic {
                phrase: phrase.expose().to_vec(),
                passphrase: passphrase.expose().to_vec(),
            }),
        ),
        ImportMaterial::Seed { seed, scheme } => {
            (None, Some(*scheme), M::Seed(seed.expose().to_vec()))
        }
        ImportMaterial::Xprv(xprv) => (None, None, M::Xprv(xprv.expose().to_vec())),
    };
    request.algorithm = algorithm.map_or(0, |a| names::algorithm(a) as i32);
    request.hd_scheme = names::hd_scheme(scheme) as i32;
    request.material = Some(material);
    Ok(request)
}

/// Zeroizes every field of a request that may carry a secret: import
/// material and plaintexts.
pub(crate) fn scrub(request: &mut pb::Request) {
    use pb::import_key_request::Material as M;
    use pb::request::Operation as Op;
    match request.operation.as_mut() {
        Some(Op::ImportKey(r)) => match r.material.as_mut() {
            Some(M::RawPrivateKey(b) | M::Pkcs8(b) | M::Sec1(b) | M::Seed(b)) => b.zeroize(),
            Some(M::Mnemonic(m)) => {
                m.phrase.zeroize();
                m.passphrase.zeroize();
            }
            Some(M::Xprv(s)) => s.zeroize(),
            None => {}
        },
        Some(Op::Encrypt(r)) => r.plaintext.zeroize(),
        _ => {}
    }
}

pub(crate) fn sign_payload(payload: Payload<'_>) -> pb::sign_request::Payload {
    match payload {
        Payload::Message(m) => pb::sign_request::Payload::Message(m.to_vec()),
        Payload::Digest(d) => pb::sign_request::Payload::Digest(d.to_vec()),
    }
}

pub(crate) fn verify_payload(payload: Payload<'_>) -> pb::verify_request::Payload {
    match payload {
        Payload::Message(m) => pb::verify_request::Payload::Message(m.to_vec()),
        Payload::Digest(d) => pb::verify_request::Payload::Digest(d.to_vec()),
    }
}
