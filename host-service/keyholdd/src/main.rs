//! `keyholdd`: the Keyhold host daemon. See the library documentation.
#![forbid(unsafe_code)]

use clap::Parser;
use keyhold_client::Endpoint;
use keyholdd::{DaemonArgs, DaemonOptions};
use std::path::PathBuf;
use std::process::ExitCode;

/// Keyhold host daemon: keeps keys sealed and serves the keyhold.v1
/// protocol on a Unix socket. Stops cleanly on SIGTERM or SIGINT.
#[derive(Debug, Parser)]
#[command(name = "keyholdd", version)]
struct Cli {
    /// Socket path [default: $XDG_RUNTIME_DIR/keyhold/keyhold.sock, else <data-dir>/keyhold.sock]
    #[arg(long, env = "KEYHOLD_SOCKET")]
    socket: Option<PathBuf>,
    /// Data directory [default: $XDG_DATA_HOME/keyhold, else ~/.local/share/keyhold]
    #[arg(long, env = "KEYHOLD_DATA_DIR")]
    data_dir: Option<PathBuf>,
    #[command(flatten)]
    daemon: DaemonArgs,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let endpoint = match Endpoint::resolve(cli.socket, cli.data_dir) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("keyholdd: {e}");
            return ExitCode::FAILURE;
        }
    };
    match keyholdd::run(DaemonOptions::new(endpoint, cli.daemon)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("keyholdd: {e}");
            ExitCode::FAILURE
        }
    }
}
