//! Listing through the real daemon: the core bounds each reply and the Rust
//! client's `list_keys` walks every page (issue 8 section 4).
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure

mod common;

use common::TestDaemon;
use keyhold_core::{Algorithm, KeyId, KeyOptions, KeyRef, KeySpec, MAX_LIST_PAGE_KEYS};

#[test]
fn list_keys_walks_pages_over_the_socket() {
    let daemon = TestDaemon::start(&[]);
    let mut c = daemon.client();
    let n = 2 * MAX_LIST_PAGE_KEYS as usize + 37;
    let mut ids: Vec<KeyId> = (0..n)
        .map(|i| {
            c.generate_key(
                KeySpec::Single(Algorithm::Ed25519),
                &KeyOptions::alias(format!("k{i:03}")),
            )
            .unwrap()
            .id
        })
        .collect();
    ids.sort();

    // Pages: ascending ids, each bounded by the core's cap, none repeated.
    let (mut after, mut paged, mut sizes) = (None, Vec::new(), Vec::new());
    loop {
        let page = c.list_keys_page(after, u32::MAX).unwrap();
        sizes.push(page.keys.len());
        paged.extend(page.keys.iter().map(|k| k.id));
        match page.next_after {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert_eq!(sizes, [100, 100, 37]);
    assert_eq!(paged, ids);

    // The cursor survives the deletion of its key.
    let cursor = ids[99];
    c.delete_key(&KeyRef::Id(cursor)).unwrap();
    let next = c.list_keys_page(Some(cursor), 5).unwrap();
    assert_eq!(
        next.keys.iter().map(|k| k.id).collect::<Vec<_>>(),
        ids[100..105]
    );

    // The whole listing, as the CLI prints it: every key but the deleted one, by alias.
    let all = c.list_keys().unwrap();
    assert_eq!(all.len(), n - 1);
    let aliases: Vec<String> = all.iter().map(|k| k.alias.clone()).collect();
    let mut sorted = aliases.clone();
    sorted.sort();
    assert_eq!(aliases, sorted);
    assert!(all.iter().all(|k| k.id != cursor));
}
