//! Byte-level helpers for doors and tests that handle raw frames: the
//! daemon uses [`error_response`] to answer a frame it could not hand to the
//! core (too large, empty, incomplete); tests use [`response_error`] to read
//! the typed error out of any response.

use crate::names;
use crate::proto as pb;
use keyhold_core::ErrorCode;
use prost::Message;

/// An encoded `keyhold.v1.Response` carrying an error.
pub fn error_response(code: ErrorCode, message: &str) -> Vec<u8> {
    pb::Response {
        result: Some(pb::response::Result::Error(pb::Error {
            code: names::error_code(code),
            message: message.to_owned(),
        })),
    }
    .encode_to_vec()
}

/// The error carried by an encoded response: `Ok(None)` for a success
/// response, `Err(())` when the bytes are not a response at all.
#[allow(clippy::result_unit_err)]
pub fn response_error(response: &[u8]) -> Result<Option<(ErrorCode, String)>, ()> {
    let decoded = pb::Response::decode(response).map_err(|_| ())?;
    match decoded.result {
        None => Err(()),
        Some(pb::response::Result::Error(e)) => {
            let code = names::error_code_from(e.code).map_err(|_| ())?;
            Ok(Some((code, e.message)))
        }
        Some(_) => Ok(None),
    }
}

/// An encoded `ListKeys` request of protocol `version`, for tests that need a
/// valid (or deliberately wrong-version) request without the typed client.
pub fn list_keys_request(version: u32) -> Vec<u8> {
    pb::Request {
        version,
        operation: Some(pb::request::Operation::ListKeys(
            pb::ListKeysRequest::default(),
        )),
    }
    .encode_to_vec()
}

/// An encoded `Sign` request of `message` by the key `alias` with the
/// algorithm's default scheme (benchmarks of the in-process `handle` path).
pub fn sign_request(alias: &str, message: &[u8]) -> Vec<u8> {
    pb::Request {
        version: keyhold_core::PROTOCOL_VERSION,
        operation: Some(pb::request::Operation::Sign(pb::SignRequest {
            key: Some(pb::KeyRef {
                by: Some(pb::key_ref::By::Alias(alias.to_owned())),
            }),
            scheme: 0,
            payload: Some(pb::sign_request::Payload::Message(message.to_vec())),
            path: String::new(),
        })),
    }
    .encode_to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_responses_decode_to_their_code() {
        for code in ErrorCode::ALL {
            let bytes = error_response(code, "why");
            assert_eq!(response_error(&bytes), Ok(Some((code, "why".to_owned()))));
        }
    }

    #[test]
    fn garbage_is_not_a_response() {
        assert_eq!(response_error(&[0xff, 0xff, 0xff]), Err(()));
        assert_eq!(
            response_error(&[]),
            Err(()),
            "an empty response has no result"
        );
    }
}
