//! K2 (a client's memory holds no private key after a session), L1
//! (a same-uid process cannot ptrace the daemon or read its memory) and the
//! daemon's hardening as seen from outside.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure

mod common;

use common::{TestDaemon, is_root, random32};
use keyhold_client::memscan::{MaskedNeedle, scan_process};
use keyhold_client::{Client, read_secret_from_stdin};
use keyhold_core::{Algorithm, ImportMaterial, KeyOptions, KeyRef, Payload, SecretBytes};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;
use zeroize::Zeroizing;

const CHILD_SOCKET_ENV: &str = "KEYHOLD_TEST_CHILD_SOCKET";

/// Kills a child process when dropped (also when a test fails).
struct Reaper(Child);

impl Drop for Reaper {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The test client: run by `client_memory_holds_no_private_key_after_a_session`
/// as a separate process (this test binary, re-executed). It reads a private
/// key in hex from stdin, imports it through the socket, signs, plants a
/// positive control, reports, and waits to be scanned.
#[test]
#[ignore = "helper: runs only as a child process of another test"]
fn child_client_role() {
    let Some(socket) = std::env::var_os(CHILD_SOCKET_ENV) else {
        eprintln!(
            "child_client_role only runs as a child of client_memory_holds_no_private_key_after_a_session"
        );
        return;
    };
    let hex_key = read_secret_from_stdin().unwrap();
    // On the heap: moving a stack array (even a Zeroizing one) leaves a copy behind.
    let mut key = Zeroizing::new(vec![0u8; 32]);
    hex::decode_to_slice(&*hex_key, &mut key[..]).unwrap();
    drop(hex_key);
    let material = ImportMaterial::RawPrivateKey {
        algorithm: Algorithm::Secp256k1,
        secret: SecretBytes::copy_from(&key),
    };
    drop(key);
    let mut c = Client::connect(std::path::Path::new(&socket)).unwrap();
    let info = c.import_key(material, &KeyOptions::alias("k2")).unwrap();
    let sig = c
        .sign(
            &KeyRef::Alias("k2".into()),
            None,
            None,
            Payload::Message(b"k2 session"),
        )
        .unwrap();
    let control = random32().to_vec();
    println!(
        "READY {:x} {} {} {}",
        control.as_ptr() as usize,
        hex::encode(&control),
        hex::encode(&info.public_key),
        hex::encode(&sig)
    );
    std::io::stdout().flush().unwrap();
    for _ in 0..300 {
        std::thread::sleep(Duration::from_millis(500));
    }
    std::hint::black_box(&control);
}

#[test]
fn client_memory_holds_no_private_key_after_a_session() {
    let d = TestDaemon::start(&[]);
    // The key exists only at run time (never as a constant in this binary,
    // which the child also maps).
    let key = loop {
        let k = random32();
        if k256::ecdsa::SigningKey::from_slice(&k).is_ok() {
            break k;
        }
    };
    let expected = k256::ecdsa::SigningKey::from_slice(&key).unwrap();
    let mut child = Reaper(
        Command::new(std::env::current_exe().unwrap())
            .args([
                "child_client_role",
                "--exact",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_SOCKET_ENV, &d.socket)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut stdin = child.0.stdin.take().unwrap();
    stdin.write_all(hex::encode(key).as_bytes()).unwrap();
    stdin.write_all(b"\n").unwrap();
    drop(stdin);
    let stdout = child.0.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            // libtest may print "test child_client_role ... " on the same line.
            if let Some(at) = line.find("READY ") {
                let _ = tx.send(line[at..].to_owned());
                return;
            }
        }
    });
    let ready = rx
        .recv_timeout(Duration::from_secs(180))
        .expect("the child client reported");
    let fields: Vec<&str> = ready.split_whitespace().collect();
    let control_address = u64::from_str_radix(fields[1], 16).unwrap();
    let control = hex::decode(fields[2]).unwrap();
    let public_key = hex::decode(fields[3]).unwrap();
    let signature = hex::decode(fields[4]).unwrap();

    // The session worked: the key the child imported is the one we gave it.
    let vk = k256::ecdsa::VerifyingKey::from_sec1_bytes(&public_key).unwrap();
    assert_eq!(&vk, expected.verifying_key());
    use k256::ecdsa::signature::Verifier;
    vk.verify(
        b"k2 session",
        &k256::ecdsa::Signature::from_der(&signature).unwrap(),
    )
    .unwrap();

