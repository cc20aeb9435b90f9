//! The door's two error types.
//!
//! [`KeyholdError`] groups the core's stable codes by what the app does next
//! (convention 7); every variant carries the numeric `code` from the core's
//! one table (`keyhold_core::Error::code`, convention 8), so nothing here
//! assigns numbers. [`SealerError`] is what a foreign sealer throws; it maps
//! one to one onto the core's `SealerErrorKind`.
//!
//! The text field is named `detail`, not `message`: Kotlin exceptions already
//! have a `message` property, and a field of that name would not compile.

use keyhold_core::{Error as CoreError, ErrorCode, SealerErrorKind};

/// An operation failed. `code` is the stable `keyhold_core::ErrorCode`
/// number (the same on every Keyhold door); `detail` is a description
/// without secrets, for logs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum KeyholdError {
    /// No such key for this app (code 4). Create it, or refresh a cached id.
    #[error("key not found ({code}): {detail}")]
    KeyNotFound {
        /// Stable error code.
        code: u32,
        /// Description.
        detail: String,
    },
    /// A request argument is wrong: malformed or oversize input, bad path,
    /// mnemonic, key material or alias, a key of the wrong kind for the
    /// operation (codes 1, 2, 3, 7, 8, 9, 10, 11, 12, 21). Fix the input.
    #[error("invalid input ({code}): {detail}")]
    InvalidInput {
        /// Stable error code.
        code: u32,
        /// Description.
        detail: String,
    },
    /// The key's policy refuses this (codes 5, 6, 13, 14): wrong caller,
    /// operation, path prefix, or its usage limit is reached.
    #[error("not allowed ({code}): {detail}")]
    NotAllowed {
        /// Stable error code.
        code: u32,
        /// Description.
        detail: String,
    },
    /// Authenticated decryption failed (code 15): the ciphertext, tag or
    /// associated data is not what was encrypted.
    #[error("decryption failed ({code}): {detail}")]
    DecryptionFailed {
        /// Stable error code.
        code: u32,
        /// Description.
        detail: String,
    },
    /// Temporarily unavailable (codes 16, 22): the sealer's hardware is
    /// busy or locked (device locked, Keychain not yet available). Retry later.
    #[error("unavailable ({code}): {detail}")]
    Unavailable {
        /// Stable error code.
        code: u32,
        /// Description.
        detail: String,
    },
    /// The sealer's hardware key is gone for good (code 17): keys sealed
    /// under it can never be used again and must be re-provisioned.
    #[error("sealer key invalidated ({code}): {detail}")]
    KeyInvalidated {
        /// Stable error code.
        code: u32,
        /// Description.
        detail: String,
    },
    /// A stored key record is corrupt or does not unseal (code 18).
    #[error("corrupt key record ({code}): {detail}")]
    CorruptKeyRecord {
        /// Stable error code.
        code: u32,
        /// Description.
        detail: String,
    },
    /// Storage, self-test or internal failure (codes 19, 20, 23): not
    /// caused by the input; report it.
    #[error("internal failure ({code}): {detail}")]
    Internal {
        /// Stable error code.
        code: u32,
        /// Description.
        detail: String,
    },
}

impl KeyholdError {
    /// The stable code, whatever the variant.
    pub fn code(&self) -> u32 {
        match self {
            Self::KeyNotFound { code, .. }
            | Self::InvalidInput { code, .. }
            | Self::NotAllowed { code, .. }
            | Self::DecryptionFailed { code, .. }
            | Self::Unavailable { code, .. }
            | Self::KeyInvalidated { code, .. }
            | Self::CorruptKeyRecord { code, .. }
            | Self::Internal { code, .. } => *code,
        }
    }
}

impl From<CoreError> for KeyholdError {
    fn from(error: CoreError) -> Self {
        let category = category(error.code());
        let (code, detail) = (error.code().as_u32(), error.to_string());
        match category {
            Category::KeyNotFound => Self::KeyNotFound { code, detail },
            Category::InvalidInput => Self::InvalidInput { code, detail },
            Category::NotAllowed => Self::NotAllowed { code, detail },
            Category::DecryptionFailed => Self::DecryptionFailed { code, detail },
            Category::Unavailable => Self::Unavailable { code, detail },
            Category::KeyInvalidated => Self::KeyInvalidated { code, detail },
            Category::CorruptKeyRecord => Self::CorruptKeyRecord { code, detail },
            Category::Internal => Self::Internal { code, detail },
        }
    }
}

