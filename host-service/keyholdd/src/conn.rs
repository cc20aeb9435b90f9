//! One connection: read a frame under the per-connection limits, hand it to
//! the core, write the response. Framing violations are answered with a
//! typed error where the peer can still read one, then the connection ends.

use keyhold_client::frame::{self, HEADER_LEN};
use keyhold_client::wire;
use keyhold_core::{Caller, ErrorCode, Keyhold};
use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};
use zeroize::Zeroizing;

/// Per-connection limits.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// Largest request body.
    pub max_frame: usize,
    /// Time to complete a frame once its first byte arrived.
    pub frame_timeout: Duration,
    /// Time allowed between frames.
    pub idle_timeout: Duration,
    /// Time allowed to write a response.
    pub write_timeout: Duration,
}

/// Why no request could be read.
#[derive(Debug)]
pub(crate) enum FrameError {
    /// The peer closed the connection between frames.
    Closed,
    /// No frame started within the idle timeout.
    Idle,
    /// A frame announced zero bytes.
    Empty,
    /// A frame announced more than the limit.
    TooLarge(usize),
    /// The peer closed the connection in the middle of a frame.
    Incomplete,
    /// The frame was not completed within the frame timeout.
    TimedOut,
    /// Another socket error.
    Io(io::Error),
}

impl FrameError {
    /// The typed error to send before closing, if the peer should get one.
    pub(crate) fn response(&self, limits: &Limits) -> Option<(ErrorCode, String)> {
        match self {
            Self::Empty => Some((
                ErrorCode::MalformedRequest,
                "empty frame: a request is never empty".into(),
            )),
            Self::TooLarge(len) => Some((
                ErrorCode::RequestTooLarge,
                format!(
                    "frame of {len} bytes exceeds the limit of {} bytes",
                    limits.max_frame
                ),
            )),
            Self::TimedOut => Some((
                ErrorCode::MalformedRequest,
                format!(
                    "frame not completed within {} ms",
                    limits.frame_timeout.as_millis()
                ),
            )),
            Self::Closed | Self::Idle | Self::Incomplete | Self::Io(_) => None,
        }
    }
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// Reads into `buf` until full, before `deadline`.
fn fill(stream: &UnixStream, buf: &mut [u8], deadline: Instant) -> Result<(), FrameError> {
    let mut got = 0;
    while got < buf.len() {
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Err(FrameError::TimedOut);
        }
        stream
            .set_read_timeout(Some(remaining))
            .map_err(FrameError::Io)?;
        match (&*stream).read(&mut buf[got..]) {
            Ok(0) => return Err(FrameError::Incomplete),
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if is_timeout(&e) => return Err(FrameError::TimedOut),
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset => {
                return Err(FrameError::Incomplete);
            }
            Err(e) => return Err(FrameError::Io(e)),
        }
    }
    Ok(())
}

/// Reads one request frame. The body buffer is allocated only after the
/// announced length passed the limit, and is zeroized when dropped.
pub(crate) fn read_request(
    stream: &UnixStream,
    limits: &Limits,
) -> Result<Zeroizing<Vec<u8>>, FrameError> {
    let mut header = [0u8; HEADER_LEN];
    // A client usually sends its next request right away: poll briefly
    // before sleeping (see `frame::POLL_BEFORE_BLOCKING`).
    frame::poll_readable(stream, frame::POLL_BEFORE_BLOCKING);
    // Wait (up to the idle timeout) for the first byte of a frame.
    stream
        .set_read_timeout(Some(limits.idle_timeout))
        .map_err(FrameError::Io)?;
    let first = loop {
        match (&*stream).read(&mut header) {
            Ok(0) => return Err(FrameError::Closed),
            Ok(n) => break n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if is_timeout(&e) => return Err(FrameError::Idle),
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset => return Err(FrameError::Closed),
            Err(e) => return Err(FrameError::Io(e)),
        }
    };
    // From here on the whole frame must arrive before the deadline.
    let deadline = Instant::now() + limits.frame_timeout;
    fill(stream, &mut header[first..], deadline)?;
    let len = frame::body_len(header);
    if len == 0 {
        return Err(FrameError::Empty);
    }
    if len > limits.max_frame {
        return Err(FrameError::TooLarge(len));
    }
    let mut body = Zeroizing::new(vec![0u8; len]);
    fill(stream, &mut body, deadline)?;
    Ok(body)
}

/// Writes one response frame; the frame buffer is zeroized afterwards
/// (responses can carry decrypted data).
pub(crate) fn write_response(stream: &UnixStream, body: &[u8], limits: &Limits) -> io::Result<()> {
    stream.set_write_timeout(Some(limits.write_timeout))?;
    let framed = frame::encode(body)?;
    (&*stream).write_all(&framed)?;
    Ok(())
}

/// Sends a typed error and ends the connection.
pub(crate) fn refuse(stream: &UnixStream, code: ErrorCode, message: &str, limits: &Limits) {
    let _ = write_response(stream, &wire::error_response(code, message), limits);
    let _ = stream.shutdown(std::net::Shutdown::Both);
}

/// Serves requests until the peer leaves, misbehaves or the daemon stops.
/// Returns the framing error that ended it, for the log.
pub(crate) fn serve(
    stream: &UnixStream,
    caller: &Caller,
    engine: &Keyhold,
    limits: &Limits,
) -> FrameError {
    loop {
        let request = match read_request(stream, limits) {
            Ok(r) => r,
            Err(e) => {
                if let Some((code, message)) = e.response(limits) {
                    refuse(stream, code, &message, limits);
                }
                return e;
            }
        };
        let response = Zeroizing::new(engine.handle(caller, &request));
        drop(request);
        if let Err(e) = write_response(stream, &response, limits) {
            return FrameError::Io(e);
        }
    }
}

#[cfg(test)]
mod tests;
