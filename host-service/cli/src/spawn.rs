//! Reaching the daemon, and starting it in the background when none runs.

use keyhold_client::{Client, ClientError, Endpoint};
use std::io;
use std::os::unix::fs::DirBuilderExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long to wait for a freshly started daemon (it runs self-tests first).
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// Connects to the daemon; when there is none (no socket, or a dead one)
/// and spawning is allowed, starts `<this executable> daemon --detach` as a
/// separate process in its own session and waits for its socket.
pub fn connect(endpoint: &Endpoint, no_spawn: bool) -> Result<Client, ClientError> {
    match Client::connect(&endpoint.socket) {
        Ok(c) => return Ok(c),
        Err(ClientError::Connect { source, .. })
            if !no_spawn
                && matches!(
                    source.kind(),
                    io::ErrorKind::NotFound | io::ErrorKind::ConnectionRefused
                ) => {}
        Err(e) => return Err(e),
    }
    let mut child = start_daemon(endpoint).map_err(|source| ClientError::Connect {
        path: endpoint.socket.clone(),
        source,
    })?;
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        match Client::connect(&endpoint.socket) {
            Ok(c) => return Ok(c),
            Err(e) if Instant::now() >= deadline => return Err(e),
            Err(e) => {
                if let Ok(Some(status)) = child.try_wait() {
                    // It may have lost a race with another daemon that is now serving.
                    if let Ok(c) = Client::connect(&endpoint.socket) {
                        return Ok(c);
                    }
                    let log = endpoint.data_dir.join("keyholdd.log");
                    return Err(ClientError::Connect {
                        path: endpoint.socket.clone(),
                        source: io::Error::other(format!(
                            "the daemon started by this command exited ({status}); see {} ({e})",
                            log.display()
                        )),
                    });
                }
                std::thread::sleep(Duration::from_millis(25));
            }
        }
    }
}

fn start_daemon(endpoint: &Endpoint) -> io::Result<std::process::Child> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&endpoint.data_dir)?;
    let log =
        keyhold_client::paths::open_private_file(&endpoint.data_dir.join("keyholdd.log"), true)?;
    Command::new(std::env::current_exe()?)
        .arg("--socket")
        .arg(&endpoint.socket)
        .arg("--data-dir")
        .arg(&endpoint.data_dir)
        .args(["daemon", "--detach"])
        .env_remove("KEYHOLD_SOCKET")
        .env_remove("KEYHOLD_DATA_DIR")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
}
