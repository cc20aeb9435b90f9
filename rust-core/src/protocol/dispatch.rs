//! One function per operation: convert the request, call the engine,
//! convert the result.

use super::convert::{self, MAX_KEY_MATERIAL, MAX_SMALL_BLOB, limit};
use super::{PROTOCOL_VERSION, pb};
use crate::caller::Caller;
use crate::engine::{Agreement, ImportMaterial, KdfParams, KeySpec, Keyhold};
use crate::hd::DerivationPath;
use crate::key::KeyId;
use crate::secret::SecretBytes;
use crate::{Error, HdScheme, Result};
use prost::Message;

pub(super) fn dispatch(engine: &Keyhold, caller: &Caller, bytes: &[u8]) -> Result<pb::Response> {
    limit("request", bytes.len(), engine.config().max_request_bytes)?;
    let request = pb::Request::decode(bytes).map_err(|e| Error::MalformedRequest(e.to_string()))?;
    if request.version != PROTOCOL_VERSION {
        return Err(Error::UnsupportedVersion(request.version));
    }
    use pb::request::Operation as Op;
    use pb::response::Result as R;
    let result = match request.operation.ok_or(Error::UnsupportedOperation)? {
        Op::GenerateKey(r) => R::GenerateKey(generate_key(engine, caller, r)?),
        Op::ImportKey(r) => R::ImportKey(import_key(engine, caller, r)?),
        Op::GetPublicKey(r) => R::GetPublicKey(get_public_key(engine, caller, r)?),
        Op::Sign(r) => R::Sign(sign(engine, caller, r)?),
        Op::Verify(r) => R::Verify(verify(engine, caller, r)?),
        Op::DeriveKey(r) => R::DeriveKey(derive_key(engine, caller, r)?),
        Op::Encrypt(r) => R::Encrypt(pb::EncryptResponse {
            ciphertext: engine.encrypt(
                caller,
                &convert::key_ref(r.key)?,
                &r.plaintext,
                &r.associated_data,
            )?,
        }),
        Op::Decrypt(r) => R::Decrypt(pb::DecryptResponse {
            plaintext: engine
                .decrypt(
                    caller,
                    &convert::key_ref(r.key)?,
                    &r.ciphertext,
                    &r.associated_data,
                )?
                .expose()
                .to_vec(),
        }),
        Op::Agree(r) => R::Agree(agree(engine, caller, r)?),
        Op::DeleteKey(r) => {
            engine.delete_key(caller, &convert::key_ref(r.key)?)?;
            R::DeleteKey(pb::DeleteKeyResponse {})
        }
        Op::ListKeys(r) => {
            let page = engine.list_keys_page(caller, r.after_id.map(KeyId::from_u64), r.limit)?;
            R::ListKeys(pb::ListKeysResponse {
                keys: page.keys.iter().map(convert::key_info_out).collect(),
                next_after_id: page.next_after.map(KeyId::as_u64),
            })
        }
        Op::GetKeyInfo(r) => R::GetKeyInfo(pb::GetKeyInfoResponse {
            key: Some(convert::key_info_out(
                &engine.get_key_info(caller, &convert::key_ref(r.key)?)?,
            )),
        }),
        Op::AuditVerify(_) => {
            let verdict = engine.audit_verify()?;
            R::AuditVerify(pb::AuditVerifyResponse {
                entries: verdict.entries,
                intact: verdict.first_broken_seq.is_none(),
                first_broken_seq: verdict.first_broken_seq.unwrap_or(0),
            })
        }
    };
    Ok(pb::Response {
        result: Some(result),
    })
}

fn generate_key(
    engine: &Keyhold,
    caller: &Caller,
    r: pb::GenerateKeyRequest,
) -> Result<pb::GenerateKeyResponse> {
    let algorithm = convert::algorithm(r.algorithm)?;
    let spec = match (convert::hd_scheme(r.hd_scheme)?, algorithm) {
        (Some(scheme), None) => KeySpec::Hd(scheme),
        (Some(scheme), Some(a)) if a == scheme.algorithm() => KeySpec::Hd(scheme),
        (Some(scheme), Some(a)) => {
            return Err(Error::InvalidArgument(format!(
                "HD scheme {scheme} does not derive {a} keys"
            )));
        }
        (None, Some(a)) => KeySpec::Single(a),
        (None, None) => return Err(Error::MalformedRequest("missing algorithm".into())),
    };
    let options = convert::key_options(r.alias, r.policy)?;
    let info = engine.generate_key(caller, spec, options)?;
    Ok(pb::GenerateKeyResponse {
        key: Some(convert::key_info_out(&info)),
    })
}

/// Moves a decoded secret into zeroizing memory after a size check.
fn secret(what: &'static str, bytes: Vec<u8>) -> Result<SecretBytes> {
    let secret = SecretBytes::new(bytes);
    limit(what, secret.len(), MAX_KEY_MATERIAL)?;
    Ok(secret)
}

