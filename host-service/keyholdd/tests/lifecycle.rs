//! Concurrency, memory stability, shutdown and audit durability of the
//! daemon as a real process.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure

mod common;

use common::{TestDaemon, rss_kib};
use keyhold_core::{Algorithm, ErrorCode, KeyOptions, KeyRef, KeySpec, Payload, PublicKeyFormat};
use std::thread;
use std::time::Duration;

const CLIENTS: usize = 32;
const ROUNDS: usize = 4;
const SIGNS: usize = 3;

/// One client's mixed workload for one round: create a key, use it, read
/// metadata, list, and delete the key of the previous round. Any error
/// fails the test.
fn client_round(socket: &std::path::Path, client_no: usize, round: usize) {
    let mut c = keyhold_client::Client::connect(socket).expect("connect");
    let algs = [Algorithm::Ed25519, Algorithm::Secp256k1, Algorithm::P256];
    let alg = algs[(client_no + round) % algs.len()];
    let alias = format!("c{client_no}-r{round}");
    let info = c
        .generate_key(KeySpec::Single(alg), &KeyOptions::alias(alias.clone()))
        .unwrap_or_else(|e| panic!("generate {alias}: {e}"));
    let key = KeyRef::Alias(alias.clone());
    for i in 0..SIGNS {
        let msg = format!("message {client_no} {round} {i}");
        let sig = c
            .sign(&key, None, None, Payload::Message(msg.as_bytes()))
            .unwrap();
        assert!(
            c.verify(&key, None, None, Payload::Message(msg.as_bytes()), &sig)
                .unwrap()
        );
    }
    assert!(
        !c.get_public_key(&key, None, PublicKeyFormat::SpkiDer)
            .unwrap()
            .bytes
            .is_empty()
    );
    assert_eq!(
        c.get_key_info(&KeyRef::Id(info.id)).unwrap().usage_count,
        SIGNS as u64
    );
    assert!(c.list_keys().unwrap().iter().any(|k| k.id == info.id));
    if round > 0 {
        let previous = KeyRef::Alias(format!("c{client_no}-r{}", round - 1));
        c.delete_key(&previous).unwrap();
        assert_eq!(
            c.get_key_info(&previous).unwrap_err().code(),
            Some(ErrorCode::KeyNotFound)
        );
    }
}

#[test]
fn thirty_two_concurrent_clients_without_errors_and_stable_memory() {
    let d = TestDaemon::start(&[]);
    let pid = d.pid();
    let started = std::time::Instant::now();
    let mut rss = Vec::new();
    for round in 0..ROUNDS {
        let handles: Vec<_> = (0..CLIENTS)
            .map(|n| {
                let socket = d.socket.clone();
                thread::spawn(move || client_round(&socket, n, round))
            })
            .collect();
        for h in handles {
            h.join().expect("a client failed");
        }
        rss.push(rss_kib(pid));
        eprintln!("round {round} done at {:?}", started.elapsed());
    }
    eprintln!("daemon VmRSS per round (KiB): {rss:?}");
    let first = rss[0];
    let peak = *rss.iter().max().unwrap();
    assert!(peak < 64 * 1024, "RSS above 64 MiB: {rss:?}");
    assert!(
        peak <= first + 16 * 1024,
        "RSS grew by more than 16 MiB after the first round: {rss:?}"
    );
    assert!(
        rss[ROUNDS - 1] <= rss[1] + 8 * 1024,
        "RSS keeps growing: {rss:?}"
    );
    let mut c = d.client();
    assert_eq!(
        c.list_keys().unwrap().len(),
        CLIENTS,
        "only the last round's keys remain"
    );
    let verdict = c.audit_verify().unwrap();
    assert_eq!(verdict.first_broken_seq, None);
    // Every operation of every client left an audit record.
    let per_client_round = 1 + 2 * SIGNS + 3;
    assert!(
        verdict.entries as usize >= CLIENTS * ROUNDS * per_client_round,
        "{verdict:?}"
    );
}

#[test]
fn sigterm_flushes_the_journal_and_removes_the_socket() {
    let mut d = TestDaemon::start(&[]);
    let mut c = d.client();
    c.generate_key(
        KeySpec::Single(Algorithm::Secp256k1),
        &KeyOptions::alias("k"),
    )
    .unwrap();
    let key = KeyRef::Alias("k".into());
    for _ in 0..5 {
        c.sign(&key, None, None, Payload::Message(b"m")).unwrap();
    }
    // An idle connection must not hold up the shutdown.
    let _idle = d.client();
    let status = d.terminate();
    assert!(status.success(), "{status}; log:\n{}", d.log());
    assert!(!d.socket.exists(), "socket removed");
    assert!(!keyhold_pid_file(&d).exists(), "pid file removed");
    assert!(d.log().contains("stopped"), "{}", d.log());
    drop(c);

    d.spawn();
    let mut c = d.client();
    let info = c.get_key_info(&key).unwrap();
    assert_eq!(info.usage_count, 5, "usage counts were flushed at shutdown");
    let verdict = c.audit_verify().unwrap();
    assert_eq!(verdict.first_broken_seq, None);
    assert!(
        verdict.entries >= 6,
        "generate + 5 signs were committed: {verdict:?}"
    );
}

#[test]
fn the_timer_commits_the_journal_without_a_shutdown() {
    let mut d = TestDaemon::start(&[]);
    let mut c = d.client();
    c.generate_key(KeySpec::Single(Algorithm::Ed25519), &KeyOptions::alias("k"))
        .unwrap();
    let key = KeyRef::Alias("k".into());
    for _ in 0..3 {
        c.sign(&key, None, None, Payload::Message(b"m")).unwrap();
    }
    // The flusher runs every second; give it a few on a loaded machine.
    thread::sleep(Duration::from_millis(3500));
    d.kill9();
    d.spawn();
    let mut c = d.client();
    assert_eq!(c.get_key_info(&key).unwrap().usage_count, 3);
    assert!(c.audit_verify().unwrap().entries >= 4);
}

#[test]
fn a_second_daemon_on_the_same_socket_is_refused() {
    let d = TestDaemon::start(&[]);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_keyholdd"))
        .arg("--socket")
        .arg(&d.socket)
        .arg("--data-dir")
        .arg(d.dir.path().join("other-data"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("already serving"), "{err}");
    // The first one is untouched.
    d.client().list_keys().unwrap();
}

fn keyhold_pid_file(d: &TestDaemon) -> std::path::PathBuf {
    let mut p = d.socket.as_os_str().to_owned();
    p.push(".pid");
    p.into()
}
