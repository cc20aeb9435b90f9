//! Issue 10 item 7 (the store's half) through the real daemon on a real
//! full file system: the data directory is a small tmpfs (`mount -t tmpfs`,
//! needs root as CI has) filled to ENOSPC while the daemon is stopped.
//! The daemon must start, serve what needs no write, refuse writes and uses
//! of secrets with STORAGE_FAILURE, say loudly at shutdown that audit
//! records could not be written, and lose nothing it acknowledged: once
//! space is back, the log verifies intact.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure

mod common;

use common::{TestDaemon, is_root};
use keyhold_core::{Algorithm, ErrorCode, KeyOptions, KeyRef, KeySpec, Payload, PublicKeyFormat};
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// `dir`'s contents moved onto a tmpfs mounted over it; unmounted on drop.
struct TmpfsOver {
    dir: PathBuf,
}

impl TmpfsOver {
    fn mount(dir: &Path, size: &str) -> Self {
        let saved = tempfile::tempdir().unwrap();
        for entry in std::fs::read_dir(dir).unwrap() {
            let entry = entry.unwrap();
            std::fs::copy(entry.path(), saved.path().join(entry.file_name())).unwrap();
        }
        let status = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ])
            .arg(dir)
            .status()
            .expect("run mount");
        assert!(status.success(), "mount -t tmpfs failed");
        for entry in std::fs::read_dir(saved.path()).unwrap() {
            let entry = entry.unwrap();
            let to = dir.join(entry.file_name());
            std::fs::copy(entry.path(), &to).unwrap();
            std::fs::set_permissions(&to, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        Self {
            dir: dir.to_path_buf(),
        }
    }

    /// Writes until ENOSPC; returns the filler to remove later.
    fn fill(&self) -> PathBuf {
        let filler = self.dir.join("filler");
        let mut f = std::fs::File::create(&filler).unwrap();
        let chunk = vec![0x5Au8; 4096];
        loop {
            match f.write(&chunk) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) => {
                    assert_eq!(e.raw_os_error(), Some(28), "expected ENOSPC: {e}");
                    break;
                }
            }
        }
        filler
    }
}

impl Drop for TmpfsOver {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
    }
}

fn alias(a: &str) -> KeyRef {
    KeyRef::Alias(a.into())
}

#[test]
fn the_daemon_comes_back_on_a_full_disk_and_loses_no_record() {
    assert!(
        is_root(),
        "this test mounts a tmpfs: it needs root (as CI has)"
    );
    let mut daemon = TestDaemon::start(&[]);
    let mut c = daemon.client();
    c.generate_key(KeySpec::Single(Algorithm::Ed25519), &KeyOptions::alias("e"))
        .unwrap();
    drop(c);
    assert!(daemon.terminate().success());

    let fs = TmpfsOver::mount(&daemon.data_dir, "2m");
    daemon.spawn();
    daemon
        .client()
        .sign(&alias("e"), None, None, Payload::Message(b"on tmpfs"))
        .unwrap();
    assert!(daemon.terminate().success());

    let filler = fs.fill();
    // It starts: opening a current store writes nothing.
    daemon.spawn();
    let mut c = daemon.client();
    let public = c
        .get_public_key(&alias("e"), None, PublicKeyFormat::Raw)
        .unwrap();
    assert_eq!(public.bytes.len(), 32);
    assert_eq!(c.list_keys().unwrap().len(), 1);
    // Let the daemon's flusher (every second) meet the full disk.
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(
        c.sign(&alias("e"), None, None, Payload::Message(b"m"))
            .unwrap_err()
            .code(),
        Some(ErrorCode::StorageFailure)
    );
    assert_eq!(
        c.generate_key(KeySpec::Single(Algorithm::Ed25519), &KeyOptions::alias("f"))
            .unwrap_err()
            .code(),
        Some(ErrorCode::StorageFailure)
    );
    drop(c);
    daemon.terminate();
    let log = daemon.log();
    assert!(
        log.contains("audit records could not be written")
            && log.contains("AUDIT RECORDS LOST AT SHUTDOWN"),
        "the shutdown must say loudly that records were not written; log:\n{log}"
    );

    // Space again: the daemon starts and the log is intact; the store
    // works. (The records the stopped daemon could not write are the ones
    // its log reported.)
    std::fs::remove_file(filler).unwrap();
    daemon.spawn();
    let mut c = daemon.client();
    let v = c.audit_verify().unwrap();
    assert_eq!(v.first_broken_seq, None, "{v:?}");
    c.sign(&alias("e"), None, None, Payload::Message(b"again"))
        .unwrap();
    drop(c);
    daemon.terminate();
    drop(fs);
}
