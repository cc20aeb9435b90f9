//! Identity bytes: `caller_from_identity_bytes` (what `handle_with_identity`
//! parses for the JNI and uniffi doors: Unix peers, Android uid + packages +
//! signing certificates, embedding apps). A parsed caller must re-encode to
//! the same caller; a refused one must get a parser error code, and
//! `handle_with_identity` must answer with that same code; an accepted one
//! lists keys only of its own owner namespace.
#![no_main]

use keyhold_core::{ErrorCode, caller_from_identity_bytes, caller_to_identity_bytes};
use keyhold_fuzz::{fixture, oracle, pb};
use prost::Message;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let list = pb::Request {
        version: keyhold_core::PROTOCOL_VERSION,
        operation: Some(pb::request::Operation::ListKeys(
            pb::ListKeysRequest::default(),
        )),
    }
    .encode_to_vec();
    fixture::with_fixture_no_reset(|fx| {
        let parsed = caller_from_identity_bytes(data);
        let response = fx.engine.handle_with_identity(data, &list);
        let decoded = oracle::decode_response(&response, "identity");
        match parsed {
            Ok(caller) => {
                let again = caller_from_identity_bytes(&caller_to_identity_bytes(&caller))
                    .unwrap_or_else(|e| panic!("a parsed caller does not re-parse: {e}"));
                assert_eq!(again, caller, "identity round trip changed the caller");
                let Some(pb::response::Result::ListKeys(listed)) = decoded.result else {
                    panic!("list_keys failed for a valid caller: {decoded:?}");
                };
                let owner = fx.callers[0].owner();
                if caller.owner() != owner {
                    for key in &listed.keys {
                        assert!(
                            !fx.keys.iter().any(|k| k.id.to_string() == key.id),
                            "caller {} lists key {} of {owner}",
                            caller.owner(),
                            key.alias
                        );
                    }
                }
            }
            Err(e) => {
                oracle::expect_code(
                    &e,
                    &[
                        ErrorCode::MalformedRequest,
                        ErrorCode::RequestTooLarge,
                        ErrorCode::PermissionDenied,
                        ErrorCode::InvalidArgument,
                    ],
                    "identity",
                );
                assert_eq!(
                    oracle::response_code(&decoded),
                    Some(e.code() as i32),
                    "handle_with_identity answered differently from the parser"
                );
            }
        }
    });
});