    let mask = |n: usize, salt: u8| {
        (0..n)
            .map(|i| (i as u8).wrapping_mul(29) ^ salt | 0x40)
            .collect::<Vec<u8>>()
    };
    let upper = hex::encode_upper(key);
    let needles = [
        MaskedNeedle::from_plain("key", &key, mask(32, 1)),
        MaskedNeedle::from_plain("key-hex", hex::encode(key).as_bytes(), mask(64, 2)),
        MaskedNeedle::from_plain("key-HEX", upper.as_bytes(), mask(64, 3)),
        MaskedNeedle::from_plain("control", &control, mask(32, 4)),
    ];
    let report = scan_process(Some(child.0.id()), &needles).expect("read /proc/<child>/mem");
    eprintln!(
        "scanned {} regions, {} MiB, {} unreadable",
        report.regions_scanned,
        report.bytes_scanned >> 20,
        report.regions_unreadable
    );
    assert!(
        report
            .hits_of("control")
            .any(|h| h.address == control_address),
        "positive control not found at {control_address:#x}: {:?}",
        report.hits_of("control").collect::<Vec<_>>()
    );
    let leaks: Vec<_> = report
        .hits
        .iter()
        .filter(|h| h.needle != "control")
        .collect();
    assert!(
        leaks.is_empty(),
        "private key bytes in the client's memory: {leaks:?}"
    );
}

/// Runs `program args` as uid/gid 65534 and returns (success, stderr).
fn run_as_nobody(program: &str, args: &[&str]) -> (bool, String) {
    use std::os::unix::process::CommandExt;
    let out = Command::new(program)
        .args(args)
        .uid(65534)
        .gid(65534)
        .env("LC_ALL", "C")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_same_uid_process_cannot_ptrace_or_read_the_daemon() {
    if !is_root() {
        eprintln!("SKIPPED: needs root to run the daemon and the attacker as uid 65534");
        return;
    }
    let d = TestDaemon::start_as(Some(65534), &[]);
    let daemon = d.pid().to_string();
    // Positive control: an ordinary (dumpable) process of the same uid.
    let sleeper = {
        use std::os::unix::process::CommandExt;
        Reaper(
            Command::new("sleep")
                .arg("120")
                .uid(65534)
                .gid(65534)
                .spawn()
                .unwrap(),
        )
    };
    let victim = sleeper.0.id().to_string();

    let (ok, err) = run_as_nobody("cat", &[&format!("/proc/{victim}/mem")]);
    assert!(
        !ok && err.contains("Input/output error"),
        "control: open succeeds, reading address 0 fails: {err}"
    );
    let (ok, err) = run_as_nobody("cat", &[&format!("/proc/{daemon}/mem")]);
    assert!(
        !ok && err.contains("Permission denied"),
        "the daemon's memory must not open: {err}"
    );
    let (ok, err) = run_as_nobody("cat", &[&format!("/proc/{daemon}/environ")]);
    assert!(!ok && err.contains("Permission denied"), "{err}");

    if std::path::Path::new("/usr/bin/strace").exists() {
        let (_, err) = run_as_nobody(
            "timeout",
            &["3", "strace", "-e", "trace=none", "-p", &victim],
        );
        assert!(
            err.contains("attached"),
            "control: strace attaches to a dumpable process: {err}"
        );
        let (ok, err) = run_as_nobody(
            "timeout",
            &["10", "strace", "-e", "trace=none", "-p", &daemon],
        );
        assert!(
            !ok && err.contains("Operation not permitted"),
            "ptrace of the daemon: {err}"
        );
    } else {
        eprintln!(
            "strace not installed: ptrace attach not exercised (the /proc/<pid>/mem check ran)"
        );
    }
    // Unprivileged, mlockall is skipped with a reason rather than risking OOM.
    assert!(d.log().contains("non-dumpable: ok"), "{}", d.log());
    assert!(
        d.log().contains("mlockall: skipped (RLIMIT_MEMLOCK"),
        "{}",
        d.log()
    );
}

#[test]
fn the_daemon_is_hardened() {
    let d = TestDaemon::start(&[]);
    let pid = d.pid();
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    assert!(
        status
            .lines()
            .any(|l| l.starts_with("NoNewPrivs:") && l.ends_with('1')),
        "{status}"
    );
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).unwrap();
    let core = limits
        .lines()
        .find(|l| l.starts_with("Max core file size"))
        .unwrap();
    assert_eq!(
        core.split_whitespace().collect::<Vec<_>>()[4..6],
        ["0", "0"],
        "{core}"
    );
    assert!(
        d.log()
            .contains("non-dumpable: ok; core dumps off: ok; no-new-privs: ok"),
        "{}",
        d.log()
    );
    if is_root() {
        assert!(d.log().contains("mlockall: ok"), "{}", d.log());
        let locked = keyholdd::hardening::locked_kib(pid).unwrap();
        assert!(locked > 0, "VmLck is {locked} kB");
    } else {
        eprintln!("not root: mlockall depends on RLIMIT_MEMLOCK; its outcome is only logged");
    }
    // Files: data directory 0700, socket 0600 in a 0700 directory.
    use std::os::unix::fs::MetadataExt;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().mode() & 0o777;
    assert_eq!(mode(&d.data_dir), 0o700);
    assert_eq!(mode(&d.socket), 0o600);
    assert_eq!(mode(d.socket.parent().unwrap()), 0o700);
    assert_eq!(mode(&d.data_dir.join("sealer.key")), 0o600);
}
