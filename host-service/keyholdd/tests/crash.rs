//! D1: kill -9 of the daemon at random moments during concurrent
//! generate/import/delete. Every acknowledged key must still sign and
//! verify against the public key recorded when it was acknowledged,
//! acknowledged deletes must stay deleted, the audit chain must be intact,
//! and SQLite's integrity check must pass.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure

mod common;

use common::{Rng, TestDaemon, random32};
use keyhold_client::Client;
use keyhold_core::{
    Algorithm, ErrorCode, ImportMaterial, KeyOptions, KeyRef, KeySpec, Payload, SecretBytes,
};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

const KILL_CYCLES: usize = 10;
const WORKERS: usize = 4;

#[derive(Default)]
struct Ledger {
    /// Acknowledged and not deleted: alias -> (algorithm, public key).
    live: HashMap<String, (Algorithm, Vec<u8>)>,
    /// Acknowledged deletes.
    deleted: HashSet<String>,
    /// Operations in flight when the daemon died: outcome unknown.
    uncertain: HashSet<String>,
}

fn worker(socket: std::path::PathBuf, ledger: Arc<Mutex<Ledger>>, tag: String, seed: u64) {
    let Ok(mut c) = Client::connect(&socket) else {
        return;
    };
    let mut rng = seed | 1;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let algs = [Algorithm::Secp256k1, Algorithm::P256, Algorithm::Ed25519];
    for n in 0..10_000 {
        let alias = format!("{tag}-{n}");
        let roll = next() % 10;
        let victim = if roll >= 7 {
            let l = ledger.lock().unwrap();
            let mine: Vec<_> = l
                .live
                .keys()
                .filter(|a| a.starts_with(&format!("{tag}-")))
                .cloned()
                .collect();
            (!mine.is_empty()).then(|| mine[(next() as usize) % mine.len()].clone())
        } else {
            None
        };
        if let Some(victim) = victim {
            match c.delete_key(&KeyRef::Alias(victim.clone())) {
                Ok(()) => {
                    let mut l = ledger.lock().unwrap();
                    l.live.remove(&victim);
                    l.deleted.insert(victim);
                }
                Err(e) => {
                    assert!(e.code().is_none(), "delete {victim} refused: {e}");
                    let mut l = ledger.lock().unwrap();
                    l.live.remove(&victim);
                    l.uncertain.insert(victim);
                    return;
                }
            }
            continue;
        }
        let alg = algs[(next() % 3) as usize];
        ledger.lock().unwrap().uncertain.insert(alias.clone());
        let result = if roll < 4 {
            c.generate_key(KeySpec::Single(alg), &KeyOptions::alias(alias.clone()))
        } else {
            let material = ImportMaterial::RawPrivateKey {
                algorithm: alg,
                secret: SecretBytes::copy_from(&random32()),
            };
            c.import_key(material, &KeyOptions::alias(alias.clone()))
        };
        match result {
            Ok(info) => {
                let mut l = ledger.lock().unwrap();
                l.uncertain.remove(&alias);
                l.live.insert(alias, (info.algorithm, info.public_key));
            }
            Err(e) if e.code() == Some(ErrorCode::InvalidKeyMaterial) => {
                ledger.lock().unwrap().uncertain.remove(&alias); // a random scalar out of range: never stored
            }
            Err(e) => {
                assert!(e.code().is_none(), "{alias} refused: {e}");
                return; // the daemon died: the alias stays uncertain
            }
        }
    }
}

fn verify_locally(alg: Algorithm, public_key: &[u8], message: &[u8], signature: &[u8]) -> bool {
    use k256::ecdsa::signature::Verifier;
    match alg {
        Algorithm::Secp256k1 => {
            let vk = k256::ecdsa::VerifyingKey::from_sec1_bytes(public_key).unwrap();
            let sig = k256::ecdsa::Signature::from_der(signature).unwrap();
            vk.verify(message, &sig).is_ok()
        }
        Algorithm::P256 => {
            let vk = p256::ecdsa::VerifyingKey::from_sec1_bytes(public_key).unwrap();
            let sig = p256::ecdsa::Signature::from_der(signature).unwrap();
            vk.verify(message, &sig).is_ok()
        }
        Algorithm::Ed25519 => {
            let vk =
                ed25519_dalek::VerifyingKey::from_bytes(public_key.try_into().unwrap()).unwrap();
            let sig = ed25519_dalek::Signature::from_bytes(signature.try_into().unwrap());
            vk.verify_strict(message, &sig).is_ok()
        }
        other => panic!("unexpected {other}"),
    }
}

#[test]
fn acknowledged_writes_survive_kill_9() {
    let mut d = TestDaemon::start(&[]);
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let mut rng = Rng::new();
    for cycle in 0..KILL_CYCLES {
        // Warm up: the first connection from this binary is hashed (debug
        // builds hash slowly); the workers should race the kill, not that.
        d.client().list_keys().unwrap();
        let acked = || {
            let l = ledger.lock().unwrap();
            l.live.len() + l.deleted.len()
        };
        let acked_before = acked();
        let workers: Vec<_> = (0..WORKERS)
            .map(|w| {
                let (socket, ledger) = (d.socket.clone(), Arc::clone(&ledger));
                let seed = rng.next();
                thread::spawn(move || worker(socket, ledger, format!("c{cycle}w{w}"), seed))
            })
            .collect();
        // Let the cycle acknowledge something, then kill at a random moment.
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while acked() == acked_before && std::time::Instant::now() < deadline {
            thread::sleep(Duration::from_millis(5));
        }
        thread::sleep(Duration::from_millis(rng.below(500)));
        d.kill9();
        for w in workers {
            w.join().expect("a worker saw an unexpected refusal");
        }
        d.spawn();
    }
    let l = ledger.lock().unwrap();
    eprintln!(
        "acknowledged live keys: {}, acknowledged deletes: {}, uncertain: {}",
        l.live.len(),
        l.deleted.len(),
        l.uncertain.len()
    );
    assert!(
        l.live.len() >= KILL_CYCLES,
        "the workload acknowledged too little to mean anything"
    );
    let mut c = d.client();
    for (alias, (alg, public_key)) in &l.live {
        let key = KeyRef::Alias(alias.clone());
        let info = c
            .get_key_info(&key)
            .unwrap_or_else(|e| panic!("acknowledged key {alias} lost: {e}"));
        assert_eq!(&info.public_key, public_key, "{alias}");
        let message = format!("after the crashes: {alias}");
        let sig = c
            .sign(&key, None, None, Payload::Message(message.as_bytes()))
            .unwrap();
        assert!(
            verify_locally(*alg, public_key, message.as_bytes(), &sig),
            "{alias} ({alg})"
        );
    }
    for alias in &l.deleted {
        let err = c.get_key_info(&KeyRef::Alias(alias.clone())).unwrap_err();
        assert_eq!(
            err.code(),
            Some(ErrorCode::KeyNotFound),
            "deleted key {alias} came back"
        );
    }
    let verdict = c.audit_verify().unwrap();
    assert_eq!(
        verdict.first_broken_seq, None,
        "audit chain broken after kill -9: {verdict:?}"
    );
    drop(c);

    assert!(d.terminate().success());
    let db = rusqlite::Connection::open(d.data_dir.join("keyhold.db")).unwrap();
    let check: String = db
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
}
