//! One connection: read a frame under the per-connection and global limits,
//! attribute it to the process that wrote it, hand it to the core, write the
//! response. Framing violations are answered with a typed error where the
//! peer can still read one, then the connection ends.
//!
//! Every read is a `recvmsg` that also returns the writer's
//! `SCM_CREDENTIALS` (the socket has `SO_PASSCRED`, see [`crate::peer`]):
//! a frame records the single sender of all its bytes, or is refused.

use crate::peer::{Sender, SenderCheck};
use keyhold_client::frame::{self, HEADER_LEN};
use keyhold_client::wire;
use keyhold_core::{ErrorCode, Keyhold};
use nix::sys::socket::{ControlMessageOwned, MsgFlags, UnixCredentials, recvmsg};
use std::io::{self, IoSliceMut, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};
use zeroize::Zeroizing;

/// Per-connection limits.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// Largest request body.
    pub max_frame: usize,
    /// Time to complete a frame once its first byte arrived.
    pub frame_timeout: Duration,
    /// Time allowed between frames.
    pub idle_timeout: Duration,
    /// Time allowed to write a response.
    pub write_timeout: Duration,
}

/// Frames up to this size are read without asking the global budget: the
/// connection cap bounds them (64 connections x 64 KiB = 4 MiB).
pub(crate) const SMALL_FRAME: usize = 64 << 10;

/// The global budget of request bytes held at once by frames larger than
/// [`SMALL_FRAME`] (from the header until the response is written, which
/// also covers the core's decoded copy). A frame that does not fit waits,
/// with its bytes left in the kernel's socket buffer (so the sender blocks:
/// back-pressure, not refusal), until its frame deadline.
#[derive(Debug)]
pub(crate) struct Budget {
    cap: usize,
    used: Mutex<usize>,
    freed: Condvar,
    /// Return free allocator memory when the budget drains (byte budgets).
    trim_when_idle: bool,
}

impl Budget {
    /// A budget of `cap` bytes (at least one largest frame).
    pub(crate) fn new(cap: usize, max_frame: usize) -> Self {
        Self {
            cap: cap.max(max_frame),
            used: Mutex::new(0),
            freed: Condvar::new(),
            trim_when_idle: true,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, usize> {
        self.used
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A plain counting semaphore of `n` units.
    pub(crate) fn slots(n: usize) -> Self {
        Self {
            cap: n.max(1),
            used: Mutex::new(0),
            freed: Condvar::new(),
            trim_when_idle: false,
        }
    }

    /// Bytes currently held.
    #[cfg(test)]
    pub(crate) fn in_use(&self) -> usize {
        *self.lock()
    }

    /// Takes `n` bytes, waiting until `deadline` at most.
    fn acquire(&self, n: usize, deadline: Instant) -> Option<Permit<'_>> {
        let mut used = self.lock();
        while *used + n > self.cap {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return None;
            }
            used = self
                .freed
                .wait_timeout(used, left)
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .0;
        }
        *used += n;
        Some(Permit { budget: self, n })
    }
}

/// Bytes held from a [`Budget`] until dropped.
#[derive(Debug)]
pub(crate) struct Permit<'a> {
    budget: &'a Budget,
    n: usize,
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        let now_idle = {
            let mut used = self.budget.lock();
            *used -= self.n;
            *used == 0
        };
        self.budget.freed.notify_all();
        if now_idle && self.budget.trim_when_idle {
            // The large buffers were unmapped when freed (see `alloc.rs`);
            // also hand back what the allocator kept of smaller ones.
            crate::alloc::release_free_memory();
        }
    }
}

/// Why no request could be read.
#[derive(Debug)]
pub(crate) enum FrameError {
    /// The peer closed the connection between frames.
    Closed,
    /// No frame started within the idle timeout.
    Idle,
    /// A frame announced zero bytes.
    Empty,
    /// A frame announced more than the limit.
    TooLarge(usize),
    /// The peer closed the connection in the middle of a frame.
    Incomplete,
    /// The frame was not completed within the frame timeout.
    TimedOut,
    /// A large frame waited for the global budget until its deadline.
    Busy,
    /// The bytes of one frame were written by two different processes.
    MixedSenders(Sender, Sender),
    /// A read came without (or with more than) the writer's credentials.
    Credentials(String),
    /// Another socket error.
    Io(io::Error),
}

