//! Issue 10.4: one local client must not starve the others. Real processes
//! flood the daemon while this process, the legitimate client, keeps
//! signing and keeps opening new connections; it must never be refused.
//!
//! - a process of the **same uid** holds as many connections as it can
//!   (it reconnects in a loop whenever one is closed);
//! - a process of **another uid** (65534, when running as root) does the
//!   same through a shared socket;
//! - 24 connections of another process stream maximum-size (1 MiB) frames:
//!   the daemon's resident memory must come back under 64 MiB soon after
//!   they stop.
//!
//! These are correctness checks (refusals, memory), not timings: the
//! latency figures under the same loads are in `benches/load.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure

mod common;

use common::{TestDaemon, is_root, rss_kib};
use keyhold_client::frame::{self, MAX_RESPONSE_FRAME};
use keyhold_client::{Client, wire};
use keyhold_core::{Algorithm, KeyOptions, KeyRef, KeySpec, Payload};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const MODE_ENV: &str = "KEYHOLD_FLOOD_MODE";
const SOCKET_ENV: &str = "KEYHOLD_FLOOD_SOCKET";
/// A sign request this large fills the default 1 MiB frame limit.
const BIG_MESSAGE: usize = (1 << 20) - 64;

/// The flooding process.
#[test]
#[ignore = "helper: runs only as a child process of another test"]
fn flooder_role() {
    let (Ok(mode), Some(socket)) = (std::env::var(MODE_ENV), std::env::var_os(SOCKET_ENV)) else {
        return;
    };
    let socket = PathBuf::from(socket);
    match mode.as_str() {
        "hold" => hold(&socket),
        "stream" => stream(&socket, 24),
        other => panic!("unknown mode {other}"),
    }
}

