//! Who is on the other end of a connection.
//!
//! The daemon never trusts what a client says about itself. For each
//! connection it establishes:
//!
//! 1. `SO_PEERCRED`: uid, gid and pid of the process that called
//!    `connect()`, recorded by the kernel at that moment.
//! 2. A pidfd for that process. With `SO_PEERPIDFD` (Linux 6.5+) the kernel
//!    hands over a pidfd for exactly the connecting process, so pid reuse
//!    cannot substitute another one. On older kernels the daemon falls back
//!    to `pidfd_open(pid)` and refuses a process that started after the
//!    connection was accepted (which narrows, but does not close, the window
//!    between `connect()` and `pidfd_open()`).
//! 3. `/proc/<pid>` is opened and the pidfd polled: a process that is still
//!    alive after the directory was opened is the one the pidfd names, so
//!    the directory belongs to the peer.
//! 4. The executable is opened through that directory (`exe`) and hashed
//!    with SHA-256. Digests are cached by (device, inode, size, mtime, ctime)
//!    so a binary is hashed once, not per connection.
//! 5. After hashing, the pidfd is polled again and `exe` is stat-ed again:
//!    if the peer exited, or `execve`d another file meanwhile, no digest is
//!    given and keys bound to a binary refuse the caller.
//!
//! Remaining limits (documented, not fixable from here):
//! - The digest names the program the connecting process runs when it is
//!   identified, not whoever writes to the socket later: a same-uid process
//!   can hand the connected descriptor to another program (fork/exec,
//!   `SCM_RIGHTS`) or `execve` after identification. Binding a key to a
//!   binary keeps *other programs of the same user that open their own
//!   connection* away from it; it is not a boundary against a same-uid
//!   attacker who can also ptrace the trusted program.
//! - Interpreted programs are identified by their interpreter.
//! - A daemon running as an ordinary user cannot read `/proc/<pid>/exe` of
//!   other users' (or non-dumpable) processes; those callers get no digest.
//! - A peer in another pid namespace that the daemon cannot see has pid 0
//!   and gets no digest.

use keyhold_core::{Caller, CodeDigest};
use rustix::event::{PollFd, PollFlags, Timespec, poll};
use rustix::fs::{AtFlags, CWD, Mode, OFlags, Stat, fstat, openat, statat};
use rustix::process::{Pid, PidfdFlags, pidfd_open};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Most executable digests kept.
const CACHE_CAPACITY: usize = 1024;

/// How the peer's process was pinned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PidfdSource {
    /// `SO_PEERPIDFD`: the kernel's pidfd for the connecting process.
    PeerPidfd,
    /// `pidfd_open(pid)` after `SO_PEERCRED` (older kernels).
    PidfdOpen,
}

/// The established identity of a peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerIdentity {
    /// User id at `connect()`.
    pub uid: u32,
    /// Group id at `connect()`.
    pub gid: u32,
    /// Process id (0 if not visible from the daemon's pid namespace).
    pub pid: u32,
    /// SHA-256 of the peer's executable, when it could be established.
    pub exe_sha256: Option<CodeDigest>,
    /// Why there is no digest (for the log).
    pub exe_unknown_reason: Option<String>,
    /// How the process was pinned.
    pub pidfd: Option<PidfdSource>,
}

impl PeerIdentity {
    /// The core's caller for this peer.
    pub fn caller(&self) -> Caller {
        Caller::Unix {
            uid: self.uid,
            gid: self.gid,
            pid: self.pid,
            exe_sha256: self.exe_sha256,
        }
    }
}

/// What makes a cached digest still valid: the file's identity and every
/// timestamp a writer cannot preserve (ctime changes on any write/chmod).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct FileKey {
    dev: u64,
    ino: u64,
    size: i64,
    mtime: (i64, u64),
    ctime: (i64, u64),
}

