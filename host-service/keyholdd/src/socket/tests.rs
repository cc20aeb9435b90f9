use super::*;

fn mode_of(p: &Path) -> u32 {
    fs::symlink_metadata(p).unwrap().mode() & 0o7777
}

#[test]
fn binds_with_private_modes_and_cleans_up() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("run/keyhold/keyhold.sock");
    let bound = bind(&path, 0o600).unwrap();
    assert_eq!(mode_of(&path), 0o600);
    assert_eq!(mode_of(path.parent().unwrap()), 0o700);
    assert!(fs::symlink_metadata(&path).unwrap().file_type().is_socket());
    let pid = fs::read_to_string(pid_file_path(&path)).unwrap();
    assert_eq!(pid.trim(), std::process::id().to_string());
    assert!(UnixStream::connect(&path).is_ok());
    // No temporary name is left behind.
    let names: Vec<_> = fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    drop(bound);
    assert!(!path.exists(), "socket removed");
    assert!(!pid_file_path(&path).exists(), "pid file removed");
}

#[test]
fn a_shared_socket_gets_a_traversable_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("shared/keyhold.sock");
    let _bound = bind(&path, 0o666).unwrap();
    assert_eq!(mode_of(&path), 0o666);
    assert_eq!(mode_of(path.parent().unwrap()), 0o711);
}

#[test]
fn a_second_daemon_is_refused_and_a_stale_socket_replaced() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("k.sock");
    let first = bind(&path, 0o600).unwrap();
    assert!(matches!(
        bind(&path, 0o600),
        Err(DaemonError::AlreadyRunning(_))
    ));
    drop(first);
    // Leave a stale socket behind, as a killed daemon would.
    let stale = UnixListener::bind(&path).unwrap();
    drop(stale);
    assert!(path.exists());
    let second = bind(&path, 0o600).unwrap();
    assert!(UnixStream::connect(second.path()).is_ok());
}

#[test]
fn a_non_socket_is_never_replaced() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("k.sock");
    fs::write(&path, b"precious").unwrap();
    assert!(matches!(
        bind(&path, 0o600),
        Err(DaemonError::Insecure { .. })
    ));
    assert_eq!(fs::read(&path).unwrap(), b"precious");
}

#[test]
fn world_writable_directories_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("open");
    fs::create_dir(&dir).unwrap();
    fs::set_permissions(&dir, Permissions::from_mode(0o777)).unwrap();
    assert!(matches!(
        bind(&dir.join("k.sock"), 0o600),
        Err(DaemonError::Insecure { .. })
    ));
    // Sticky world-writable directories (like /tmp) cannot have files replaced by others.
    fs::set_permissions(&dir, Permissions::from_mode(0o1777)).unwrap();
    assert!(bind(&dir.join("k.sock"), 0o600).is_ok());
}

#[test]
fn unlink_leaves_a_replaced_socket_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("k.sock");
    let bound = bind(&path, 0o600).unwrap();
    fs::remove_file(&path).unwrap();
    let other = UnixListener::bind(&path).unwrap();
    bound.unlink();
    assert!(path.exists(), "another process's socket must survive");
    drop(other);
}
