//! Host-service benchmark: signing latency and throughput over the socket,
//! through the in-process `Keyhold::handle`, with the raw primitive, and
//! with OpenSSH's ssh-agent; plus keyholdd's memory with 100,000 stored
//! keys. Prints a markdown table. Run with:
//!
//!     cargo bench -p keyholdd --bench socket
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure
#![allow(missing_docs)]

use keyhold_client::Client;
use keyhold_core::{Algorithm, Caller, Config, KeyOptions, KeyRef, KeySpec, Keyhold, Payload};
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const N: usize = 2000;
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

/// Runs `op` `N` times split over `clients` threads, each with its own state.
fn measure<S: Send>(
    what: &str,
    clients: usize,
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
                    (0..N / clients)
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
        for (alias, name) in [("ed", "Ed25519"), ("k1", "secp256k1 ECDSA")] {
            for clients in [1, 2] {
                rows.push(measure(
                    &format!("{name}: keyholdd over the socket"),
                    clients,
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
        }
    }
    let engine = Keyhold::open_in_dir(dir.path(), Config::default()).unwrap();
    for (alias, name) in [("ed", "Ed25519"), ("k1", "secp256k1 ECDSA")] {
        let request = keyhold_client::wire::sign_request(alias, MSG);
        for clients in [1, 2] {
            rows.push(measure(
                &format!("{name}: in-process Keyhold::handle"),
                clients,
                || (),
                |_| {
                    let r = engine.handle(&me, &request);
                    assert!(keyhold_client::wire::response_error(&r) == Ok(None));
                },
            ));
        }
    }
    drop(engine);
    {
        use ed25519_dalek::Signer;
        let ed = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
        let k1 = k256::ecdsa::SigningKey::from_slice(&[7u8; 32]).unwrap();
        for clients in [1, 2] {
            rows.push(measure(
                "Ed25519: raw ed25519-dalek",
                clients,
                || (),
                |_| {
                    std::hint::black_box(ed.sign(MSG));
                },
            ));
        }
        for clients in [1, 2] {
            rows.push(measure(
                "secp256k1 ECDSA: raw k256",
                clients,
                || (),
                |_| {
                    let s: k256::ecdsa::Signature = k1.sign(MSG);
                    std::hint::black_box(s);
                },
            ));
        }
    }
    match ssh_agent_rows(dir.path()) {
        Ok(mut r) => rows.append(&mut r),
        Err(e) => eprintln!("ssh-agent not measured: {e}"),
    }

    println!("| operation | clients | p50 (µs) | p99 (µs) | throughput (ops/s) |");
    println!("|---|---:|---:|---:|---:|");
    for r in &rows {
        println!(
            "| {} | {} | {:.1} | {:.1} | {:.0} |",
            r.what, r.clients, r.p50_us, r.p99_us, r.ops_per_s
        );
    }
    memory_bench();
}

/// ssh-agent: speak SSH_AGENTC_SIGN_REQUEST over its socket ourselves.
fn ssh_agent_rows(dir: &Path) -> Result<Vec<Row>, String> {
    let sock = dir.join("agent.sock");
    let key = dir.join("id_ed25519");
    let mut agent = Command::new("ssh-agent")
        .arg("-a")
        .arg(&sock)
        .arg("-D")
        .stdout(Stdio::null())
        .spawn()
        .map_err(|e| format!("ssh-agent: {e}"))?;
    let result = (|| {
        let ok = Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-f"])
            .arg(&key)
            .status()
            .map_err(|e| e.to_string())?;
        if !ok.success() {
            return Err("ssh-keygen failed".into());
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while UnixStream::connect(&sock).is_err() {
            if Instant::now() > deadline {
                return Err("ssh-agent socket did not appear".into());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let ok = Command::new("ssh-add")
            .arg("-q")
            .arg(&key)
            .env("SSH_AUTH_SOCK", &sock)
            .status()
            .map_err(|e| e.to_string())?;
        if !ok.success() {
            return Err("ssh-add failed".into());
        }
        let mut s = UnixStream::connect(&sock).map_err(|e| e.to_string())?;
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
        let mut rows = Vec::new();
        for clients in [1, 2] {
            rows.push(measure(
                "Ed25519: OpenSSH ssh-agent over its socket",
                clients,
                || UnixStream::connect(&sock).unwrap(),
                |s: &mut UnixStream| {
                    let r = agent_call(s, &req);
                    assert_eq!(r[0], 14, "SSH_AGENT_SIGN_RESPONSE");
                },
            ));
        }
        Ok(rows)
    })();
    let _ = agent.kill();
    let _ = agent.wait();
    result
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
