//! P3 and the malformed-input catalog: every misbehaving client gets its
//! typed error (or a clean cut-off) while a well-behaved client, running in
//! parallel the whole time, keeps being served.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure

mod common;

use common::{Rng, TestDaemon};
use keyhold_client::frame::{self, MAX_RESPONSE_FRAME};
use keyhold_client::{ClientError, wire};
use keyhold_core::{
    Algorithm, ErrorCode, ImportMaterial, KeyOptions, KeyRef, KeySpec, Payload, SecretBytes,
};
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

const FRAME_TIMEOUT_MS: u64 = 2000;

/// A raw connection, after the daemon's greeting (an empty frame).
fn raw(d: &TestDaemon) -> UnixStream {
    let mut s = raw_ungreeted(d);
    let greeting = frame::read_frame(&mut s, MAX_RESPONSE_FRAME)
        .expect("read the greeting")
        .expect("a greeting, not end of stream");
    assert!(greeting.is_empty(), "the greeting is an empty frame");
    s
}

fn raw_ungreeted(d: &TestDaemon) -> UnixStream {
    let s = UnixStream::connect(&d.socket).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    s.set_write_timeout(Some(Duration::from_secs(60))).unwrap();
    s
}

/// Reads one response and returns its error code (None for a success).
fn response_code(s: &mut UnixStream) -> Option<ErrorCode> {
    let body = frame::read_frame(s, MAX_RESPONSE_FRAME)
        .expect("read a response")
        .expect("a response, not end of stream");
    wire::response_error(&body)
        .expect("a well-formed Response")
        .map(|(c, _)| c)
}

/// After a refusal the daemon closes: the next read is end of stream.
fn assert_closed(s: &mut UnixStream) {
    let mut b = [0u8; 1];
    match s.read(&mut b) {
        Ok(0) => {}
        Ok(_) => panic!("unexpected data after the refusal"),
        Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset, "{e}"),
    }
}

fn send(s: &mut UnixStream, bytes: &[u8]) {
    s.write_all(bytes).unwrap();
}

fn framed(body: &[u8]) -> Vec<u8> {
    frame::encode(body).unwrap().to_vec()
}

