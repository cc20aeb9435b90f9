//! Issue 10.1: the identity that authorises a request is that of the
//! process that *writes* it. Real processes attack a key bound to a binary
//! (`/usr/bin/sleep`'s SHA-256) the ways the attack run did:
//!
//! - **parent-exec**: a process connects, starts a child that keeps the
//!   socket, then `execve`s the bound binary; the child signs.
//! - **child-exec** (the reverse): the child `execve`s the bound binary,
//!   the parent signs.
//! - **write-exec**: a process writes a sign request, *then* `execve`s the
//!   bound binary (same pid), so only the order of events tells them apart.
//!
//! To make the race deterministic in the attacker's favour the test stops
//! the daemon (SIGSTOP, which any same-uid process may send) until the
//! attacker has `execve`d, so the daemon's identification certainly sees
//! the bound binary (the daemon's log, which names the identified digest,
//! is checked to prove it); runs without the stop are included too.
//! Every signature attempt must be refused; positive controls show the
//! same helper process is served when it is the bound program's writer.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure

mod common;

use common::{TestDaemon, signal};
use keyhold_client::frame::{self, MAX_RESPONSE_FRAME};
use keyhold_client::{Client, wire};
use keyhold_core::{Algorithm, CallerRule, KeyOptions, KeyPolicy, KeyRef, KeySpec, Payload};
use rustix::process::Signal;
use std::io::{BufRead, BufReader};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const MODE_ENV: &str = "KEYHOLD_ID_MODE";
const SOCKET_ENV: &str = "KEYHOLD_ID_SOCKET";
const ALIAS_ENV: &str = "KEYHOLD_ID_ALIAS";
const BOUND: &str = "/usr/bin/sleep";
/// Sign attempts per attacker run.
const SIGNS: usize = 3;

const ATTACKER_ENV: &str = "KEYHOLD_ID_ATTACKER";

