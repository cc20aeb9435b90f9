//! Shared helpers for the daemon's process-level tests: start `keyholdd`
//! as a real process in a private temporary directory, connect, and always
//! clean the process up (Drop sends SIGTERM, then SIGKILL).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use keyhold_client::Client;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// Generous: a loaded 2-core CI machine also runs the self-tests at start-up.
pub const START_TIMEOUT: Duration = Duration::from_secs(90);

pub struct TestDaemon {
    pub dir: tempfile::TempDir,
    pub child: Option<Child>,
    pub socket: PathBuf,
    pub data_dir: PathBuf,
    extra: Vec<String>,
    pub uid: Option<u32>,
}

impl TestDaemon {
    pub fn start(extra: &[&str]) -> Self {
        Self::start_as(None, extra)
    }

    /// Starts the daemon, as `uid` (and its gid) when given.
    pub fn start_as(uid: Option<u32>, extra: &[&str]) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        if uid.is_some() {
            fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
        }
        let data_dir = dir.path().join("data");
        let socket = dir.path().join("run").join("keyhold.sock");
        if let Some(u) = uid {
            for d in [&data_dir, &dir.path().join("run")] {
                fs::create_dir(d).unwrap();
                fs::set_permissions(d, fs::Permissions::from_mode(0o700)).unwrap();
                std::os::unix::fs::chown(d, Some(u), Some(u)).unwrap();
            }
        }
        let mut d = Self {
            dir,
            child: None,
            socket,
            data_dir,
            extra: extra.iter().map(|s| s.to_string()).collect(),
            uid,
        };
        d.spawn();
        d
    }

    /// The daemon binary to run. Another uid may be unable to reach the
    /// build directory (a checkout under a private home, say), so for it the
    /// binary is copied into the test's world-readable temporary directory.
    fn executable(&self) -> PathBuf {
        let built = PathBuf::from(env!("CARGO_BIN_EXE_keyholdd"));
        if self.uid.is_none() {
            return built;
        }
        let copy = self.dir.path().join("keyholdd");
        if !copy.exists() {
            fs::copy(&built, &copy).expect("copy keyholdd for another uid");
            fs::set_permissions(&copy, fs::Permissions::from_mode(0o755)).unwrap();
        }
        copy
    }

    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("keyholdd.log")
    }

    pub fn log(&self) -> String {
        fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// (Re)starts the process and waits until it accepts connections.
    pub fn spawn(&mut self) {
        assert!(self.child.is_none(), "already running");
        let log = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .unwrap();
        let mut cmd = Command::new(self.executable());
        cmd.arg("--socket")
            .arg(&self.socket)
            .arg("--data-dir")
            .arg(&self.data_dir)
            .args(&self.extra)
            .env_remove("KEYHOLD_SOCKET")
            .env_remove("KEYHOLD_DATA_DIR")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log);
        if let Some(u) = self.uid {
            use std::os::unix::process::CommandExt;
            cmd.uid(u).gid(u);
        }
        let child = cmd.spawn().expect("spawn keyholdd");
        self.child = Some(child);
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if Client::connect(&self.socket).is_ok() {
                return;
            }
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!(
                    "keyholdd exited during start-up ({status}); log:\n{}",
                    self.log()
                );
            }
            assert!(
                Instant::now() < deadline,
                "keyholdd did not start in time; log:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    pub fn client(&self) -> Client {
        Client::connect(&self.socket).expect("connect")
    }

    /// SIGKILL, and reap.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGTERM and wait (bounded); returns the exit status.
    pub fn terminate(&mut self) -> ExitStatus {
        let mut c = self.child.take().expect("running");
        signal(c.id(), rustix::process::Signal::TERM);
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(s) = c.try_wait().unwrap() {
                return s;
            }
            if Instant::now() > deadline {
                let _ = c.kill();
                let _ = c.wait();
                panic!("keyholdd ignored SIGTERM for 60 s; log:\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for TestDaemon {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            signal(c.id(), rustix::process::Signal::TERM);
            let deadline = Instant::now() + Duration::from_secs(20);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = c.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

pub fn signal(pid: u32, sig: rustix::process::Signal) {
    if let Some(p) = rustix::process::Pid::from_raw(pid as i32) {
        let _ = rustix::process::kill_process(p, sig);
    }
}

/// Resident memory of a process, in KiB.
pub fn rss_kib(pid: u32) -> u64 {
    keyholdd::hardening::status_kib(pid, "VmRSS:").expect("VmRSS")
}

/// A small deterministic PRNG (xorshift64*), seeded and printed by each test.
pub struct Rng(u64);

impl Rng {
    pub fn new() -> Self {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64
            | 1;
        eprintln!("rng seed: {seed}");
        Self(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// 32 random bytes from the OS (test-side secrets, never constants in the binary).
pub fn random32() -> [u8; 32] {
    use std::io::Read;
    let mut b = [0u8; 32];
    fs::File::open("/dev/urandom")
        .unwrap()
        .read_exact(&mut b)
        .unwrap();
    b
}

pub fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

pub fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}
