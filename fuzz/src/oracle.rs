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
        if success && let Some(base) = shape.key.as_ref().and_then(|k| self.base(ns, k)) {
            self.check_use(caller, ns, base, &shape, &context);
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

/// Shows the checks can fail: feeds [`Session::check`] and
/// [`decode_response`] responses that break each property and requires a
/// panic, and one legitimate response that must pass; then checks the
/// reference master-key derivation against the published BIP32 and
/// SLIP-0010 vectors. Returns the number of cases, or the first that did
/// not behave. Run by `seed_corpus` (so `smoke.sh` fails if a check has
/// become vacuous).
pub fn self_check() -> Result<usize, String> {
    use pb::request::Operation as Rq;
    use pb::response::Result as Rs;
    let fx = Fixture::build();
    let request = |op: Rq| {
        pb::Request {
            version: keyhold_core::PROTOCOL_VERSION,
            operation: Some(op),
        }
        .encode_to_vec()
    };
    let alias = |a: &str| {
        Some(pb::KeyRef {
            by: Some(pb::key_ref::By::Alias(a.into())),
        })
    };
    let sign = |a: &str, path: &str| {
        request(Rq::Sign(pb::SignRequest {
            key: alias(a),
            scheme: 0,
            payload: Some(pb::sign_request::Payload::Message(b"m".to_vec())),
            path: path.into(),
        }))
    };
    let respond = |r: Rs| pb::Response { result: Some(r) }.encode_to_vec();
    let signed = respond(Rs::Sign(pb::SignResponse {
        signature: vec![0x30; 70],
    }));
    let error = |code: ErrorCode| {
        respond(Rs::Error(pb::Error {
            code: code as i32,
            message: "x".into(),
        }))
    };
    let leaking = respond(Rs::GetPublicKey(pb::GetPublicKeyResponse {
        public_key: fx.secrets[0].clone(),
        text: String::new(),
    }));
    let derive_outside = request(Rq::DeriveKey(pb::DeriveKeyRequest {
        key: alias(fixture::ETH_ONLY),
        path: "m/0".into(),
        store_as_alias: String::new(),
        policy: None,
    }));
    // (name, [(caller, request, response)...], must panic)
    type Case<'a> = (&'a str, Vec<(usize, Vec<u8>, Vec<u8>)>, bool);
    let cases: Vec<Case> = vec![
        (
            "legitimate sign",
            vec![(0, sign("k1", ""), signed.clone())],
            false,
        ),
        (
            "legitimate refusal",
            vec![(2, sign("k1", ""), error(ErrorCode::KeyNotFound))],
            false,
        ),
        (
            "INTERNAL",
            vec![(0, sign("k1", ""), error(ErrorCode::Internal))],
            true,
        ),
        ("no result", vec![(0, sign("k1", ""), Vec::new())], true),
        (
            "undecodable response",
            vec![(0, sign("k1", ""), vec![0xff; 3])],
            true,
        ),
        (
            "secret in a response",
            vec![(0, sign("k1", ""), leaking)],
            true,
        ),
        (
            "another owner's key",
            vec![(2, sign("k1", ""), signed.clone())],
            true,
        ),
        (
            "bound key, other binary",
            vec![(1, sign(fixture::BOUND, ""), signed.clone())],
            true,
        ),
        (
            "single-use key twice",
            vec![
                (0, sign(fixture::LIMITED, ""), signed.clone()),
                (0, sign(fixture::LIMITED, ""), signed.clone()),
            ],
            true,
        ),
        (
            "path outside the prefix",
            vec![(
                0,
                derive_outside,
                respond(Rs::DeriveKey(pb::DeriveKeyResponse::default())),
            )],
            true,
        ),
        (
            "garbage request answered OK",
            vec![(0, vec![0xff; 4], signed)],
            true,
        ),
    ];
    let quiet = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let mut failure = None;
    for (name, steps, must_panic) in &cases {
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let mut session = Session::new(&fx, b"");
            for (caller, request, response) in steps {
                session.check(*caller, request, response);
            }
        }))
        .is_err();
        if panicked != *must_panic {
            failure = Some(format!("oracle case {name:?}: panicked={panicked}"));
            break;
        }
    }
    std::panic::set_hook(quiet);
    if let Some(f) = failure {
        return Err(f);
    }
    // The reference derivation against the published roots.
    let mut checked = cases.len();
    for chain in crate::vectors::bip32() {
        let xprv: bip32::XPrv = chain.paths[0].1.parse().map_err(|e| format!("{e}"))?;
        let want = xprv.public_key().to_bytes().to_vec();
        let got =
            crate::reference::hd_root_public(keyhold_core::HdScheme::Bip32Secp256k1, &chain.seed);
        if got != want {
            return Err("reference BIP32 master key differs from the published vector".into());
        }
        checked += 1;
    }
    for chain in crate::vectors::slip10() {
        let scheme = match chain.curve.as_str() {
            "ed25519" => keyhold_core::HdScheme::Slip10Ed25519,
            "nist256p1" => keyhold_core::HdScheme::Slip10P256,
            _ => keyhold_core::HdScheme::Bip32Secp256k1,
        };
        let published = crate::vectors::slip10_root_public(&chain);
        let got = crate::reference::hd_root_public(scheme, &chain.seed);
        if got != published {
            return Err(format!(
                "reference SLIP-0010 {} master key differs",
                chain.curve
            ));
        }
        checked += 1;
    }
    Ok(checked)
}
