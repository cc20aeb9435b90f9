//! `list_keys_page`: order, bounds, cursors that outlive their key, owners.

use super::*;
use crate::algorithm::Algorithm;
use crate::caller::CallerRule;
use crate::hd::{DerivationPath, HARDENED, MAX_DEPTH};
use crate::key::{KeyId, KeyRef, MAX_ALIAS_LEN};
use crate::policy::KeyPolicy;
use crate::store::MemoryStore;
use ops::MAX_POLICY_ENTRIES;
use std::collections::BTreeSet;

fn owner(uid: u32) -> Caller {
    Caller::Unix {
        uid,
        gid: uid,
        pid: 10,
        exe_sha256: Some([uid as u8; 32]),
    }
}

fn engine() -> Keyhold {
    Keyhold::open(
        Box::new(MemoryStore::new()),
        Arc::new(SoftwareSealer::ephemeral().unwrap()),
        Config::default(),
    )
    .unwrap()
}

fn generate(engine: &Keyhold, caller: &Caller, n: usize, prefix: &str) -> Vec<KeyId> {
    (0..n)
        .map(|i| {
            engine
                .generate_key(
                    caller,
                    KeySpec::Single(Algorithm::Ed25519),
                    KeyOptions::alias(format!("{prefix}{i}")),
                )
                .unwrap()
                .id
        })
        .collect()
}

/// Every page of `caller`'s keys, requested with `limit`.
fn pages(engine: &Keyhold, caller: &Caller, limit: u32) -> Vec<KeyPage> {
    let mut out = Vec::new();
    let mut after = None;
    loop {
        let page = engine.list_keys_page(caller, after, limit).unwrap();
        after = page.next_after;
        out.push(page);
        if after.is_none() {
            return out;
        }
        assert!(out.len() < 10_000, "paging does not end");
    }
}

#[test]
fn paging_returns_every_key_once_in_id_order() {
    let engine = engine();
    let alice = owner(1000);
    let mut ids = generate(&engine, &alice, 250, "k");
    ids.sort();
    let pages = pages(&engine, &alice, 40);
    assert_eq!(
        pages.iter().map(|p| p.keys.len()).collect::<Vec<_>>(),
        [40, 40, 40, 40, 40, 40, 10]
    );
    let listed: Vec<KeyId> = pages
        .iter()
        .flat_map(|p| p.keys.iter().map(|k| k.id))
        .collect();
    assert_eq!(listed, ids, "each key once, ascending id");
    for page in &pages[..pages.len() - 1] {
        assert_eq!(page.next_after, page.keys.last().map(|k| k.id));
    }
    assert_eq!(pages.last().unwrap().next_after, None);
}

#[test]
fn the_default_and_the_cap_apply() {
    let engine = engine();
    let alice = owner(1000);
    generate(&engine, &alice, 250, "k");
    let default = engine.list_keys_page(&alice, None, 0).unwrap();
    assert_eq!(default.keys.len(), DEFAULT_LIST_PAGE_KEYS as usize);
    let capped = engine.list_keys_page(&alice, None, u32::MAX).unwrap();
    assert_eq!(capped.keys.len(), MAX_LIST_PAGE_KEYS as usize);
    assert_eq!(capped.next_after, capped.keys.last().map(|k| k.id));
    let all = pages(&engine, &alice, u32::MAX);
    assert_eq!(
        all.iter().map(|p| p.keys.len()).collect::<Vec<_>>(),
        [100, 100, 50]
    );
}

#[test]
fn a_page_that_ends_exactly_at_the_last_key_says_so() {
    let engine = engine();
    let alice = owner(1000);
    generate(&engine, &alice, 10, "k");
    let page = engine.list_keys_page(&alice, None, 10).unwrap();
    assert_eq!((page.keys.len(), page.next_after), (10, None));
    let empty = engine.list_keys_page(&owner(1002), None, 10).unwrap();
    assert_eq!(empty, KeyPage::default());
}

#[test]
fn a_cursor_naming_a_deleted_key_still_works() {
    let engine = engine();
    let alice = owner(1000);
    let mut ids = generate(&engine, &alice, 30, "k");
    ids.sort();
    let first = engine.list_keys_page(&alice, None, 10).unwrap();
    let cursor = first.next_after.unwrap();
    assert_eq!(cursor, ids[9]);
    engine.delete_key(&alice, &KeyRef::Id(cursor)).unwrap();
    let next = engine.list_keys_page(&alice, Some(cursor), 10).unwrap();
    assert_eq!(
        next.keys.iter().map(|k| k.id).collect::<Vec<_>>(),
        ids[10..20]
    );
    // An id below every key (0 is a valid id) and one above every key.
    let from_zero = engine.list_keys_page(&alice, Some(KeyId::from_u64(0)), 100);
    assert_eq!(from_zero.unwrap().keys.len(), 29);
    let past_end = engine.list_keys_page(&alice, Some(KeyId::from_u64(u64::MAX)), 100);
    assert_eq!(past_end.unwrap(), KeyPage::default());
}