impl FrameError {
    /// The typed error to send before closing, if the peer should get one.
    pub(crate) fn response(&self, limits: &Limits) -> Option<(ErrorCode, String)> {
        match self {
            Self::Empty => Some((
                ErrorCode::MalformedRequest,
                "empty frame: a request is never empty".into(),
            )),
            Self::TooLarge(len) => Some((
                ErrorCode::RequestTooLarge,
                format!(
                    "frame of {len} bytes exceeds the limit of {} bytes",
                    limits.max_frame
                ),
            )),
            Self::TimedOut => Some((
                ErrorCode::MalformedRequest,
                format!(
                    "frame not completed within {} ms",
                    limits.frame_timeout.as_millis()
                ),
            )),
            Self::Busy => Some((
                ErrorCode::Unavailable,
                "too many large requests in flight; try again later".into(),
            )),
            Self::MixedSenders(..) => Some((
                ErrorCode::PermissionDenied,
                "the bytes of one request were written by two processes".into(),
            )),
            Self::Credentials(why) => Some((ErrorCode::PermissionDenied, why.clone())),
            Self::Closed | Self::Idle | Self::Incomplete | Self::Io(_) => None,
        }
    }
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// Ancillary space for exactly one `struct ucred` (`CMSG_SPACE(12)`) and no
/// more: descriptors a peer sends with `SCM_RIGHTS` find no room, so the
/// kernel never installs them in the daemon (it flags `MSG_CTRUNC` and
/// releases them, `scm_detach_fds` in `net/core/scm.c`).
#[repr(C, align(8))]
struct CredSpace([u8; 32]);

/// One `recvmsg`: the bytes read and who wrote them. With `SO_PASSCRED` on
/// a stream socket the kernel never returns the bytes of two writers from
/// one call, so one credential covers all `n` bytes.
fn recv_attested(stream: &UnixStream, buf: &mut [u8]) -> io::Result<(usize, Option<Sender>)> {
    let mut space = CredSpace([0; 32]);
    let len = nix::sys::socket::cmsg_space::<UnixCredentials>().min(space.0.len());
    let mut iov = [IoSliceMut::new(buf)];
    let msg = recvmsg::<()>(
        stream.as_raw_fd(),
        &mut iov,
        Some(&mut space.0[..len]),
        MsgFlags::MSG_CMSG_CLOEXEC,
    )
    .map_err(io::Error::from)?;
    let n = msg.bytes;
    if n == 0 {
        return Ok((0, None));
    }
    let cmsgs = msg.cmsgs().map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            "ancillary data other than the sender's credentials",
        )
    })?;
    let mut sender = None;
    for c in cmsgs {
        match c {
            ControlMessageOwned::ScmCredentials(cred) if sender.is_none() => {
                sender = Some(Sender {
                    pid: cred.pid(),
                    uid: cred.uid(),
                    gid: cred.gid(),
                });
            }
            _ => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "unexpected ancillary data",
                ));
            }
        }
    }
    Ok((n, sender))
}

/// Accumulates the single sender of one frame.
#[derive(Debug, Default)]
struct FrameSender(Option<Sender>);

impl FrameSender {
    fn add(&mut self, read: Option<Sender>) -> Result<(), FrameError> {
        let Some(s) = read else {
            return Err(FrameError::Credentials(
                "bytes arrived without the writer's credentials".into(),
            ));
        };
        match self.0 {
            None => self.0 = Some(s),
            Some(first) if first == s => {}
            Some(first) => return Err(FrameError::MixedSenders(first, s)),
        }
        Ok(())
    }
}

