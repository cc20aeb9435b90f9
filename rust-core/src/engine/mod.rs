//! The engine: the typed API every door delegates to. (being written)
#![allow(missing_docs, unused_variables, dead_code)]

use crate::{Caller, KeyStore, Result, Sealer};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// Engine tuning.
#[derive(Debug, Clone)]
pub struct Config {
    /// Most unsealed keys kept in memory.
    pub cache_capacity: usize,
    /// An unsealed key unused for this long is dropped.
    pub cache_idle_ttl: Duration,
    /// Largest request `handle` accepts, in bytes.
    pub max_request_bytes: usize,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            cache_capacity: 1024,
            cache_idle_ttl: Duration::from_secs(15 * 60),
            max_request_bytes: 1 << 20,
        }
    }
}

/// The Keyhold engine. `Send + Sync`; share it behind an `Arc`.
pub struct Keyhold {}

impl Keyhold {
    /// Opens the engine over a store and a sealer: runs the known-answer
    /// tests and the sealer self-test first, and fails if any fails.
    pub fn open(store: Box<dyn KeyStore>, sealer: Arc<dyn Sealer>, config: Config) -> Result<Self> {
        todo!()
    }

    /// Opens the host default: `<dir>/keyhold.db` sealed by the software key file `<dir>/sealer.key`.
    pub fn open_in_dir(dir: &Path, config: Config) -> Result<Self> {
        todo!()
    }

    /// The byte-level entry point for transports: decodes a `keyhold.v1.Request`,
    /// runs it for `caller`, and encodes a `keyhold.v1.Response` (errors included). Never panics.
    pub fn handle(&self, caller: &Caller, request: &[u8]) -> Vec<u8> {
        todo!()
    }

    /// Like `handle`, with the caller as an encoded `keyhold.v1.CallerIdentity`
    /// (for doors across a language boundary, e.g. JNI).
    pub fn handle_with_identity(&self, identity: &[u8], request: &[u8]) -> Vec<u8> {
        todo!()
    }

    /// Forgets every unsealed key (next use unseals again).
    pub fn lock(&self) {}

    /// Commits buffered audit records and usage counts.
    pub fn flush(&self) -> Result<()> {
        todo!()
    }
}