/// The helper processes run a copy of this test binary with one byte
/// appended (still a valid ELF file), so their digest is neither this
/// binary's (which creates the keys and so is always among a key's allowed
/// callers) nor the bound program's.
fn attacker_binary(dir: &Path) -> PathBuf {
    let copy = dir.join("attacker");
    if !copy.exists() {
        let mut bytes = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        bytes.push(0x5a);
        std::fs::write(&copy, bytes).unwrap();
        std::fs::set_permissions(&copy, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
    }
    copy
}

fn role(name: &str, mode: &str, socket: &Path, alias: &str) -> Command {
    let exe = std::env::var_os(ATTACKER_ENV).map_or_else(
        || attacker_binary(socket.parent().unwrap().parent().unwrap()),
        PathBuf::from,
    );
    let mut c = Command::new(&exe);
    c.env(ATTACKER_ENV, &exe);
    c.args([
        name,
        "--exact",
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ])
    .env(MODE_ENV, mode)
    .env(SOCKET_ENV, socket)
    .env(ALIAS_ENV, alias);
    c
}

fn exe_of(pid: u32) -> Option<PathBuf> {
    std::fs::read_link(format!("/proc/{pid}/exe")).ok()
}

fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Reads one response frame: "ok", the error code's name, or "eof".
fn outcome(s: &mut UnixStream) -> String {
    match frame::read_frame(s, MAX_RESPONSE_FRAME) {
        Ok(Some(body)) => match wire::response_error(&body) {
            Ok(None) => "ok".into(),
            Ok(Some((code, _))) => format!("{code:?}"),
            Err(()) => "garbage".into(),
        },
        Ok(None) => "eof".into(),
        Err(e) => format!("io:{e}"),
    }
}

fn expect_greeting(s: &mut UnixStream) {
    let first = frame::read_frame(s, MAX_RESPONSE_FRAME).unwrap().unwrap();
    assert!(first.is_empty(), "the daemon greets with an empty frame");
}

fn sign_frame(alias: &str) -> Vec<u8> {
    frame::encode(&wire::sign_request(alias, b"who is writing this?"))
        .unwrap()
        .to_vec()
}

fn report(result: &str) {
    println!("RESULT {result} pid={}", std::process::id());
}

/// The attacker process (the connecting one). Its children outlive it on
/// purpose (it `execve`s), so they are not waited for here.
#[test]
#[allow(clippy::zombie_processes)]
#[ignore = "helper: runs only as a child process of another test"]
fn attacker_role() {
    let (Ok(mode), Some(socket), Ok(alias)) = (
        std::env::var(MODE_ENV),
        std::env::var_os(SOCKET_ENV),
        std::env::var(ALIAS_ENV),
    ) else {
        return;
    };
    let socket = PathBuf::from(socket);
    let mut s = UnixStream::connect(&socket).unwrap();
    let keeper = |child_mode: &str, s: &UnixStream| {
        let fd = OwnedFd::from(s.try_clone().unwrap());
        role("keeper_role", child_mode, &socket, &alias)
            .stdin(Stdio::from(fd))
            .spawn()
            .unwrap()
    };
    match mode.as_str() {
        "parent-exec" => {
            let _child = keeper("sign-after-parent-exec", &s);
            drop(s);
            let e = Command::new(BOUND).arg("60").exec();
            panic!("exec: {e}");
        }
        "write-exec" => {
            std::io::Write::write_all(&mut s, &sign_frame(&alias)).unwrap();
            let _child = keeper("read-after-parent-exec", &s);
            drop(s);
            let e = Command::new(BOUND).arg("60").exec();
            panic!("exec: {e}");
        }
        "child-exec" => {
            let child = keeper("exec", &s);
            wait_until("the child to exec", || {
                exe_of(child.id()).is_some_and(|p| p == Path::new(BOUND))
            });
            expect_greeting(&mut s);
            for _ in 0..SIGNS {
                std::io::Write::write_all(&mut s, &sign_frame(&alias)).unwrap();
                report(&outcome(&mut s));
            }
        }
        "control" => {
            expect_greeting(&mut s);
            std::io::Write::write_all(&mut s, &sign_frame(&alias)).unwrap();
            report(&outcome(&mut s));
        }
        "control-no-greeting" => {
            // Written before the identification: no digest for this one...
            std::io::Write::write_all(&mut s, &sign_frame(&alias)).unwrap();
            expect_greeting(&mut s);
            report(&outcome(&mut s));
            // ...but the next one, written after, is the identified program's.
            std::io::Write::write_all(&mut s, &sign_frame(&alias)).unwrap();
            report(&outcome(&mut s));
        }
        other => panic!("unknown mode {other}"),
    }
}

/// The second process holding the attacker's connection (as stdin).
#[test]
#[ignore = "helper: runs only as a child process of another test"]
fn keeper_role() {
    let (Ok(mode), Ok(alias)) = (std::env::var(MODE_ENV), std::env::var(ALIAS_ENV)) else {
        return;
    };
    let parent = rustix::process::getppid().map_or(0, |p| p.as_raw_nonzero().get() as u32);
    match mode.as_str() {
        "exec" => {
            let e = Command::new(BOUND).arg("60").exec();
            panic!("exec: {e}");
        }
        "sign-after-parent-exec" | "read-after-parent-exec" => {
            let fd = std::io::stdin().as_fd().try_clone_to_owned().unwrap();
            let mut s = UnixStream::from(fd);
            s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
            wait_until("the parent to exec", || {
                exe_of(parent).is_some_and(|p| p == Path::new(BOUND))
            });
            println!("KEEPER READY");
            expect_greeting(&mut s);
            if mode == "read-after-parent-exec" {
                report(&outcome(&mut s));
                return;
            }
            for _ in 0..SIGNS {
                std::io::Write::write_all(&mut s, &sign_frame(&alias)).unwrap();
                report(&outcome(&mut s));
            }
        }
        other => panic!("unknown mode {other}"),
    }
}

/// Kills every process of a run when dropped.
struct Run {
    attacker: Child,
    lines: mpsc::Receiver<String>,
}

impl Run {
    fn start(d: &TestDaemon, mode: &str, alias: &str, stop_daemon: bool) -> Self {
        if stop_daemon {
            signal(d.pid(), Signal::STOP);
        }
        let mut attacker = role("attacker_role", mode, &d.socket, alias)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let (tx, lines) = mpsc::channel();
        let out = attacker.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                for tag in ["RESULT ", "KEEPER READY"] {
                    if let Some(at) = line.find(tag) {
                        let _ = tx.send(line[at..].to_owned());
                    }
                }
            }
        });
        let run = Self { attacker, lines };
        if stop_daemon {
            if mode.ends_with("-exec") && mode != "child-exec" {
                let pid = run.attacker.id();
                wait_until("the attacker to exec the bound binary", || {
                    exe_of(pid).is_some_and(|p| p == Path::new(BOUND))
                });
                assert_eq!(run.line(), "KEEPER READY");
            } else {
                std::thread::sleep(Duration::from_millis(50));
            }
            signal(d.pid(), Signal::CONT);
        }
        run
    }

    fn line(&self) -> String {
        self.lines
            .recv_timeout(Duration::from_secs(60))
            .expect("a result from the attacker")
    }

    fn results(&self, n: usize) -> Vec<String> {
        let mut out = Vec::new();
        while out.len() < n {
            let l = self.line();
            if let Some(r) = l.strip_prefix("RESULT ") {
                out.push(r.split_whitespace().next().unwrap().to_owned());
            }
        }
        out
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        let _ = self.attacker.kill();
        let _ = self.attacker.wait();
    }
}

