//! The accept loop, connection threads, the audit flusher and shutdown.

use crate::conn::{self, Activity, FrameError, Limits, Shared};
use crate::peer::{self, DigestCache, SenderCheck};
use crate::socket::{self, BoundSocket};
use crate::{DaemonError, DaemonOptions, hardening};
use keyhold_core::{Config, ErrorCode, Keyhold};
use rustix::event::{PollFd, PollFlags, poll};
use std::collections::HashMap;
use std::io;
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// Stack of a connection thread.
const CONNECTION_STACK: usize = 512 * 1024;
/// How often buffered audit records are committed.
const FLUSH_INTERVAL: Duration = Duration::from_secs(1);
/// How long shutdown waits for in-flight requests.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(15);

macro_rules! log {
    ($quiet:expr, $($arg:tt)*) => {
        if !$quiet {
            eprintln!("keyholdd[{}]: {}", std::process::id(), format_args!($($arg)*));
        }
    };
}

macro_rules! log_error {
    ($($arg:tt)*) => {
        eprintln!("keyholdd[{}]: error: {}", std::process::id(), format_args!($($arg)*))
    };
}

/// A connection's state as the admission rules see it.
#[derive(Debug, Default)]
struct ConnState {
    /// Working on a request (read complete, response not yet written).
    busy: AtomicBool,
    /// When it last finished a request or was accepted (µs since start).
    last_active_us: AtomicU64,
}

struct Entry {
    stream: UnixStream,
    uid: u32,
    /// The connecting process (`SO_PEERCRED`), for eviction only.
    pid: u32,
    state: Arc<ConnState>,
}

/// Live connections: admission (per-uid quotas with a reserve, eviction of
/// a uid's own idle connections) and shutdown.
struct Registry {
    next: AtomicU64,
    started: Instant,
    live: Mutex<HashMap<u64, Entry>>,
    quota: Quota,
}

/// The admission rules.
///
/// - At most `max` connections in all and `per_uid` per uid.
/// - The last `reserve` slots go only to a uid that holds fewer than
///   [`RESERVE_FLOOR`] connections, so uids that fill their quotas cannot
///   take the slots another uid needs to get in at all.
/// - A uid at its limit that opens one more connection gets it by closing
///   one of its own *idle* connections (not one working on a request),
///   chosen by [`victim`]: from its process holding the most, least
///   recently active first. A process hoarding connections only competes
///   with itself. With nothing idle to close, the new connection is
///   refused with `UNAVAILABLE`.
#[derive(Debug, Clone, Copy)]
struct Quota {
    max: usize,
    per_uid: usize,
    reserve: usize,
}

/// Connections a uid may hold and still use the reserved slots.
const RESERVE_FLOOR: usize = 2;

