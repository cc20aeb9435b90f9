//! What must hold for every input, whatever the bytes. A violation panics,
//! which libFuzzer reports as a crash with the input that caused it.

use crate::fixture::{self, BaseKey, Fixture};
use crate::pb;
use keyhold_core::{DerivationPath, ErrorCode, KeyId, KeyRef};
use prost::Message;

/// Error codes no input may produce with a memory store and a software
/// sealer: `INTERNAL` is a caught panic or a broken invariant; the sealer,
/// storage and self-test codes cannot be caused by a request here, so
/// seeing one means a request corrupted the engine's state.
pub const FORBIDDEN_CODES: &[ErrorCode] = &[
    ErrorCode::Internal,
    ErrorCode::SealerUnavailable,
    ErrorCode::SealerKeyInvalidated,
    ErrorCode::CorruptKeyRecord,
    ErrorCode::StorageFailure,
    ErrorCode::SelfTestFailed,
];

/// Panics unless `code` is a known wire code other than the forbidden ones.
pub fn check_wire_code(code: i32, message: &str, context: &str) {
    let known = u32::try_from(code).ok().and_then(ErrorCode::from_u32);
    let Some(known) = known else {
        panic!("{context}: error code {code} is not in the stable table ({message:?})");
    };
    assert!(
        !FORBIDDEN_CODES.contains(&known),
        "{context}: forbidden error {known:?}: {message:?}"
    );
}

/// Panics when a typed engine error has a forbidden code.
pub fn check_error(error: &keyhold_core::Error, context: &str) {
    check_wire_code(error.code() as i32, &error.to_string(), context);
}

/// Panics unless `code` is one of `allowed` (the codes a parser may give).
pub fn expect_code(error: &keyhold_core::Error, allowed: &[ErrorCode], context: &str) {
    check_error(error, context);
    assert!(
        allowed.contains(&error.code()),
        "{context}: unexpected error {:?} ({error}); allowed {allowed:?}",
        error.code()
    );
}

/// Decodes a response; panics unless it is a `Response` with a result whose
/// error, if any, has an allowed code.
pub fn decode_response(bytes: &[u8], context: &str) -> pb::Response {
    let response = pb::Response::decode(bytes)
        .unwrap_or_else(|e| panic!("{context}: the response does not decode: {e}"));
    match &response.result {
        None => panic!("{context}: a response without a result"),
        Some(pb::response::Result::Error(e)) => check_wire_code(e.code, &e.message, context),
        Some(_) => {}
    }
    response
}

/// The error code of a response, `None` for a success.
pub fn response_code(response: &pb::Response) -> Option<i32> {
    match &response.result {
        Some(pb::response::Result::Error(e)) => Some(e.code),
        _ => None,
    }
}

/// What a request does, as far as the checks care.
struct Shape {
    /// The operation.
    op: keyhold_core::Operation,
    /// The key it names, if any.
    key: Option<KeyRef>,
    /// Its derivation path text ("" for none).
    path: String,
    /// True when a success creates a key.
    creates: bool,
}

fn key_ref(key: &Option<pb::KeyRef>) -> Option<KeyRef> {
    match key.as_ref().and_then(|k| k.by.as_ref()) {
        Some(pb::key_ref::By::Alias(a)) => Some(KeyRef::Alias(a.clone())),
        Some(pb::key_ref::By::Id(id)) => KeyId::parse(id).ok().map(KeyRef::Id),
        None => None,
    }
}

fn shape(request: &pb::Request) -> Option<Shape> {
    use keyhold_core::Operation as Op;
    use pb::request::Operation as R;
    let s = |op, key: &Option<pb::KeyRef>, path: &str, creates| Shape {
        op,
        key: key_ref(key),
        path: path.to_owned(),
        creates,
    };
    Some(match request.operation.as_ref()? {
        R::GenerateKey(_) => s(Op::GenerateKey, &None, "", true),
        R::ImportKey(_) => s(Op::ImportKey, &None, "", true),
        R::GetPublicKey(r) => s(Op::GetPublicKey, &r.key, &r.path, false),
        R::Sign(r) => s(Op::Sign, &r.key, &r.path, false),
        R::Verify(r) => s(Op::Verify, &r.key, &r.path, false),
        R::DeriveKey(r) => s(Op::DeriveKey, &r.key, &r.path, !r.store_as_alias.is_empty()),
        R::Encrypt(r) => s(Op::Encrypt, &r.key, "", false),
        R::Decrypt(r) => s(Op::Decrypt, &r.key, "", false),
        R::Agree(r) => s(Op::Agree, &r.key, "", !r.store_as_alias.is_empty()),
        // A delete changes what aliases name, like a creation.
        R::DeleteKey(r) => s(Op::DeleteKey, &r.key, "", true),
        R::ListKeys(_) => s(Op::ListKeys, &None, "", false),
        R::GetKeyInfo(r) => s(Op::GetKeyInfo, &r.key, "", false),
        R::AuditVerify(_) => s(Op::AuditVerify, &None, "", false),
    })
}

