//! The keyholdd frame reader, as deployed: the real daemon
//! (`keyholdd::run`, public API) serves a socket in a temporary directory
//! from a thread of this process (so its code is instrumented), with a
//! 2048-byte frame limit; each input is written as-is on a new connection,
//! whose write side is then shut. Framing is 4-byte big-endian length +
//! body (`keyhold_client::frame`), after which the daemon's greeting (one
//! empty frame, when it sends one) is set aside. What must hold: the daemon answers every
//! complete frame of 1..=limit bytes with one response, in order; answers
//! the first empty or oversized frame with one MALFORMED_REQUEST or
//! REQUEST_TOO_LARGE and closes; sends nothing for a truncated frame; and
//! every response is a decodable `Response` with an allowed code.
#![no_main]

use keyhold_client::Endpoint;
use keyhold_client::frame::{MAX_RESPONSE_FRAME, read_frame};
use keyhold_fuzz::oracle;
use keyholdd::{DaemonArgs, DaemonOptions};
use std::io::Write as _;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const MAX_FRAME: usize = 2048;

fn socket() -> &'static PathBuf {
    static SOCKET: OnceLock<PathBuf> = OnceLock::new();
    SOCKET.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("keyhold-fuzz-frame-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let endpoint = Endpoint {
            socket: dir.join("run").join("keyhold.sock"),
            data_dir: dir.join("data"),
        };
        let socket = endpoint.socket.clone();
        let args = DaemonArgs {
            max_frame_bytes: MAX_FRAME as u64,
            frame_timeout_ms: 5_000,
            idle_timeout_ms: 5_000,
            no_mlockall: true,
            quiet: true,
            ..DaemonArgs::default()
        };
        std::thread::spawn(move || {
            let outcome = keyholdd::run(DaemonOptions::new(endpoint, args));
            panic!("the daemon stopped: {outcome:?}");
        });
        let start = Instant::now();
        while UnixStream::connect(&socket).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "the daemon did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        socket
    })
}

/// Responses the daemon owes for `data`, and whether the last one is a
/// framing refusal.
fn expected(data: &[u8]) -> (usize, bool) {
    let mut rest = data;
    let mut answers = 0;
    while let Some((header, body)) = rest.split_first_chunk::<4>() {
        let len = u32::from_be_bytes(*header) as usize;
        if len == 0 || len > MAX_FRAME {
            return (answers + 1, true);
        }
        if body.len() < len {
            break;
        }
        answers += 1;
        rest = &body[len..];
    }
    (answers, false)
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let stream = UnixStream::connect(socket()).expect("connect to the daemon");
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("read timeout");
    let writer = stream.try_clone().expect("clone the stream");
    let input = data.to_vec();
    let sender = std::thread::spawn(move || {
        // The daemon may close first (after a refusal): errors are expected.
        let _ = (&writer).write_all(&input);
        let _ = writer.shutdown(std::net::Shutdown::Write);
    });
    let mut responses = Vec::new();
    loop {
        match read_frame(&mut &stream, MAX_RESPONSE_FRAME) {
            Ok(Some(body)) => responses.push(body),
            Ok(None) => break,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                panic!("the daemon neither answered nor closed within 20 s")
            }
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break,
            Err(e) => panic!("a response frame is malformed: {e}"),
        }
    }
    let _ = sender.join();
    // The daemon greets an identified connection with one empty frame
    // before any response (keyhold_client::frame, "Greeting"); the input is
    // written without waiting for it, as a client that does not wait would.
    if responses.first().is_some_and(|first| first.is_empty()) {
        responses.remove(0);
    }
    let (owed, refusal) = expected(data);
    let raw: Vec<String> = responses.iter().map(hex::encode).collect();
    assert_eq!(
        responses.len(),
        owed,
        "responses for {} input bytes: {raw:?}",
        data.len()
    );
    let decoded: Vec<_> = responses
        .iter()
        .zip(&raw)
        .map(|(body, hex)| oracle::decode_response(body, &format!("frame response {hex}")))
        .collect();
    for (i, decoded) in decoded.iter().enumerate() {
        if refusal && i + 1 == responses.len() {
            assert!(
                matches!(oracle::response_code(decoded), Some(1 | 2)),
                "a framing violation was answered with {decoded:?}"
            );
        }
    }
});
