//! The crate's error type and the one table that maps it to stable wire codes.
//!
//! Every door (socket protocol, Android `ServiceSpecificException`, uniffi,
//! CLI exit status) reports failures as an [`ErrorCode`]. The numbers equal the
//! `keyhold.v1.ErrorCode` enum in `proto/keyhold.proto`; a test keeps them equal.

use thiserror::Error as ThisError;

/// Stable numeric error codes shared by every transport.
///
/// The discriminants are part of the public contract and never change meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u32)]
#[non_exhaustive]
pub enum ErrorCode {
    /// The request could not be decoded or a required field is missing.
    MalformedRequest = 1,
    /// The request or one of its fields exceeds a size limit.
    RequestTooLarge = 2,
    /// The request names an operation this service does not know.
    UnsupportedOperation = 3,
    /// No key with that id or alias is visible to the caller.
    KeyNotFound = 4,
    /// The caller is not allowed to use this key.
    PermissionDenied = 5,
    /// The key's policy does not allow this operation.
    OperationNotAllowed = 6,
    /// The key's algorithm cannot perform the requested operation.
    IncompatibleKey = 7,
    /// A derivation path is malformed or invalid for the scheme.
    InvalidPath = 8,
    /// A BIP39 mnemonic is invalid.
    InvalidMnemonic = 9,
    /// Imported key material is not a valid key.
    InvalidKeyMaterial = 10,
    /// An argument is out of range.
    InvalidArgument = 11,
    /// The alias is already in use by the same owner.
    AliasExists = 12,
    /// The key's usage limit has been reached.
    UsageLimitExceeded = 13,
    /// The derivation path is outside the key's allowed prefixes.
    PathNotAllowed = 14,
    /// Authenticated decryption failed.
    DecryptionFailed = 15,
    /// The sealer failed transiently.
    SealerUnavailable = 16,
    /// The sealer's hardware key was permanently invalidated.
    SealerKeyInvalidated = 17,
    /// A stored record failed to unseal or is corrupt.
    CorruptKeyRecord = 18,
    /// The storage backend failed.
    StorageFailure = 19,
    /// A self-test failed.
    SelfTestFailed = 20,
    /// The request's protocol version is not supported.
    UnsupportedVersion = 21,
    /// The service is shutting down or locked.
    Unavailable = 22,
    /// An internal invariant did not hold.
    Internal = 23,
}

impl ErrorCode {
    /// Every code, in numeric order.
    pub const ALL: [ErrorCode; 23] = [
        Self::MalformedRequest,
        Self::RequestTooLarge,
        Self::UnsupportedOperation,
        Self::KeyNotFound,
        Self::PermissionDenied,
        Self::OperationNotAllowed,
        Self::IncompatibleKey,
        Self::InvalidPath,
        Self::InvalidMnemonic,
        Self::InvalidKeyMaterial,
        Self::InvalidArgument,
        Self::AliasExists,
        Self::UsageLimitExceeded,
        Self::PathNotAllowed,
        Self::DecryptionFailed,
        Self::SealerUnavailable,
        Self::SealerKeyInvalidated,
        Self::CorruptKeyRecord,
        Self::StorageFailure,
        Self::SelfTestFailed,
        Self::UnsupportedVersion,
        Self::Unavailable,
        Self::Internal,
    ];

    /// The stable number of this code.
    pub fn as_u32(self) -> u32 {
        self as u32
    }

    /// The code with this number, if any.
    pub fn from_u32(value: u32) -> Option<Self> {
        Self::ALL.iter().copied().find(|c| c.as_u32() == value)
    }

    /// A stable, machine-readable name (`SCREAMING_SNAKE_CASE`, as in the proto).
    pub fn name(self) -> &'static str {
        match self {
            Self::MalformedRequest => "MALFORMED_REQUEST",
            Self::RequestTooLarge => "REQUEST_TOO_LARGE",
            Self::UnsupportedOperation => "UNSUPPORTED_OPERATION",
            Self::KeyNotFound => "KEY_NOT_FOUND",
            Self::PermissionDenied => "PERMISSION_DENIED",
            Self::OperationNotAllowed => "OPERATION_NOT_ALLOWED",
            Self::IncompatibleKey => "INCOMPATIBLE_KEY",
            Self::InvalidPath => "INVALID_PATH",
            Self::InvalidMnemonic => "INVALID_MNEMONIC",
            Self::InvalidKeyMaterial => "INVALID_KEY_MATERIAL",
            Self::InvalidArgument => "INVALID_ARGUMENT",
            Self::AliasExists => "ALIAS_EXISTS",
            Self::UsageLimitExceeded => "USAGE_LIMIT_EXCEEDED",
            Self::PathNotAllowed => "PATH_NOT_ALLOWED",
            Self::DecryptionFailed => "DECRYPTION_FAILED",
            Self::SealerUnavailable => "SEALER_UNAVAILABLE",
            Self::SealerKeyInvalidated => "SEALER_KEY_INVALIDATED",
            Self::CorruptKeyRecord => "CORRUPT_KEY_RECORD",
            Self::StorageFailure => "STORAGE_FAILURE",
            Self::SelfTestFailed => "SELF_TEST_FAILED",
            Self::UnsupportedVersion => "UNSUPPORTED_VERSION",
            Self::Unavailable => "UNAVAILABLE",
            Self::Internal => "INTERNAL",
        }
    }
}