impl FileKey {
    fn of(st: &Stat) -> Self {
        Self {
            dev: st.st_dev,
            ino: st.st_ino,
            size: st.st_size,
            mtime: (st.st_mtime, st.st_mtime_nsec),
            ctime: (st.st_ctime, st.st_ctime_nsec),
        }
    }
}

/// Executable digests by file identity. Concurrent first connections from
/// the same binary hash it once (the others wait for that digest).
#[derive(Debug, Default)]
pub struct DigestCache {
    map: Mutex<HashMap<FileKey, Arc<Mutex<Option<CodeDigest>>>>>,
}

impl DigestCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// The digest of `file` (identified by `key`), computed at most once.
    fn get_or_hash(&self, key: FileKey, file: File) -> io::Result<CodeDigest> {
        let slot = {
            let mut map = self
                .map
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if map.len() >= CACHE_CAPACITY && !map.contains_key(&key) {
                map.clear();
            }
            Arc::clone(map.entry(key).or_default())
        };
        let mut digest = slot
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(d) = *digest {
            return Ok(d);
        }
        let d = hash_file(file)?;
        *digest = Some(d);
        Ok(d)
    }

    /// Number of cached digests.
    pub fn len(&self) -> usize {
        self.map.lock().map(|m| m.len()).unwrap_or(0)
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Establishes the identity of the peer of `stream`. `accepted_at` is the
/// `CLOCK_BOOTTIME` instant at which the connection was accepted (see
/// [`boottime_now`]). Fails only when `SO_PEERCRED` itself fails; every
/// later problem leaves the digest unknown.
pub fn identify(
    stream: &UnixStream,
    cache: &DigestCache,
    accepted_at: Duration,
) -> io::Result<PeerIdentity> {
    let cred = rustix::net::sockopt::socket_peercred(stream)?;
    let mut identity = PeerIdentity {
        uid: cred.uid.as_raw(),
        gid: cred.gid.as_raw(),
        pid: u32::try_from(Pid::as_raw(Some(cred.pid))).unwrap_or(0),
        exe_sha256: None,
        exe_unknown_reason: None,
        pidfd: None,
    };
    match executable_digest(stream, identity.pid, cache, accepted_at) {
        Ok((digest, source)) => {
            identity.exe_sha256 = Some(digest);
            identity.pidfd = Some(source);
        }
        Err(reason) => identity.exe_unknown_reason = Some(reason),
    }
    Ok(identity)
}

/// `CLOCK_BOOTTIME` now (the clock `/proc/<pid>/stat` start times use).
pub fn boottime_now() -> Duration {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::Boottime);
    Duration::new(
        u64::try_from(t.tv_sec).unwrap_or(0),
        u32::try_from(t.tv_nsec).unwrap_or(0),
    )
}

fn executable_digest(
    stream: &UnixStream,
    pid: u32,
    cache: &DigestCache,
    accepted_at: Duration,
) -> Result<(CodeDigest, PidfdSource), String> {
    if pid == 0 {
        return Err("peer process is not visible in this pid namespace".into());
    }
    let (pidfd, source) = pin_process(stream, pid, accepted_at)?;
    let proc_dir = openat(
        CWD,
        format!("/proc/{pid}"),
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| format!("cannot open /proc/{pid}: {e}"))?;
    if has_exited(&pidfd)? {
        return Err("peer exited before it could be identified".into());
    }
    // proc_dir was opened while the pinned process was alive: it is that process.
    let exe: OwnedFd = openat(
        &proc_dir,
        "exe",
        OFlags::RDONLY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| format!("cannot open the peer's executable: {e}"))?;
    let key =
        FileKey::of(&fstat(&exe).map_err(|e| format!("cannot stat the peer's executable: {e}"))?);
    let digest = cache
        .get_or_hash(key, File::from(exe))
        .map_err(|e| format!("cannot hash the peer's executable: {e}"))?;
    // Re-check: same process, still alive, still running the file we hashed.
    if has_exited(&pidfd)? {
        return Err("peer exited while it was being identified".into());
    }
    let now = statat(&proc_dir, "exe", AtFlags::empty())
        .map_err(|e| format!("peer changed during identification: {e}"))?;
    if now.st_dev != key.dev || now.st_ino != key.ino {
        return Err("peer executed another program while it was being identified".into());
    }
    Ok((digest, source))
}

