//! Where the daemon keeps its data and its socket (XDG base directories).
//!
//! - data directory: `--data-dir`, else `$KEYHOLD_DATA_DIR` (read by the
//!   command-line parsers), else `$XDG_DATA_HOME/keyhold`, else
//!   `~/.local/share/keyhold`;
//! - socket: `--socket`, else `$KEYHOLD_SOCKET`, else — when the data
//!   directory was named explicitly — `<data-dir>/keyhold.sock` (so two data
//!   directories never share a socket), else
//!   `$XDG_RUNTIME_DIR/keyhold/keyhold.sock`, else `<data-dir>/keyhold.sock`.

use crate::error::{ClientError, Result};
use std::path::{Path, PathBuf};

/// File name of the socket.
pub const SOCKET_NAME: &str = "keyhold.sock";

/// The resolved pair of paths a client and a daemon agree on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// The Unix socket.
    pub socket: PathBuf,
    /// The daemon's data directory.
    pub data_dir: PathBuf,
}

impl Endpoint {
    /// Resolves explicit choices (already merged with the environment by
    /// the caller's argument parser) against the XDG defaults.
    pub fn resolve(socket: Option<PathBuf>, data_dir: Option<PathBuf>) -> Result<Self> {
        let var = |name: &str| {
            std::env::var_os(name)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        Self::resolve_with(socket, data_dir, &var)
    }

    /// [`Endpoint::resolve`] with an explicit environment lookup (tests).
    pub fn resolve_with(
        socket: Option<PathBuf>,
        data_dir: Option<PathBuf>,
        env: &dyn Fn(&str) -> Option<PathBuf>,
    ) -> Result<Self> {
        let explicit_data_dir = data_dir.is_some();
        let data_dir = match data_dir {
            Some(d) => d,
            None => default_data_dir(env)?,
        };
        let data_dir = absolute(&data_dir)?;
        let socket = match socket {
            Some(s) => s,
            None if explicit_data_dir => data_dir.join(SOCKET_NAME),
            None => match env("XDG_RUNTIME_DIR").filter(|p| p.is_absolute()) {
                Some(run) => run.join("keyhold").join(SOCKET_NAME),
                None => data_dir.join(SOCKET_NAME),
            },
        };
        Ok(Self {
            socket: absolute(&socket)?,
            data_dir,
        })
    }
}

fn default_data_dir(env: &dyn Fn(&str) -> Option<PathBuf>) -> Result<PathBuf> {
    if let Some(xdg) = env("XDG_DATA_HOME").filter(|p| p.is_absolute()) {
        return Ok(xdg.join("keyhold"));
    }
    match env("HOME").filter(|p| p.is_absolute()) {
        Some(home) => Ok(home.join(".local/share/keyhold")),
        None => Err(ClientError::Argument(
            "no data directory: set --data-dir, KEYHOLD_DATA_DIR, XDG_DATA_HOME or HOME".into(),
        )),
    }
}

fn absolute(path: &Path) -> Result<PathBuf> {
    std::path::absolute(path).map_err(|e| ClientError::Argument(format!("{}: {e}", path.display())))
}

/// Opens (creating it 0600 when missing) a file the daemon or a tool writes
/// next to its data: a log, a pid file. The final component must not be a
/// symbolic link (`O_NOFOLLOW`: the open fails with `ELOOP`), and the file
/// opened must be a regular file owned by this user with a single link, so
/// a name planted in a shared (sticky, world-writable) directory can neither
/// redirect the write elsewhere nor hand over another user's file.
pub fn open_private_file(path: &Path, append: bool) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
    let flags = rustix::fs::OFlags::NOFOLLOW | rustix::fs::OFlags::CLOEXEC;
    let file = std::fs::OpenOptions::new()
        .read(!append)
        .write(true)
        .append(append)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .custom_flags(i32::try_from(flags.bits()).unwrap_or(0))
        .open(path)?;
    let meta = file.metadata()?;
    let me = rustix::process::geteuid().as_raw();
    let why = if !meta.file_type().is_file() {
        Some("not a regular file".to_owned())
    } else if meta.uid() != me {
        Some(format!(
            "owned by uid {}, not by this user ({me})",
            meta.uid()
        ))
    } else if meta.nlink() != 1 {
        Some(format!("has {} hard links", meta.nlink()))
    } else {
        None
    };
    match why {
        None => Ok(file),
        Some(why) => Err(std::io::Error::new(
            std::io::ErrorKind::PermissionDenied,
            format!("refusing {}: {why}", path.display()),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<PathBuf> {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| PathBuf::from(v))
        }
    }

    #[test]
    fn xdg_defaults() {
        let env = env_of(&[
            ("XDG_DATA_HOME", "/d"),
            ("XDG_RUNTIME_DIR", "/run/user/7"),
            ("HOME", "/h"),
        ]);
        let e = Endpoint::resolve_with(None, None, &env).unwrap();
        assert_eq!(e.data_dir, PathBuf::from("/d/keyhold"));
        assert_eq!(e.socket, PathBuf::from("/run/user/7/keyhold/keyhold.sock"));
    }

    #[test]
    fn home_fallbacks() {
        let env = env_of(&[("HOME", "/home/u")]);
        let e = Endpoint::resolve_with(None, None, &env).unwrap();
        assert_eq!(e.data_dir, PathBuf::from("/home/u/.local/share/keyhold"));
        assert_eq!(
            e.socket,
            PathBuf::from("/home/u/.local/share/keyhold/keyhold.sock")
        );
        assert!(Endpoint::resolve_with(None, None, &env_of(&[])).is_err());
    }

    #[test]
    fn relative_xdg_values_are_ignored() {
        let env = env_of(&[
            ("XDG_DATA_HOME", "rel"),
            ("XDG_RUNTIME_DIR", "rel2"),
            ("HOME", "/h"),
        ]);
        let e = Endpoint::resolve_with(None, None, &env).unwrap();
        assert_eq!(e.data_dir, PathBuf::from("/h/.local/share/keyhold"));
        assert_eq!(
            e.socket,
            PathBuf::from("/h/.local/share/keyhold/keyhold.sock")
        );
    }

    #[test]
    fn an_explicit_data_dir_owns_its_socket() {
        let env = env_of(&[("XDG_RUNTIME_DIR", "/run/user/7"), ("HOME", "/h")]);
        let e = Endpoint::resolve_with(None, Some("/tmp/kh".into()), &env).unwrap();
        assert_eq!(e.socket, PathBuf::from("/tmp/kh/keyhold.sock"));
        let e =
            Endpoint::resolve_with(Some("/s/x.sock".into()), Some("/tmp/kh".into()), &env).unwrap();
        assert_eq!(e.socket, PathBuf::from("/s/x.sock"));
    }

    #[test]
    fn relative_paths_become_absolute() {
        let env = env_of(&[("HOME", "/h")]);
        let e = Endpoint::resolve_with(Some("s.sock".into()), Some("data".into()), &env).unwrap();
        assert!(e.socket.is_absolute() && e.socket.ends_with("s.sock"));
        assert!(e.data_dir.is_absolute() && e.data_dir.ends_with("data"));
    }
}
