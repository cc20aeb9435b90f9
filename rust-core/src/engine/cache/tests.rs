use super::*;
use crate::algorithm::Algorithm;
use crate::key::KeyOrigin;
use crate::policy::KeyPolicy;

fn loaded(id: u64, alias: &str) -> Arc<LoadedKey> {
    Arc::new(LoadedKey {
        info: KeyInfo {
            id: KeyId::from_u64(id),
            alias: alias.into(),
            algorithm: Algorithm::Ed25519,
            hd_scheme: None,
            origin: KeyOrigin::Generated,
            public_key: Vec::new(),
            policy: KeyPolicy::default(),
            usage_count: 0,
            created_at_ms: 0,
            sealer: "test".into(),
        },
        owner: "unix:1000".into(),
        by_alias: true,
        material: KeyMaterial::from_secret_bytes(Algorithm::Ed25519, None, &[7; 32]).unwrap(),
    })
}

fn cache() -> KeyCache {
    KeyCache::new(8, Duration::from_secs(60))
}

#[test]
fn insert_in_the_same_generation_caches_the_key() {
    let cache = cache();
    let since = cache.generation();
    assert!(cache.insert(loaded(1, "a"), since));
    assert!(cache.get_by_id("unix:1000", KeyId::from_u64(1)).is_some());
    assert!(cache.get_by_alias("unix:1000", "a").is_some());
}

#[test]
fn a_load_that_began_before_clear_is_not_cached() {
    let cache = cache();
    let since = cache.generation();
    // lock() happens while the load is unsealing.
    cache.clear();
    assert!(!cache.insert(loaded(1, "a"), since));
    assert_eq!(cache.len(), 0);
    assert!(cache.get_by_alias("unix:1000", "a").is_none());
    // A load that begins after the lock caches as usual.
    assert!(cache.insert(loaded(1, "a"), cache.generation()));
    assert_eq!(cache.len(), 1);
}

#[test]
fn a_load_that_began_before_a_delete_is_not_cached() {
    let cache = cache();
    assert!(cache.insert(loaded(2, "other"), cache.generation()));
    let since = cache.generation();
    // The key being loaded is deleted meanwhile (remove() of its id).
    cache.remove(KeyId::from_u64(1));
    assert!(!cache.insert(loaded(1, "a"), since));
    assert!(cache.get_by_id("unix:1000", KeyId::from_u64(1)).is_none());
    // Other cached keys are untouched by the removal.
    assert!(cache.get_by_id("unix:1000", KeyId::from_u64(2)).is_some());
}
