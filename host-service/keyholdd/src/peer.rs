//! Who is on the other end of a connection, and who sends each request.
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
//! Then, for every request (see [`SenderCheck`] and `conn.rs`):
//!
//! 6. **Kernel-attested sender.** The listening socket has `SO_PASSCRED`
//!    (inherited by accepted sockets), so every byte that arrives carries
//!    the `SCM_CREDENTIALS` of the process that wrote it: the kernel attaches
//!    the writer's own pid/uid/gid when it supplies none, and refuses
//!    (`EPERM`) a pid other than the sender's own unless the sender has
//!    `CAP_SYS_ADMIN` (uid/gid need `CAP_SETUID`/`CAP_SETGID`), per
//!    `man 7 unix` ("SCM_CREDENTIALS") and `scm_check_creds` in
//!    `net/core/scm.c`. With `SO_PASSCRED` set, one `recvmsg` on a stream
//!    socket never returns bytes of two writers (`unix_stream_read_generic`
//!    in `net/unix/af_unix.c` stops at an skb whose credentials differ), so
//!    each read has exactly one sender. A frame whose bytes came from two
//!    senders is refused (`PERMISSION_DENIED`), a frame from another uid
//!    than the connecting one is refused, and the frame's sender is what
//!    the request is attributed to.
//! 7. **The sender must be the identified process.** A request carries the
//!    executable digest only if its sender's pid is the identified pid, the
//!    pinned pidfd shows that process still alive (so the pid was not
//!    reused), and `exe` still names the hashed file (no `execve` since).
//!    Once a connection has carried a request from another pid it never
//!    again carries a digest (sticky): a forked child that keeps the socket
//!    cannot use keys bound to the binary its parent `execve`s, nor the
//!    reverse.
//! 8. **No request from before the identification.** A program can write a
//!    request and *then* `execve` the trusted binary, which the kernel
//!    would still attribute to the same pid. So a digest is only given to
//!    requests that were written after the identification finished: the
//!    daemon checks that the socket's receive queue is empty right after
//!    identifying (and otherwise after each complete frame), and only
//!    requests read after such an observation carry the digest. The daemon
//!    then greets the client with an empty frame; the client crate waits
//!    for that greeting before sending anything, so honest clients are
//!    never affected.
//!
//! Remaining limits (documented, not fixable from here):
//! - The digest names a program, not its arguments or inputs: a trusted
//!   binary that can be told (by argv, environment, stdin or an inherited
//!   descriptor) to sign arbitrary data will do so for whoever runs it.
//!   Binding a key to a binary keeps *other programs* of the same user
//!   away from it; it is not a boundary against a same-uid attacker who
//!   can ptrace the trusted program, `LD_PRELOAD` into it, or drive it.
//! - A process with `CAP_SYS_ADMIN` (e.g. root) can put another pid in
//!   `SCM_CREDENTIALS`; such a caller can also read the daemon's memory.
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
    identify_pinned(stream, cache, accepted_at).map(|(identity, _)| identity)
}

/// [`identify`], also returning what pins the identified process (its
/// pidfd, its `/proc` directory and the identity of the hashed file), for
/// the per-request checks of [`SenderCheck`]. The pin is `None` when there
/// is no digest.
pub fn identify_pinned(
    stream: &UnixStream,
    cache: &DigestCache,
    accepted_at: Duration,
) -> io::Result<(PeerIdentity, Option<ExePin>)> {
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
        Ok((digest, source, pin)) => {
            identity.exe_sha256 = Some(digest);
            identity.pidfd = Some(source);
            Ok((identity, Some(pin)))
        }
        Err(reason) => {
            identity.exe_unknown_reason = Some(reason);
            Ok((identity, None))
        }
    }
}

/// What pins an identified process: re-checked before every request that
/// is to carry the digest.
#[derive(Debug)]
pub struct ExePin {
    pidfd: OwnedFd,
    proc_dir: OwnedFd,
    key: FileKey,
}

