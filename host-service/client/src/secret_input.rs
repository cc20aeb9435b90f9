//! Reading a secret (mnemonic, private key hex, passphrase) from standard
//! input without leaving copies behind: the bytes go straight from the file
//! descriptor into a fixed-size zeroizing buffer, bypassing std's `Stdin`
//! buffer (a process-wide 8 KiB buffer that is never cleared).

use std::io;
use std::os::fd::AsFd;
use zeroize::Zeroizing;

/// Longest secret accepted on standard input.
pub const MAX_STDIN_SECRET: usize = 64 * 1024;

/// Reads standard input to its end (at most [`MAX_STDIN_SECRET`] bytes) and
/// returns it without trailing whitespace (a final newline).
pub fn read_secret_from_stdin() -> io::Result<Zeroizing<Vec<u8>>> {
    let stdin = io::stdin();
    read_secret_from(stdin.as_fd())
}

/// [`read_secret_from_stdin`] from any file descriptor.
pub fn read_secret_from(fd: impl AsFd) -> io::Result<Zeroizing<Vec<u8>>> {
    let mut buf = Zeroizing::new(vec![0u8; MAX_STDIN_SECRET]);
    let mut len = 0;
    loop {
        if len == buf.len() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("secret on standard input is longer than {MAX_STDIN_SECRET} bytes"),
            ));
        }
        match rustix::io::read(fd.as_fd(), &mut buf[len..]) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let trimmed = buf[..len].trim_ascii_end();
    let mut out = Zeroizing::new(Vec::with_capacity(trimmed.len()));
    out.extend_from_slice(trimmed);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn reads_to_end_and_trims_the_newline() {
        let (r, mut w) = std::os::unix::net::UnixStream::pair().unwrap();
        w.write_all(b"abandon abandon about\n\n").unwrap();
        drop(w);
        let got = read_secret_from(&r).unwrap();
        assert_eq!(got.as_slice(), b"abandon abandon about");
        assert_eq!(
            got.capacity(),
            got.len(),
            "exactly sized: no reallocation copies"
        );
    }

    #[test]
    fn refuses_oversize_input() {
        let (r, mut w) = std::os::unix::net::UnixStream::pair().unwrap();
        let writer = std::thread::spawn(move || {
            let chunk = vec![b'a'; 8192];
            for _ in 0..(MAX_STDIN_SECRET / 8192 + 1) {
                if w.write_all(&chunk).is_err() {
                    break;
                }
            }
        });
        assert_eq!(
            read_secret_from(&r).unwrap_err().kind(),
            io::ErrorKind::InvalidData
        );
        drop(r);
        writer.join().unwrap();
    }
}
