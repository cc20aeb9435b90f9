//! # keyholdd
//!
//! The Keyhold host daemon: a thin door between a Unix domain socket and
//! [`keyhold_core::Keyhold::handle`]. It owns framing, caller identity and
//! process hardening, and nothing else: every request is handed to the core
//! as bytes together with the [`keyhold_core::Caller`] the daemon
//! established; there is no key logic here.
//!
//! - **Framing** ([`keyhold_client::frame`]): 4-byte big-endian length, then
//!   the body; frames above `--max-frame-bytes` are refused before any
//!   allocation (`REQUEST_TOO_LARGE`), empty frames and frames not completed
//!   within `--frame-timeout-ms` (slowloris) are refused with
//!   `MALFORMED_REQUEST`; then the connection is closed. A peer that closes
//!   mid-frame is dropped silently. Other connections are not affected.
//! - **Threading and fairness**: one thread per connection, at most
//!   `--max-connections`, at most `--max-connections-per-uid` per uid, the
//!   last quarter of the slots reserved for uids holding fewer than two; a
//!   uid at its limit gets a new connection by closing its own least
//!   recently used idle one, otherwise `UNAVAILABLE`. Frames over 64 KiB
//!   share a global budget (`--max-inflight-bytes`) and wait for it (the
//!   sender is blocked) rather than being buffered; large buffers are
//!   unmapped when freed (`alloc`). A timer thread commits the audit
//!   journal every second ([`Keyhold::flush`]).
//! - **Identity** ([`peer`]): `SO_PEERCRED` (uid, gid, pid) plus the SHA-256
//!   of the peer's executable, established with a pidfd so pid reuse cannot
//!   substitute another process; then, per request, the kernel-attested
//!   writer (`SCM_CREDENTIALS`) must be that same, still-running, unchanged
//!   process, and must have written after the identification (the daemon
//!   greets each connection with an empty frame once it is identified), or
//!   the request carries no digest and keys bound to a binary refuse it.
//! - **Hardening** ([`hardening`]): `PR_SET_DUMPABLE=0`, `RLIMIT_CORE=0`,
//!   `PR_SET_NO_NEW_PRIVS`, `mlockall` (best effort, reported).
//! - **Files**: data directory mode 0700; the socket is created in a 0700
//!   directory with mode 0600 (`--socket-mode` to share it), atomically
//!   (bound under a temporary name, chmod-ed, renamed), next to a locked
//!   `<socket>.pid` file that makes a second daemon on the same socket fail.
//! - **systemd**: socket activation (the listening socket as descriptor 3,
//!   `LISTEN_PID`/`LISTEN_FDS`; the daemon then neither binds nor removes
//!   the socket) and readiness (`READY=1`/`STOPPING=1` to `NOTIFY_SOCKET`);
//!   units in `host-service/systemd/`.
//! - **Shutdown**: SIGTERM/SIGINT stop accepting, let in-flight requests
//!   finish and answer, flush the journal, and remove the socket.
//!
//! [`Keyhold::flush`]: keyhold_core::Keyhold::flush
#![deny(unsafe_code)] // allowed only in `alloc` (two allocator calls) and `activation` (fd 3)
#![warn(missing_docs)]

mod activation;
mod alloc;
mod conn;
mod error;
pub mod hardening;
mod options;
pub mod peer;
mod server;
mod socket;

pub use error::DaemonError;
pub use options::{DaemonArgs, DaemonOptions};
pub use server::run;
