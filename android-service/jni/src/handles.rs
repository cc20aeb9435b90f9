//! A table of open engines, addressed by number.
//!
//! Java holds a `long`; a pointer there would turn a stale or forged handle
//! into a use-after-free. A table turns it into a lookup miss, lets `close`
//! race safely with calls in flight (they hold an `Arc`), and needs no
//! `unsafe`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

/// Values of type `T` behind `i64` handles. Handles start at 1 and are never
/// reused within a process; 0 is never a valid handle.
#[derive(Debug)]
pub struct Handles<T> {
    next: AtomicI64,
    entries: Mutex<HashMap<i64, Arc<T>>>,
}

impl<T> Default for Handles<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Handles<T> {
    /// An empty table.
    pub fn new() -> Self {
        Self {
            next: AtomicI64::new(1),
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<i64, Arc<T>>> {
        // A panic while holding the lock cannot leave the map half-updated
        // (every operation is a single insert/get/remove), so keep going.
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Stores `value` and returns its new handle.
    pub fn insert(&self, value: T) -> i64 {
        let handle = self.next.fetch_add(1, Ordering::Relaxed);
        self.entries().insert(handle, Arc::new(value));
        handle
    }

    /// The value behind `handle`, if it is open.
    pub fn get(&self, handle: i64) -> Option<Arc<T>> {
        self.entries().get(&handle).cloned()
    }

    /// Removes `handle`; the value is dropped once no call holds it.
    pub fn remove(&self, handle: i64) -> Option<Arc<T>> {
        self.entries().remove(&handle)
    }

    /// Number of open handles.
    pub fn len(&self) -> usize {
        self.entries().len()
    }

    /// True when no handle is open.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests;