impl ExePin {
    /// `Ok` while the pinned process is alive and still runs the file that
    /// was hashed (same device, inode, size and timestamps).
    pub fn recheck(&self) -> Result<(), String> {
        if has_exited(&self.pidfd)? {
            return Err("the identified process has exited".into());
        }
        let now = statat(&self.proc_dir, "exe", AtFlags::empty())
            .map_err(|e| format!("cannot stat the identified process's executable: {e}"))?;
        if FileKey::of(&now) != self.key {
            return Err("the identified process executed another program".into());
        }
        Ok(())
    }
}

/// The kernel-attested writer of a request's bytes (`SCM_CREDENTIALS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sender {
    /// Process (thread group) id of the writer, as seen from the daemon's
    /// pid namespace (0 when not visible).
    pub pid: i32,
    /// The writer's uid.
    pub uid: u32,
    /// The writer's gid.
    pub gid: u32,
}

/// Why a request is not served at all (the connection is then closed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SenderRefused(pub String);

/// Per-connection state that turns each request's attested sender into the
/// [`Caller`] the core sees (see points 6-8 of the module documentation).
#[derive(Debug)]
pub struct SenderCheck {
    identity: PeerIdentity,
    pin: Option<ExePin>,
    /// The receive queue was seen empty after the identification finished:
    /// every byte read from now on was written after it.
    fresh: bool,
    /// Why the digest was withdrawn for the rest of the connection.
    withdrawn: Option<String>,
    /// A request written before the identification was served without it.
    stale: bool,
}

impl SenderCheck {
    /// Starts checking requests against `identity` (pinned by `pin`).
    pub fn new(identity: PeerIdentity, pin: Option<ExePin>) -> Self {
        Self {
            identity,
            pin,
            fresh: false,
            withdrawn: None,
            stale: false,
        }
    }

    /// The identified peer.
    pub fn identity(&self) -> &PeerIdentity {
        &self.identity
    }

    /// Why the digest was withdrawn, if it was.
    pub fn withdrawn(&self) -> Option<&str> {
        self.withdrawn.as_deref()
    }

    /// True when a request written before the identification was served
    /// without the digest.
    pub fn served_stale(&self) -> bool {
        self.stale
    }

    /// Records whether the receive queue is empty now (call after the
    /// identification and after each complete frame; a `true` is final).
    pub fn observe_queue(&mut self, empty: bool) {
        self.fresh |= empty;
    }

    /// True once requests may carry the digest (the queue was seen empty
    /// after identification).
    pub fn is_fresh(&self) -> bool {
        self.fresh
    }

    /// The caller for a request whose bytes `sender` wrote; `fresh` is
    /// [`Self::is_fresh`] as it was before the request's first byte was read.
    pub fn caller_for(&mut self, sender: Sender, fresh: bool) -> Result<Caller, SenderRefused> {
        if sender.uid != self.identity.uid {
            return Err(SenderRefused(format!(
                "request written by uid {} on a connection made by uid {}",
                sender.uid, self.identity.uid
            )));
        }
        let mut exe_sha256 = None;
        if self.withdrawn.is_none() && self.identity.exe_sha256.is_some() {
            let same_pid = u32::try_from(sender.pid).ok() == Some(self.identity.pid);
            let verdict = if !same_pid {
                Err(format!(
                    "request written by pid {} on a connection made by pid {}",
                    sender.pid, self.identity.pid
                ))
            } else if let Some(pin) = &self.pin {
                pin.recheck()
            } else {
                Err("the identified process is not pinned".into())
            };
            match verdict {
                Ok(()) if fresh => exe_sha256 = self.identity.exe_sha256,
                // Written before the identification could vouch for it:
                // no digest for this request, but later ones may have it.
                Ok(()) => self.stale = true,
                Err(why) => self.withdrawn = Some(why),
            }
        }
        Ok(Caller::Unix {
            uid: self.identity.uid,
            gid: self.identity.gid,
            pid: u32::try_from(sender.pid).unwrap_or(0),
            exe_sha256,
        })
    }
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
) -> Result<(CodeDigest, PidfdSource, ExePin), String> {
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
    if FileKey::of(&now) != key {
        return Err("peer executed another program while it was being identified".into());
    }
    Ok((
        digest,
        source,
        ExePin {
            pidfd,
            proc_dir,
            key,
        },
    ))
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