/// The variant a code belongs to: a grouping by the caller's next action,
/// not a second numbering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Category {
    KeyNotFound,
    InvalidInput,
    NotAllowed,
    DecryptionFailed,
    Unavailable,
    KeyInvalidated,
    CorruptKeyRecord,
    Internal,
}

pub(crate) fn category(code: ErrorCode) -> Category {
    use ErrorCode as C;
    match code {
        C::KeyNotFound => Category::KeyNotFound,
        C::MalformedRequest
        | C::RequestTooLarge
        | C::UnsupportedOperation
        | C::IncompatibleKey
        | C::InvalidPath
        | C::InvalidMnemonic
        | C::InvalidKeyMaterial
        | C::InvalidArgument
        | C::AliasExists
        | C::UnsupportedVersion => Category::InvalidInput,
        C::PermissionDenied
        | C::OperationNotAllowed
        | C::UsageLimitExceeded
        | C::PathNotAllowed => Category::NotAllowed,
        C::DecryptionFailed => Category::DecryptionFailed,
        C::SealerUnavailable | C::Unavailable => Category::Unavailable,
        C::SealerKeyInvalidated => Category::KeyInvalidated,
        C::CorruptKeyRecord => Category::CorruptKeyRecord,
        // StorageFailure, SelfTestFailed, Internal, and any code added to
        // the core later (ErrorCode is non-exhaustive): the number still
        // reaches the app unchanged in `code`.
        _ => Category::Internal,
    }
}

/// What a foreign `Sealer` throws. Each variant is one of
/// the core's sealer error kinds.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum SealerError {
    /// Transient: hardware busy, device locked, Keychain not available yet.
    /// Surfaces as code 16 (`SEALER_UNAVAILABLE`).
    #[error("sealer unavailable: {detail}")]
    Unavailable {
        /// Description without secrets.
        detail: String,
    },
    /// The wrapping key is gone or permanently invalidated (deleted from the
    /// Keychain, no Secure Enclave on this device, biometry re-enrolled).
    /// Surfaces as code 17 (`SEALER_KEY_INVALIDATED`).
    #[error("sealer key invalidated: {detail}")]
    KeyInvalidated {
        /// Description without secrets.
        detail: String,
    },
    /// The sealed blob or its associated data failed authentication.
    /// Surfaces as code 18 (`CORRUPT_KEY_RECORD`).
    #[error("sealed data failed authentication: {detail}")]
    AuthenticationFailed {
        /// Description without secrets.
        detail: String,
    },
    /// `open_key` found no wrapping key (and was not allowed to create
    /// one). The core retries, then reports code 17
    /// (`SEALER_KEY_INVALIDATED`) for a store whose key is gone.
    #[error("sealer key not found: {detail}")]
    KeyNotFound {
        /// Description without secrets.
        detail: String,
    },
}

impl From<SealerError> for CoreError {
    fn from(error: SealerError) -> Self {
        let (kind, detail) = match error {
            SealerError::Unavailable { detail } => (SealerErrorKind::Unavailable, detail),
            SealerError::KeyInvalidated { detail } => (SealerErrorKind::KeyInvalidated, detail),
            SealerError::AuthenticationFailed { detail } => {
                (SealerErrorKind::AuthenticationFailed, detail)
            }
            SealerError::KeyNotFound { detail } => (SealerErrorKind::KeyNotFound, detail),
        };
        CoreError::sealer(kind, detail)
    }
}

/// A core sealer's failure as the foreign trait reports it (for the core's
/// own sealers exported through the trait): its kind is kept; any other
/// core error is a retryable `Unavailable`.
impl From<CoreError> for SealerError {
    fn from(error: CoreError) -> Self {
        let detail = error.to_string();
        match error {
            CoreError::Sealer { kind, .. } => match kind {
                SealerErrorKind::KeyInvalidated => Self::KeyInvalidated { detail },
                SealerErrorKind::AuthenticationFailed => Self::AuthenticationFailed { detail },
                SealerErrorKind::KeyNotFound => Self::KeyNotFound { detail },
                _ => Self::Unavailable { detail },
            },
            _ => Self::Unavailable { detail },
        }
    }
}

/// A foreign sealer threw something other than a [`SealerError`] (a bug in
/// the sealer). Fail closed, and as retryable: reporting `KeyInvalidated`
/// could lead an app to discard keys that are intact.
impl From<uniffi::UnexpectedUniFFICallbackError> for SealerError {
    fn from(error: uniffi::UnexpectedUniFFICallbackError) -> Self {
        Self::Unavailable {
            detail: format!("sealer threw an unexpected error: {}", error.reason),
        }
    }
}

#[cfg(test)]
mod tests;