/// Opens connections without end, keeping every one the daemon lets it
/// keep; reports how many it holds.
fn hold(socket: &Path) {
    let mut held: Vec<UnixStream> = Vec::new();
    let mut last_report = Instant::now();
    loop {
        if let Ok(mut s) = UnixStream::connect(socket) {
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            // The greeting (kept) or a refusal (dropped).
            if let Ok(Some(first)) = frame::read_frame(&mut s, MAX_RESPONSE_FRAME)
                && first.is_empty()
            {
                held.push(s);
            }
        }
        // Forget the ones the daemon closed.
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
        if last_report.elapsed() > Duration::from_millis(200) {
            println!("HOLDING {}", held.len());
            std::io::stdout().flush().unwrap();
            last_report = Instant::now();
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// `n` connections, each sending maximum-size sign requests back to back.
fn stream(socket: &Path, n: usize) {
    let request = frame::encode(&wire::sign_request("ed", &vec![0x42; BIG_MESSAGE])).unwrap();
    std::thread::scope(|scope| {
        for _ in 0..n {
            let request = &request;
            scope.spawn(move || {
                loop {
                    let Ok(mut c) = Client::connect(socket) else {
                        std::thread::sleep(Duration::from_millis(5));
                        continue;
                    };
                    // Raw frames on the client's connection: a Client is
                    // only used to connect (greeting included).
                    while c.call_raw(&request[frame::HEADER_LEN..]).is_ok() {
                        println!("SENT");
                    }
                }
            });
        }
    });
}

struct Flood(Child, std::sync::mpsc::Receiver<String>);

impl Flood {
    fn start(d: &TestDaemon, mode: &str, uid: Option<u32>) -> Self {
        let exe = if uid.is_some() {
            // Another uid runs a copy it can reach.
            let copy = d.dir.path().join("flooder");
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
        cmd.args([
            "flooder_role",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(MODE_ENV, mode)
        .env(SOCKET_ENV, &d.socket)
        .stdout(Stdio::piped());
        if let Some(u) = uid {
            use std::os::unix::process::CommandExt;
            cmd.uid(u).gid(u);
        }
        let mut child = cmd.spawn().unwrap();
        let out = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                for tag in ["HOLDING ", "SENT"] {
                    if let Some(at) = line.find(tag) {
                        let _ = tx.send(line[at..].to_owned());
                    }
                }
            }
        });
        Self(child, rx)
    }

    /// Waits until the flooder holds at least `n` connections.
    fn holding(&self, n: usize) -> usize {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let line = self
                .1
                .recv_timeout(Duration::from_secs(60))
                .expect("flooder output");
            if let Some(k) = line.strip_prefix("HOLDING ") {
                let k: usize = k.trim().parse().unwrap();
                if k >= n {
                    return k;
                }
            }
            assert!(Instant::now() < deadline, "the flooder never held {n}");
        }
    }

    fn sent(&self, n: usize) {
        for _ in 0..n {
            self.1
                .recv_timeout(Duration::from_secs(120))
                .expect("streamer progress");
        }
    }
}

impl Drop for Flood {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Signs `n` times, reconnecting every 25 requests; returns the errors.
fn legitimate_client(d: &TestDaemon, n: usize) -> Vec<String> {
    let mut errors = Vec::new();
    let mut c: Option<Client> = None;
    for i in 0..n {
        if i % 25 == 0 {
            c = None;
        }
        if c.is_none() {
            match Client::connect(&d.socket) {
                Ok(new) => c = Some(new),
                Err(e) => {
                    errors.push(format!("connect: {e}"));
                    continue;
                }
            }
        }
        let r = c.as_mut().unwrap().sign(
            &KeyRef::Alias("ed".into()),
            None,
            None,
            Payload::Message(b"legitimate"),
        );
        if let Err(e) = r {
            errors.push(format!("sign {i}: {e}"));
            c = None;
        }
    }
    errors
}

fn daemon_with_key(extra: &[&str]) -> TestDaemon {
    let d = TestDaemon::start(extra);
    d.client()
        .generate_key(
            KeySpec::Single(Algorithm::Ed25519),
            &KeyOptions::alias("ed"),
        )
        .unwrap();
    d
}

#[test]
fn a_same_uid_client_holding_connections_does_not_starve_another() {
    let d = daemon_with_key(&[]);
    let flood = Flood::start(&d, "hold", None);
    let held = flood.holding(40);
    let errors = legitimate_client(&d, 300);
    assert!(
        errors.is_empty(),
        "refused while a same-uid process held {held}: {errors:?}"
    );
    assert!(
        d.log()
            .contains("closing its least recently used idle connection"),
        "the flooder's idle connections made room"
    );
}

#[test]
fn another_uid_holding_connections_does_not_starve_this_one() {
    if !is_root() {
        eprintln!("skipped: running a process as another uid needs root");
        return;
    }
    let d = daemon_with_key(&["--socket-mode", "0666"]);
    std::fs::set_permissions(
        d.dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let flood = Flood::start(&d, "hold", Some(65534));
    let held = flood.holding(40);
    // Keep flooding for a while: the other uid never gets past its share.
    std::thread::sleep(Duration::from_millis(500));
    let errors = legitimate_client(&d, 300);
    assert!(
        errors.is_empty(),
        "refused while uid 65534 held {held}: {errors:?}"
    );
    assert!(
        held <= 48,
        "uid 65534 held {held} of 64 slots, more than its share"
    );
}

#[test]
fn maximum_size_frames_do_not_starve_others_and_memory_comes_back() {
    let d = daemon_with_key(&[]);
    let pid = d.pid();
    let before = rss_kib(pid);
    let flood = Flood::start(&d, "stream", None);
    flood.sent(48);
    let mut peak = rss_kib(pid);
    let errors = legitimate_client(&d, 100);
    flood.sent(24);
    peak = peak.max(rss_kib(pid));
    assert!(errors.is_empty(), "refused during the stream: {errors:?}");
    drop(flood);
    // Memory goes back once the load stops (budget drained, buffers unmapped).
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut after = rss_kib(pid);
    while after >= 64 * 1024 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
        after = rss_kib(pid);
    }
    eprintln!(
        "daemon RSS: {} MiB before, {} MiB peak, {} MiB after",
        before / 1024,
        peak / 1024,
        after / 1024
    );
    assert!(after < 64 * 1024, "RSS stayed at {} MiB", after / 1024);
    assert!(
        peak < 160 * 1024,
        "the in-flight budget bounds the peak: {} MiB",
        peak / 1024
    );
}
