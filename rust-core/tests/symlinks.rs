//! Issue 10 item 7: no file the core opens in its data directory follows a
//! symbolic link. Through the public constructor the host daemon uses
//! (`Keyhold::open_in_dir`): a link planted at each name the store and the
//! software sealer open (`keyhold.db`, `keyhold.db.lock`, `keyhold.db-wal`,
//! `keyhold.db-shm`, `sealer.key`) makes the open fail, and the file the
//! link points at is neither read as a key nor written.
#![allow(clippy::unwrap_used)] // test helpers unwrap by design

use keyhold_core::{Config, Keyhold};

const VICTIM: &[u8] = b"a file the attacker wants overwritten or read";

#[test]
fn a_planted_link_at_any_store_file_fails_the_open_and_leaves_its_target_alone() {
    for name in [
        "keyhold.db",
        "keyhold.db.lock",
        "keyhold.db-wal",
        "keyhold.db-shm",
        "sealer.key",
    ] {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir(&data).unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, VICTIM).unwrap();
        std::os::unix::fs::symlink(&victim, data.join(name)).unwrap();

        let opened = Keyhold::open_in_dir(&data, Config::default());
        assert!(opened.is_err(), "{name}: the store opened through a link");
        assert_eq!(
            std::fs::read(&victim).unwrap(),
            VICTIM,
            "{name}: the link's target was written"
        );
        assert!(
            std::fs::symlink_metadata(data.join(name))
                .unwrap()
                .file_type()
                .is_symlink(),
            "{name}: the link was replaced"
        );
    }
}

#[test]
fn a_32_byte_key_behind_a_link_is_not_used() {
    // The link's target looks exactly like a key file (32 bytes, 0600): only
    // the link itself can be the reason it is refused.
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let victim = dir.path().join("victim.key");
    std::fs::write(&victim, [7u8; 32]).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&victim, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::os::unix::fs::symlink(&victim, data.join("sealer.key")).unwrap();
    assert!(Keyhold::open_in_dir(&data, Config::default()).is_err());

    // Control: the same bytes as a regular file are accepted.
    std::fs::remove_file(data.join("sealer.key")).unwrap();
    std::fs::copy(&victim, data.join("sealer.key")).unwrap();
    std::fs::set_permissions(
        data.join("sealer.key"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    Keyhold::open_in_dir(&data, Config::default()).unwrap();
}

#[test]
fn without_links_the_directory_opens() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    Keyhold::open_in_dir(&data, Config::default()).unwrap();
    Keyhold::open_in_dir(&data, Config::default()).unwrap();
}
