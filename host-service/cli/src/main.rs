//! `keyhold`: the command-line tool for the Keyhold host daemon.
//!
//! Every command talks to `keyholdd` over its Unix socket (starting it in
//! the background when none is running, unless `--no-spawn`); `keyhold
//! daemon` runs the daemon itself in the foreground. See `keyhold --help`
//! for the exit statuses.
#![forbid(unsafe_code)]

mod args;
mod commands;
mod output;
mod spawn;

use clap::{CommandFactory, FromArgMatches};
use keyhold_client::EXIT_FAILURE;
use std::process::ExitCode;

fn main() -> ExitCode {
    // Parse through ArgMatches so values (possibly secrets) are moved out of
    // clap's storage rather than copied.
    let mut matches = match args::Cli::command().try_get_matches() {
        Ok(m) => m,
        Err(e) => return usage_error(&e),
    };
    let cli = match args::Cli::from_arg_matches_mut(&mut matches) {
        Ok(c) => c,
        Err(e) => return usage_error(&e),
    };
    drop(matches);
    ExitCode::from(commands::run(cli))
}

fn usage_error(e: &clap::Error) -> ExitCode {
    let _ = e.print();
    match e.kind() {
        clap::error::ErrorKind::DisplayHelp
        | clap::error::ErrorKind::DisplayVersion
        | clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => ExitCode::SUCCESS,
        _ => ExitCode::from(EXIT_FAILURE),
    }
}
