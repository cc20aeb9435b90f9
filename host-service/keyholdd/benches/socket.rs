//! Host-service benchmark: signing latency and throughput over the socket
//! at 1, 2, 8 and 32 clients, quiet and with a CPU hog (one busy process per
//! CPU), next to OpenSSH's ssh-agent under the same conditions; the
//! in-process `Keyhold::handle` and the raw primitive; plus keyholdd's
//! memory with 100,000 stored keys. Prints markdown tables. Run on a quiet
//! machine with:
//!
//!     cargo bench -p keyholdd --bench socket
//!
//! Options (after `--`): `--clients 1,2,8,32`, `--n 8000` (operations per
//! row), `--hog both|off|on`, `--no-memory`, `--no-inprocess`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure
#![allow(missing_docs)]

use keyhold_client::Client;
use keyhold_core::{Algorithm, Caller, Config, KeyOptions, KeyRef, KeySpec, Keyhold, Payload};
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const MSG: &[u8] = b"benchmark message: 32 bytes long";

struct Row {
    what: String,
    clients: usize,
    p50_us: f64,
    p99_us: f64,
    ops_per_s: f64,
}

fn summarize(what: &str, clients: usize, mut lat: Vec<Duration>, wall: Duration) -> Row {
    lat.sort();
    let pct =
        |p: f64| lat[((lat.len() as f64 * p) as usize).min(lat.len() - 1)].as_secs_f64() * 1e6;
    Row {
        what: what.into(),
        clients,
        p50_us: pct(0.50),
        p99_us: pct(0.99),
        ops_per_s: lat.len() as f64 / wall.as_secs_f64(),
    }
}

/// Command-line options.
struct Opts {
    clients: Vec<usize>,
    n: usize,
    hog: Vec<bool>,
    memory: bool,
    inprocess: bool,
}

impl Opts {
    fn parse() -> Self {
        let args: Vec<String> = std::env::args().collect();
        let value = |flag: &str| {
            args.iter()
                .position(|a| a == flag)
                .and_then(|i| args.get(i + 1).cloned())
        };
        Self {
            clients: value("--clients").map_or_else(
                || vec![1, 2, 8, 32],
                |v| v.split(',').map(|c| c.parse().unwrap()).collect(),
            ),
            n: value("--n").map_or(8000, |v| v.parse().unwrap()),
            hog: match value("--hog").as_deref() {
                Some("off") => vec![false],
                Some("on") => vec![true],
                _ => vec![false, true],
            },
            memory: !args.iter().any(|a| a == "--no-memory"),
            inprocess: !args.iter().any(|a| a == "--no-inprocess"),
        }
    }
}

/// One busy-looping process per CPU while it lives.
struct Hog(Vec<Child>);

impl Hog {
    fn start(on: bool) -> Self {
        if !on {
            return Self(Vec::new());
        }
        let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self(
            (0..cpus)
                .map(|_| {
                    Command::new("sh")
                        .args(["-c", "while :; do :; done"])
                        .spawn()
                        .unwrap()
                })
                .collect(),
        )
    }
}