enum Admission {
    Admit,
    /// Admit after closing this idle connection of the same uid.
    Evict(u64),
    Refuse(&'static str),
}

impl Quota {
    fn new(max: usize, per_uid: usize) -> Self {
        let reserve = if max >= 4 * RESERVE_FLOOR { max / 4 } else { 0 };
        let per_uid = if per_uid == 0 { max - reserve } else { per_uid };
        Self {
            max,
            per_uid: per_uid.clamp(1, max),
            reserve,
        }
    }
}

impl Registry {
    fn new(quota: Quota) -> Self {
        Self {
            next: AtomicU64::new(0),
            started: Instant::now(),
            live: Mutex::new(HashMap::new()),
            quota,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Entry>> {
        self.live
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn now_us(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_micros()).unwrap_or(u64::MAX)
    }

    /// Decides on a new connection from `uid` (registry locked by caller).
    fn admission(&self, live: &HashMap<u64, Entry>, uid: u32) -> Admission {
        // (The per-process choice of a victim is in `victim`.)
        let q = self.quota;
        let total = live.len();
        let mine = live.values().filter(|e| e.uid == uid).count();
        let over = if mine >= q.per_uid {
            Some("too many connections from this user")
        } else if total >= q.max {
            Some("too many connections; try again later")
        } else if total >= q.max - q.reserve && mine >= RESERVE_FLOOR {
            Some("too many connections from this user while the daemon is busy")
        } else {
            None
        };
        let Some(why) = over else {
            return Admission::Admit;
        };
        victim(live, uid).map_or(Admission::Refuse(why), Admission::Evict)
    }
}

/// The connection a uid at its limit gives up for a new one: an idle one
/// (not working on a request) of the process of that uid holding the most
/// connections, the least recently active of those. So a process that
/// hoards connections only ever displaces its own, never those of another
/// process of the same user (a legitimate client holding one or a few);
/// among equals, a newcomer counts as active from the moment it is
/// accepted, and a client served microseconds ago is the last to go.
fn victim(live: &HashMap<u64, Entry>, uid: u32) -> Option<u64> {
    let mut per_pid: HashMap<u32, usize> = HashMap::new();
    for e in live.values().filter(|e| e.uid == uid) {
        *per_pid.entry(e.pid).or_default() += 1;
    }
    live.iter()
        .filter(|(_, e)| e.uid == uid && !e.state.busy.load(Ordering::Acquire))
        .min_by_key(|(_, e)| {
            (
                std::cmp::Reverse(per_pid.get(&e.pid).copied().unwrap_or(0)),
                e.state.last_active_us.load(Ordering::Relaxed),
            )
        })
        .map(|(id, _)| *id)
}

/// The registry's view of one connection's activity.
struct Tracker<'a> {
    state: &'a ConnState,
    registry: &'a Registry,
}

impl Activity for Tracker<'_> {
    fn busy(&self) {
        self.state.busy.store(true, Ordering::Release);
    }
    fn idle(&self) {
        self.state
            .last_active_us
            .store(self.registry.now_us(), Ordering::Relaxed);
        self.state.busy.store(false, Ordering::Release);
    }
}

/// Runs the daemon until SIGTERM or SIGINT: hardens the process, opens the
/// store, binds the socket, serves, then shuts down cleanly (in-flight
/// requests answered, audit journal flushed, socket removed).
pub fn run(options: DaemonOptions) -> Result<(), DaemonError> {
    let quiet = options.args.quiet;
    if options.args.detach {
        // Already a session leader is fine (EPERM).
        let _ = rustix::process::setsid();
    }
    let report = hardening::apply(!options.args.no_mlockall);
    log!(quiet, "hardening: {report}");

    // Signals first, so a SIGTERM during start-up is not lost.
    let (signal_rx, signal_tx) =
        UnixStream::pair().map_err(|e| DaemonError::io("socketpair", e))?;
    for sig in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        let tx = signal_tx
            .try_clone()
            .map_err(|e| DaemonError::io("dup", e))?;
        signal_hook::low_level::pipe::register(sig, tx)
            .map_err(|e| DaemonError::io("cannot install signal handler", e))?;
    }
    drop(signal_tx);

    let data_dir = &options.endpoint.data_dir;
    socket::ensure_private_dir(data_dir, 0o700)?;
    socket::refuse_symlinks_in(data_dir)?;
    let config = Config {
        cache_capacity: usize::try_from(options.args.cache_capacity).unwrap_or(usize::MAX),
        max_request_bytes: options.max_frame(),
        ..Config::default()
    };
    let large_buffers_unmapped = crate::alloc::configure();
    let engine =
        Arc::new(
            Keyhold::open_in_dir(data_dir, config).map_err(|source| DaemonError::Engine {
                dir: data_dir.clone(),
                source,
            })?,
        );
    let bound = match crate::activation::listener()? {
        Some(listener) => socket::BoundSocket::activated(listener),
        None => socket::bind(&options.endpoint.socket, options.args.socket_mode)?,
    };
    bound
        .listener
        .set_nonblocking(true)
        .map_err(|e| DaemonError::io("set_nonblocking", e))?;
    // Every byte read carries its writer's credentials (see `peer`);
    // accepted sockets inherit the flag, so bytes written before accept()
    // carry them too.
    rustix::net::sockopt::set_socket_passcred(&bound.listener, true)
        .map_err(|e| DaemonError::io("SO_PASSCRED", io::Error::from(e)))?;
    let max = usize::try_from(options.args.max_connections).unwrap_or(usize::MAX);
    let quota = Quota::new(
        max,
        usize::try_from(options.args.max_connections_per_uid).unwrap_or(usize::MAX),
    );
    log!(
        quiet,
        "serving {} (mode {:04o}), data in {}, at most {} connections ({} per uid, {} reserved), \
         {} bytes of large requests in flight{}",
        bound.path().display(),
        options.args.socket_mode,
        data_dir.display(),
        quota.max,
        quota.per_uid,
        quota.reserve,
        options.max_inflight(),
        if large_buffers_unmapped {
            ""
        } else {
            " (allocator not tuned)"
        }
    );

    let flusher = Flusher::start(Arc::clone(&engine));
    let limits = Limits {
        max_frame: options.max_frame(),
        frame_timeout: options.frame_timeout(),
        idle_timeout: options.idle_timeout(),
        write_timeout: Duration::from_secs(10),
    };
    let registry = Arc::new(Registry::new(quota));
    let digests = Arc::new(DigestCache::new());
    let budget = Arc::new(Shared::new(options.max_inflight(), limits.max_frame));
    let mut threads: Vec<JoinHandle<()>> = Vec::new();