/// Reads into `buf` until full, before `deadline`.
fn fill(
    stream: &UnixStream,
    buf: &mut [u8],
    deadline: Instant,
    sender: &mut FrameSender,
) -> Result<(), FrameError> {
    let mut got = 0;
    while got < buf.len() {
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Err(FrameError::TimedOut);
        }
        stream
            .set_read_timeout(Some(remaining))
            .map_err(FrameError::Io)?;
        match recv_attested(stream, &mut buf[got..]) {
            Ok((0, _)) => return Err(FrameError::Incomplete),
            Ok((n, who)) => {
                sender.add(who)?;
                got += n;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if is_timeout(&e) => return Err(FrameError::TimedOut),
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset => {
                return Err(FrameError::Incomplete);
            }
            Err(e) if e.kind() == io::ErrorKind::InvalidData => {
                return Err(FrameError::Credentials(e.to_string()));
            }
            Err(e) => return Err(FrameError::Io(e)),
        }
    }
    Ok(())
}

/// One request and the process that wrote it.
#[derive(Debug)]
pub(crate) struct Request<'a> {
    /// The encoded request, zeroized when dropped.
    pub body: Zeroizing<Vec<u8>>,
    /// The kernel-attested writer of every byte of the frame.
    pub sender: Sender,
    /// Budget held until the request is answered (large frames only).
    pub permit: Option<Permit<'a>>,
}

/// Reads one request frame. The body buffer is allocated only after the
/// announced length passed the limit (and, for a large frame, the global
/// budget), and is zeroized when dropped.
///
/// The daemon blocks in `recvmsg` right away: it no longer polls before
/// blocking (commit 3e1273c did). With one polling thread per connection,
/// pollers outnumbered the CPUs as soon as a few clients were active, and
/// the thread that had a request to answer waited behind them for a
/// scheduler tick (the ~4.1 ms p99 of issue 10.5). Clients poll briefly,
/// bounded (see `keyhold_client::Client`).
pub(crate) fn read_request<'b>(
    stream: &UnixStream,
    limits: &Limits,
    budget: &'b Budget,
) -> Result<Request<'b>, FrameError> {
    let mut header = [0u8; HEADER_LEN];
    let mut sender = FrameSender::default();
    // Wait (up to the idle timeout) for the first byte of a frame.
    stream
        .set_read_timeout(Some(limits.idle_timeout))
        .map_err(FrameError::Io)?;
    let first = loop {
        match recv_attested(stream, &mut header) {
            Ok((0, _)) => return Err(FrameError::Closed),
            Ok((n, who)) => {
                sender.add(who)?;
                break n;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if is_timeout(&e) => return Err(FrameError::Idle),
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset => return Err(FrameError::Closed),
            Err(e) if e.kind() == io::ErrorKind::InvalidData => {
                return Err(FrameError::Credentials(e.to_string()));
            }
            Err(e) => return Err(FrameError::Io(e)),
        }
    };
    // From here on the whole frame must arrive before the deadline.
    let deadline = Instant::now() + limits.frame_timeout;
    fill(stream, &mut header[first..], deadline, &mut sender)?;
    let len = frame::body_len(header);
    if len == 0 {
        return Err(FrameError::Empty);
    }
    if len > limits.max_frame {
        return Err(FrameError::TooLarge(len));
    }
    let permit = if len > SMALL_FRAME {
        Some(budget.acquire(len, deadline).ok_or(FrameError::Busy)?)
    } else {
        None
    };
    let mut body = Zeroizing::new(vec![0u8; len]);
    fill(stream, &mut body, deadline, &mut sender)?;
    let sender = sender.0.ok_or_else(|| {
        FrameError::Credentials("a frame arrived without the writer's credentials".into())
    })?;
    Ok(Request {
        body,
        sender,
        permit,
    })
}

/// True when nothing is queued to read on `stream` right now (end of
/// stream counts as nothing queued).
pub(crate) fn queue_is_empty(stream: &UnixStream) -> bool {
    use rustix::net::{RecvFlags, recv};
    let mut probe = [0u8; 1];
    loop {
        match recv(stream, &mut probe, RecvFlags::PEEK | RecvFlags::DONTWAIT) {
            Ok((0, _)) => return true,
            Ok(_) => return false,
            Err(rustix::io::Errno::AGAIN) => return true,
            Err(rustix::io::Errno::INTR) => {}
            Err(_) => return false,
        }
    }
}