fn key_infos(response: &pb::Response) -> Vec<&pb::KeyInfo> {
    use pb::response::Result as R;
    match response.result.as_ref() {
        Some(R::GenerateKey(r)) => r.key.iter().collect(),
        Some(R::ImportKey(r)) => r.key.iter().collect(),
        Some(R::DeriveKey(r)) => r.stored.iter().collect(),
        Some(R::Agree(r)) => r.stored.iter().collect(),
        Some(R::ListKeys(r)) => r.keys.iter().collect(),
        Some(R::GetKeyInfo(r)) => r.key.iter().collect(),
        _ => Vec::new(),
    }
}

/// The checks across the requests of one input (one engine state).
pub struct Session<'a> {
    fixture: &'a Fixture,
    input: &'a [u8],
    /// Namespaces in which this input created or deleted a key: there an
    /// alias may name a key other than the fixed one.
    changed: [bool; 4],
    /// Successful uses of the single-use key.
    limited_uses: u32,
}

impl<'a> Session<'a> {
    /// Checks for one input (`input` is the whole fuzz input: a secret the
    /// input itself carries may come back, e.g. through decrypt).
    pub fn new(fixture: &'a Fixture, input: &'a [u8]) -> Self {
        Self {
            fixture,
            input,
            changed: [false; 4],
            limited_uses: 0,
        }
    }

    /// Checks one request of caller `caller` and its response.
    pub fn check(&mut self, caller: usize, request: &[u8], response: &[u8]) -> pb::Response {
        let context = format!("caller {caller}");
        let decoded = decode_response(response, &context);
        for secret in &self.fixture.secrets {
            assert!(
                !crate::contains(response, secret) || crate::contains(self.input, secret),
                "{context}: a fixed key's secret material is in a response"
            );
        }
        let Ok(parsed) = pb::Request::decode(request) else {
            let code = response_code(&decoded);
            assert!(
                matches!(code, Some(1 | 2)),
                "{context}: an undecodable request got {code:?}, not MALFORMED_REQUEST"
            );
            return decoded;
        };
        let Some(shape) = shape(&parsed) else {
            return decoded;
        };
        let ns = fixture::namespace(caller);
        let success = response_code(&decoded).is_none();
        if success && ns != 0 {
            for info in key_infos(&decoded) {
                let leaked = self
                    .fixture
                    .keys
                    .iter()
                    .any(|k| k.id.to_string() == info.id);
                assert!(
                    !leaked,
                    "{context}: sees key {} of another owner",
                    info.alias
                );
            }
        }
        if success {
            if let Some(base) = shape.key.as_ref().and_then(|k| self.base(ns, k)) {
                self.check_use(caller, ns, base, &shape, &context);
            }
        }
        if success && shape.creates {
            self.changed[ns] = true;
        }
        decoded
    }

    /// The fixed key `key` names for namespace `ns`, if it still does.
    fn base(&self, ns: usize, key: &KeyRef) -> Option<&'a BaseKey> {
        match key {
            KeyRef::Alias(_) if self.changed[ns] => None,
            other => self.fixture.named(other),
        }
    }

    fn check_use(
        &mut self,
        caller: usize,
        ns: usize,
        base: &BaseKey,
        shape: &Shape,
        context: &str,
    ) {
        use keyhold_core::Operation as Op;
        assert!(
            ns == 0,
            "{context}: {:?} succeeded on {} of another owner",
            shape.op,
            base.alias
        );
        if base.alias == fixture::BOUND {
            assert!(
                caller == 0 || !shape.op.is_key_use(),
                "{context}: {:?} with {} from another binary",
                shape.op,
                base.alias
            );
        }
        if base.alias == fixture::LIMITED
            && matches!(shape.op, Op::Sign | Op::Decrypt | Op::Agree | Op::DeriveKey)
        {
            self.limited_uses += 1;
            assert!(
                self.limited_uses <= 1,
                "{context}: the single-use key was used {} times",
                self.limited_uses
            );
        }
        if base.alias == fixture::ETH_ONLY {
            assert!(
                !matches!(shape.op, Op::Verify | Op::Encrypt | Op::Decrypt | Op::Agree),
                "{context}: {:?} allowed on a key limited to derive/sign/get-public-key",
                shape.op
            );
            if matches!(shape.op, Op::Sign | Op::DeriveKey | Op::GetPublicKey) {
                let path = if shape.path.is_empty() {
                    DerivationPath::root()
                } else {
                    DerivationPath::parse(&shape.path).unwrap_or_else(|e| {
                        panic!("{context}: succeeded with an invalid path: {e}")
                    })
                };
                let prefix = DerivationPath::parse(fixture::ETH_PREFIX).expect("prefix");
                assert!(
                    path.starts_with(&prefix),
                    "{context}: {:?} at {path} outside {prefix}",
                    shape.op
                );
            }
        }
    }
}