/// A pidfd for the connecting process.
fn pin_process(
    stream: &UnixStream,
    pid: u32,
    accepted_at: Duration,
) -> Result<(OwnedFd, PidfdSource), String> {
    match nix::sys::socket::getsockopt(stream, nix::sys::socket::sockopt::PeerPidfd) {
        Ok(fd) => {
            // The pidfd names the connecting process; its pid must agree with SO_PEERCRED.
            match pidfd_pid(&fd) {
                Some(p) if p == i64::from(pid) => Ok((fd, PidfdSource::PeerPidfd)),
                Some(-1) => Err("peer exited before it could be identified".into()),
                other => Err(format!(
                    "SO_PEERPIDFD names pid {other:?}, SO_PEERCRED pid {pid}"
                )),
            }
        }
        Err(nix::errno::Errno::ENOPROTOOPT | nix::errno::Errno::EINVAL) => {
            pin_by_pid(pid, accepted_at).map(|fd| (fd, PidfdSource::PidfdOpen))
        }
        Err(e) => Err(format!("SO_PEERPIDFD: {e}")),
    }
}

/// The fallback without `SO_PEERPIDFD`: `pidfd_open(pid)`, refusing a
/// process that started after the connection was accepted (it cannot be
/// the one that connected).
fn pin_by_pid(pid: u32, accepted_at: Duration) -> Result<OwnedFd, String> {
    let raw = i32::try_from(pid).map_err(|_| "pid out of range".to_owned())?;
    let p = Pid::from_raw(raw).ok_or_else(|| "pid 0".to_owned())?;
    let fd = pidfd_open(p, PidfdFlags::empty()).map_err(|e| format!("pidfd_open({pid}): {e}"))?;
    let started =
        process_start(pid).ok_or_else(|| format!("cannot read the start time of pid {pid}"))?;
    if started > accepted_at {
        return Err(format!(
            "pid {pid} was reused after the connection was made"
        ));
    }
    Ok(fd)
}

/// The pid a pidfd refers to, from `/proc/self/fdinfo` (-1 once it exited).
fn pidfd_pid(fd: &OwnedFd) -> Option<i64> {
    let info = std::fs::read_to_string(format!("/proc/self/fdinfo/{}", fd.as_raw_fd())).ok()?;
    info.lines()
        .find_map(|l| l.strip_prefix("Pid:"))
        .and_then(|v| v.trim().parse().ok())
}

/// True once the process behind `pidfd` has exited (pidfds poll readable).
fn has_exited(pidfd: &OwnedFd) -> Result<bool, String> {
    let mut fds = [PollFd::new(pidfd, PollFlags::IN)];
    let zero = Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    let n = poll(&mut fds, Some(&zero)).map_err(|e| format!("poll(pidfd): {e}"))?;
    Ok(n > 0)
}

/// Start time of a process since boot (field 22 of `/proc/<pid>/stat`).
fn process_start(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may contain spaces and parentheses.
    let after_comm = &stat[stat.rfind(')')? + 1..];
    let ticks: u64 = after_comm.split_ascii_whitespace().nth(19)?.parse().ok()?;
    let hz = rustix::param::clock_ticks_per_second().max(1);
    Some(Duration::from_secs(ticks / hz) + Duration::from_nanos((ticks % hz) * 1_000_000_000 / hz))
}

fn hash_file(mut file: File) -> io::Result<CodeDigest> {
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => hasher.update(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(hasher.finalize().into())
}

/// SHA-256 of a file, as [`identify`] computes it (for tools and tests
/// that need to name a binary in a policy).
pub fn file_digest(path: &std::path::Path) -> io::Result<CodeDigest> {
    hash_file(File::open(path)?)
}

#[cfg(test)]
mod tests;
