use super::*;
use std::io::Write;
use std::thread;

fn limits() -> Limits {
    Limits {
        max_frame: 1024,
        frame_timeout: Duration::from_millis(300),
        idle_timeout: Duration::from_millis(400),
        write_timeout: Duration::from_secs(5),
    }
}

fn pair() -> (UnixStream, UnixStream) {
    let (server, client) = UnixStream::pair().unwrap();
    rustix::net::sockopt::set_socket_passcred(&server, true).unwrap();
    (server, client)
}

fn budget() -> Budget {
    Budget::new(4096, 1024)
}

fn read_request(server: &UnixStream, limits: &Limits) -> Result<Zeroizing<Vec<u8>>, FrameError> {
    let b = budget();
    super::read_request(server, limits, &b).map(|r| r.body)
}

fn me() -> Sender {
    Sender {
        pid: i32::try_from(std::process::id()).unwrap(),
        uid: rustix::process::getuid().as_raw(),
        gid: rustix::process::getgid().as_raw(),
    }
}

#[test]
fn the_kernel_attests_the_writer_of_plain_writes() {
    let (server, mut client) = pair();
    // A plain write(2) sends no credentials: the kernel attaches them.
    client.write_all(&[0, 0, 0, 2, b'o', b'k']).unwrap();
    let b = budget();
    let r = super::read_request(&server, &limits(), &b).unwrap();
    assert_eq!(r.body.as_slice(), b"ok");
    assert_eq!(r.sender, me());
}

#[test]
fn explicitly_attested_frames_carry_the_same_sender() {
    let (server, client) = pair();
    frame::write_frame_attested(&client, &frame::encode(b"hello").unwrap()).unwrap();
    let b = budget();
    let r = super::read_request(&server, &limits(), &b).unwrap();
    assert_eq!(r.body.as_slice(), b"hello");
    assert_eq!(r.sender, me());
}

/// Hands `sock` to a shell as its standard input and lets it write `printf`
/// output there: a second process writing on the same connection.
fn write_from_another_process(sock: &UnixStream, printf: &str) -> u32 {
    let fd = std::os::fd::OwnedFd::from(sock.try_clone().unwrap());
    let child = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("printf '{printf}' >&0; echo $$"))
        .stdin(std::process::Stdio::from(fd))
        .stdout(std::process::Stdio::piped())
        .output()
        .unwrap();
    assert!(child.status.success());
    String::from_utf8(child.stdout)
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

#[test]
fn a_frame_written_by_two_processes_is_refused() {
    // Header half from this process, the other half from a child.
    let (server, mut client) = pair();
    client.write_all(&[0, 0]).unwrap();
    let child = write_from_another_process(&client, "\\000\\003abc");
    match read_request(&server, &limits()) {
        Err(FrameError::MixedSenders(a, b)) => {
            assert_eq!(a, me());
            assert_eq!(b.pid, i32::try_from(child).unwrap());
        }
        other => panic!("expected MixedSenders, got {other:?}"),
    }
    // Body from another process than the header.
    let (server, mut client) = pair();
    client.write_all(&[0, 0, 0, 3, b'x']).unwrap();
    write_from_another_process(&client, "yz");
    assert!(matches!(
        read_request(&server, &limits()),
        Err(FrameError::MixedSenders(..))
    ));
    assert_eq!(
        FrameError::MixedSenders(me(), me())
            .response(&limits())
            .map(|(c, _)| c),
        Some(ErrorCode::PermissionDenied)
    );
}

#[test]
fn a_whole_frame_from_another_process_is_attributed_to_it() {
    let (server, client) = pair();
    let child = write_from_another_process(&client, "\\000\\000\\000\\002hi");
    let b = budget();
    let r = super::read_request(&server, &limits(), &b).unwrap();
    assert_eq!(r.body.as_slice(), b"hi");
    assert_eq!(r.sender.pid, i32::try_from(child).unwrap());
}

#[test]
fn descriptors_sent_with_a_frame_are_never_installed() {
    use rustix::net::{SendAncillaryBuffer, SendAncillaryMessage, SendFlags, sendmsg};
    use std::mem::MaybeUninit;
    let count = || std::fs::read_dir("/proc/self/fd").unwrap().count();
    let (server, client) = pair();
    let file = std::fs::File::open("/dev/null").unwrap();
    let before = count();
    let fds = [std::os::fd::AsFd::as_fd(&file)];
    let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(1))];
    let mut control = SendAncillaryBuffer::new(&mut space);
    assert!(control.push(SendAncillaryMessage::ScmRights(&fds)));
    sendmsg(
        &client,
        &[std::io::IoSlice::new(&[0, 0, 0, 1, 7])],
        &mut control,
        SendFlags::empty(),
    )
    .unwrap();
    match read_request(&server, &limits()) {
        Err(FrameError::Credentials(_)) => {}
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(count(), before, "no descriptor was installed");
}

