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
    UnixStream::pair().unwrap()
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
