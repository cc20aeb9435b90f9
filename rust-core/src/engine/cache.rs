//! The unsealed-key cache: bounded in entries and idle time, cleared on
//! `lock()`. It is what keeps the hardware budget at one unseal per key per
//! session.

use super::material::{KeyMaterial, lock};
use crate::key::{KeyId, KeyInfo};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A key ready to use: its stored metadata, owner and unsealed material.
pub(crate) struct LoadedKey {
    pub(crate) info: KeyInfo,
    pub(crate) owner: String,
    pub(crate) material: KeyMaterial,
}

struct Entry {
    key: Arc<LoadedKey>,
    last_used: Instant,
}

#[derive(Default)]
struct Inner {
    by_id: HashMap<KeyId, Entry>,
    by_alias: HashMap<(String, String), KeyId>,
}

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
        let id = *inner.by_alias.get(&(owner.to_owned(), alias.to_owned()))?;
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

    /// Adds a key, evicting expired entries and then the least recently used.
    pub(crate) fn insert(&self, key: Arc<LoadedKey>) {
        let mut inner = lock(&self.inner);
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
        inner
            .by_alias
            .insert((key.owner.clone(), key.info.alias.clone()), key.info.id);
        inner.by_id.insert(
            key.info.id,
            Entry {
                key,
                last_used: now,
            },
        );
    }

    /// Forgets one key (after delete).
    pub(crate) fn remove(&self, id: KeyId) {
        let mut inner = lock(&self.inner);
        if let Some(entry) = inner.by_id.get(&id) {
            let key = Arc::clone(&entry.key);
            Self::remove_entry(&mut inner, &key);
        }
    }

    fn remove_entry(inner: &mut Inner, key: &LoadedKey) {
        inner.by_id.remove(&key.info.id);
        inner
            .by_alias
            .remove(&(key.owner.clone(), key.info.alias.clone()));
    }

    /// Forgets everything. Material is zeroized when the last user drops it.
    pub(crate) fn clear(&self) {
        let mut inner = lock(&self.inner);
        inner.by_id.clear();
        inner.by_alias.clear();
    }

    /// Number of cached keys.
    pub(crate) fn len(&self) -> usize {
        lock(&self.inner).by_id.len()
    }
}
