//! The client's error type and the CLI exit-status table.

use keyhold_core::ErrorCode;
use std::path::PathBuf;

/// Exit status for connection and usage problems (anything that is not a
/// service error code).
pub const EXIT_FAILURE: u8 = 1;

/// The process exit status for a service error: `64 + code`, capped at 125
/// (the codes are the stable `ErrorCode` numbers, so statuses never change).
pub fn exit_status(code: ErrorCode) -> u8 {
    u8::try_from((64 + code.as_u32()).min(125)).unwrap_or(125)
}

/// What can go wrong talking to `keyholdd`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The socket could not be reached.
    #[error("cannot connect to keyholdd at {}: {source}", path.display())]
    Connect {
        /// The socket path.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Reading or writing the socket failed (daemon gone, timeout).
    #[error("I/O error talking to keyholdd: {0}")]
    Io(#[from] std::io::Error),
    /// The service refused the request with a stable error code.
    #[error("{} ({}): {message}", code.name(), code.as_u32())]
    Service {
        /// The stable code.
        code: ErrorCode,
        /// The service's message (never contains secrets).
        message: String,
    },
    /// The service answered something this client cannot understand.
    #[error("protocol error: {0}")]
    Protocol(String),
    /// A local argument was invalid before anything was sent.
    #[error("invalid argument: {0}")]
    Argument(String),
}

impl ClientError {
    /// The service's error code, when the service answered with one.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            Self::Service { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// The exit status a command-line tool should end with.
    pub fn exit_status(&self) -> u8 {
        self.code().map_or(EXIT_FAILURE, exit_status)
    }
}

/// The client's result type.
pub type Result<T, E = ClientError> = std::result::Result<T, E>;
