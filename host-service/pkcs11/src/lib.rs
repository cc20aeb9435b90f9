//! # keyhold-pkcs11
//!
//! `libkeyhold_pkcs11.so`: a PKCS#11 3.0 module (with the 2.40 function list
//! as a fallback) whose keys never enter the application's process. Every
//! key operation is a request to `keyholdd` over its Unix socket, through
//! [`keyhold_client`]; the daemon sees the application itself as the caller
//! (uid and executable digest), so key binding, policy and audit apply to
//! PKCS#11 applications as to any other client.
//!
//! Layout, one job per module:
//! - `ffi`: the only place with `unsafe`: the exported `C_*` functions,
//!   pointer checks, panic catching, the function lists and interfaces;
//! - `module`: `C_Initialize`/`C_Finalize` state, fork detection, slots,
//!   the token, sessions, login, key generation, sign and verify;
//! - `objects`: Keyhold keys as PKCS#11 objects, attributes, templates,
//!   object handles;
//! - `mechanism`: the mechanism table and the sign/verify operations;
//! - `link`: the daemon connection (reconnects after the daemon went away);
//! - `der`: the few DER encodings PKCS#11 EC attributes need;
//! - `error`: daemon errors to `CKR_*` values.
//!
//! The socket is `$KEYHOLD_SOCKET`, else the client's usual resolution
//! (`$KEYHOLD_DATA_DIR/keyhold.sock`, `$XDG_RUNTIME_DIR/keyhold/keyhold.sock`,
//! `~/.local/share/keyhold/keyhold.sock`).
#![warn(missing_docs)]

mod der;
mod error;
#[allow(unsafe_code)]
pub mod ffi;
mod link;
mod mechanism;
mod module;
mod objects;

pub use link::set_socket_override;
pub use mechanism::SUPPORTED_MECHANISMS;