/// Writes one response frame; the frame buffer is zeroized afterwards
/// (responses can carry decrypted data).
pub(crate) fn write_response(stream: &UnixStream, body: &[u8], limits: &Limits) -> io::Result<()> {
    stream.set_write_timeout(Some(limits.write_timeout))?;
    let framed = frame::encode(body)?;
    (&*stream).write_all(&framed)?;
    Ok(())
}

/// Sends the greeting (an empty frame) that tells the client its
/// identity is established and it may send requests.
pub(crate) fn greet(stream: &UnixStream, limits: &Limits) -> io::Result<()> {
    stream.set_write_timeout(Some(limits.write_timeout))?;
    (&*stream).write_all(&frame::GREETING)
}

/// Sends a typed error and ends the connection.
pub(crate) fn refuse(stream: &UnixStream, code: ErrorCode, message: &str, limits: &Limits) {
    let _ = write_response(stream, &wire::error_response(code, message), limits);
    let _ = stream.shutdown(std::net::Shutdown::Both);
}

/// Hooks the server gives a connection: when it starts and stops working
/// on a request (the registry's idle accounting).
pub(crate) trait Activity {
    /// A complete request was read; the engine is about to run.
    fn busy(&self);
    /// The response was written; the connection waits for the next frame.
    fn idle(&self);
}

impl Activity for () {
    fn busy(&self) {}
    fn idle(&self) {}
}

/// Serves requests until the peer leaves, misbehaves or the daemon stops.
/// Each request is attributed by `check` to the process that wrote it.
/// Returns the framing error that ended it, for the log.
/// The shared limits every connection draws on.
#[derive(Debug)]
pub(crate) struct Shared {
    /// Bytes of large frames held at once.
    pub budget: Budget,
    /// Large requests the engine works on at once (half the CPUs): small
    /// requests always find a CPU, so a stream of maximum-size frames
    /// delays others by at most what those few take, not a scheduler
    /// queue of them.
    pub large_lanes: Budget,
}

impl Shared {
    pub(crate) fn new(max_inflight: usize, max_frame: usize) -> Self {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        Self {
            budget: Budget::new(max_inflight, max_frame),
            large_lanes: Budget::slots(cpus / 2),
        }
    }
}

pub(crate) fn serve(
    stream: &UnixStream,
    check: &mut SenderCheck,
    engine: &Keyhold,
    limits: &Limits,
    shared: &Shared,
    activity: &dyn Activity,
) -> FrameError {
    let budget = &shared.budget;
    loop {
        let fresh = check.is_fresh();
        let request = match read_request(stream, limits, budget) {
            Ok(r) => r,
            Err(e) => {
                if let Some((code, message)) = e.response(limits) {
                    refuse(stream, code, &message, limits);
                }
                return e;
            }
        };
        activity.busy();
        // Nothing queued behind this request: whatever comes next was
        // written after the identification (see `peer` point 8).
        if !fresh {
            check.observe_queue(queue_is_empty(stream));
        }
        let caller = match check.caller_for(request.sender, fresh) {
            Ok(c) => c,
            Err(refused) => {
                refuse(stream, ErrorCode::PermissionDenied, &refused.0, limits);
                return FrameError::Credentials(refused.0);
            }
        };
        let Request { body, permit, .. } = request;
        let lane = if body.len() > SMALL_FRAME {
            match shared
                .large_lanes
                .acquire(1, Instant::now() + limits.frame_timeout)
            {
                Some(lane) => Some(lane),
                None => {
                    let e = FrameError::Busy;
                    if let Some((code, message)) = e.response(limits) {
                        refuse(stream, code, &message, limits);
                    }
                    return e;
                }
            }
        } else {
            None
        };
        let response = Zeroizing::new(engine.handle(&caller, &body));
        drop(lane);
        drop(body);
        let written = write_response(stream, &response, limits);
        drop(response);
        drop(permit);
        if let Err(e) = written {
            return FrameError::Io(e);
        }
        activity.idle();
    }
}

#[cfg(test)]
mod tests;