    crate::activation::notify("READY=1\nSTATUS=serving");
    let outcome = accept_loop(&bound, &signal_rx, |stream| {
        threads.retain(|t| !t.is_finished());
        let (uid, pid) = match rustix::net::sockopt::socket_peercred(&stream) {
            Ok(c) => (
                c.uid.as_raw(),
                u32::try_from(rustix::process::Pid::as_raw(Some(c.pid))).unwrap_or(0),
            ),
            Err(e) => {
                log_error!("SO_PEERCRED on a new connection: {e}");
                return;
            }
        };
        let _ = rustix::net::sockopt::set_socket_passcred(&stream, true);
        let state = {
            let mut live = registry.lock();
            match registry.admission(&live, uid) {
                Admission::Admit => {}
                Admission::Evict(id) => {
                    if let Some(old) = live.remove(&id) {
                        log!(
                            quiet,
                            "uid {uid}: closing its least recently used idle connection to admit a new one"
                        );
                        let _ = old.stream.shutdown(std::net::Shutdown::Both);
                    }
                }
                Admission::Refuse(why) => {
                    drop(live);
                    conn::refuse(&stream, ErrorCode::Unavailable, why, &limits);
                    return;
                }
            }
            let state = Arc::new(ConnState::default());
            state
                .last_active_us
                .store(registry.now_us(), Ordering::Relaxed);
            let id = registry.next.fetch_add(1, Ordering::Relaxed);
            match stream.try_clone() {
                Ok(clone) => {
                    live.insert(
                        id,
                        Entry {
                            stream: clone,
                            uid,
                            pid,
                            state: Arc::clone(&state),
                        },
                    );
                }
                Err(e) => {
                    log_error!("cannot register a connection: {e}");
                    return;
                }
            }
            (id, state)
        };
        match spawn_connection(
            stream, state, &engine, &registry, &digests, &budget, limits, quiet,
        ) {
            Ok(handle) => threads.push(handle),
            Err(e) => log_error!("cannot start a connection thread: {e}"),
        }
    });

    // Shutdown: no new connections, end idle reads, let requests finish.
    crate::activation::notify("STOPPING=1");
    bound.unlink();
    log!(
        quiet,
        "shutting down ({} connections open)",
        registry.lock().len()
    );
    for entry in registry.lock().values() {
        let _ = entry.stream.shutdown(std::net::Shutdown::Read);
    }
    let deadline = Instant::now() + DRAIN_TIMEOUT;
    while threads.iter().any(|t| !t.is_finished()) && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(10));
    }
    for t in threads {
        if t.is_finished() {
            let _ = t.join();
        }
    }
    flusher.stop();
    if let Err(e) = engine.flush() {
        log_error!("final audit flush failed: {e}");
    }
    drop(bound);
    log!(quiet, "stopped");
    outcome
}

