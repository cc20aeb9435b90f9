//! Reading a secret (mnemonic, private key hex, passphrase) from standard
//! input without leaving copies behind: the bytes go straight from the file
//! descriptor into a fixed-size zeroizing buffer, bypassing std's `Stdin`
//! buffer (a process-wide 8 KiB buffer that is never cleared).
//!
//! Secrets on the command line are visible to every local user in
//! `/proc/<pid>/cmdline` (and in shell history). [`secret_from_arg`] is the
//! one rule for every tool: `-` reads standard input (with a no-echo prompt
//! when it is a terminal); anything else is refused unless the user passed
//! the explicit [`INSECURE_ARGV_FLAG`].

use std::io;
use std::os::fd::AsFd;
use zeroize::Zeroizing;

/// Longest secret accepted on standard input.
pub const MAX_STDIN_SECRET: usize = 64 * 1024;

/// The flag that allows a secret value on the command line.
pub const INSECURE_ARGV_FLAG: &str = "--insecure-secret-in-argv";

/// A secret given as a command-line value: `-` reads it from standard input
/// (prompting `what` without echo when standard input is a terminal); any
/// other value is the secret itself, accepted only when `allow_argv` (the
/// user passed [`INSECURE_ARGV_FLAG`]). The argument's own buffer is moved,
/// not copied, into zeroizing memory.
pub fn secret_from_arg(
    value: String,
    allow_argv: bool,
    what: &str,
) -> io::Result<Zeroizing<Vec<u8>>> {
    if value == "-" {
        let stdin = io::stdin();
        if rustix::termios::isatty(stdin.as_fd()) {
            return read_secret_no_echo(stdin.as_fd(), &format!("{what}: "));
        }
        return read_secret_from(stdin.as_fd());
    }
    let value = Zeroizing::new(value.into_bytes());
    if value.is_empty() || allow_argv {
        return Ok(value);
    }
    Err(argv_secret_refused(what))
}

/// The refusal of a secret written on the command line (it names `what`,
/// never the value).
pub fn argv_secret_refused(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::PermissionDenied,
        format!(
            "refusing {what} on the command line, where other processes can read it \
             (/proc/<pid>/cmdline); give `-` to read it from standard input (a terminal \
             prompts without echo), or pass {INSECURE_ARGV_FLAG}"
        ),
    )
}

/// Prompts on standard error and reads one line from the terminal `fd`
/// with echo off (restored afterwards, also on error).
pub fn read_secret_no_echo(fd: impl AsFd, prompt: &str) -> io::Result<Zeroizing<Vec<u8>>> {
    use rustix::termios::{LocalModes, OptionalActions, tcgetattr, tcsetattr};
    use std::io::Write;
    let saved = tcgetattr(fd.as_fd())?;
    let mut quiet = saved.clone();
    quiet.local_modes.remove(LocalModes::ECHO);
    quiet.local_modes.insert(LocalModes::ECHONL);
    let _ = io::stderr().write_all(prompt.as_bytes());
    tcsetattr(fd.as_fd(), OptionalActions::Flush, &quiet)?;
    let read = read_line(fd.as_fd());
    let restored = tcsetattr(fd.as_fd(), OptionalActions::Now, &saved);
    let line = read?;
    restored?;
    Ok(line)
}

/// Reads up to a newline (or end of input) into a zeroizing buffer.
fn read_line(fd: impl AsFd) -> io::Result<Zeroizing<Vec<u8>>> {
    let mut buf = Zeroizing::new(vec![0u8; MAX_STDIN_SECRET]);
    let mut len = 0;
    while len < buf.len() {
        match rustix::io::read(fd.as_fd(), &mut buf[len..len + 1]) {
            Ok(0) => break,
            Ok(_) if buf[len] == b'\n' => break,
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
    fn secrets_in_argv_are_refused_without_the_flag() {
        let err = secret_from_arg("abandon about".into(), false, "the mnemonic").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::PermissionDenied);
        assert!(err.to_string().contains(INSECURE_ARGV_FLAG), "{err}");
        assert!(
            !err.to_string().contains("abandon"),
            "the refusal does not echo the secret"
        );
        let ok = secret_from_arg("abandon about".into(), true, "the mnemonic").unwrap();
        assert_eq!(ok.as_slice(), b"abandon about");
        // An empty value (e.g. no BIP39 passphrase) reveals nothing.
        assert!(
            secret_from_arg(String::new(), false, "x")
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn reads_a_line_without_echo_from_a_pseudo_terminal() {
        use rustix::pty::{OpenptFlags, grantpt, openpt, ptsname, unlockpt};
        use rustix::termios::{LocalModes, tcgetattr};
        let master = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY).unwrap();
        grantpt(&master).unwrap();
        unlockpt(&master).unwrap();
        let name = ptsname(&master, Vec::new()).unwrap();
        let slave = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(name.to_str().unwrap())
            .unwrap();
        assert!(
            tcgetattr(&slave)
                .unwrap()
                .local_modes
                .contains(LocalModes::ECHO)
        );
        let reader = {
            let slave = slave.try_clone().unwrap();
            std::thread::spawn(move || read_secret_no_echo(&slave, "").unwrap())
        };
        // Type once echo is off (the reader switched it off).
        while tcgetattr(&slave)
            .unwrap()
            .local_modes
            .contains(LocalModes::ECHO)
        {
            std::thread::yield_now();
        }
        rustix::io::write(&master, b"s3cret words\n").unwrap();
        let got = reader.join().unwrap();
        assert_eq!(got.as_slice(), b"s3cret words");
        assert!(
            tcgetattr(&slave)
                .unwrap()
                .local_modes
                .contains(LocalModes::ECHO),
            "echo is restored"
        );
        // Nothing but the newline (ECHONL) was echoed back to the terminal.
        let mut echoed = [0u8; 64];
        rustix::io::ioctl_fionbio(&master, true).unwrap();
        let n = rustix::io::read(&master, &mut echoed).unwrap_or(0);
        let echoed = &echoed[..n];
        assert!(
            !echoed.windows(6).any(|w| w == b"s3cret"),
            "the secret was echoed: {echoed:?}"
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
