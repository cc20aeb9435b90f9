//! The accept loop, connection threads, the audit flusher and shutdown.

use crate::conn::{self, FrameError, Limits};
use crate::peer::{self, DigestCache};
use crate::socket::{self, BoundSocket};
use crate::{DaemonError, DaemonOptions, hardening};
use keyhold_core::{Config, ErrorCode, Keyhold};
use rustix::event::{PollFd, PollFlags, poll};
use std::collections::HashMap;
use std::io;
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicU64, Ordering};
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

/// Live connections, so shutdown can end their reads.
#[derive(Default)]
struct Registry {
    next: AtomicU64,
    live: Mutex<HashMap<u64, UnixStream>>,
}

impl Registry {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, UnixStream>> {
        self.live
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
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
    let config = Config {
        cache_capacity: usize::try_from(options.args.cache_capacity).unwrap_or(usize::MAX),
        max_request_bytes: options.max_frame(),
        ..Config::default()
    };
    let engine =
        Arc::new(
            Keyhold::open_in_dir(data_dir, config).map_err(|source| DaemonError::Engine {
                dir: data_dir.clone(),
                source,
            })?,
        );
    let bound = socket::bind(&options.endpoint.socket, options.args.socket_mode)?;
    bound
        .listener
        .set_nonblocking(true)
        .map_err(|e| DaemonError::io("set_nonblocking", e))?;
    log!(
        quiet,
        "serving {} (mode {:04o}), data in {}, at most {} connections",
        bound.path().display(),
        options.args.socket_mode,
        data_dir.display(),
        options.args.max_connections
    );

    let flusher = Flusher::start(Arc::clone(&engine));
    let limits = Limits {
        max_frame: options.max_frame(),
        frame_timeout: options.frame_timeout(),
        idle_timeout: options.idle_timeout(),
        write_timeout: Duration::from_secs(10),
    };
    let registry = Arc::new(Registry::default());
    let digests = Arc::new(DigestCache::new());
    let mut threads: Vec<JoinHandle<()>> = Vec::new();
    let max = usize::try_from(options.args.max_connections).unwrap_or(usize::MAX);

    let outcome = accept_loop(&bound, &signal_rx, |stream| {
        threads.retain(|t| !t.is_finished());
        if registry.lock().len() >= max {
            let _ = stream.set_nonblocking(false);
            conn::refuse(
                &stream,
                ErrorCode::Unavailable,
                "too many connections; try again later",
                &limits,
            );
            return;
        }
        match spawn_connection(stream, &engine, &registry, &digests, limits, quiet) {
            Ok(handle) => threads.push(handle),
            Err(e) => log_error!("cannot start a connection thread: {e}"),
        }
    });

    // Shutdown: no new connections, end idle reads, let requests finish.
    bound.unlink();
    log!(
        quiet,
        "shutting down ({} connections open)",
        registry.lock().len()
    );
    for stream in registry.lock().values() {
        let _ = stream.shutdown(std::net::Shutdown::Read);
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

fn spawn_connection(
    stream: UnixStream,
    engine: &Arc<Keyhold>,
    registry: &Arc<Registry>,
    digests: &Arc<DigestCache>,
    limits: Limits,
    quiet: bool,
) -> io::Result<JoinHandle<()>> {
    let accepted_at = peer::boottime_now();
    let id = registry.next.fetch_add(1, Ordering::Relaxed);
    registry.lock().insert(id, stream.try_clone()?);
    let (engine, registry2, digests) = (
        Arc::clone(engine),
        Arc::clone(registry),
        Arc::clone(digests),
    );
    let spawned = thread::Builder::new()
        .name(format!("conn-{id}"))
        .stack_size(CONNECTION_STACK)
        .spawn(move || {
            serve_connection(&stream, &engine, &digests, accepted_at, &limits, quiet);
            registry2.lock().remove(&id);
        });
    if spawned.is_err() {
        registry.lock().remove(&id);
    }
    spawned
}

fn serve_connection(
    stream: &UnixStream,
    engine: &Keyhold,
    digests: &DigestCache,
    accepted_at: Duration,
    limits: &Limits,
    quiet: bool,
) {
    let identity = match peer::identify(stream, digests, accepted_at) {
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
    let caller = identity.caller();
    let ended = conn::serve(stream, &caller, engine, limits);
    match ended {
        FrameError::Closed | FrameError::Idle => {}
        other => log!(
            quiet,
            "uid {} pid {}: connection closed: {}",
            identity.uid,
            identity.pid,
            describe(&other)
        ),
    }
}

fn describe(e: &FrameError) -> String {
    match e {
        FrameError::Closed => "closed by peer".into(),
        FrameError::Idle => "idle".into(),
        FrameError::Empty => "empty frame".into(),
        FrameError::TooLarge(n) => format!("frame of {n} bytes over the limit"),
        FrameError::Incomplete => "peer left in the middle of a frame".into(),
        FrameError::TimedOut => "frame not completed in time".into(),
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
