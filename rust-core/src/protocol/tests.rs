use super::*;
use crate::engine::Config;
use crate::error::ErrorCode;
use crate::sealer::SoftwareSealer;
use crate::store::MemoryStore;
use std::sync::Arc;

fn engine() -> Keyhold {
    Keyhold::open(
        Box::new(MemoryStore::new()),
        Arc::new(SoftwareSealer::ephemeral().unwrap()),
        Config::default(),
    )
    .unwrap()
}

fn caller() -> Caller {
    Caller::Unix {
        uid: 1000,
        gid: 1000,
        pid: 7,
        exe_sha256: Some([3; 32]),
    }
}

fn call(engine: &Keyhold, op: pb::request::Operation) -> pb::Response {
    let request = pb::Request {
        version: PROTOCOL_VERSION,
        operation: Some(op),
    };
    pb::Response::decode(
        engine
            .handle(&caller(), &request.encode_to_vec())
            .as_slice(),
    )
    .unwrap()
}

fn error_code(response: &pb::Response) -> Option<ErrorCode> {
    match &response.result {
        Some(pb::response::Result::Error(e)) => ErrorCode::from_u32(e.code as u32),
        _ => None,
    }
}

fn raw(engine: &Keyhold, bytes: &[u8]) -> pb::Response {
    pb::Response::decode(engine.handle(&caller(), bytes).as_slice()).unwrap()
}

#[test]
fn wire_error_codes_equal_the_core_table() {
    for code in ErrorCode::ALL {
        let wire = pb::ErrorCode::try_from(code.as_u32() as i32).unwrap();
        let name = wire.as_str_name().strip_prefix("ERROR_CODE_").unwrap();
        assert_eq!(name, code.name(), "code {}", code.as_u32());
        assert_eq!(convert::error_code_out(code), wire);
    }
    // The wire enum has exactly the core's codes plus UNSPECIFIED.
    assert!(pb::ErrorCode::try_from(ErrorCode::ALL.len() as i32 + 1).is_err());
}

#[test]
fn malformed_requests_get_typed_errors() {
    let engine = engine();
    // Truncated: a length-delimited field that runs past the end.
    assert_eq!(
        error_code(&raw(&engine, &[0x6a, 0x10, 0x01])),
        Some(ErrorCode::MalformedRequest)
    );
    // Garbage.
    assert_eq!(
        error_code(&raw(&engine, &[0xff; 17])),
        Some(ErrorCode::MalformedRequest)
    );
    // Oversize.
    let big = vec![0u8; engine.config().max_request_bytes + 1];
    assert_eq!(
        error_code(&raw(&engine, &big)),
        Some(ErrorCode::RequestTooLarge)
    );
    // Empty request: version 0.
    assert_eq!(
        error_code(&raw(&engine, &[])),
        Some(ErrorCode::UnsupportedVersion)
    );
    // Right version, no operation (or an operation from the future).
    let mut future = pb::Request {
        version: 1,
        operation: None,
    }
    .encode_to_vec();
    future.extend_from_slice(&[0xfa, 0x06, 0x00]); // field 111, empty message
    assert_eq!(
        error_code(&raw(&engine, &future)),
        Some(ErrorCode::UnsupportedOperation)
    );
}

#[test]
fn request_fields_are_validated() {
    use pb::request::Operation as Op;
    let engine = engine();
    let alias = |a: &str| {
        Some(pb::KeyRef {
            by: Some(pb::key_ref::By::Alias(a.into())),
        })
    };

    let no_key = call(
        &engine,
        Op::Sign(pb::SignRequest {
            key: None,
            ..Default::default()
        }),
    );
    assert_eq!(error_code(&no_key), Some(ErrorCode::MalformedRequest));

    let unknown = call(
        &engine,
        Op::GetKeyInfo(pb::GetKeyInfoRequest { key: alias("nope") }),
    );
    assert_eq!(error_code(&unknown), Some(ErrorCode::KeyNotFound));

    let bad_id = call(
        &engine,
        Op::GetKeyInfo(pb::GetKeyInfoRequest {
            key: Some(pb::KeyRef {
                by: Some(pb::key_ref::By::Id("xyz".into())),
            }),
        }),
    );
    assert_eq!(error_code(&bad_id), Some(ErrorCode::InvalidArgument));

    let bad_alg = call(
        &engine,
        Op::GenerateKey(pb::GenerateKeyRequest {
            alias: "k".into(),
            algorithm: 99,
            ..Default::default()
        }),
    );
    assert_eq!(error_code(&bad_alg), Some(ErrorCode::InvalidArgument));

    let no_alg = call(
        &engine,
        Op::GenerateKey(pb::GenerateKeyRequest {
            alias: "k".into(),
            ..Default::default()
        }),
    );
    assert_eq!(error_code(&no_alg), Some(ErrorCode::MalformedRequest));

    let long_alias = call(
        &engine,
        Op::GenerateKey(pb::GenerateKeyRequest {
            alias: "a".repeat(500),
            algorithm: pb::Algorithm::Ed25519 as i32,
            ..Default::default()
        }),
    );
    assert_eq!(error_code(&long_alias), Some(ErrorCode::RequestTooLarge));
}

