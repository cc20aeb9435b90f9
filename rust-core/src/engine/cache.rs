//! The unsealed-key cache: bounded in entries and idle time, cleared on
//! `lock()`. It is what keeps the hardware budget at one unseal per key per
//! session.
//!
//! A load takes a [`Generation`] before it unseals and may insert only if no
//! `clear()` (lock) or `remove()` (delete) happened meanwhile. Without it a
//! load already waiting on a slow hardware unseal when the app is locked
//! (backgrounded) would put its key back into the cache after the lock, and
//! a load racing a delete would cache a deleted key.

use super::material::{KeyMaterial, lock};
use crate::alias::alias_key;
use crate::key::{KeyId, KeyInfo};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A key ready to use: its stored metadata, owner and unsealed material.
pub(crate) struct LoadedKey {
    pub(crate) info: KeyInfo,
    pub(crate) owner: String,
    pub(crate) material: KeyMaterial,
    /// True when the store found this key by its alias (or it was just
    /// created), so its alias names it alone; only such keys are found here
    /// by alias (a key loaded by id may carry an alias that became
    /// ambiguous under the alias rule, see `crate::alias`).
    pub(crate) by_alias: bool,
}

struct Entry {
    key: Arc<LoadedKey>,
    last_used: Instant,
}

#[derive(Default)]
struct Inner {
    by_id: HashMap<KeyId, Entry>,
    by_alias: HashMap<(String, String), KeyId>,
    /// Bumped by every `clear()` and `remove()`.
    generation: u64,
}

/// The cache's state when a load began; see [`KeyCache::generation`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Generation(u64);

/// Bounded map of unsealed keys.
pub(crate) struct KeyCache {
    inner: Mutex<Inner>,
    capacity: usize,
    idle_ttl: Duration,
}

impl KeyCache {
    pub(crate) fn new(capacity: usize, idle_ttl: Duration) -> Self {
        Self {
            inner: Mutex::new(Inner::default()),
            capacity: capacity.max(1),
            idle_ttl,
        }
    }

    /// The key with this id, if cached, fresh, and owned by `owner`.
    pub(crate) fn get_by_id(&self, owner: &str, id: KeyId) -> Option<Arc<LoadedKey>> {
        let mut inner = lock(&self.inner);
        Self::touch(&mut inner, id, owner, self.idle_ttl)
    }

    /// The key with this alias in `owner`'s namespace, if cached and fresh.
    pub(crate) fn get_by_alias(&self, owner: &str, alias: &str) -> Option<Arc<LoadedKey>> {
        let mut inner = lock(&self.inner);
        let id = *inner.by_alias.get(&(owner.to_owned(), alias_key(alias)))?;
        Self::touch(&mut inner, id, owner, self.idle_ttl)
    }

    fn touch(inner: &mut Inner, id: KeyId, owner: &str, ttl: Duration) -> Option<Arc<LoadedKey>> {
        let now = Instant::now();
        let entry = inner.by_id.get_mut(&id)?;
        if now.duration_since(entry.last_used) > ttl {
            let key = Arc::clone(&entry.key);
            Self::remove_entry(inner, &key);
            return None;
        }
        if entry.key.owner != owner {
            return None;
        }
        entry.last_used = now;
        Some(Arc::clone(&entry.key))
    }

    /// The current generation: take it before unsealing, pass it to
    /// [`insert`](Self::insert).
    pub(crate) fn generation(&self) -> Generation {
        Generation(lock(&self.inner).generation)
    }

    /// Adds a key loaded since `since`, evicting expired entries and then
    /// the least recently used. Returns `false` and caches nothing if the
    /// cache was cleared or a key removed after `since` (the caller still
    /// uses its key for the operation in flight; the next use unseals again).
    pub(crate) fn insert(&self, key: Arc<LoadedKey>, since: Generation) -> bool {
        let mut inner = lock(&self.inner);
        if inner.generation != since.0 {
            return false;
        }
        let now = Instant::now();
        if inner.by_id.len() >= self.capacity {
            let expired: Vec<Arc<LoadedKey>> = inner
                .by_id
                .values()
                .filter(|e| now.duration_since(e.last_used) > self.idle_ttl)
                .map(|e| Arc::clone(&e.key))
                .collect();
            for k in &expired {
                Self::remove_entry(&mut inner, k);
            }
        }
        while inner.by_id.len() >= self.capacity {
            let oldest = inner
                .by_id
                .values()
                .min_by_key(|e| e.last_used)
                .map(|e| Arc::clone(&e.key));
            match oldest {
                Some(k) => Self::remove_entry(&mut inner, &k),
                None => break,
            }
        }
        if key.by_alias {
            inner
                .by_alias
                .insert((key.owner.clone(), alias_key(&key.info.alias)), key.info.id);
        }
        inner.by_id.insert(
            key.info.id,
            Entry {
                key,
                last_used: now,
            },
        );
        true
    }

    /// Forgets one key (after delete).
    pub(crate) fn remove(&self, id: KeyId) {
        let mut inner = lock(&self.inner);
        inner.generation = inner.generation.wrapping_add(1);
        if let Some(entry) = inner.by_id.get(&id) {
            let key = Arc::clone(&entry.key);
            Self::remove_entry(&mut inner, &key);
        }
    }

    fn remove_entry(inner: &mut Inner, key: &LoadedKey) {
        inner.by_id.remove(&key.info.id);
        let alias = (key.owner.clone(), alias_key(&key.info.alias));
        if inner.by_alias.get(&alias) == Some(&key.info.id) {
            inner.by_alias.remove(&alias);
        }
    }

    /// Forgets everything. Material is zeroized when the last user drops it.
    pub(crate) fn clear(&self) {
        let mut inner = lock(&self.inner);
        inner.generation = inner.generation.wrapping_add(1);
        inner.by_id.clear();
        inner.by_alias.clear();
    }

    /// Number of cached keys.
    pub(crate) fn len(&self) -> usize {
        lock(&self.inner).by_id.len()
    }
}

#[cfg(test)]
mod tests;