impl Drop for Hog {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Runs `op` `n` times split over `clients` threads, each with its own state.
fn measure<S: Send>(
    what: &str,
    (clients, n): (usize, usize),
    make: impl Fn() -> S,
    op: impl Fn(&mut S) + Sync,
) -> Row {
    let mut states: Vec<S> = (0..clients).map(|_| make()).collect();
    for s in &mut states {
        for _ in 0..50 {
            op(s); // warm up
        }
    }
    let start = Instant::now();
    let lat: Vec<Duration> = std::thread::scope(|scope| {
        let handles: Vec<_> = states
            .iter_mut()
            .map(|s| {
                let op = &op;
                scope.spawn(move || {
                    (0..(n / clients).max(1))
                        .map(|_| {
                            let t = Instant::now();
                            op(s);
                            t.elapsed()
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    summarize(what, clients, lat, start.elapsed())
}

struct Daemon(Child, PathBuf);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.0.id().to_string())
            .status();
        let _ = self.0.wait();
    }
}

fn start_daemon(dir: &Path) -> Daemon {
    let socket = dir.join("keyhold.sock");
    let child = Command::new(env!("CARGO_BIN_EXE_keyholdd"))
        .arg("--socket")
        .arg(&socket)
        .arg("--data-dir")
        .arg(dir)
        .arg("--quiet")
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    Client::connect_waiting(&socket, Duration::from_secs(60)).unwrap();
    Daemon(child, socket)
}

fn rss_mib(pid: u32) -> f64 {
    keyholdd::hardening::status_kib(pid, "VmRSS:").unwrap() as f64 / 1024.0
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo test --benches` probing
    }
    let opts = Opts::parse();
    let mut rows = Vec::new();
    let dir = tempfile::tempdir().unwrap();
    let me = Caller::Unix {
        uid: rustix::process::getuid().as_raw(),
        gid: rustix::process::getgid().as_raw(),
        pid: std::process::id(),
        exe_sha256: None,
    };
    {
        // Keys made through the daemon so they are in this uid's namespace.
        let d = start_daemon(dir.path());
        let mut c = Client::connect(&d.1).unwrap();
        for (alias, alg) in [("ed", Algorithm::Ed25519), ("k1", Algorithm::Secp256k1)] {
            c.generate_key(KeySpec::Single(alg), &KeyOptions::alias(alias))
                .unwrap();
        }
        let agent = SshAgent::start(dir.path())
            .map_err(|e| eprintln!("ssh-agent not measured: {e}"))
            .ok();
        for &hog in &opts.hog {
            let _hog = Hog::start(hog);
            let load = if hog { "CPU hog" } else { "quiet" };
            for &clients in &opts.clients {
                for (alias, name) in [("ed", "Ed25519"), ("k1", "secp256k1 ECDSA")] {
                    rows.push(measure(
                        &format!("{name}: keyholdd over the socket ({load})"),
                        (clients, opts.n),
                        || Client::connect(&d.1).unwrap(),
                        |c: &mut Client| {
                            c.sign(
                                &KeyRef::Alias(alias.into()),
                                None,
                                None,
                                Payload::Message(MSG),
                            )
                            .unwrap();
                        },
                    ));
                }
                if let Some(a) = &agent {
                    rows.push(a.measure(
                        &format!("Ed25519: OpenSSH ssh-agent over its socket ({load})"),
                        (clients, opts.n),
                    ));
                }
            }
        }
    }
    if opts.inprocess {
        let engine = Keyhold::open_in_dir(dir.path(), Config::default()).unwrap();
        for (alias, name) in [("ed", "Ed25519"), ("k1", "secp256k1 ECDSA")] {
            let request = keyhold_client::wire::sign_request(alias, MSG);
            for clients in [1, 2] {
                rows.push(measure(
                    &format!("{name}: in-process Keyhold::handle"),
                    (clients, opts.n),
                    || (),
                    |_| {
                        let r = engine.handle(&me, &request);
                        assert!(keyhold_client::wire::response_error(&r) == Ok(None));
                    },
                ));
            }
        }
        drop(engine);
        use ed25519_dalek::Signer;
        let ed = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
        let k1 = k256::ecdsa::SigningKey::from_slice(&[7u8; 32]).unwrap();
        for clients in [1, 2] {
            rows.push(measure(
                "Ed25519: raw ed25519-dalek",
                (clients, opts.n),
                || (),
                |_| {
                    std::hint::black_box(ed.sign(MSG));
                },
            ));
        }
        for clients in [1, 2] {
            rows.push(measure(
                "secp256k1 ECDSA: raw k256",
                (clients, opts.n),
                || (),
                |_| {
                    let s: k256::ecdsa::Signature = k1.sign(MSG);
                    std::hint::black_box(s);
                },
            ));
        }
    }

    println!("| operation | clients | p50 (µs) | p99 (µs) | p99/p50 | throughput (ops/s) |");
    println!("|---|---:|---:|---:|---:|---:|");
    for r in &rows {
        println!(
            "| {} | {} | {:.1} | {:.1} | {:.1} | {:.0} |",
            r.what,
            r.clients,
            r.p50_us,
            r.p99_us,
            r.p99_us / r.p50_us,
            r.ops_per_s
        );
    }
    ratios(&rows);
    if opts.memory {
        memory_bench();
    }
}

/// The target ratios, computed from the rows.
fn ratios(rows: &[Row]) {
    let find = |what: &str, clients: usize| {
        rows.iter()
            .find(|r| r.what == what && r.clients == clients)
            .map(|r| r.ops_per_s)
    };
    println!();
    println!("| target | load | clients | value |");
    println!("|---|---|---:|---:|");
    for load in ["quiet", "CPU hog"] {
        for name in ["Ed25519", "secp256k1 ECDSA"] {
            let what = format!("{name}: keyholdd over the socket ({load})");
            if let (Some(t32), Some(t2)) = (find(&what, 32), find(&what, 2)) {
                println!(
                    "| {name}: throughput at 32 clients / at 2 (>= 0.8) | {load} | 32 | {:.2} |",
                    t32 / t2
                );
            }
        }
        let ed = format!("Ed25519: keyholdd over the socket ({load})");
        let agent = format!("Ed25519: OpenSSH ssh-agent over its socket ({load})");
        for r in rows.iter().filter(|r| r.what == ed) {
            if let Some(a) = find(&agent, r.clients) {
                println!(
                    "| Ed25519 keyholdd / ssh-agent (>= 15) | {load} | {} | {:.1} |",
                    r.clients,
                    r.ops_per_s / a
                );
            }
        }
    }
}

/// A running ssh-agent holding one Ed25519 key.
struct SshAgent {
    agent: Child,
    sock: PathBuf,
    request: Vec<u8>,
}

impl Drop for SshAgent {
    fn drop(&mut self) {
        let _ = self.agent.kill();
        let _ = self.agent.wait();
    }
}

impl SshAgent {
    fn measure(&self, what: &str, clients_n: (usize, usize)) -> Row {
        measure(
            what,
            clients_n,
            || UnixStream::connect(&self.sock).unwrap(),
            |s: &mut UnixStream| {
                let r = agent_call(s, &self.request);
                assert_eq!(r[0], 14, "SSH_AGENT_SIGN_RESPONSE");
            },
        )
    }
}

impl SshAgent {
    /// Starts ssh-agent with a fresh Ed25519 key; requests are
    /// SSH_AGENTC_SIGN_REQUEST spoken over its socket directly.
    fn start(dir: &Path) -> Result<Self, String> {
        let sock = dir.join("agent.sock");
        let key = dir.join("id_ed25519");
        let agent = Command::new("ssh-agent")
            .arg("-a")
            .arg(&sock)
            .arg("-D")
            .stdout(Stdio::null())
            .spawn()
            .map_err(|e| format!("ssh-agent: {e}"))?;
        let mut me = Self {
            agent,
            sock,
            request: Vec::new(),
        };
        let ok = Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-f"])
            .arg(&key)
            .status()
            .map_err(|e| e.to_string())?;
        if !ok.success() {
            return Err("ssh-keygen failed".into());
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while UnixStream::connect(&me.sock).is_err() {
            if Instant::now() > deadline {
                return Err("ssh-agent socket did not appear".into());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let ok = Command::new("ssh-add")
            .arg("-q")
            .arg(&key)
            .env("SSH_AUTH_SOCK", &me.sock)
            .status()
            .map_err(|e| e.to_string())?;
        if !ok.success() {
            return Err("ssh-add failed".into());
        }
        let mut s = UnixStream::connect(&me.sock).map_err(|e| e.to_string())?;
        let ids = agent_call(&mut s, &[11]);
        if ids.first() != Some(&12) {
            return Err("no identities answer".into());
        }
        let blob_len = u32::from_be_bytes(ids[5..9].try_into().unwrap()) as usize;
        let blob = ids[9..9 + blob_len].to_vec();
        let mut req = vec![13u8];
        req.extend_from_slice(&(blob.len() as u32).to_be_bytes());
        req.extend_from_slice(&blob);
        req.extend_from_slice(&(MSG.len() as u32).to_be_bytes());
        req.extend_from_slice(MSG);
        req.extend_from_slice(&0u32.to_be_bytes());
        me.request = req;
        Ok(me)
    }
}

fn agent_call(s: &mut UnixStream, msg: &[u8]) -> Vec<u8> {
    let mut frame = (msg.len() as u32).to_be_bytes().to_vec();
    frame.extend_from_slice(msg);
    s.write_all(&frame).unwrap();
    let mut len = [0u8; 4];
    s.read_exact(&mut len).unwrap();
    let mut body = vec![0u8; u32::from_be_bytes(len) as usize];
    s.read_exact(&mut body).unwrap();
    body
}

/// keyholdd's RSS with 100,000 stored keys: right after start, and after
/// 10,000 signs spread over 1,000 keys.
fn memory_bench() {
    const KEYS: usize = 100_000;
    // tmpfs: synchronous=FULL makes 100k separate commits slow on a disk.
    let base = if Path::new("/dev/shm").is_dir() {
        Path::new("/dev/shm")
    } else {
        Path::new("/tmp")
    };
    let dir = tempfile::tempdir_in(base).unwrap();
    let me = Caller::Unix {
        uid: rustix::process::getuid().as_raw(),
        gid: rustix::process::getgid().as_raw(),
        pid: std::process::id(),
        exe_sha256: None,
    };
    let started = Instant::now();
    {
        let engine = Keyhold::open_in_dir(dir.path(), Config::default()).unwrap();
        for i in 0..KEYS {
            engine
                .generate_key(
                    &me,
                    KeySpec::Single(Algorithm::Ed25519),
                    KeyOptions::alias(format!("m{i}")),
                )
                .unwrap();
        }
        engine.flush().unwrap();
    }
    let populate = started.elapsed();
    let d = start_daemon(dir.path());
    let pid = d.0.id();
    std::thread::sleep(Duration::from_millis(500));
    let at_start = rss_mib(pid);
    let mut c = Client::connect(&d.1).unwrap();
    let t = Instant::now();
    for i in 0..10_000 {
        let alias = format!("m{}", (i * 7919) % 1000);
        c.sign(&KeyRef::Alias(alias), None, None, Payload::Message(MSG))
            .unwrap();
    }
    let signing = t.elapsed();
    let after = rss_mib(pid);
    println!();
    println!("| keyholdd memory (VmRSS) | value |");
    println!("|---|---:|");
    println!(
        "| stored keys | {KEYS} (populated in-process in {:.1} s) |",
        populate.as_secs_f64()
    );
    println!("| RSS after start | {at_start:.1} MiB |");
    println!(
        "| RSS after 10,000 signs over 1,000 keys ({:.1} s) | {after:.1} MiB |",
        signing.as_secs_f64()
    );
    println!(
        "| cache capacity | {} unsealed keys |",
        Config::default().cache_capacity
    );
    assert!(
        after < 64.0,
        "keyholdd RSS {after:.1} MiB is not under 64 MiB"
    );
}
