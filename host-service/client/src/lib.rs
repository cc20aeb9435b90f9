//! # keyhold-client
//!
//! A small client for `keyholdd`, the Keyhold host daemon. It speaks the
//! `keyhold.v1` protocol (compiled here from the core's own
//! `rust-core/proto/keyhold.proto`) over a Unix domain socket, one
//! length-prefixed frame per request and per response (see [`frame`]).
//!
//! The typed API ([`Client`]) takes and returns the core's domain types
//! ([`keyhold_core::KeyInfo`], [`keyhold_core::KeyRef`], ...); protobuf stays
//! inside this crate's private protocol module, and the mapping between the
//! core's names and the wire enums is written once (`names`).
//!
//! Secrets a client sends (import material) are zeroized once the request is
//! written; [`read_secret_from_stdin`] reads secrets without std's buffering.
//! The client never receives private keys: the service has no operation that
//! returns one.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod client;
mod convert;
mod error;
pub mod frame;
pub mod memscan;
mod names;
pub mod paths;
mod proto;
mod secret_input;
pub mod wire;

pub use client::{Client, DEFAULT_IO_TIMEOUT};
pub use error::{ClientError, EXIT_FAILURE, exit_status};
pub use names::parse_key_ref;
pub use paths::Endpoint;
pub use secret_input::{
    INSECURE_ARGV_FLAG, MAX_STDIN_SECRET, argv_secret_refused, read_secret_from_stdin,
    read_secret_no_echo, secret_from_arg,
};

/// Re-exported so users of the client need no direct dependency on the core
/// for the domain types that cross the API.
pub use keyhold_core as core;