/// Why a sealer (the hardware door) failed. Implementations outside Rust
/// (Android Keystore, Secure Enclave) report one of these kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SealerErrorKind {
    /// Transient failure (hardware busy, IPC failure); a retry may succeed.
    Unavailable,
    /// The wrapping key is gone or permanently invalidated.
    KeyInvalidated,
    /// The sealed blob failed authentication (tampered, moved, wrong AAD).
    AuthenticationFailed,
    /// The wrapping key does not exist (yet). Only [`Sealer::open_key`]
    /// reports it; the engine retries and then, for a store that holds
    /// sealed records, reports [`SealerErrorKind::KeyInvalidated`].
    ///
    /// [`Sealer::open_key`]: crate::Sealer::open_key
    KeyNotFound,
}

/// Everything that can go wrong in the core.
///
/// Messages never contain secret material. Each variant maps to exactly one
/// [`ErrorCode`] through [`Error::code`].
#[derive(Debug, ThisError)]
#[non_exhaustive]
pub enum Error {
    /// The request could not be decoded.
    #[error("malformed request: {0}")]
    MalformedRequest(String),
    /// The request or a field exceeds a size limit.
    #[error("request too large: {what} is {size} bytes, limit {limit}")]
    RequestTooLarge {
        /// What was too large.
        what: &'static str,
        /// Its size in bytes.
        size: usize,
        /// The limit in bytes.
        limit: usize,
    },
    /// No operation was named, or an unknown one.
    #[error("unsupported operation")]
    UnsupportedOperation,
    /// The protocol version is not supported.
    #[error("unsupported protocol version {0}")]
    UnsupportedVersion(u32),
    /// No such key for this caller.
    #[error("key not found: {0}")]
    KeyNotFound(String),
    /// The caller does not match the key's allowed callers.
    #[error("permission denied: {0}")]
    PermissionDenied(String),
    /// The key's policy does not allow this operation.
    #[error("operation {0} not allowed by the key's policy")]
    OperationNotAllowed(&'static str),
    /// The key's algorithm cannot do this.
    #[error("incompatible key: {0}")]
    IncompatibleKey(String),
    /// A bad derivation path.
    #[error("invalid derivation path: {0}")]
    InvalidPath(String),
    /// A path outside the key's allowed prefixes.
    #[error("derivation path {0} is not allowed by the key's policy")]
    PathNotAllowed(String),
    /// A bad mnemonic.
    #[error("invalid mnemonic: {0}")]
    InvalidMnemonic(String),
    /// Key material that does not parse or is not a valid key.
    #[error("invalid key material: {0}")]
    InvalidKeyMaterial(String),
    /// An argument out of range.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// The alias is taken.
    #[error("alias already exists: {0}")]
    AliasExists(String),
    /// The usage limit is reached.
    #[error("usage limit of {0} reached")]
    UsageLimitExceeded(u64),
    /// AEAD decryption failed.
    #[error("decryption failed")]
    DecryptionFailed,
    /// The sealer failed.
    #[error("sealer failure ({kind:?}): {message}")]
    Sealer {
        /// What kind of failure.
        kind: SealerErrorKind,
        /// A description without secrets.
        message: String,
    },
    /// A stored record is corrupt or does not unseal.
    #[error("corrupt key record: {0}")]
    CorruptKeyRecord(String),
    /// The storage backend failed.
    #[error("storage failure: {0}")]
    Storage(#[from] rusqlite::Error),
    /// A storage invariant failed outside SQLite (I/O, lock, schema).
    #[error("storage failure: {0}")]
    StorageOther(String),
    /// A self-test failed.
    #[error("self-test failed: {0}")]
    SelfTestFailed(String),
    /// The engine is locked or shutting down.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// A store refused a write that would break the store contract: a bug
    /// in the engine, never caller input (code `INTERNAL`).
    #[error("store contract violated: {0}")]
    StoreContract(StoreContract),
    /// A bug.
    #[error("internal error: {0}")]
    Internal(String),
}

/// What a [`KeyStore`](crate::KeyStore) refuses to write, because it could
/// not read it back as given or another reader would call it corrupt
/// ([`Error::StoreContract`]). Key ids are [`KeyId::as_u64`](crate::KeyId::as_u64).
#[derive(Debug, Clone, PartialEq, Eq, ThisError)]
#[non_exhaustive]
pub enum StoreContract {
    /// The public key does not have the algorithm's canonical length.
    #[error("key {id}: a {algorithm} public key is {expected} bytes, got {got}")]
    PublicKeyLength {
        /// The key.
        id: u64,
        /// Its algorithm's name.
        algorithm: &'static str,
        /// The canonical length.
        expected: usize,
        /// The length given.
        got: usize,
    },
    /// The HD scheme derives keys of another algorithm.
    #[error("key {id}: {scheme} does not derive {algorithm} keys")]
    HdSchemeMismatch {
        /// The key.
        id: u64,
        /// The scheme's name.
        scheme: &'static str,
        /// The key's algorithm's name.
        algorithm: &'static str,
    },
    /// No sealed secret.
    #[error("key {id}: empty sealed secret")]
    EmptySealedSecret {
        /// The key.
        id: u64,
    },
    /// Sealed under a schema version this store does not know.
    #[error("key {id}: sealed under unknown schema version {version}")]
    UnknownSchemaVersion {
        /// The key.
        id: u64,
        /// The version given.
        version: u32,
    },
    /// The key id is already taken (ids are random; the engine retries).
    #[error("key id {id} already exists")]
    DuplicateKeyId {
        /// The key.
        id: u64,
    },
    /// An audit record does not carry the next sequence number.
    #[error("audit record seq {seq} does not follow seq {last}")]
    AuditOutOfSequence {
        /// The record's seq.
        seq: u64,
        /// The seq of the log's last record (0 for an empty log).
        last: u64,
    },
    /// An audit record does not link to the previous hash or does not
    /// carry its own correct hash.
    #[error("audit record seq {seq} does not link to the log")]
    AuditNotLinked {
        /// The record's seq.
        seq: u64,
    },
}

impl Error {
    /// The stable wire code of this error: the one mapping table.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::MalformedRequest(_) => ErrorCode::MalformedRequest,
            Self::RequestTooLarge { .. } => ErrorCode::RequestTooLarge,
            Self::UnsupportedOperation => ErrorCode::UnsupportedOperation,
            Self::UnsupportedVersion(_) => ErrorCode::UnsupportedVersion,
            Self::KeyNotFound(_) => ErrorCode::KeyNotFound,
            Self::PermissionDenied(_) => ErrorCode::PermissionDenied,
            Self::OperationNotAllowed(_) => ErrorCode::OperationNotAllowed,
            Self::IncompatibleKey(_) => ErrorCode::IncompatibleKey,
            Self::InvalidPath(_) => ErrorCode::InvalidPath,
            Self::PathNotAllowed(_) => ErrorCode::PathNotAllowed,
            Self::InvalidMnemonic(_) => ErrorCode::InvalidMnemonic,
            Self::InvalidKeyMaterial(_) => ErrorCode::InvalidKeyMaterial,
            Self::InvalidArgument(_) => ErrorCode::InvalidArgument,
            Self::AliasExists(_) => ErrorCode::AliasExists,
            Self::UsageLimitExceeded(_) => ErrorCode::UsageLimitExceeded,
            Self::DecryptionFailed => ErrorCode::DecryptionFailed,
            Self::Sealer { kind, .. } => match kind {
                SealerErrorKind::Unavailable => ErrorCode::SealerUnavailable,
                SealerErrorKind::KeyInvalidated | SealerErrorKind::KeyNotFound => {
                    ErrorCode::SealerKeyInvalidated
                }
                SealerErrorKind::AuthenticationFailed => ErrorCode::CorruptKeyRecord,
            },
            Self::CorruptKeyRecord(_) => ErrorCode::CorruptKeyRecord,
            Self::Storage(_) | Self::StorageOther(_) => ErrorCode::StorageFailure,
            Self::SelfTestFailed(_) => ErrorCode::SelfTestFailed,
            Self::Unavailable(_) => ErrorCode::Unavailable,
            Self::StoreContract(_) | Self::Internal(_) => ErrorCode::Internal,
        }
    }

    /// Shorthand for a sealer failure.
    pub fn sealer(kind: SealerErrorKind, message: impl Into<String>) -> Self {
        Self::Sealer {
            kind,
            message: message.into(),
        }
    }
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests;
