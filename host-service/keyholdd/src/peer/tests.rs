use super::*;

#[test]
fn identifies_this_process_over_a_socketpair() {
    let (a, _b) = UnixStream::pair().unwrap();
    let cache = DigestCache::new();
    let id = identify(&a, &cache, boottime_now()).unwrap();
    assert_eq!(id.pid, std::process::id());
    assert_eq!(id.uid, rustix::process::getuid().as_raw());
    assert_eq!(id.gid, rustix::process::getgid().as_raw());
    let expected = file_digest(&std::env::current_exe().unwrap()).unwrap();
    assert_eq!(
        id.exe_sha256,
        Some(expected),
        "reason: {:?}",
        id.exe_unknown_reason
    );
    assert_eq!(
        id.pidfd,
        Some(PidfdSource::PeerPidfd),
        "this kernel has SO_PEERPIDFD"
    );
    assert_eq!(cache.len(), 1);
    // A second connection from the same binary is served from the cache.
    let (c, _d) = UnixStream::pair().unwrap();
    assert_eq!(
        identify(&c, &cache, boottime_now()).unwrap().exe_sha256,
        Some(expected)
    );
    assert_eq!(cache.len(), 1);
    assert!(matches!(
        id.caller(),
        Caller::Unix {
            exe_sha256: Some(_),
            ..
        }
    ));
}

#[test]
fn the_fallback_refuses_a_process_that_started_after_the_accept() {
    // Pretend the connection was accepted at boot: this process started later.
    let err = pin_by_pid(std::process::id(), Duration::ZERO).unwrap_err();
    assert!(err.contains("reused"), "{err}");
    assert!(pin_by_pid(std::process::id(), boottime_now()).is_ok());
    assert!(pin_by_pid(0, boottime_now()).is_err());
}

#[test]
fn exited_processes_poll_readable() {
    let me = pidfd_open(
        Pid::from_raw(std::process::id() as i32).unwrap(),
        PidfdFlags::empty(),
    )
    .unwrap();
    assert!(!has_exited(&me).unwrap(), "this process is alive");
    let mut child = std::process::Command::new("sleep")
        .arg("0.05")
        .spawn()
        .unwrap();
    let fd = pidfd_open(
        Pid::from_raw(child.id() as i32).unwrap(),
        PidfdFlags::empty(),
    )
    .unwrap();
    assert!(!has_exited(&fd).unwrap());
    child.wait().unwrap();
    assert!(
        has_exited(&fd).unwrap(),
        "an exited child's pidfd polls readable"
    );
    assert_eq!(
        pidfd_pid(&fd),
        Some(-1),
        "fdinfo reports -1 once the process is gone"
    );
}

#[test]
fn start_times_parse_from_proc() {
    let start = process_start(std::process::id()).unwrap();
    assert!(start <= boottime_now());
    assert!(process_start(0).is_none());
}

#[test]
fn concurrent_first_connections_hash_once() {
    let cache = std::sync::Arc::new(DigestCache::new());
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let cache = std::sync::Arc::clone(&cache);
            std::thread::spawn(move || {
                let (a, _b) = UnixStream::pair().unwrap();
                identify(&a, &cache, boottime_now()).unwrap().exe_sha256
            })
        })
        .collect();
    let digests: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert!(digests.iter().all(|d| d.is_some() && *d == digests[0]));
    assert_eq!(cache.len(), 1);
}

#[test]
fn pid_zero_has_no_digest() {
    let (a, _b) = UnixStream::pair().unwrap();
    let err = executable_digest(&a, 0, &DigestCache::new(), boottime_now()).unwrap_err();
    assert!(err.contains("namespace"));
}
