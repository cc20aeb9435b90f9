//! Framing of the socket protocol.
//!
//! Every message, in both directions, is one frame: a 4-byte big-endian
//! length followed by exactly that many bytes of an encoded
//! `keyhold.v1.Request` (client to daemon) or `keyhold.v1.Response` (daemon
//! to client). A connection carries any number of request/response pairs in
//! order. The daemon refuses frames longer than its limit (by default
//! [`DEFAULT_MAX_REQUEST_FRAME`]) *before* allocating, and refuses empty
//! frames: a request always has a version.
//!
//! **Greeting.** Once the daemon has identified the connecting process it
//! sends one empty frame ([`GREETING`]) before anything else; a connection
//! it refuses gets an error `Response` instead. A client waits for the
//! greeting before writing its first request: requests written before the
//! identification finished are served without the caller's executable
//! digest (so keys bound to a binary refuse them), because the daemon
//! cannot tell which program wrote them (see `keyholdd`'s `peer` module).
//!
//! **Credentials.** The daemon reads every frame with the writer's
//! kernel-attested `SCM_CREDENTIALS`; [`write_frame_attested`] also sends
//! them explicitly (the kernel checks them and would attach the same ones
//! by itself).

use std::io::{self, Read, Write};
use zeroize::Zeroizing;

/// Bytes in a frame header.
pub const HEADER_LEN: usize = 4;

/// Default largest request frame the daemon accepts: the core's default
/// `Config::max_request_bytes`.
pub const DEFAULT_MAX_REQUEST_FRAME: usize = keyhold_core::DEFAULT_MAX_REQUEST_BYTES;

/// Largest response frame this client accepts.
pub const MAX_RESPONSE_FRAME: usize = 64 << 20;

/// The daemon's greeting: an empty frame.
pub const GREETING: [u8; HEADER_LEN] = [0; HEADER_LEN];

/// The header announcing a body of `len` bytes.
pub fn header(len: usize) -> io::Result<[u8; HEADER_LEN]> {
    u32::try_from(len)
        .map(u32::to_be_bytes)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "frame longer than 4 GiB"))
}

/// The body length a header announces.
pub fn body_len(header: [u8; HEADER_LEN]) -> usize {
    u32::from_be_bytes(header) as usize
}

/// A complete frame (header and body) in one zeroizing buffer of exactly the
/// right capacity, so writing it takes one call and no copy is left behind.
pub fn encode(body: &[u8]) -> io::Result<Zeroizing<Vec<u8>>> {
    let mut frame = Zeroizing::new(Vec::with_capacity(HEADER_LEN + body.len()));
    frame.extend_from_slice(&header(body.len())?);
    frame.extend_from_slice(body);
    Ok(frame)
}

/// Writes one frame.
pub fn write_frame(writer: &mut impl Write, body: &[u8]) -> io::Result<()> {
    writer.write_all(&encode(body)?)?;
    writer.flush()
}

/// Writes one frame on a Unix stream socket with `sendmsg`, attaching this
/// process's credentials (`SCM_CREDENTIALS`: its pid, uid and gid, which the
/// kernel verifies) to every chunk.
pub fn write_frame_attested(
    stream: &std::os::unix::net::UnixStream,
    frame: &[u8],
) -> io::Result<()> {
    use rustix::net::{SendAncillaryBuffer, SendAncillaryMessage, SendFlags, UCred, sendmsg};
    use std::mem::MaybeUninit;
    let cred = UCred {
        pid: rustix::process::getpid(),
        uid: rustix::process::getuid(),
        gid: rustix::process::getgid(),
    };
    let mut sent = 0;
    while sent < frame.len() {
        let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmCredentials(1))];
        let mut control = SendAncillaryBuffer::new(&mut space);
        if !control.push(SendAncillaryMessage::ScmCredentials(cred)) {
            return Err(io::Error::other("no room for SCM_CREDENTIALS"));
        }
        match sendmsg(
            stream,
            &[io::IoSlice::new(&frame[sent..])],
            &mut control,
            SendFlags::NOSIGNAL,
        ) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => sent += n,
            Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// Reads one frame of at most `max` body bytes into a zeroizing buffer.
/// `Ok(None)` on a clean end of stream before any header byte.
pub fn read_frame(reader: &mut impl Read, max: usize) -> io::Result<Option<Zeroizing<Vec<u8>>>> {
    let mut header = [0u8; HEADER_LEN];
    let mut got = 0;
    while got < HEADER_LEN {
        match reader.read(&mut header[got..]) {
            Ok(0) if got == 0 => return Ok(None),
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    let len = body_len(header);
    if len > max {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("frame of {len} bytes exceeds the limit of {max}"),
        ));
    }
    let mut body = Zeroizing::new(vec![0u8; len]);
    reader.read_exact(&mut body)?;
    Ok(Some(body))
}

/// How long a client that expects an answer soon polls before it sleeps
/// (only under the conditions in `Client`'s `read_response_after`; the
/// daemon never polls).
///
/// On virtual machines a thread that blocks in `read` is often woken tens of
/// microseconds after the data arrives; a sign takes about 20 µs, so a short
/// bounded poll saves most of a round trip's latency. After the window the
/// peer blocks as usual, so an idle connection costs no CPU.
pub const POLL_BEFORE_BLOCKING: std::time::Duration = std::time::Duration::from_micros(100);

/// Polls (without consuming anything) until `stream` has data or end of
/// stream to read, for at most `window`. Returns true if it has; false means
/// the caller should block in `read` as usual.
pub fn poll_readable(stream: &std::os::unix::net::UnixStream, window: std::time::Duration) -> bool {
    use rustix::net::{RecvFlags, recv};
    let start = std::time::Instant::now();
    let mut probe = [0u8; 1];
    loop {
        match recv(stream, &mut probe, RecvFlags::PEEK | RecvFlags::DONTWAIT) {
            Ok(_) => return true,
            Err(rustix::io::Errno::AGAIN | rustix::io::Errno::INTR) => {}
            // Let the blocking read report the error.
            Err(_) => return true,
        }
        if start.elapsed() >= window {
            return false;
        }
        std::hint::spin_loop();
    }
}

#[cfg(test)]
mod tests;