#[test]
fn malformed_frames_get_typed_errors_while_others_are_served() {
    let d = TestDaemon::start(&["--frame-timeout-ms", &FRAME_TIMEOUT_MS.to_string()]);
    let mut setup = d.client();
    setup
        .generate_key(
            KeySpec::Single(Algorithm::Ed25519),
            &KeyOptions::alias("healthy"),
        )
        .unwrap();

    // A well-behaved client runs in parallel for the whole catalog.
    let stop = Arc::new(AtomicBool::new(false));
    let served = Arc::new(AtomicUsize::new(0));
    let healthy = {
        let (stop, served) = (Arc::clone(&stop), Arc::clone(&served));
        let mut c = d.client();
        thread::spawn(move || -> Result<(), ClientError> {
            let key = KeyRef::Alias("healthy".into());
            while !stop.load(Ordering::SeqCst) {
                let sig = c.sign(&key, None, None, Payload::Message(b"still here"))?;
                assert!(c.verify(&key, None, None, Payload::Message(b"still here"), &sig)?);
                assert_eq!(c.list_keys()?.len(), 1);
                served.fetch_add(1, Ordering::SeqCst);
                thread::sleep(Duration::from_millis(5));
            }
            Ok(())
        })
    };
    let mut rng = Rng::new();

    // 1. A zero-length frame.
    let mut s = raw(&d);
    send(&mut s, &[0, 0, 0, 0]);
    assert_eq!(response_code(&mut s), Some(ErrorCode::MalformedRequest));
    assert_closed(&mut s);

    // 2. Header 0xFFFFFFFF: refused before any allocation.
    let mut s = raw(&d);
    send(&mut s, &[0xff; 4]);
    assert_eq!(response_code(&mut s), Some(ErrorCode::RequestTooLarge));
    assert_closed(&mut s);

    // 2b. One byte over the default limit (1 MiB).
    let mut s = raw(&d);
    send(&mut s, &(((1u32 << 20) + 1).to_be_bytes()));
    assert_eq!(response_code(&mut s), Some(ErrorCode::RequestTooLarge));
    assert_closed(&mut s);

    // 3. A truncated body, then close: nothing to answer, a clean cut-off.
    let mut s = raw(&d);
    send(&mut s, &[0, 0, 0, 100]);
    send(&mut s, &[0x08; 10]);
    s.shutdown(std::net::Shutdown::Write).unwrap();
    let mut rest = Vec::new();
    s.read_to_end(&mut rest).unwrap();
    assert!(
        rest.is_empty(),
        "no response to a frame that never completed"
    );

    // 4. Random garbage (its first bytes read as a huge length).
    let mut s = raw(&d);
    let mut garbage: Vec<u8> = (0..4096).map(|_| rng.next() as u8).collect();
    garbage[0] |= 0x01;
    let _ = s.write_all(&garbage); // the daemon may close before reading it all
    assert_eq!(response_code(&mut s), Some(ErrorCode::RequestTooLarge));
    assert_closed(&mut s);

    // 5. A valid frame carrying garbage protobuf: typed error; framing is
    //    intact, so the connection keeps working.
    let mut s = raw(&d);
    send(&mut s, &framed(&[0xff; 32]));
    assert_eq!(response_code(&mut s), Some(ErrorCode::MalformedRequest));
    send(&mut s, &framed(&wire::list_keys_request(1)));
    assert_eq!(
        response_code(&mut s),
        None,
        "the same connection still serves valid requests"
    );

    // 6. An unknown operation (field 99) with the right version.
    let mut s = raw(&d);
    send(&mut s, &framed(&[0x08, 0x01, 0x98, 0x06, 0x01]));
    assert_eq!(response_code(&mut s), Some(ErrorCode::UnsupportedOperation));

    // 7. A wrong protocol version.
    let mut s = raw(&d);
    send(&mut s, &framed(&wire::list_keys_request(2)));
    assert_eq!(response_code(&mut s), Some(ErrorCode::UnsupportedVersion));
    send(&mut s, &framed(&wire::list_keys_request(0)));
    assert_eq!(response_code(&mut s), Some(ErrorCode::UnsupportedVersion));

    // 8. Oversize fields inside a frame that fits.
    let mut c = d.client();
    let long_alias = "a".repeat(4096);
    let err = c
        .generate_key(
            KeySpec::Single(Algorithm::Ed25519),
            &KeyOptions::alias(long_alias),
        )
        .unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::RequestTooLarge), "{err}");
    let huge = ImportMaterial::Mnemonic {
        phrase: SecretBytes::new(vec![b'a'; 40 * 1024]),
        passphrase: SecretBytes::default(),
        scheme: keyhold_core::HdScheme::Bip32Secp256k1,
    };
    let err = c.import_key(huge, &KeyOptions::alias("huge")).unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::RequestTooLarge), "{err}");
    assert_eq!(c.list_keys().unwrap().len(), 1, "nothing was created");

    // 9. Slowloris: a header at one byte per second is cut off at the frame deadline.
    let mut s = raw(&d);
    let started = Instant::now();
    let mut cut_off = false;
    for b in [0u8, 0, 0, 10] {
        if s.write_all(&[b]).is_err() {
            cut_off = true;
            break;
        }
        thread::sleep(Duration::from_secs(1));
    }
    let code = response_code(&mut s);
    let took = started.elapsed();
    assert_eq!(
        code,
        Some(ErrorCode::MalformedRequest),
        "cut_off during writes: {cut_off}"
    );
    assert!(took < Duration::from_secs(30), "{took:?}");
    assert_closed(&mut s);
    assert!(
        took >= Duration::from_millis(FRAME_TIMEOUT_MS - 200),
        "cut off only after the frame timeout: {took:?}"
    );

    // The well-behaved client was served throughout, without a single error.
    let before = served.load(Ordering::SeqCst);
    thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::SeqCst);
    healthy
        .join()
        .unwrap()
        .expect("the healthy client saw no error");
    let total = served.load(Ordering::SeqCst);
    assert!(
        total >= 20,
        "the healthy client completed only {total} rounds"
    );
    assert!(total >= before, "{total} {before}");
    assert!(
        d.log().contains("over the limit"),
        "abuse is logged: {}",
        d.log()
    );
}

#[test]
fn a_uid_at_its_limit_gets_a_new_connection_by_closing_its_own_oldest_idle_one() {
    let d = TestDaemon::start(&["--max-connections", "3", "--max-connections-per-uid", "3"]);
    // Start-up probes also took slots for a moment: retry until served.
    let mut held: Vec<_> = (0..3).map(|_| served_client(&d)).collect();
    for c in &mut held[1..] {
        c.list_keys().unwrap();
    }
    // A fourth connection of the same uid is admitted; the least recently
    // active idle one (held[0]) is closed to make room.
    let mut fourth = d.client();
    fourth.list_keys().unwrap();
    let err = held[0].list_keys().unwrap_err();
    assert!(err.code().is_none(), "closed, not refused: {err}");
    for c in &mut held[1..] {
        c.list_keys().unwrap();
    }
    assert!(
        d.log()
            .contains("closing its least recently used idle connection"),
        "{}",
        d.log()
    );
}

/// A connection that has been served once (so it holds a slot).
fn served_client(d: &TestDaemon) -> keyhold_client::Client {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let mut c = d.client();
        match c.list_keys() {
            Ok(_) => return c,
            Err(e) => {
                assert!(e.code().is_none_or(|c| c == ErrorCode::Unavailable), "{e}");
                assert!(Instant::now() < deadline, "never served: {e}");
                thread::sleep(Duration::from_millis(20));
            }
        }
    }
}

#[test]
fn idle_connections_are_closed() {
    let d = TestDaemon::start(&["--idle-timeout-ms", "500"]);
    let mut s = raw(&d);
    thread::sleep(Duration::from_millis(1500));
    assert_closed(&mut s);
}
