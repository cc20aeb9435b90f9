use super::*;

fn entry(uid: u32, pid: u32, last_active_us: u64, busy: bool) -> Entry {
    let (a, _b) = UnixStream::pair().unwrap();
    let state = Arc::new(ConnState::default());
    state
        .last_active_us
        .store(last_active_us, Ordering::Relaxed);
    state.busy.store(busy, Ordering::Relaxed);
    Entry {
        stream: a,
        uid,
        pid,
        state,
    }
}

fn registry(max: usize, per_uid: usize) -> Registry {
    Registry::new(Quota::new(max, per_uid))
}

#[test]
fn defaults_keep_a_quarter_in_reserve() {
    let q = Quota::new(64, 0);
    assert_eq!((q.max, q.per_uid, q.reserve), (64, 48, 16));
    let q = Quota::new(3, 0);
    assert_eq!(
        (q.max, q.per_uid, q.reserve),
        (3, 3, 0),
        "too small to reserve"
    );
    assert_eq!(Quota::new(8, 100).per_uid, 8, "never above the total");
}

#[test]
fn one_uid_cannot_take_the_reserved_slots() {
    let r = registry(8, 0); // 6 per uid, 2 reserved
    let mut live = HashMap::new();
    for i in 0..6 {
        assert!(matches!(r.admission(&live, 1000), Admission::Admit));
        live.insert(i, entry(1000, 77, i, true));
    }
    // uid 1000 is at its share and every connection is busy: refused.
    assert!(matches!(r.admission(&live, 1000), Admission::Refuse(_)));
    // Another uid gets in, through the reserve, twice.
    assert!(matches!(r.admission(&live, 2000), Admission::Admit));
    live.insert(10, entry(2000, 88, 0, true));
    assert!(matches!(r.admission(&live, 2000), Admission::Admit));
    live.insert(11, entry(2000, 88, 0, true));
    // Full.
    assert!(matches!(r.admission(&live, 3000), Admission::Refuse(_)));
}

#[test]
fn a_uid_at_its_limit_displaces_an_idle_connection_of_its_biggest_process() {
    let r = registry(64, 4);
    let mut live = HashMap::new();
    // Process 10 hoards three idle connections; process 20 is a client
    // whose one connection is even older (less recently active).
    live.insert(1, entry(1000, 20, 5, false));
    live.insert(2, entry(1000, 10, 50, false));
    live.insert(3, entry(1000, 10, 40, false));
    live.insert(4, entry(1000, 10, 60, true));
    match r.admission(&live, 1000) {
        Admission::Evict(id) => assert_eq!(id, 3, "the hoarder's least recently active idle one"),
        _ => panic!("expected an eviction"),
    }
    // With the hoarder's connections all busy, the other process's idle one goes.
    live.get(&2)
        .unwrap()
        .state
        .busy
        .store(true, Ordering::Relaxed);
    live.get(&3)
        .unwrap()
        .state
        .busy
        .store(true, Ordering::Relaxed);
    assert!(matches!(r.admission(&live, 1000), Admission::Evict(1)));
    // Another uid's connections are never touched.
    assert!(matches!(r.admission(&live, 2000), Admission::Admit));
}
