//! Fairness under load (issue 10, "Figures required in BENCHMARKS.md"): a
//! legitimate client's sign latency (p50, p99) and refusals while
//!
//! - (a) another process of the same uid holds as many connections as it can,
//! - (b) a process of another uid (65534; needs root) does the same through
//!   a shared (0666) socket,
//! - (c) 60 connections stream maximum-size (1 MiB) frames,
//!
//! with the daemon's resident memory before, at its peak, 1 s after the
//! load stopped, and how long it took to get back under 64 MiB. The
//! legitimate client signs with Ed25519 and opens a new connection every
//! 25 requests (a refused connection counts as a refusal). Run on a quiet
//! machine with:
//!
//!     cargo bench -p keyholdd --bench load
//!
//! Options (after `--`): `--n 4000` (signs per scenario).
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure
#![allow(missing_docs)]

use keyhold_client::frame::{self, MAX_RESPONSE_FRAME};
use keyhold_client::{Client, wire};
use keyhold_core::{Algorithm, KeyOptions, KeyRef, KeySpec, Payload};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

const MSG: &[u8] = b"benchmark message: 32 bytes long";
const BIG_MESSAGE: usize = (1 << 20) - 64;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--list") {
        return; // `cargo test --benches` probing
    }
    if let Some(i) = args.iter().position(|a| a == "--flood") {
        flood(&args[i + 1], Path::new(&args[i + 2]));
        return;
    }
    let n: usize = args
        .iter()
        .position(|a| a == "--n")
        .map_or(4000, |i| args[i + 1].parse().unwrap());

    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let daemon = Daemon::start(dir.path());
    daemon
        .client()
        .generate_key(
            KeySpec::Single(Algorithm::Ed25519),
            &KeyOptions::alias("ed"),
        )
        .unwrap();
    let root = rustix::process::geteuid().is_root();
    let mut rows = Vec::new();
    rows.push(scenario(&daemon, "no load", None, n));
    rows.push(scenario(
        &daemon,
        "(a) same uid holds connections",
        Some(("hold", None)),
        n,
    ));
    if root {
        rows.push(scenario(
            &daemon,
            "(b) uid 65534 holds connections",
            Some(("hold", Some(65534))),
            n,
        ));
    } else {
        eprintln!("(b) skipped: running a process as another uid needs root");
    }
    rows.push(scenario(
        &daemon,
        "(c) 60 connections stream 1 MiB frames",
        Some(("stream", None)),
        n,
    ));

    println!(
        "| load | signs | refusals | p50 (µs) | p99 (µs) | daemon RSS before | peak | 1 s after | back under 64 MiB after |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in rows {
        println!(
            "| {} | {} | {} | {:.1} | {:.1} | {:.1} MiB | {:.1} MiB | {:.1} MiB | {} |",
            r.load,
            r.signs,
            r.refusals,
            r.p50,
            r.p99,
            r.rss_before,
            r.rss_peak,
            r.rss_after_1s,
            r.back_under_64.map_or_else(
                || "not within 10 s".to_owned(),
                |d| format!("{} ms", d.as_millis())
            )
        );
    }
}

struct Daemon {
    child: Child,
    socket: PathBuf,
}

impl Daemon {
    fn start(dir: &Path) -> Self {
        let socket = dir.join("run").join("keyhold.sock");
        let child = Command::new(env!("CARGO_BIN_EXE_keyholdd"))
            .arg("--socket")
            .arg(&socket)
            .arg("--data-dir")
            .arg(dir.join("data"))
            .args(["--socket-mode", "0666", "--quiet"])
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        Client::connect_waiting(&socket, Duration::from_secs(60)).unwrap();
        Self { child, socket }
    }

    fn client(&self) -> Client {
        Client::connect(&self.socket).unwrap()
    }