#[test]
fn bad_mnemonic_path_and_key_type_are_typed() {
    use pb::request::Operation as Op;
    let engine = engine();
    let alias = |a: &str| {
        Some(pb::KeyRef {
            by: Some(pb::key_ref::By::Alias(a.into())),
        })
    };

    let bad_mnemonic = call(&engine, Op::ImportKey(pb::ImportKeyRequest {
        alias: "w".into(),
        material: Some(pb::import_key_request::Material::Mnemonic(pb::Mnemonic {
            phrase: b"abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon".to_vec(),
            passphrase: Vec::new(),
        })),
        ..Default::default()
    }));
    assert_eq!(error_code(&bad_mnemonic), Some(ErrorCode::InvalidMnemonic));

    let generated = call(
        &engine,
        Op::GenerateKey(pb::GenerateKeyRequest {
            alias: "aes".into(),
            algorithm: pb::Algorithm::Aes256Gcm as i32,
            ..Default::default()
        }),
    );
    assert_eq!(error_code(&generated), None);

    let wrong_type = call(
        &engine,
        Op::Sign(pb::SignRequest {
            key: alias("aes"),
            payload: Some(pb::sign_request::Payload::Message(b"hi".to_vec())),
            ..Default::default()
        }),
    );
    assert_eq!(error_code(&wrong_type), Some(ErrorCode::IncompatibleKey));

    let bad_path = call(
        &engine,
        Op::Sign(pb::SignRequest {
            key: alias("aes"),
            path: "m/x".into(),
            payload: Some(pb::sign_request::Payload::Message(b"hi".to_vec())),
            ..Default::default()
        }),
    );
    assert_eq!(error_code(&bad_path), Some(ErrorCode::InvalidPath));

    let short_digest = call(
        &engine,
        Op::Sign(pb::SignRequest {
            key: alias("aes"),
            payload: Some(pb::sign_request::Payload::Digest(vec![0; 31])),
            ..Default::default()
        }),
    );
    assert_eq!(error_code(&short_digest), Some(ErrorCode::InvalidArgument));
}

#[test]
fn identity_round_trips_and_refuses_ambiguity() {
    let android = Caller::android(
        10123,
        vec![crate::AndroidPackage {
            package_name: "com.example.wallet".into(),
            signing_certs: vec![[9; 32]],
            past_signing_certs: vec![[8; 32]],
        }],
    )
    .unwrap();
    for c in [
        caller(),
        android,
        Caller::Embedded {
            app_id: "app".into(),
        },
    ] {
        assert_eq!(
            caller_from_identity_bytes(&caller_to_identity_bytes(&c)).unwrap(),
            c
        );
    }
    let shared = pb::CallerIdentity {
        kind: Some(pb::caller_identity::Kind::Android(pb::AndroidApp {
            uid: 10001,
            packages: vec![
                pb::AndroidPackage {
                    package_name: "a".into(),
                    signing_cert_sha256: vec![vec![1; 32]],
                    ..Default::default()
                },
                pb::AndroidPackage {
                    package_name: "b".into(),
                    signing_cert_sha256: vec![vec![2; 32]],
                    ..Default::default()
                },
            ],
        })),
    };
    let err = caller_from_identity_bytes(&shared.encode_to_vec()).unwrap_err();
    assert_eq!(err.code(), ErrorCode::PermissionDenied);
    let bad_digest = pb::CallerIdentity {
        kind: Some(pb::caller_identity::Kind::Unix(pb::UnixPeer {
            uid: 1,
            exe_sha256: vec![1; 5],
            ..Default::default()
        })),
    };
    assert_eq!(
        caller_from_identity_bytes(&bad_digest.encode_to_vec())
            .unwrap_err()
            .code(),
        ErrorCode::InvalidArgument
    );
    assert_eq!(
        caller_from_identity_bytes(&[]).unwrap_err().code(),
        ErrorCode::MalformedRequest
    );
}