fn import_key(
    engine: &Keyhold,
    caller: &Caller,
    r: pb::ImportKeyRequest,
) -> Result<pb::ImportKeyResponse> {
    use pb::import_key_request::Material as M;
    let algorithm = convert::algorithm(r.algorithm)?;
    let scheme = convert::hd_scheme(r.hd_scheme)?;
    // Seeds and mnemonics default to BIP32 secp256k1, or follow the algorithm.
    let hd = |scheme: Option<HdScheme>| -> Result<HdScheme> {
        match (scheme, algorithm) {
            (Some(s), _) => Ok(s),
            (None, Some(a)) => HdScheme::for_algorithm(a),
            (None, None) => Ok(HdScheme::Bip32Secp256k1),
        }
    };
    let material = match r
        .material
        .ok_or_else(|| Error::MalformedRequest("missing key material".into()))?
    {
        M::RawPrivateKey(bytes) => ImportMaterial::RawPrivateKey {
            algorithm: algorithm
                .ok_or_else(|| Error::InvalidArgument("a raw key needs an algorithm".into()))?,
            secret: secret("private key", bytes)?,
        },
        M::Pkcs8(bytes) => ImportMaterial::Pkcs8 {
            data: secret("PKCS#8", bytes)?,
            algorithm,
        },
        M::Sec1(bytes) => ImportMaterial::Sec1 {
            data: secret("SEC1", bytes)?,
            algorithm,
        },
        M::Mnemonic(m) => ImportMaterial::Mnemonic {
            phrase: secret("mnemonic", m.phrase)?,
            passphrase: secret("passphrase", m.passphrase)?,
            scheme: hd(scheme)?,
        },
        M::Seed(bytes) => ImportMaterial::Seed {
            seed: secret("seed", bytes)?,
            scheme: hd(scheme)?,
        },
        M::Xprv(bytes) => ImportMaterial::Xprv(secret("xprv", bytes)?),
    };
    let options = convert::key_options(r.alias, r.policy)?;
    let info = engine.import_key(caller, material, options)?;
    Ok(pb::ImportKeyResponse {
        key: Some(convert::key_info_out(&info)),
    })
}

fn get_public_key(
    engine: &Keyhold,
    caller: &Caller,
    r: pb::GetPublicKeyRequest,
) -> Result<pb::GetPublicKeyResponse> {
    let key = convert::key_ref(r.key)?;
    let path = convert::path(&r.path)?;
    let format = convert::public_key_format(r.format)?;
    let encoded = engine.get_public_key(caller, &key, path.as_ref(), format)?;
    Ok(pb::GetPublicKeyResponse {
        public_key: encoded.bytes,
        text: encoded.text.unwrap_or_default(),
    })
}

fn split_payload(payload: Option<pb::sign_request::Payload>) -> (Option<Vec<u8>>, Option<Vec<u8>>) {
    match payload {
        Some(pb::sign_request::Payload::Message(m)) => (Some(m), None),
        Some(pb::sign_request::Payload::Digest(d)) => (None, Some(d)),
        None => (None, None),
    }
}

fn sign(engine: &Keyhold, caller: &Caller, r: pb::SignRequest) -> Result<pb::SignResponse> {
    let key = convert::key_ref(r.key)?;
    let path = convert::path(&r.path)?;
    let scheme = convert::signature_scheme(r.scheme)?;
    let (message, digest) = split_payload(r.payload);
    let payload = convert::payload(message.as_deref(), digest.as_deref())?;
    let signature = engine.sign(caller, &key, path.as_ref(), scheme, payload)?;
    Ok(pb::SignResponse { signature })
}

fn verify(engine: &Keyhold, caller: &Caller, r: pb::VerifyRequest) -> Result<pb::VerifyResponse> {
    let key = convert::key_ref(r.key)?;
    let path = convert::path(&r.path)?;
    let scheme = convert::signature_scheme(r.scheme)?;
    limit("signature", r.signature.len(), MAX_SMALL_BLOB)?;
    let (message, digest) = match r.payload {
        Some(pb::verify_request::Payload::Message(m)) => (Some(m), None),
        Some(pb::verify_request::Payload::Digest(d)) => (None, Some(d)),
        None => (None, None),
    };
    let payload = convert::payload(message.as_deref(), digest.as_deref())?;
    let valid = engine.verify(caller, &key, path.as_ref(), scheme, payload, &r.signature)?;
    Ok(pb::VerifyResponse { valid })
}

fn derive_key(
    engine: &Keyhold,
    caller: &Caller,
    r: pb::DeriveKeyRequest,
) -> Result<pb::DeriveKeyResponse> {
    let key = convert::key_ref(r.key)?;
    let path: DerivationPath = convert::required_path(&r.path)?;
    let store_as = if r.store_as_alias.is_empty() {
        None
    } else {
        Some(convert::key_options(r.store_as_alias, r.policy)?)
    };
    let derived = engine.derive_key(caller, &key, &path, store_as)?;
    Ok(pb::DeriveKeyResponse {
        public_key: derived.public_key,
        xpub: derived.xpub.unwrap_or_default(),
        stored: derived.stored.as_ref().map(convert::key_info_out),
    })
}

fn agree(engine: &Keyhold, caller: &Caller, r: pb::AgreeRequest) -> Result<pb::AgreeResponse> {
    let key = convert::key_ref(r.key)?;
    limit("peer public key", r.peer_public_key.len(), MAX_SMALL_BLOB)?;
    limit("HKDF salt", r.hkdf_salt.len(), MAX_SMALL_BLOB)?;
    limit("HKDF info", r.hkdf_info.len(), MAX_SMALL_BLOB)?;
    let kdf = KdfParams {
        salt: r.hkdf_salt,
        info: r.hkdf_info,
        length: usize::try_from(r.output_length).unwrap_or(usize::MAX),
    };
    let store_as = if r.store_as_alias.is_empty() {
        None
    } else {
        Some(convert::key_options(r.store_as_alias, r.policy)?)
    };
    Ok(
        match engine.agree(caller, &key, &r.peer_public_key, &kdf, store_as)? {
            Agreement::Secret(secret) => pb::AgreeResponse {
                derived_secret: secret.expose().to_vec(),
                stored: None,
            },
            Agreement::Stored(info) => pb::AgreeResponse {
                derived_secret: Vec::new(),
                stored: Some(convert::key_info_out(&info)),
            },
        },
    )
}