#[test]
fn another_owners_keys_never_appear() {
    let engine = engine();
    let (alice, bob) = (owner(1000), owner(1001));
    let alice_ids: BTreeSet<KeyId> = generate(&engine, &alice, 60, "a").into_iter().collect();
    let bob_ids: BTreeSet<KeyId> = generate(&engine, &bob, 45, "b").into_iter().collect();
    for (who, mine) in [(&alice, &alice_ids), (&bob, &bob_ids)] {
        let listed: BTreeSet<KeyId> = pages(&engine, who, 7)
            .iter()
            .flat_map(|p| p.keys.iter().map(|k| k.id))
            .collect();
        assert_eq!(&listed, mine);
    }
    // Alice's cursor, handed to Bob, shows Bob only his own keys.
    let cursor = *alice_ids.iter().next().unwrap();
    let page = engine.list_keys_page(&bob, Some(cursor), 100).unwrap();
    assert!(page.keys.iter().all(|k| bob_ids.contains(&k.id)));
}

/// The largest policy the core accepts: [`MAX_POLICY_ENTRIES`] caller rules
/// and path prefixes, each prefix [`MAX_DEPTH`] hardened maximal indices.
fn maximal_policy(app_id_len: usize) -> KeyPolicy {
    let index = format!("{}'", HARDENED - 1);
    let deepest = format!("m/{}", vec![index; MAX_DEPTH].join("/"));
    let rule = |i: usize| CallerRule {
        uid: Some(i as u32),
        app_id: Some("p".repeat(app_id_len)),
        code_sha256: Some([7; 32]),
    };
    KeyPolicy {
        allowed_callers: (0..MAX_POLICY_ENTRIES).map(rule).collect(),
        allowed_operations: None,
        allowed_path_prefixes: vec![DerivationPath::parse(&deepest).unwrap(); MAX_POLICY_ENTRIES],
        max_uses: Some(i64::MAX as u64),
    }
}

/// Binder's per-process transaction buffer: `BINDER_VM_SIZE` =
/// 1 MiB - 2 pages in AOSP frameworks/native libs/binder/ProcessState.cpp.
const BINDER_BUFFER: usize = (1 << 20) - 2 * 4096;
// The budget itself leaves three quarters of the buffer to others.
const _: () = assert!(MAX_LIST_PAGE_BYTES * 4 <= BINDER_BUFFER + 2 * 4096);

#[test]
fn a_page_of_maximal_records_stays_well_under_the_binder_buffer() {
    // App ids at the protocol's limit.
    let policy = maximal_policy(crate::limits::MAX_APP_ID_LEN);
    let engine = engine();
    let alice = owner(1000);
    let n = 6;
    let ids: Vec<KeyId> = (0..n)
        .map(|i| {
            let mut options = KeyOptions::alias(format!("{}{i}", "a".repeat(MAX_ALIAS_LEN - 1)));
            options.policy = policy.clone();
            options.policy.allowed_callers[0] = alice.default_rule(false).unwrap();
            engine
                .generate_key(
                    &alice,
                    KeySpec::Hd(crate::HdScheme::Bip32Secp256k1),
                    options,
                )
                .unwrap()
                .id
        })
        .collect();
    let record = listing_size(&engine.get_key_info(&alice, &KeyRef::Id(ids[0])).unwrap());
    // One maximal record alone is under half the buffer ...
    assert!(record < BINDER_BUFFER / 2, "record bound {record}");
    // ... and every page of them is at most max(budget, one record).
    let pages = pages(&engine, &alice, u32::MAX);
    assert!(
        pages.len() > 1,
        "the byte budget must split maximal records"
    );
    let mut seen = 0;
    for page in &pages {
        let size: usize = page.keys.iter().map(listing_size).sum();
        assert!(
            size <= MAX_LIST_PAGE_BYTES.max(record),
            "page of {size} bytes"
        );
        assert!(!page.keys.is_empty());
        seen += page.keys.len();
    }
    assert_eq!(seen, n);
    // Typical records fill a page by count: 100 of them are far below the budget.
    let bob = owner(1001);
    generate(&engine, &bob, MAX_LIST_PAGE_KEYS as usize, "b");
    let full = engine.list_keys_page(&bob, None, u32::MAX).unwrap();
    let size: usize = full.keys.iter().map(listing_size).sum();
    assert_eq!(full.keys.len(), MAX_LIST_PAGE_KEYS as usize);
    assert!(size < MAX_LIST_PAGE_BYTES / 2, "{size}");
}