/// A key usable only by the program with `digest` and by this test binary
/// (the core requires the creator among the allowed callers).
fn bound_key(c: &mut Client, alias: &str, digest: [u8; 32]) {
    let me = keyholdd::peer::file_digest(&std::env::current_exe().unwrap()).unwrap();
    let rule = |d| CallerRule {
        uid: Some(rustix::process::getuid().as_raw()),
        app_id: None,
        code_sha256: Some(d),
    };
    let policy = KeyPolicy {
        allowed_callers: vec![rule(digest), rule(me)],
        ..KeyPolicy::default()
    };
    c.generate_key(
        KeySpec::Single(Algorithm::Ed25519),
        &KeyOptions {
            alias: alias.into(),
            policy,
            bind_to_caller_code: false,
        },
    )
    .unwrap();
}

#[test]
fn a_bound_key_serves_only_requests_written_by_the_bound_program() {
    let d = TestDaemon::start(&[]);
    let mut c = d.client();
    let sleep_digest = keyholdd::peer::file_digest(Path::new(BOUND)).unwrap();
    let attacker = attacker_binary(d.dir.path());
    let attacker_digest = keyholdd::peer::file_digest(&attacker).unwrap();
    bound_key(&mut c, "bound-to-sleep", sleep_digest);
    bound_key(&mut c, "bound-to-attacker", attacker_digest);
    // Positive control: the first request after Client::connect (which
    // waits for the greeting) carries this binary's digest.
    let mut fresh = d.client();
    fresh
        .sign(
            &KeyRef::Alias("bound-to-sleep".into()),
            None,
            None,
            Payload::Message(b"x"),
        )
        .unwrap();

    // Positive controls through the helper process itself.
    assert_eq!(
        Run::start(&d, "control", "bound-to-attacker", false).results(1),
        ["ok"]
    );
    assert_eq!(
        Run::start(&d, "control-no-greeting", "bound-to-attacker", true).results(2),
        ["PermissionDenied", "ok"],
        "a request written before the identification gets no digest; the next one does"
    );

    let mut attempts = 0;
    let mut refused = 0;
    let rounds = 8;
    for round in 0..rounds {
        let stop = round % 2 == 0;
        for (mode, n) in [
            ("parent-exec", SIGNS),
            ("write-exec", 1),
            ("child-exec", SIGNS),
        ] {
            let run = Run::start(&d, mode, "bound-to-sleep", stop);
            for r in run.results(n) {
                attempts += 1;
                assert_eq!(
                    r,
                    "PermissionDenied",
                    "{mode} (daemon stopped: {stop}) must be refused; log:\n{}",
                    d.log()
                );
                refused += 1;
            }
        }
    }
    eprintln!("{refused} of {attempts} attacker signatures refused");
    // The stopped runs really had the daemon identify the bound binary:
    // the log names sleep's digest on connections whose writer changed.
    let sleep_hex = hex::encode(&sleep_digest[..8]);
    let count = |what: &str| {
        d.log()
            .lines()
            .filter(|l| l.contains(what) && l.contains(&sleep_hex))
            .count()
    };
    // The lines are written when each connection ends.
    let deadline = Instant::now() + Duration::from_secs(20);
    while (count("digest withdrawn") < rounds / 2
        || count("written before it was identified") < rounds / 2)
        && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(50));
    }
    let withdrawn = count("digest withdrawn");
    assert!(
        withdrawn >= rounds / 2,
        "parent-exec runs with the daemon stopped were identified as {BOUND} \
         ({withdrawn} found); log:\n{}",
        d.log()
    );
    let stale = count("written before it was identified");
    assert!(
        stale >= rounds / 2,
        "write-exec runs with the daemon stopped were identified as {BOUND} ({stale} found)"
    );
}

