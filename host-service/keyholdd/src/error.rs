//! The daemon's error type.

use std::path::PathBuf;

/// Why the daemon could not start (or stopped abnormally).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DaemonError {
    /// The engine could not open the store (self-test failure, bad key
    /// file, database locked by another daemon...).
    #[error("cannot open the key store in {}: {source}", dir.display())]
    Engine {
        /// The data directory.
        dir: PathBuf,
        /// The core's error.
        source: keyhold_core::Error,
    },
    /// Another daemon already serves this socket.
    #[error("another keyholdd is already serving {}", .0.display())]
    AlreadyRunning(PathBuf),
    /// A directory or file has unsafe ownership or permissions.
    #[error("refusing {}: {why}", path.display())]
    Insecure {
        /// The offending path.
        path: PathBuf,
        /// What is wrong with it.
        why: String,
    },
    /// A system call failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The OS error.
        source: std::io::Error,
    },
}

impl DaemonError {
    pub(crate) fn io(what: impl Into<String>, source: impl Into<std::io::Error>) -> Self {
        Self::Io {
            what: what.into(),
            source: source.into(),
        }
    }
}