    fn rss_mib(&self) -> f64 {
        keyholdd::hardening::status_kib(self.child.id(), "VmRSS:").unwrap_or(0) as f64 / 1024.0
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

struct Row {
    load: String,
    signs: usize,
    refusals: usize,
    p50: f64,
    p99: f64,
    rss_before: f64,
    rss_peak: f64,
    rss_after_1s: f64,
    back_under_64: Option<Duration>,
}

/// The flooding process: this bench binary again, as another uid when
/// asked (from a copy that uid can reach).
struct Flooder(Child);

impl Flooder {
    fn start(mode: &str, uid: Option<u32>, socket: &Path, dir: &Path) -> Self {
        let exe = if uid.is_some() {
            let copy = dir.join("flooder");
            if !copy.exists() {
                std::fs::copy(std::env::current_exe().unwrap(), &copy).unwrap();
                std::fs::set_permissions(
                    &copy,
                    std::os::unix::fs::PermissionsExt::from_mode(0o755),
                )
                .unwrap();
            }
            copy
        } else {
            std::env::current_exe().unwrap()
        };
        let mut cmd = Command::new(exe);
        cmd.arg("--flood").arg(mode).arg(socket);
        if let Some(u) = uid {
            use std::os::unix::process::CommandExt;
            cmd.uid(u).gid(u);
        }
        Self(cmd.spawn().unwrap())
    }
}

impl Drop for Flooder {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn scenario(d: &Daemon, load: &str, flood: Option<(&str, Option<u32>)>, n: usize) -> Row {
    let rss_before = d.rss_mib();
    let peak = Arc::new(AtomicU64::new(rss_before.to_bits()));
    let sampling = Arc::new(AtomicBool::new(true));
    let sampler = {
        let (peak, sampling) = (Arc::clone(&peak), Arc::clone(&sampling));
        let pid = d.child.id();
        std::thread::spawn(move || {
            while sampling.load(Ordering::Relaxed) {
                let now =
                    keyholdd::hardening::status_kib(pid, "VmRSS:").unwrap_or(0) as f64 / 1024.0;
                if now > f64::from_bits(peak.load(Ordering::Relaxed)) {
                    peak.store(now.to_bits(), Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    };
    let dir = d.socket.parent().unwrap().parent().unwrap().to_owned();
    let flooder = flood.map(|(mode, uid)| Flooder::start(mode, uid, &d.socket, &dir));
    if flooder.is_some() {
        std::thread::sleep(Duration::from_secs(2)); // let the load build up
    }
    let mut lat = Vec::with_capacity(n);
    let mut refusals = 0;
    let mut c: Option<Client> = None;
    for i in 0..n {
        if i % 25 == 0 {
            c = None;
        }
        let t = Instant::now();
        if c.is_none() {
            match Client::connect(&d.socket) {
                Ok(new) => c = Some(new),
                Err(e) => {
                    if refusals < 3 {
                        eprintln!("{load}: connect refused: {e}");
                    }
                    refusals += 1;
                    continue;
                }
            }
        }
        match c.as_mut().unwrap().sign(
            &KeyRef::Alias("ed".into()),
            None,
            None,
            Payload::Message(MSG),
        ) {
            Ok(_) => lat.push(t.elapsed()),
            Err(e) => {
                if refusals < 3 {
                    eprintln!("{load}: sign refused: {e}");
                }
                refusals += 1;
                c = None;
            }
        }
    }
    drop(flooder);
    let stopped = Instant::now();
    let mut back_under_64 = None;
    let mut rss_after_1s = None;
    while stopped.elapsed() < Duration::from_secs(10) {
        let now = d.rss_mib();
        if back_under_64.is_none() && now < 64.0 {
            back_under_64 = Some(stopped.elapsed());
        }
        if rss_after_1s.is_none() && stopped.elapsed() >= Duration::from_secs(1) {
            rss_after_1s = Some(now);
        }
        if back_under_64.is_some() && rss_after_1s.is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    sampling.store(false, Ordering::Relaxed);
    sampler.join().unwrap();
    lat.sort();
    let pct = |p: f64| {
        lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1)))
            .map_or(f64::NAN, |d| d.as_secs_f64() * 1e6)
    };
    Row {
        load: load.into(),
        signs: lat.len(),
        refusals,
        p50: pct(0.50),
        p99: pct(0.99),
        rss_before,
        rss_peak: f64::from_bits(peak.load(Ordering::Relaxed)),
        rss_after_1s: rss_after_1s.unwrap_or(f64::NAN),
        back_under_64,
    }
}

/// The flooder: `hold` opens connections without end and keeps all it is
/// allowed to; `stream` runs 60 connections sending 1 MiB sign requests.
fn flood(mode: &str, socket: &Path) {
    match mode {
        "hold" => {
            let mut held: Vec<UnixStream> = Vec::new();
            loop {
                if let Ok(mut s) = UnixStream::connect(socket) {
                    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
                    if let Ok(Some(first)) = frame::read_frame(&mut s, MAX_RESPONSE_FRAME)
                        && first.is_empty()
                    {
                        held.push(s);
                    }
                }
                held.retain(|s| {
                    let mut b = [0u8; 1];
                    !matches!(
                        rustix::net::recv(
                            s,
                            &mut b,
                            rustix::net::RecvFlags::PEEK | rustix::net::RecvFlags::DONTWAIT
                        ),
                        Ok((0, _))
                    )
                });
                std::thread::sleep(Duration::from_micros(200));
            }
        }
        "stream" => {
            let request = wire::sign_request("ed", &vec![0x42; BIG_MESSAGE]);
            std::thread::scope(|scope| {
                for _ in 0..60 {
                    let request = &request;
                    scope.spawn(move || {
                        loop {
                            let Ok(mut c) = Client::connect(socket) else {
                                std::thread::sleep(Duration::from_millis(5));
                                continue;
                            };
                            while c.call_raw(request).is_ok() {}
                        }
                    });
                }
            });
        }
        other => panic!("unknown flood mode {other}"),
    }
}
