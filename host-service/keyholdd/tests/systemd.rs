//! Issue 11.4: keyholdd started the way systemd starts it. Debian's
//! `systemd-socket-activate` (package `systemd`) binds the socket, waits for
//! the first connection and execs keyholdd with the listening socket as
//! descriptor 3 and `LISTEN_PID`/`LISTEN_FDS` set (sd_listen_fds(3)); the
//! test passes its own `NOTIFY_SOCKET` and expects `READY=1` and, after
//! SIGTERM, `STOPPING=1` (sd_notify(3)). The unit files are checked with
//! `systemd-analyze verify` when it is installed.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure

mod common;

use keyhold_client::Client;
use keyhold_core::{Algorithm, KeyOptions, KeyRef, KeySpec, Payload};
use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn have(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn recv_state(notify: &UnixDatagram, want: &str) -> String {
    let mut buf = [0u8; 512];
    let deadline = Instant::now() + common::START_TIMEOUT;
    loop {
        assert!(Instant::now() < deadline, "no {want} from keyholdd");
        if let Ok(n) = notify.recv(&mut buf) {
            let msg = String::from_utf8_lossy(&buf[..n]).into_owned();
            if msg.lines().any(|l| l == want) {
                return msg;
            }
        }
    }
}

#[test]
fn socket_activation_and_readiness_through_systemd_socket_activate() {
    if !have("systemd-socket-activate") {
        eprintln!("skipped: systemd-socket-activate is not installed (package systemd)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("keyhold.sock");
    let notify_path = dir.path().join("notify");
    let notify = UnixDatagram::bind(&notify_path).unwrap();
    notify
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let mut activator = Command::new("systemd-socket-activate")
        .arg("-l")
        .arg(&socket)
        .arg("-E")
        .arg(format!("NOTIFY_SOCKET={}", notify_path.display()))
        .arg(env!("CARGO_BIN_EXE_keyholdd"))
        // A different --socket proves the passed descriptor is what is served.
        .arg("--socket")
        .arg(dir.path().join("unused.sock"))
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .arg("--no-mlockall")
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let deadline = Instant::now() + common::START_TIMEOUT;
    while !socket.exists() {
        assert!(Instant::now() < deadline, "the activator did not listen");
        std::thread::sleep(Duration::from_millis(10));
    }
    let pid = activator.id();
    let stderr = activator.stderr.take().unwrap();
    let activator = Kill(activator);
    // The first connection starts keyholdd; the client waits for its greeting.
    let mut c = Client::connect_waiting(&socket, common::START_TIMEOUT).unwrap();
    let ready = recv_state(&notify, "READY=1");
    assert!(ready.contains("STATUS=serving"), "{ready}");
    // systemd-socket-activate execs keyholdd in its own process.
    assert!(
        std::fs::read_link(format!("/proc/{pid}/exe"))
            .unwrap()
            .ends_with("keyholdd"),
        "keyholdd runs as the activated process"
    );
    c.generate_key(KeySpec::Single(Algorithm::Ed25519), &KeyOptions::alias("k"))
        .unwrap();
    c.sign(
        &KeyRef::Alias("k".into()),
        None,
        None,
        Payload::Message(b"x"),
    )
    .unwrap();
    assert!(
        !dir.path().join("unused.sock").exists(),
        "an activated daemon binds nothing itself"
    );
    common::signal(pid, rustix::process::Signal::TERM);
    recv_state(&notify, "STOPPING=1");
    let mut activator = activator;
    let status = activator.0.wait().unwrap();
    let mut log = String::new();
    std::io::Read::read_to_string(&mut { stderr }, &mut log).unwrap();
    assert!(status.success(), "{status}; log:\n{log}");
    assert!(
        socket.exists(),
        "the socket file belongs to the service manager and is left in place"
    );
}

#[test]
fn the_unit_files_verify() {
    let units = Path::new(env!("CARGO_MANIFEST_DIR")).join("../systemd");
    let socket = std::fs::read_to_string(units.join("keyholdd.socket")).unwrap();
    let service = std::fs::read_to_string(units.join("keyholdd.service")).unwrap();
    assert!(socket.contains("ListenStream=%t/keyhold/keyhold.sock"));
    assert!(socket.contains("SocketMode=0600") && socket.contains("PassCredentials=yes"));
    assert!(service.contains("Type=notify"));
    assert!(service.contains("--socket %t/keyhold/keyhold.sock"));
    if !have("systemd-analyze") {
        eprintln!("systemd-analyze verify skipped: not installed");
        return;
    }
    // ExecStart names a per-user path; point it at the built binary in a copy.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("keyholdd.socket"), &socket).unwrap();
    std::fs::write(
        dir.path().join("keyholdd.service"),
        service.replace("%h/.local/bin/keyholdd", env!("CARGO_BIN_EXE_keyholdd")),
    )
    .unwrap();
    let out = Command::new("systemd-analyze")
        .args(["verify", "--user", "--man=no"])
        .arg(dir.path().join("keyholdd.socket"))
        .arg(dir.path().join("keyholdd.service"))
        .env("XDG_RUNTIME_DIR", dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Only complaints about our own files count (the build machine has no
    // user session, which systemd-analyze may mention).
    let ours: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("keyholdd.s"))
        .collect();
    assert!(ours.is_empty(), "systemd-analyze verify:\n{stderr}");
}
