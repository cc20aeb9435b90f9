//! Daemon options, shared by the `keyholdd` binary and `keyhold daemon`.

use keyhold_client::Endpoint;
use keyhold_client::frame::DEFAULT_MAX_REQUEST_FRAME;
use std::time::Duration;

/// Tuning and deployment flags of the daemon (everything except the socket
/// and data directory, which each binary takes as global options).
#[derive(Debug, Clone, clap::Args)]
pub struct DaemonArgs {
    /// Permission bits of the socket file, in octal. The default 0600 lets
    /// only this user connect. A multi-user deployment uses e.g. 0666:
    /// callers are still identified by SO_PEERCRED and each uid only sees
    /// its own keys.
    #[arg(long, default_value = "0600", value_parser = parse_mode)]
    pub socket_mode: u32,
    /// Most connections served at once; more are answered UNAVAILABLE.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub max_connections: u32,
    /// Most connections one uid may hold (0: three quarters of
    /// --max-connections). The last quarter of the slots is kept for uids
    /// holding fewer than two connections, so one uid never takes the
    /// slots another needs. A uid at its limit gets a new connection by
    /// closing its own least recently used idle one.
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=4096))]
    pub max_connections_per_uid: u32,
    /// Bytes of large requests (over 64 KiB) held at once across all
    /// connections; a large frame that does not fit waits (its sender is
    /// blocked) until its frame timeout, then gets UNAVAILABLE.
    #[arg(long, default_value_t = 16 << 20,
          value_parser = clap::value_parser!(u64).range(1..=(1 << 32)))]
    pub max_inflight_bytes: u64,
    /// Largest request frame, in bytes.
    #[arg(long, default_value_t = DEFAULT_MAX_REQUEST_FRAME as u64,
          value_parser = clap::value_parser!(u64).range(64..=(64 << 20)))]
    pub max_frame_bytes: u64,
    /// Time a client has to complete a frame once it started sending it.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(10..))]
    pub frame_timeout_ms: u64,
    /// An idle connection (no frame started) is closed after this long.
    #[arg(long, default_value_t = 300_000, value_parser = clap::value_parser!(u64).range(10..))]
    pub idle_timeout_ms: u64,
    /// Most unsealed keys kept in memory.
    #[arg(long, default_value_t = 1024, value_parser = clap::value_parser!(u64).range(1..))]
    pub cache_capacity: u64,
    /// Do not try mlockall (memory may then be swapped out).
    #[arg(long)]
    pub no_mlockall: bool,
    /// Start a new session (setsid), for a daemon started in the background.
    #[arg(long)]
    pub detach: bool,
    /// Log only errors.
    #[arg(long)]
    pub quiet: bool,
}

impl Default for DaemonArgs {
    fn default() -> Self {
        Self {
            socket_mode: 0o600,
            max_connections: 64,
            max_connections_per_uid: 0,
            max_inflight_bytes: 16 << 20,
            max_frame_bytes: DEFAULT_MAX_REQUEST_FRAME as u64,
            frame_timeout_ms: 10_000,
            idle_timeout_ms: 300_000,
            cache_capacity: 1024,
            no_mlockall: false,
            detach: false,
            quiet: false,
        }
    }
}

/// Everything [`crate::run`] needs.
#[derive(Debug, Clone)]
pub struct DaemonOptions {
    /// Socket and data directory.
    pub endpoint: Endpoint,
    /// The flags.
    pub args: DaemonArgs,
}

impl DaemonOptions {
    /// Bundles an endpoint and flags.
    pub fn new(endpoint: Endpoint, args: DaemonArgs) -> Self {
        Self { endpoint, args }
    }

    pub(crate) fn max_frame(&self) -> usize {
        usize::try_from(self.args.max_frame_bytes).unwrap_or(usize::MAX)
    }

    pub(crate) fn max_inflight(&self) -> usize {
        usize::try_from(self.args.max_inflight_bytes).unwrap_or(usize::MAX)
    }

    pub(crate) fn frame_timeout(&self) -> Duration {
        Duration::from_millis(self.args.frame_timeout_ms)
    }

    pub(crate) fn idle_timeout(&self) -> Duration {
        Duration::from_millis(self.args.idle_timeout_ms)
    }
}

/// Parses an octal permission mode (`0600`, `600`, `0o666`).
pub fn parse_mode(text: &str) -> Result<u32, String> {
    let digits = text.strip_prefix("0o").unwrap_or(text);
    let mode =
        u32::from_str_radix(digits, 8).map_err(|_| format!("{text:?} is not an octal mode"))?;
    if mode > 0o777 {
        return Err(format!(
            "{text:?}: only permission bits (at most 0777) are allowed"
        ));
    }
    if mode & 0o600 != 0o600 {
        return Err(format!(
            "{text:?}: the owner needs read and write access (0600)"
        ));
    }
    Ok(mode)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Probe {
        #[command(flatten)]
        args: DaemonArgs,
    }

    #[test]
    fn modes_parse_as_octal() {
        assert_eq!(parse_mode("0600"), Ok(0o600));
        assert_eq!(parse_mode("666"), Ok(0o666));
        assert_eq!(parse_mode("0o660"), Ok(0o660));
        assert!(parse_mode("0400").is_err(), "owner must be able to connect");
        assert!(parse_mode("4755").is_err());
        assert!(parse_mode("rw").is_err());
    }

    #[test]
    fn defaults_match_the_documented_ones() {
        let p = Probe::try_parse_from(["x"]).unwrap();
        let d = DaemonArgs::default();
        assert_eq!(p.args.socket_mode, d.socket_mode);
        assert_eq!(p.args.max_connections, d.max_connections);
        assert_eq!(p.args.max_frame_bytes, d.max_frame_bytes);
        assert_eq!(p.args.frame_timeout_ms, d.frame_timeout_ms);
        assert_eq!(p.args.cache_capacity, 1024);
        assert!(!p.args.detach && !p.args.no_mlockall);
    }

    #[test]
    fn flags_parse_and_ranges_are_enforced() {
        let p = Probe::try_parse_from([
            "x",
            "--socket-mode",
            "0666",
            "--max-connections",
            "8",
            "--frame-timeout-ms",
            "1500",
            "--detach",
        ])
        .unwrap();
        assert_eq!(p.args.socket_mode, 0o666);
        assert_eq!(p.args.max_connections, 8);
        assert_eq!(p.args.frame_timeout_ms, 1500);
        assert!(p.args.detach);
        assert!(Probe::try_parse_from(["x", "--max-connections", "0"]).is_err());
        assert!(Probe::try_parse_from(["x", "--max-frame-bytes", "1"]).is_err());
        assert!(Probe::try_parse_from(["x", "--socket-mode", "0777x"]).is_err());
    }
}