#[test]
fn handle_with_identity_reports_bad_identity_as_a_response() {
    let engine = engine();
    let request = pb::Request {
        version: 1,
        operation: Some(pb::request::Operation::ListKeys(
            pb::ListKeysRequest::default(),
        )),
    };
    let response = pb::Response::decode(
        engine
            .handle_with_identity(&[0xff, 0xff], &request.encode_to_vec())
            .as_slice(),
    )
    .unwrap();
    assert_eq!(error_code(&response), Some(ErrorCode::MalformedRequest));
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]
    /// Whatever bytes arrive, `handle` answers with a decodable Response.
    #[test]
    fn handle_never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
        let engine = ENGINE.with(|e| e.clone());
        let out = engine.handle(&caller(), &bytes);
        proptest::prop_assert!(pb::Response::decode(out.as_slice()).is_ok());
    }

    /// Structured fuzzing: well-formed envelopes with arbitrary field values.
    #[test]
    fn handle_never_panics_on_arbitrary_sign_requests(
        alias in "[a-z]{0,4}",
        scheme in -2i32..10,
        path in "(m(/[0-9]{1,3}'?){0,4})?|[ -~]{0,12}",
        digest in proptest::collection::vec(proptest::num::u8::ANY, 0..40),
        use_digest in proptest::bool::ANY,
    ) {
        let engine = ENGINE.with(|e| e.clone());
        let payload = if use_digest {
            pb::sign_request::Payload::Digest(digest)
        } else {
            pb::sign_request::Payload::Message(digest)
        };
        let request = pb::Request {
            version: 1,
            operation: Some(pb::request::Operation::Sign(pb::SignRequest {
                key: Some(pb::KeyRef { by: Some(pb::key_ref::By::Alias(alias)) }),
                scheme,
                payload: Some(payload),
                path,
            })),
        };
        let out = engine.handle(&caller(), &request.encode_to_vec());
        let response = pb::Response::decode(out.as_slice()).unwrap();
        proptest::prop_assert!(response.result.is_some());
    }
}

thread_local! {
    /// One engine per test thread, with a few keys the fuzzer can hit.
    static ENGINE: Arc<Keyhold> = {
        use pb::request::Operation as Op;
        let e = Arc::new(engine());
        for (alias, alg) in [("a", pb::Algorithm::Secp256k1), ("b", pb::Algorithm::Ed25519), ("c", pb::Algorithm::P256)] {
            let r = call(&e, Op::GenerateKey(pb::GenerateKeyRequest { alias: alias.into(), algorithm: alg as i32, ..Default::default() }));
            assert_eq!(error_code(&r), None);
        }
        let r = call(&e, Op::GenerateKey(pb::GenerateKeyRequest {
            alias: "hd".into(),
            hd_scheme: pb::HdScheme::Bip32Secp256k1 as i32,
            ..Default::default()
        }));
        assert_eq!(error_code(&r), None);
        e
    };
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]
    /// Import parsers (raw, PKCS#8, SEC1, seed, xprv, mnemonic) take
    /// arbitrary bytes and answer with a key or a typed error.
    #[test]
    fn import_parsers_never_panic(
        kind in 0u8..6,
        bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..200),
        text in "[ -~]{0,120}",
        alg in 0i32..8,
    ) {
        use pb::import_key_request::Material as M;
        let material = match kind {
            0 => M::RawPrivateKey(bytes),
            1 => M::Pkcs8(bytes),
            2 => M::Sec1(bytes),
            3 => M::Seed(bytes),
            4 => M::Xprv(text.into_bytes()),
            _ => M::Mnemonic(pb::Mnemonic { phrase: text.into_bytes(), passphrase: Vec::new() }),
        };
        let engine = ENGINE.with(|e| e.clone());
        let request = pb::Request {
            version: 1,
            operation: Some(pb::request::Operation::ImportKey(pb::ImportKeyRequest {
                alias: format!("imp-{}", crate::random::u64().unwrap()),
                algorithm: alg,
                material: Some(material),
                ..Default::default()
            })),
        };
        let response = pb::Response::decode(engine.handle(&caller(), &request.encode_to_vec()).as_slice()).unwrap();
        match response.result {
            Some(pb::response::Result::ImportKey(r)) => proptest::prop_assert!(r.key.is_some()),
            Some(pb::response::Result::Error(e)) => {
                let code = ErrorCode::from_u32(e.code as u32);
                proptest::prop_assert!(
                    matches!(
                        code,
                        Some(ErrorCode::InvalidKeyMaterial | ErrorCode::InvalidArgument | ErrorCode::InvalidMnemonic | ErrorCode::IncompatibleKey)
                    ),
                    "unexpected {:?}: {}", code, e.message
                );
            }
            other => proptest::prop_assert!(false, "unexpected response {:?}", other),
        }
    }
}

