//! Daemon errors as `CKR_*` return values.
#![forbid(unsafe_code)]

use cryptoki_sys::*;
use keyhold_client::ClientError;
use keyhold_client::core::ErrorCode;

/// A PKCS#11 return value other than `CKR_OK`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rv(pub CK_RV);

/// Results inside the module.
pub(crate) type CkResult<T> = Result<T, Rv>;

/// What a missing key means for the call at hand (an object handle or a
/// key handle that no longer names a key).
#[derive(Debug, Clone, Copy)]
pub(crate) enum KeyContext {
    Object,
    Key,
}

/// Maps a client error. Transport failures name the device: the socket is
/// unreachable (`CKR_DEVICE_REMOVED`) or broke mid-call (`CKR_DEVICE_ERROR`);
/// the link is dropped by the caller and rebuilt on the next call.
pub(crate) fn from_client(e: &ClientError, ctx: KeyContext) -> Rv {
    Rv(match e {
        ClientError::Connect { .. } => CKR_DEVICE_REMOVED,
        ClientError::Io(_) | ClientError::Protocol(_) => CKR_DEVICE_ERROR,
        ClientError::Argument(_) => CKR_ARGUMENTS_BAD,
        ClientError::Service { code, .. } => from_code(*code, ctx),
        _ => CKR_GENERAL_ERROR,
    })
}

fn from_code(code: ErrorCode, ctx: KeyContext) -> CK_RV {
    match code {
        ErrorCode::KeyNotFound => match ctx {
            KeyContext::Object => CKR_OBJECT_HANDLE_INVALID,
            KeyContext::Key => CKR_KEY_HANDLE_INVALID,
        },
        ErrorCode::PermissionDenied
        | ErrorCode::OperationNotAllowed
        | ErrorCode::UsageLimitExceeded => CKR_KEY_FUNCTION_NOT_PERMITTED,
        ErrorCode::IncompatibleKey => CKR_KEY_TYPE_INCONSISTENT,
        ErrorCode::AliasExists => CKR_ATTRIBUTE_VALUE_INVALID,
        ErrorCode::RequestTooLarge => CKR_DATA_LEN_RANGE,
        ErrorCode::InvalidArgument | ErrorCode::MalformedRequest => CKR_ARGUMENTS_BAD,
        ErrorCode::SealerUnavailable
        | ErrorCode::SealerKeyInvalidated
        | ErrorCode::CorruptKeyRecord
        | ErrorCode::StorageFailure
        | ErrorCode::SelfTestFailed
        | ErrorCode::Unavailable => CKR_DEVICE_ERROR,
        _ => CKR_FUNCTION_FAILED,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transport_failures_name_the_device() {
        let gone = ClientError::Connect {
            path: "/nonexistent".into(),
            source: std::io::Error::from(std::io::ErrorKind::NotFound),
        };
        assert_eq!(from_client(&gone, KeyContext::Key), Rv(CKR_DEVICE_REMOVED));
        let broke = ClientError::Io(std::io::Error::from(std::io::ErrorKind::UnexpectedEof));
        assert_eq!(from_client(&broke, KeyContext::Key), Rv(CKR_DEVICE_ERROR));
    }

    #[test]
    fn service_codes_map_by_context() {
        let nf = ClientError::Service {
            code: ErrorCode::KeyNotFound,
            message: String::new(),
        };
        assert_eq!(
            from_client(&nf, KeyContext::Key),
            Rv(CKR_KEY_HANDLE_INVALID)
        );
        assert_eq!(
            from_client(&nf, KeyContext::Object),
            Rv(CKR_OBJECT_HANDLE_INVALID)
        );
        let inc = ClientError::Service {
            code: ErrorCode::IncompatibleKey,
            message: String::new(),
        };
        assert_eq!(
            from_client(&inc, KeyContext::Key),
            Rv(CKR_KEY_TYPE_INCONSISTENT)
        );
    }
}