/// Accepts until a signal arrives, handing each connection to `on_accept`.
fn accept_loop(
    bound: &BoundSocket,
    signals: &UnixStream,
    mut on_accept: impl FnMut(UnixStream),
) -> Result<(), DaemonError> {
    loop {
        let mut fds = [
            PollFd::new(&bound.listener, PollFlags::IN),
            PollFd::new(signals, PollFlags::IN),
        ];
        match poll(&mut fds, None) {
            Ok(_) => {}
            Err(rustix::io::Errno::INTR) => continue,
            Err(e) => return Err(DaemonError::io("poll", io::Error::from(e))),
        }
        if !fds[1].revents().is_empty() {
            return Ok(());
        }
        loop {
            match bound.listener.accept() {
                Ok((stream, _)) => {
                    if stream.set_nonblocking(false).is_ok() {
                        on_accept(stream);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    // EMFILE and friends: back off instead of spinning.
                    log_error!("accept: {e}");
                    thread::sleep(Duration::from_millis(50));
                    break;
                }
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn spawn_connection(
    stream: UnixStream,
    (id, state): (u64, Arc<ConnState>),
    engine: &Arc<Keyhold>,
    registry: &Arc<Registry>,
    digests: &Arc<DigestCache>,
    budget: &Arc<Shared>,
    limits: Limits,
    quiet: bool,
) -> io::Result<JoinHandle<()>> {
    let accepted_at = peer::boottime_now();
    let (engine, registry2, digests, budget) = (
        Arc::clone(engine),
        Arc::clone(registry),
        Arc::clone(digests),
        Arc::clone(budget),
    );
    let spawned = thread::Builder::new()
        .name(format!("conn-{id}"))
        .stack_size(CONNECTION_STACK)
        .spawn(move || {
            let tracker = Tracker {
                state: &state,
                registry: &registry2,
            };
            serve_connection(
                &stream,
                &engine,
                &digests,
                &budget,
                &tracker,
                accepted_at,
                &limits,
                quiet,
            );
            let mut live = registry2.lock();
            // Only our own entry: an evicted one was already removed.
            if live.get(&id).is_some_and(|e| Arc::ptr_eq(&e.state, &state)) {
                live.remove(&id);
            }
        });
    if spawned.is_err() {
        registry.lock().remove(&id);
    }
    spawned
}

#[allow(clippy::too_many_arguments)]
fn serve_connection(
    stream: &UnixStream,
    engine: &Keyhold,
    digests: &DigestCache,
    budget: &Shared,
    tracker: &Tracker<'_>,
    accepted_at: Duration,
    limits: &Limits,
    quiet: bool,
) {
    let (identity, pin) = match peer::identify_pinned(stream, digests, accepted_at) {
        Ok(i) => i,
        Err(e) => {
            log_error!("cannot identify a peer (SO_PEERCRED): {e}");
            return;
        }
    };
    if let Some(why) = &identity.exe_unknown_reason {
        log!(
            quiet,
            "uid {} pid {}: executable digest unknown: {why}",
            identity.uid,
            identity.pid
        );
    }
    let (uid, pid) = (identity.uid, identity.pid);
    let exe = identity
        .exe_sha256
        .map_or_else(|| "unknown".to_owned(), |d| short_hex(&d));
    let mut check = SenderCheck::new(identity, pin);
    // Identified: if nothing is queued yet, everything read from now on was
    // written after the identification (see `peer` point 8). Then greet.
    check.observe_queue(conn::queue_is_empty(stream));
    if conn::greet(stream, limits).is_err() {
        return;
    }
    let ended = conn::serve(stream, &mut check, engine, limits, budget, tracker);
    if check.served_stale() {
        log!(
            quiet,
            "uid {uid} pid {pid} (exe sha256 {exe}…): a request written before it was identified \
             was served without the executable digest"
        );
    }
    if let Some(why) = check.withdrawn() {
        log!(
            quiet,
            "uid {uid} pid {pid} (exe sha256 {exe}…): executable digest withdrawn for this \
             connection: {why}"
        );
    }
    match ended {
        FrameError::Closed | FrameError::Idle => {}
        other => log!(
            quiet,
            "uid {uid} pid {pid}: connection closed: {}",
            describe(&other)
        ),
    }
}

/// The first 8 bytes of a digest in hex, for the log.
fn short_hex(d: &[u8; 32]) -> String {
    d[..8].iter().map(|b| format!("{b:02x}")).collect()
}

fn describe(e: &FrameError) -> String {
    match e {
        FrameError::Closed => "closed by peer".into(),
        FrameError::Idle => "idle".into(),
        FrameError::Empty => "empty frame".into(),
        FrameError::TooLarge(n) => format!("frame of {n} bytes over the limit"),
        FrameError::Incomplete => "peer left in the middle of a frame".into(),
        FrameError::TimedOut => "frame not completed in time".into(),
        FrameError::Busy => "large frame waited too long for the in-flight budget".into(),
        FrameError::MixedSenders(a, b) => format!(
            "one frame written by two processes (pid {} uid {}, pid {} uid {})",
            a.pid, a.uid, b.pid, b.uid
        ),
        FrameError::Credentials(why) => format!("refused: {why}"),
        FrameError::Io(e) => format!("I/O error: {e}"),
    }
}

/// Commits the audit journal every [`FLUSH_INTERVAL`].
struct Flusher {
    stop: Arc<(Mutex<bool>, Condvar)>,
    handle: Option<JoinHandle<()>>,
}

impl Flusher {
    fn start(engine: Arc<Keyhold>) -> Self {
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let stop2 = Arc::clone(&stop);
        let handle = thread::Builder::new()
            .name("audit-flush".into())
            .stack_size(CONNECTION_STACK)
            .spawn(move || {
                let (lock, cvar) = &*stop2;
                let mut stopped = lock
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                loop {
                    let (guard, _) = cvar
                        .wait_timeout(stopped, FLUSH_INTERVAL)
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    stopped = guard;
                    if *stopped {
                        return;
                    }
                    if let Err(e) = engine.flush() {
                        log_error!("audit flush failed: {e}");
                    }
                }
            })
            .ok();
        Self { stop, handle }
    }

    fn stop(mut self) {
        let (lock, cvar) = &*self.stop;
        *lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = true;
        cvar.notify_all();
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

#[cfg(test)]
mod tests;