fn list_page(engine: &Keyhold, after_id: Option<u64>, limit: u32) -> pb::ListKeysResponse {
    let op = pb::request::Operation::ListKeys(pb::ListKeysRequest { after_id, limit });
    match call(engine, op).result {
        Some(pb::response::Result::ListKeys(r)) => r,
        other => panic!("{other:?}"),
    }
}

#[test]
fn list_keys_pages_through_handle() {
    let engine = engine();
    for i in 0..25 {
        let op = pb::request::Operation::GenerateKey(pb::GenerateKeyRequest {
            alias: format!("k{i}"),
            algorithm: pb::Algorithm::Ed25519 as i32,
            ..Default::default()
        });
        assert!(error_code(&call(&engine, op)).is_none());
    }
    let ids = |r: &pb::ListKeysResponse| -> Vec<u64> {
        r.keys
            .iter()
            .map(|k| u64::from_str_radix(&k.id, 16).unwrap())
            .collect()
    };
    let first = list_page(&engine, None, 10);
    assert_eq!(first.keys.len(), 10);
    assert_eq!(first.next_after_id, ids(&first).last().copied());
    let second = list_page(&engine, first.next_after_id, 10);
    let third = list_page(&engine, second.next_after_id, 10);
    assert_eq!(third.keys.len(), 5);
    assert_eq!(third.next_after_id, None);
    let all: Vec<u64> = [&first, &second, &third]
        .iter()
        .flat_map(|r| ids(r))
        .collect();
    let mut sorted = all.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(all, sorted, "ascending, each once");
    assert_eq!(all.len(), 25);
    // after_id = 0 is a real cursor (0 is a valid key id), not "absent".
    assert_eq!(ids(&list_page(&engine, Some(0), 0)), all);
    // limit 0: the default page; a huge limit: the cap (both above 25 here).
    assert_eq!(list_page(&engine, None, u32::MAX).keys.len(), 25);
    // The new fields survive the wire: an old client's empty request (no
    // fields) decodes as "from the start, default size".
    let empty = pb::ListKeysRequest::default().encode_to_vec();
    assert!(empty.is_empty());
    let with_zero = pb::ListKeysRequest {
        after_id: Some(0),
        limit: 3,
    };
    let decoded = pb::ListKeysRequest::decode(with_zero.encode_to_vec().as_slice()).unwrap();
    assert_eq!(decoded, with_zero);
}

#[test]
fn listing_size_bounds_the_protobuf_encoding() {
    let engine = engine();
    let op = pb::request::Operation::GenerateKey(pb::GenerateKeyRequest {
        alias: "x".repeat(128),
        hd_scheme: pb::HdScheme::Bip32Secp256k1 as i32,
        policy: Some(pb::KeyPolicy {
            allowed_callers: (0..63)
                .map(|i| pb::CallerRule {
                    uid: Some(1000 + i),
                    app_id: Some("p".repeat(255)),
                    code_sha256: vec![3; 32],
                })
                .chain([pb::CallerRule {
                    uid: Some(1000),
                    ..Default::default()
                }])
                .collect(),
            allowed_path_prefixes: vec!["m/44'/60'/2147483647'/0/2147483647".into(); 64],
            allowed_operations: (1..=12).collect(),
            max_uses: i64::MAX as u64,
            ..Default::default()
        }),
        ..Default::default()
    });
    let response = call(&engine, op);
    assert!(error_code(&response).is_none(), "{response:?}");
    let info = engine.list_keys(&caller()).unwrap().remove(0);
    let encoded = convert::key_info_out(&info).encoded_len();
    let bound = crate::engine::listing_size(&info);
    assert!(encoded > 20_000, "the policy is large: {encoded}");
    assert!(encoded <= bound, "{encoded} > {bound}");
}
