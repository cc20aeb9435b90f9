//! Issue 10.7 (files): no file the daemon creates or writes follows a
//! symbolic link, tested with links planted in a sticky, world-writable
//! directory (like /tmp) where another user could put them: the `<socket>.pid`
//! file, the socket's directory, the data directory and the files in it
//! (the sealer key, the database). Each time the daemon must refuse to start
//! and the link's target must be untouched. Running as root makes the test
//! stricter: `fs.protected_symlinks` does not stop root from following a
//! link it owns, so only `O_NOFOLLOW` and the daemon's own checks hold.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure

mod common;

use std::fs;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const VICTIM: &[u8] = b"precious: must never be written by keyholdd\n";

struct Scene {
    dir: tempfile::TempDir,
}

impl Scene {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let shared = dir.path().join("shared");
        fs::create_dir(&shared).unwrap();
        fs::set_permissions(&shared, fs::Permissions::from_mode(0o1777)).unwrap();
        fs::write(dir.path().join("victim"), VICTIM).unwrap();
        fs::create_dir(dir.path().join("victim-dir")).unwrap();
        Self { dir }
    }

    fn shared(&self) -> PathBuf {
        self.dir.path().join("shared")
    }

    fn victim(&self) -> PathBuf {
        self.dir.path().join("victim")
    }

    fn victim_dir(&self) -> PathBuf {
        self.dir.path().join("victim-dir")
    }

    fn assert_victims_untouched(&self) {
        assert_eq!(
            fs::read(self.victim()).unwrap(),
            VICTIM,
            "victim file written"
        );
        assert_eq!(
            fs::metadata(self.victim()).unwrap().permissions().mode() & 0o777,
            0o644,
            "victim file chmod-ed"
        );
        assert_eq!(
            fs::read_dir(self.victim_dir()).unwrap().count(),
            0,
            "something was created in the victim directory"
        );
    }
}

/// Runs keyholdd and expects it to refuse to start; returns its stderr.
fn refused(socket: &Path, data_dir: &Path) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_keyholdd"))
        .arg("--socket")
        .arg(socket)
        .arg("--data-dir")
        .arg(data_dir)
        .arg("--no-mlockall")
        .env_remove("KEYHOLD_SOCKET")
        .env_remove("KEYHOLD_DATA_DIR")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut err = String::new();
            std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
            assert!(!status.success(), "keyholdd started; stderr:\n{err}");
            return err;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("keyholdd kept running: it accepted the planted link");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_planted_pid_file_link_is_not_followed() {
    let s = Scene::new();
    let socket = s.shared().join("keyhold.sock");
    symlink(s.victim(), s.shared().join("keyhold.sock.pid")).unwrap();
    let err = refused(&socket, &s.dir.path().join("data"));
    assert!(err.contains("keyhold.sock.pid"), "{err}");
    s.assert_victims_untouched();
    assert!(!socket.exists(), "no socket was created");
}

#[test]
fn a_planted_pid_file_of_another_user_is_refused() {
    let s = Scene::new();
    let socket = s.shared().join("keyhold.sock");
    let planted = s.shared().join("keyhold.sock.pid");
    fs::write(&planted, b"4242\n").unwrap();
    fs::set_permissions(&planted, fs::Permissions::from_mode(0o666)).unwrap();
    std::os::unix::fs::chown(&planted, Some(65534), Some(65534)).unwrap();
    let err = refused(&socket, &s.dir.path().join("data"));
    assert!(err.contains("owned by uid 65534"), "{err}");
    assert_eq!(fs::read(&planted).unwrap(), b"4242\n");
}

#[test]
fn a_planted_hard_link_as_pid_file_is_refused() {
    let s = Scene::new();
    let socket = s.shared().join("keyhold.sock");
    fs::hard_link(s.victim(), s.shared().join("keyhold.sock.pid")).unwrap();
    let err = refused(&socket, &s.dir.path().join("data"));
    assert!(err.contains("hard links"), "{err}");
    s.assert_victims_untouched();
}

#[test]
fn a_socket_directory_that_is_a_link_is_not_followed() {
    let s = Scene::new();
    let link = s.shared().join("run");
    symlink(s.victim_dir(), &link).unwrap();
    let err = refused(&link.join("keyhold.sock"), &s.dir.path().join("data"));
    assert!(err.contains("symbolic link"), "{err}");
    s.assert_victims_untouched();
}

#[test]
fn a_data_directory_that_is_a_link_is_not_followed() {
    let s = Scene::new();
    let link = s.shared().join("data");
    symlink(s.victim_dir(), &link).unwrap();
    let err = refused(&s.dir.path().join("run").join("keyhold.sock"), &link);
    assert!(err.contains("symbolic link"), "{err}");
    s.assert_victims_untouched();
}

#[test]
fn links_inside_the_data_directory_are_not_followed() {
    // The store's own files, each replaced by a link before a (re)start.
    for name in [
        "sealer.key",
        "keyhold.db",
        "keyhold.db-wal",
        "keyhold.db.lock",
    ] {
        let s = Scene::new();
        let data = s.dir.path().join("data");
        fs::create_dir(&data).unwrap();
        fs::set_permissions(&data, fs::Permissions::from_mode(0o700)).unwrap();
        symlink(s.victim(), data.join(name)).unwrap();
        let err = refused(&s.dir.path().join("run").join("keyhold.sock"), &data);
        assert!(
            err.contains(name) && err.contains("symbolic link"),
            "{name}: {err}"
        );
        s.assert_victims_untouched();
    }
}

#[test]
fn a_daemon_in_a_shared_directory_still_starts_and_cleans_up() {
    // The positive control: the same sticky directory, nothing planted.
    let s = Scene::new();
    let socket = s.shared().join("keyhold.sock");
    let mut child = Command::new(env!("CARGO_BIN_EXE_keyholdd"))
        .arg("--socket")
        .arg(&socket)
        .arg("--data-dir")
        .arg(s.dir.path().join("data"))
        .arg("--no-mlockall")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + common::START_TIMEOUT;
    while keyhold_client::Client::connect(&socket).is_err() {
        assert!(Instant::now() < deadline, "did not start");
        assert!(child.try_wait().unwrap().is_none(), "exited");
        std::thread::sleep(Duration::from_millis(20));
    }
    let pid_file = s.shared().join("keyhold.sock.pid");
    assert_eq!(
        fs::symlink_metadata(&pid_file)
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o600
    );
    common::signal(child.id(), rustix::process::Signal::TERM);
    assert!(child.wait().unwrap().success());
    assert!(!socket.exists() && !pid_file.exists(), "cleaned up");
}
