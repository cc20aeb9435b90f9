use super::Handles;
use std::sync::Arc;

#[test]
fn handles_start_at_one_and_are_not_reused() {
    let table = Handles::new();
    let a = table.insert("a");
    let b = table.insert("b");
    assert_eq!(a, 1);
    assert_eq!(b, 2);
    assert!(table.remove(a).is_some());
    assert_eq!(table.insert("c"), 3);
}

#[test]
fn unknown_zero_and_closed_handles_miss() {
    let table = Handles::new();
    assert!(table.get(0).is_none());
    assert!(table.get(-1).is_none());
    let h = table.insert(7u32);
    assert_eq!(table.get(h).as_deref(), Some(&7));
    assert!(table.remove(h).is_some());
    assert!(table.get(h).is_none());
    assert!(table.remove(h).is_none(), "closing twice is harmless");
    assert!(table.is_empty());
}

#[test]
fn a_call_in_flight_keeps_its_value_after_close() {
    let table = Handles::new();
    let h = table.insert(String::from("engine"));
    let in_flight = table.get(h).expect("open");
    drop(table.remove(h));
    assert_eq!(in_flight.as_str(), "engine");
    assert_eq!(Arc::strong_count(&in_flight), 1);
}

#[test]
fn concurrent_inserts_get_distinct_handles() {
    let table = Arc::new(Handles::new());
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let table = Arc::clone(&table);
            std::thread::spawn(move || {
                (0..100)
                    .map(|i| table.insert(t * 1000 + i))
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut all: Vec<i64> = threads
        .into_iter()
        .flat_map(|t| t.join().expect("thread"))
        .collect();
    all.sort_unstable();
    all.dedup();
    assert_eq!(all.len(), 400);
    assert_eq!(table.len(), 400);
}
