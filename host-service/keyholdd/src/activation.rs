//! systemd integration: socket activation (`sd_listen_fds(3)`: the listening
//! socket arrives as descriptor 3 with `LISTEN_PID`/`LISTEN_FDS` set) and
//! readiness (`sd_notify(3)`: `READY=1` on the datagram socket named by
//! `NOTIFY_SOCKET`). Units: `host-service/systemd/`.
#![allow(unsafe_code)]

use crate::DaemonError;
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::net::{UnixDatagram, UnixListener};
use std::sync::atomic::{AtomicBool, Ordering};

/// `SD_LISTEN_FDS_START`: the first passed descriptor.
const LISTEN_FDS_START: i32 = 3;

/// The descriptor can be taken once per process.
static TAKEN: AtomicBool = AtomicBool::new(false);

/// The listening socket passed by systemd (or `systemd-socket-activate`),
/// if this process was socket-activated. Exactly one stream Unix socket
/// that is listening is accepted; anything else is an error.
pub(crate) fn listener() -> Result<Option<UnixListener>, DaemonError> {
    let var = |name: &str| std::env::var(name).ok();
    let (Some(pid), Some(fds)) = (var("LISTEN_PID"), var("LISTEN_FDS")) else {
        return Ok(None);
    };
    // For another process (an ancestor's variables were inherited): ignore.
    if pid.trim() != std::process::id().to_string() {
        return Ok(None);
    }
    let bad = |why: String| DaemonError::Insecure {
        path: "LISTEN_FDS".into(),
        why,
    };
    if fds.trim() != "1" {
        return Err(bad(format!(
            "expected exactly one socket from systemd, got LISTEN_FDS={fds}"
        )));
    }
    if TAKEN.swap(true, Ordering::AcqRel) {
        return Err(bad("the activation socket was already taken".into()));
    }
    // SAFETY: per sd_listen_fds(3), when LISTEN_PID names this process,
    // descriptors LISTEN_FDS_START.. LISTEN_FDS_START+LISTEN_FDS-1 are open
    // and handed to it; nothing else in this process owns descriptor 3
    // (the daemon opens no files before this call, and TAKEN makes this the
    // only owner). If it is not what we expect it is closed below.
    let fd = unsafe { OwnedFd::from_raw_fd(LISTEN_FDS_START) };
    use rustix::net::{AddressFamily, SocketType, sockopt};
    let is_socket = rustix::fs::fstat(&fd)
        .is_ok_and(|st| rustix::fs::FileType::from_raw_mode(st.st_mode).is_socket());
    if !is_socket
        || sockopt::socket_domain(&fd).ok() != Some(AddressFamily::UNIX)
        || sockopt::socket_type(&fd).ok() != Some(SocketType::STREAM)
        || !sockopt::socket_acceptconn(&fd).unwrap_or(false)
    {
        return Err(bad(
            "descriptor 3 is not a listening Unix stream socket".into()
        ));
    }
    rustix::io::fcntl_setfd(&fd, rustix::io::FdFlags::CLOEXEC)
        .map_err(|e| DaemonError::io("fcntl(3, FD_CLOEXEC)", std::io::Error::from(e)))?;
    Ok(Some(UnixListener::from(fd)))
}

/// Tells the service manager about a state change (`READY=1`,
/// `STOPPING=1`, `STATUS=...`); does nothing without `NOTIFY_SOCKET`.
pub(crate) fn notify(state: &str) {
    let Some(target) = std::env::var_os("NOTIFY_SOCKET") else {
        return;
    };
    let Ok(sock) = UnixDatagram::unbound() else {
        return;
    };
    let bytes = target.as_encoded_bytes();
    let _ = if let Some(name) = bytes.strip_prefix(b"@") {
        // An abstract socket (the form systemd itself uses).
        use std::os::linux::net::SocketAddrExt;
        std::os::unix::net::SocketAddr::from_abstract_name(name)
            .and_then(|addr| sock.send_to_addr(state.as_bytes(), &addr))
    } else {
        sock.send_to(state.as_bytes(), &target)
    };
}