#[test]
fn large_frames_wait_for_the_global_budget() {
    let l = Limits {
        max_frame: 200 << 10,
        ..limits()
    };
    let b = Budget::new(200 << 10, 200 << 10);
    let (s1, mut c1) = pair();
    let (s2, mut c2) = pair();
    let big = vec![5u8; 150 << 10];
    let w1 = thread::spawn(move || {
        c1.write_all(&frame::encode(&big).unwrap()).unwrap();
        c1
    });
    let held = super::read_request(&s1, &l, &b).unwrap();
    assert_eq!(b.in_use(), 150 << 10);
    let big2 = vec![6u8; 100 << 10];
    let w2 = thread::spawn(move || {
        let _ = c2.write_all(&frame::encode(&big2).unwrap());
        c2
    });
    // 150 + 100 KiB do not fit: the second waits until its deadline.
    assert!(matches!(
        super::read_request(&s2, &l, &b),
        Err(FrameError::Busy)
    ));
    drop(held);
    assert_eq!(b.in_use(), 0, "the budget is returned with the request");
    // Small frames never wait for it.
    let (s3, mut c3) = pair();
    c3.write_all(&[0, 0, 0, 1, 1]).unwrap();
    let _busy = b.acquire(200 << 10, Instant::now()).unwrap();
    assert_eq!(
        super::read_request(&s3, &l, &b).unwrap().body.as_slice(),
        [1]
    );
    drop(w1.join().unwrap());
    drop(w2.join().unwrap());
}

#[test]
fn reads_a_complete_frame() {
    let (server, mut client) = pair();
    client.write_all(&[0, 0, 0, 3, b'a', b'b', b'c']).unwrap();
    let body = read_request(&server, &limits()).unwrap();
    assert_eq!(body.as_slice(), b"abc");
}

#[test]
fn a_frame_split_into_pieces_within_the_deadline_is_fine() {
    let (server, mut client) = pair();
    let writer = thread::spawn(move || {
        for b in [0u8, 0, 0, 2, b'h', b'i'] {
            client.write_all(&[b]).unwrap();
            thread::sleep(Duration::from_millis(10));
        }
        client
    });
    assert_eq!(read_request(&server, &limits()).unwrap().as_slice(), b"hi");
    drop(writer.join().unwrap());
}

#[test]
fn clean_close_between_frames() {
    let (server, client) = pair();
    drop(client);
    assert!(matches!(
        read_request(&server, &limits()),
        Err(FrameError::Closed)
    ));
}

#[test]
fn idle_connections_time_out() {
    let (server, _client) = pair();
    let started = Instant::now();
    assert!(matches!(
        read_request(&server, &limits()),
        Err(FrameError::Idle)
    ));
    assert!(started.elapsed() >= Duration::from_millis(350));
}

#[test]
fn oversize_and_empty_headers_are_refused_before_reading_a_body() {
    let (server, mut client) = pair();
    client.write_all(&[0xff, 0xff, 0xff, 0xff]).unwrap();
    match read_request(&server, &limits()) {
        Err(FrameError::TooLarge(n)) => assert_eq!(n, 0xffff_ffff),
        other => panic!("expected TooLarge, got {other:?}"),
    }
    let (server, mut client) = pair();
    client.write_all(&[0, 0, 0, 0]).unwrap();
    assert!(matches!(
        read_request(&server, &limits()),
        Err(FrameError::Empty)
    ));
}

#[test]
fn truncated_frames_are_incomplete() {
    let (server, mut client) = pair();
    client.write_all(&[0, 0, 0, 10, 1, 2, 3]).unwrap();
    drop(client);
    assert!(matches!(
        read_request(&server, &limits()),
        Err(FrameError::Incomplete)
    ));
    let (server, mut client) = pair();
    client.write_all(&[0, 0]).unwrap();
    drop(client);
    assert!(matches!(
        read_request(&server, &limits()),
        Err(FrameError::Incomplete)
    ));
}

#[test]
fn slowloris_headers_hit_the_frame_deadline() {
    let (server, mut client) = pair();
    let writer = thread::spawn(move || {
        // One byte, then nothing more for longer than the frame timeout.
        client.write_all(&[0]).unwrap();
        thread::sleep(Duration::from_millis(800));
        client
    });
    let started = Instant::now();
    assert!(matches!(
        read_request(&server, &limits()),
        Err(FrameError::TimedOut)
    ));
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(250) && took < Duration::from_millis(750),
        "{took:?}"
    );
    drop(writer.join().unwrap());
}

#[test]
fn slow_body_hits_the_same_deadline() {
    let (server, mut client) = pair();
    let writer = thread::spawn(move || {
        client.write_all(&[0, 0, 0, 100]).unwrap();
        for _ in 0..20 {
            if client.write_all(&[1]).is_err() {
                break;
            }
            thread::sleep(Duration::from_millis(50));
        }
        client
    });
    assert!(matches!(
        read_request(&server, &limits()),
        Err(FrameError::TimedOut)
    ));
    drop(writer.join().unwrap());
}

#[test]
fn refusals_carry_the_typed_code() {
    let l = limits();
    let code = |e: FrameError| e.response(&l).map(|(c, _)| c);
    assert_eq!(
        code(FrameError::TooLarge(5000)),
        Some(ErrorCode::RequestTooLarge)
    );
    assert_eq!(code(FrameError::Empty), Some(ErrorCode::MalformedRequest));
    assert_eq!(
        code(FrameError::TimedOut),
        Some(ErrorCode::MalformedRequest)
    );
    assert_eq!(code(FrameError::Incomplete), None);
    assert_eq!(code(FrameError::Closed), None);

    let (server, mut client) = pair();
    refuse(&server, ErrorCode::RequestTooLarge, "too big", &l);
    let body = frame::read_frame(&mut client, 1 << 16).unwrap().unwrap();
    assert_eq!(
        wire::response_error(&body),
        Ok(Some((ErrorCode::RequestTooLarge, "too big".to_owned())))
    );
    assert!(
        frame::read_frame(&mut client, 1 << 16).unwrap().is_none(),
        "closed after the refusal"
    );
}
