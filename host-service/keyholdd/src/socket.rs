//! Creating the listening socket safely, and removing it on the way out.

use crate::DaemonError;
use std::fs::{self, DirBuilder, File, Permissions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, MetadataExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};

/// The bound socket; dropping it removes the socket file (if it is still
/// ours) and the pid file.
#[derive(Debug)]
pub(crate) struct BoundSocket {
    pub listener: UnixListener,
    path: PathBuf,
    identity: (u64, u64),
    /// The pid file and its lock; `None` for a socket passed by systemd
    /// (which then owns the socket file: it is never removed here).
    pid_file: Option<(PathBuf, File)>,
}

impl BoundSocket {
    /// A listening socket passed by the service manager.
    pub(crate) fn activated(listener: UnixListener) -> Self {
        let path = listener
            .local_addr()
            .ok()
            .and_then(|a| a.as_pathname().map(Path::to_owned))
            .unwrap_or_else(|| PathBuf::from("(socket from systemd)"));
        Self {
            listener,
            path,
            identity: (0, 0),
            pid_file: None,
        }
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Removes the socket file now (so no new client can connect) if it is
    /// still the one this daemon created.
    pub(crate) fn unlink(&self) {
        if self.pid_file.is_none() {
            return;
        }
        if let Ok(m) = fs::symlink_metadata(&self.path)
            && (m.dev(), m.ino()) == self.identity
        {
            let _ = fs::remove_file(&self.path);
        }
    }
}

impl Drop for BoundSocket {
    fn drop(&mut self) {
        self.unlink();
        if let Some((path, _)) = &self.pid_file {
            let _ = fs::remove_file(path);
        }
    }
}

/// Path of the pid/lock file that sits next to a socket.
pub fn pid_file_path(socket: &Path) -> PathBuf {
    let mut name = socket.as_os_str().to_owned();
    name.push(".pid");
    PathBuf::from(name)
}

/// Ensures `dir` exists with `mode`, or, if it exists, that no one else
/// can write into it (which would let them replace the socket). A symbolic
/// link is refused, never followed: the checks and the `chmod` of a new
/// directory run on a descriptor opened with `O_NOFOLLOW | O_DIRECTORY`.
pub(crate) fn ensure_private_dir(dir: &Path, mode: u32) -> Result<(), DaemonError> {
    let created = match fs::symlink_metadata(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            DirBuilder::new()
                .recursive(true)
                .mode(mode)
                .create(dir)
                .map_err(|e| DaemonError::io(format!("cannot create {}", dir.display()), e))?;
            true
        }
        Err(e) => return Err(DaemonError::io(format!("cannot stat {}", dir.display()), e)),
        Ok(_) => false,
    };
    let fd = rustix::fs::open(
        dir,
        rustix::fs::OFlags::RDONLY
            | rustix::fs::OFlags::DIRECTORY
            | rustix::fs::OFlags::NOFOLLOW
            | rustix::fs::OFlags::CLOEXEC,
        rustix::fs::Mode::empty(),
    )
    .map_err(|e| match e {
        rustix::io::Errno::LOOP | rustix::io::Errno::NOTDIR => DaemonError::Insecure {
            path: dir.to_owned(),
            why: "not a directory (a symbolic link is never followed)".into(),
        },
        e => DaemonError::io(
            format!("cannot open {}", dir.display()),
            std::io::Error::from(e),
        ),
    })?;
    let st = rustix::fs::fstat(&fd).map_err(|e| {
        DaemonError::io(
            format!("cannot stat {}", dir.display()),
            std::io::Error::from(e),
        )
    })?;
    let me = rustix::process::geteuid().as_raw();
    if created {
        if st.st_uid != me {
            return Err(DaemonError::Insecure {
                path: dir.to_owned(),
                why: format!("created, but owned by uid {}", st.st_uid),
            });
        }
        // The umask may have removed bits we asked for.
        return rustix::fs::fchmod(&fd, rustix::fs::Mode::from_raw_mode(mode)).map_err(|e| {
            DaemonError::io(
                format!("cannot chmod {}", dir.display()),
                std::io::Error::from(e),
            )
        });
    }
    if st.st_uid != me && st.st_uid != 0 {
        return Err(DaemonError::Insecure {
            path: dir.to_owned(),
            why: format!(
                "owned by uid {}, not by this user ({me}) or root",
                st.st_uid
            ),
        });
    }
    if st.st_mode & 0o022 != 0 && st.st_mode & 0o1000 == 0 {
        return Err(DaemonError::Insecure {
            path: dir.to_owned(),
            why: format!(
                "mode {:04o} lets other users replace files in it",
                st.st_mode & 0o7777
            ),
        });
    }
    Ok(())
}