/// Run as an unprivileged uid: try to claim another process's pid in
/// `SCM_CREDENTIALS`, then send honestly; report both outcomes.
#[test]
#[ignore = "helper: runs only as a child process of another test"]
fn forger_role() {
    let Some(socket) = std::env::var_os(SOCKET_ENV) else {
        return;
    };
    use rustix::net::{SendAncillaryBuffer, SendAncillaryMessage, SendFlags, UCred, sendmsg};
    use std::mem::MaybeUninit;
    let mut s = UnixStream::connect(PathBuf::from(socket)).unwrap();
    expect_greeting(&mut s);
    let frame = frame::encode(&wire::list_keys_request(1)).unwrap();
    let send_as = |pid: i32| {
        let cred = UCred {
            pid: rustix::process::Pid::from_raw(pid).unwrap(),
            uid: rustix::process::getuid(),
            gid: rustix::process::getgid(),
        };
        let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmCredentials(1))];
        let mut control = SendAncillaryBuffer::new(&mut space);
        assert!(control.push(SendAncillaryMessage::ScmCredentials(cred)));
        sendmsg(
            &s,
            &[std::io::IoSlice::new(&frame)],
            &mut control,
            SendFlags::empty(),
        )
    };
    match send_as(1) {
        Err(e) => println!("RESULT forged:{e:?}"),
        Ok(_) => println!("RESULT forged:sent"),
    }
    let me = i32::try_from(std::process::id()).unwrap();
    send_as(me).unwrap();
    println!("RESULT honest:{}", outcome(&mut s));
}

#[test]
fn the_kernel_refuses_credentials_naming_another_process() {
    // man 7 unix, SCM_CREDENTIALS: a sender may name only its own pid
    // unless it has CAP_SYS_ADMIN (net/core/scm.c, scm_check_creds).
    if !common::is_root() {
        eprintln!("skipped: running a process as another uid needs root");
        return;
    }
    let d = TestDaemon::start(&["--socket-mode", "0666"]);
    std::fs::set_permissions(
        d.dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let forger = attacker_binary(d.dir.path());
    let out = Command::new(&forger)
        .args([
            "forger_role",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(SOCKET_ENV, &d.socket)
        .uid(65534)
        .gid(65534)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let results: Vec<&str> = stdout
        .lines()
        .filter_map(|l| l.find("RESULT ").map(|at| &l[at + 7..]))
        .collect();
    assert_eq!(
        results,
        [
            "forged:Os { code: 1, kind: PermissionDenied, message: \"Operation not permitted\" }",
            "honest:ok"
        ],
        "stdout: {stdout}\nstderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
