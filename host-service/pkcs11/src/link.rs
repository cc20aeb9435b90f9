//! The connection to `keyholdd`. Opened on first use; dropped when the
//! transport fails (daemon stopped or restarted), so the next call connects
//! afresh; dropped in a forked child (the socket belongs to the parent's
//! identity and request stream).
#![forbid(unsafe_code)]

use crate::error::{CkResult, KeyContext, Rv, from_client};
use cryptoki_sys::CKR_DEVICE_REMOVED;
use keyhold_client::{Client, ClientError, Endpoint};
use std::path::PathBuf;
use std::sync::Mutex;

static SOCKET_OVERRIDE: Mutex<Option<PathBuf>> = Mutex::new(None);

/// Sets (or with `None` clears) the socket used by later `C_Initialize`
/// calls in this process, ahead of `$KEYHOLD_SOCKET`. For programs that
/// link the module as a Rust library (tests, benchmarks) and cannot set
/// the environment safely once threads run.
pub fn set_socket_override(path: Option<PathBuf>) {
    *SOCKET_OVERRIDE.lock().unwrap_or_else(|p| p.into_inner()) = path;
}

/// The daemon link.
#[derive(Debug)]
pub(crate) struct Link {
    socket: Option<PathBuf>,
    client: Option<Client>,
}

impl Link {
    /// Resolves the socket path now (`$KEYHOLD_SOCKET`, then the client's
    /// XDG rules); connects lazily.
    pub(crate) fn new() -> Self {
        let var = |n: &str| {
            std::env::var_os(n)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        let chosen = SOCKET_OVERRIDE
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .or_else(|| var("KEYHOLD_SOCKET"));
        let socket = Endpoint::resolve(chosen, var("KEYHOLD_DATA_DIR"))
            .ok()
            .map(|e| e.socket);
        Self {
            socket,
            client: None,
        }
    }

    /// Runs one request, connecting first when needed. A transport failure
    /// drops the connection so the next call reconnects.
    pub(crate) fn call<T>(
        &mut self,
        ctx: KeyContext,
        f: impl FnOnce(&mut Client) -> Result<T, ClientError>,
    ) -> CkResult<T> {
        if self.client.is_none() {
            let Some(path) = self.socket.as_deref() else {
                return Err(Rv(CKR_DEVICE_REMOVED));
            };
            self.client = Some(Client::connect(path).map_err(|e| from_client(&e, ctx))?);
        }
        let Some(client) = self.client.as_mut() else {
            return Err(Rv(CKR_DEVICE_REMOVED));
        };
        match f(client) {
            Ok(v) => Ok(v),
            Err(e) => {
                if !matches!(e, ClientError::Service { .. }) {
                    self.client = None;
                }
                Err(from_client(&e, ctx))
            }
        }
    }
}
