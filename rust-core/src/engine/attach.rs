//! Attaching a sealer to a store when the engine opens: the wrapping key's
//! lifecycle rules, decided here once for every platform.
//!
//! - A store that holds sealed records (it has a [`SealerBinding`], or keys
//!   written before bindings existed) asks [`KeyRequest::FindExisting`]: the
//!   sealer must find its key and never create one. A key it cannot find,
//!   or a transient failure, is retried on the configured backoff schedule;
//!   a key still missing then is `SEALER_KEY_INVALIDATED` with a message
//!   that says what happened. Nothing is created, so nothing is destroyed.
//! - Its sealed store key is unsealed (one hardware operation per open).
//!   An authentication failure there means the key found is not the one the
//!   store was sealed with: `SEALER_KEY_INVALIDATED`, not a corrupt record.
//! - A new store asks [`KeyRequest::FindOrCreate`], generates its store
//!   key, seals it (refusing a sealer that returns its input in clear),
//!   unseals it once (refusing one that does not round-trip), and records
//!   the binding durably before any key is sealed.

use crate::error::SealerErrorKind;
use crate::sealer::{
    KeyRequest, STORE_KEY_AAD, STORE_KEY_LEN, Sealer, SealerBinding, SealerBindingInfo, StoreKey,
    WrappingKeyInfo,
};
use crate::secret::SecretBytes;
use crate::store::KeyStore;
use crate::{Error, Result};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// What the engine keeps from attaching.
pub(super) struct Attached {
    pub store_key: StoreKey,
    pub binding: SealerBindingInfo,
}

/// Opens the sealer's wrapping key for `store` and returns the unsealed
/// store key. `delays` is the retry schedule for `open_key` (its length is
/// the number of retries).
pub(super) fn attach(
    store: &mut dyn KeyStore,
    sealer: &dyn Sealer,
    delays: &[Duration],
) -> Result<Attached> {
    let binding = store.sealer_binding()?;
    let has_records = binding.is_some() || store.key_count()? > 0;
    let request = if has_records {
        KeyRequest::FindExisting(binding.as_ref())
    } else {
        KeyRequest::FindOrCreate
    };
    let opened = retry(delays, is_open_retryable, || sealer.open_key(&request));
    let info = opened.map_err(|e| explain_open_failure(e, &request, delays.len() + 1))?;
    match binding {
        Some(binding) => {
            let store_key = open_store_key(sealer, &binding, &info, delays)?;
            Ok(Attached {
                store_key,
                binding: binding.info(),
            })
        }
        None => {
            let binding = bind(sealer, &info)?;
            store.put_sealer_binding(&binding.0)?;
            Ok(Attached {
                store_key: binding.1,
                binding: binding.0.info(),
            })
        }
    }
}

/// Runs `f`, retrying after each of `delays` while `retryable` says so.
pub(super) fn retry<T>(
    delays: &[Duration],
    retryable: impl Fn(&Error) -> bool,
    mut f: impl FnMut() -> Result<T>,
) -> Result<T> {
    let mut pauses = delays.iter();
    loop {
        match f() {
            Err(e) if retryable(&e) => match pauses.next() {
                Some(pause) => std::thread::sleep(*pause),
                None => return Err(e),
            },
            other => return other,
        }
    }
}

fn sealer_kind(e: &Error) -> Option<SealerErrorKind> {
    match e {
        Error::Sealer { kind, .. } => Some(*kind),
        _ => None,
    }
}

fn is_open_retryable(e: &Error) -> bool {
    matches!(
        sealer_kind(e),
        Some(SealerErrorKind::KeyNotFound | SealerErrorKind::Unavailable)
    )
}

/// A transient sealer failure during `seal` or `unseal`.
pub(super) fn is_transient(e: &Error) -> bool {
    sealer_kind(e) == Some(SealerErrorKind::Unavailable)
}

fn explain_open_failure(e: Error, request: &KeyRequest<'_>, attempts: usize) -> Error {
    let Error::Sealer { kind, message } = e else {
        return e;
    };
    match (kind, request) {
        (SealerErrorKind::KeyNotFound, KeyRequest::FindExisting(binding)) => {
            let recorded = binding.map_or_else(
                || "recorded before this version kept bindings".to_string(),
                |b| b.info().to_string(),
            );
            Error::sealer(
                SealerErrorKind::KeyInvalidated,
                format!(
                    "this store holds sealed keys but its wrapping key ({recorded}) was not \
                     found in {attempts} attempts: it was deleted or invalidated by the platform. \
                     No new wrapping key was created; the keys in this store cannot be unsealed \
                     ({message})"
                ),
            )
        }
        (SealerErrorKind::KeyNotFound, KeyRequest::FindOrCreate) => Error::sealer(
            SealerErrorKind::Unavailable,
            format!("the sealer could neither find nor create its wrapping key ({message})"),
        ),
        (SealerErrorKind::Unavailable, _) => Error::sealer(
            SealerErrorKind::Unavailable,
            format!("the sealer stayed unavailable for {attempts} attempts ({message})"),
        ),
        (kind, _) => Error::sealer(kind, message),
    }
}

/// Unseals the store key recorded in `binding`.
fn open_store_key(
    sealer: &dyn Sealer,
    binding: &SealerBinding,
    found: &WrappingKeyInfo,
    delays: &[Duration],
) -> Result<StoreKey> {
    let unsealed = retry(&delays[..delays.len().min(1)], is_transient, || {
        sealer.unseal(&binding.sealed_store_key, STORE_KEY_AAD)
    });
    let bytes = unsealed.map_err(|e| match sealer_kind(&e) {
        Some(SealerErrorKind::AuthenticationFailed) => Error::sealer(
            SealerErrorKind::KeyInvalidated,
            format!(
                "the wrapping key found ('{}', {}) does not open this store's key: it is not \
                 the key the store was sealed with ({})",
                found.label,
                found.level_obtained,
                binding.info()
            ),
        ),
        _ => e,
    })?;
    StoreKey::new(bytes).ok_or_else(|| {
        Error::CorruptKeyRecord(format!(
            "the sealed store key does not unseal to {STORE_KEY_LEN} bytes"
        ))
    })
}

/// Creates a store key, checks the sealer on it, and returns the binding to
/// record with the unsealed key.
fn bind(sealer: &dyn Sealer, info: &WrappingKeyInfo) -> Result<(SealerBinding, StoreKey)> {
    let key = SecretBytes::random(STORE_KEY_LEN)?;
    let sealed = sealer.seal(key.expose(), STORE_KEY_AAD)?;
    if sealed.windows(key.len()).any(|w| w == key.expose()) {
        return Err(Error::SelfTestFailed(format!(
            "sealer {} returned its input in clear",
            sealer.name()
        )));
    }
    let opened = sealer.unseal(&sealed, STORE_KEY_AAD)?;
    if !opened.ct_eq(key.expose()) {
        return Err(Error::SelfTestFailed(format!(
            "sealer {} did not round-trip",
            sealer.name()
        )));
    }
    let created_at = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let binding = SealerBinding {
        sealer: sealer.name(),
        label: info.label.clone(),
        level_requested: info.level_requested.clone(),
        level_obtained: info.level_obtained.clone(),
        created_at,
        sealed_store_key: sealed,
    };
    drop(opened);
    let store_key = StoreKey::new(key)
        .ok_or_else(|| Error::Internal("store key of the wrong length".into()))?;
    Ok((binding, store_key))
}

#[cfg(test)]
mod tests;