/// Refuses a data directory that holds a symbolic link: the store's files
/// (database, its `-wal`/`-shm`/`.lock`, the sealer key) are opened by the
/// core by name, so none of them may be a link planted to redirect a write.
pub(crate) fn refuse_symlinks_in(dir: &Path) -> Result<(), DaemonError> {
    let entries = fs::read_dir(dir)
        .map_err(|e| DaemonError::io(format!("cannot list {}", dir.display()), e))?;
    for entry in entries {
        let entry =
            entry.map_err(|e| DaemonError::io(format!("cannot list {}", dir.display()), e))?;
        let kind = entry
            .file_type()
            .map_err(|e| DaemonError::io(format!("cannot stat {}", entry.path().display()), e))?;
        if kind.is_symlink() {
            return Err(DaemonError::Insecure {
                path: entry.path(),
                why: "a symbolic link in the data directory (never followed)".into(),
            });
        }
    }
    Ok(())
}

/// Binds the socket at `path` with permission bits `mode`.
///
/// The parent directory is created 0700 (0711 when `mode` lets others
/// connect). A `<socket>.pid` file is locked first, so a second daemon for
/// the same socket fails instead of stealing it; a leftover socket of a
/// dead daemon is replaced. The socket is bound under a temporary name,
/// chmod-ed and renamed into place, so it never exists with looser
/// permissions than asked.
pub(crate) fn bind(path: &Path, mode: u32) -> Result<BoundSocket, DaemonError> {
    let parent = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .ok_or_else(|| DaemonError::Insecure {
            path: path.to_owned(),
            why: "the socket path has no directory".into(),
        })?;
    let dir_mode = if mode & 0o077 != 0 { 0o711 } else { 0o700 };
    ensure_private_dir(parent, dir_mode)?;

    let pid_path = pid_file_path(path);
    // O_NOFOLLOW, and our own regular file: the directory may be shared.
    let mut pid_file = keyhold_client::paths::open_private_file(&pid_path, false)
        .map_err(|e| DaemonError::io(format!("cannot open {}", pid_path.display()), e))?;
    match pid_file.try_lock() {
        Ok(()) => {}
        Err(fs::TryLockError::WouldBlock) => {
            return Err(DaemonError::AlreadyRunning(path.to_owned()));
        }
        Err(fs::TryLockError::Error(e)) => {
            return Err(DaemonError::io(
                format!("cannot lock {}", pid_path.display()),
                e,
            ));
        }
    }
    pid_file
        .set_len(0)
        .and_then(|()| writeln!(pid_file, "{}", std::process::id()))
        .map_err(|e| DaemonError::io(format!("cannot write {}", pid_path.display()), e))?;

    match fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_socket() => {
            if UnixStream::connect(path).is_ok() {
                return Err(DaemonError::AlreadyRunning(path.to_owned()));
            }
            // A dead daemon's socket: the rename below replaces it.
        }
        Ok(_) => {
            return Err(DaemonError::Insecure {
                path: path.to_owned(),
                why: "exists and is not a socket".into(),
            });
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => {
            return Err(DaemonError::io(
                format!("cannot stat {}", path.display()),
                e,
            ));
        }
    }

    let tmp = parent.join(format!(".keyhold.{}.sock.tmp", std::process::id()));
    let _ = fs::remove_file(&tmp);
    let listener = UnixListener::bind(&tmp)
        .map_err(|e| DaemonError::io(format!("cannot bind {}", tmp.display()), e))?;
    // bind(2) never follows a link (a planted one makes it fail with
    // EADDRINUSE); check it is our socket before the chmod by name.
    let ours = fs::symlink_metadata(&tmp)
        .is_ok_and(|m| m.file_type().is_socket() && m.uid() == rustix::process::geteuid().as_raw());
    if !ours {
        return Err(DaemonError::Insecure {
            path: tmp,
            why: "the bound socket was replaced".into(),
        });
    }
    let placed = fs::set_permissions(&tmp, Permissions::from_mode(mode))
        .and_then(|()| fs::rename(&tmp, path));
    if let Err(e) = placed {
        let _ = fs::remove_file(&tmp);
        return Err(DaemonError::io(
            format!("cannot place the socket at {}", path.display()),
            e,
        ));
    }
    let m = fs::symlink_metadata(path)
        .map_err(|e| DaemonError::io(format!("cannot stat {}", path.display()), e))?;
    Ok(BoundSocket {
        listener,
        path: path.to_owned(),
        identity: (m.dev(), m.ino()),
        pid_file: Some((pid_path, pid_file)),
    })
}

#[cfg(test)]
mod tests;
