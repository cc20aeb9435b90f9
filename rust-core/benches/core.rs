//! Core benchmarks (criterion). Reproduce with:
//!
//! ```sh
//! cargo bench -p keyhold-core --bench core
//! ```
//!
//! - `sign_warm`: one signature through `Keyhold::handle` (protobuf in and
//!   out, policy check, audit journal, SQLite store, warm cache) against the
//!   raw RustCrypto primitive, for Ed25519 and secp256k1.
//! - `sign_vs_store_size`: the same `handle` sign with 10 and with 100,000
//!   keys in the store, warm; and the first use after `lock()` (load from
//!   SQLite, unseal, parse, sign).
//! - `open_vs_store_size`: opening the engine (known-answer tests, sealer
//!   self-test, SQLite open) with 10 and with 100,000 keys.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use ed25519_dalek::Signer as _;
use k256::ecdsa::signature::hazmat::PrehashSigner as _;
use keyhold_core::{
    Algorithm, Caller, CallerRule, Config, KeyId, KeyInfo, KeyOptions, KeyOrigin, KeyPolicy,
    KeyRequest, KeySpec, Keyhold, SealContext, Sealer, SoftwareSealer, SqliteStore, StoredKey,
    caller_to_identity_bytes,
};
use prost::Message;
use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

#[allow(dead_code)]
mod wire {
    include!(concat!(env!("OUT_DIR"), "/keyhold.v1.rs"));
}

fn caller() -> Caller {
    Caller::Unix {
        uid: 1000,
        gid: 1000,
        pid: 1,
        exe_sha256: None,
    }
}

/// Fills `dir` with `count` Ed25519 keys sealed under `dir/sealer.key`, in
/// one transaction, then the named keys the benchmarks use.
fn populate(dir: &Path, count: usize) {
    let sealer = SoftwareSealer::key_file(&dir.join("sealer.key"));
    sealer.open_key(&KeyRequest::FindOrCreate).unwrap();
    let mut store = SqliteStore::open(&dir.join("keyhold.db")).unwrap();
    let owner = caller().owner();
    let rule = CallerRule {
        uid: Some(1000),
        ..CallerRule::default()
    };
    let mut batch = Vec::with_capacity(10_000);
    for i in 0..count {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).unwrap();
        let mut id = [0u8; 8];
        getrandom::fill(&mut id).unwrap();
        let signing = ed25519_dalek::SigningKey::from_bytes(&seed);
        let info = KeyInfo {
            id: KeyId::from_u64(u64::from_le_bytes(id) | 1),
            alias: format!("bulk-{i}"),
            algorithm: Algorithm::Ed25519,
            hd_scheme: None,
            origin: KeyOrigin::Imported,
            public_key: signing.verifying_key().to_bytes().to_vec(),
            policy: KeyPolicy {
                allowed_callers: vec![rule.clone()],
                ..KeyPolicy::default()
            },
            usage_count: 0,
            created_at_ms: 0,
            sealer: sealer.name(),
        };
        let aad = SealContext {
            key_id: info.id,
            owner: &owner,
            algorithm: info.algorithm,
            hd_scheme: None,
            schema_version: BULK_SCHEMA,
        }
        .to_aad();
        let sealed_secret = sealer.seal(&seed, &aad).unwrap();
        batch.push(StoredKey {
            info,
            owner: owner.clone(),
            sealed_secret,
            sealed_schema_version: BULK_SCHEMA,
        });
        if batch.len() == batch.capacity() {
            store.insert_keys(&batch).unwrap();
            batch.clear();
        }
    }
    store.insert_keys(&batch).unwrap();
    drop(store);
    let engine = Keyhold::open_in_dir(dir, Config::default()).unwrap();
    for (alias, alg) in [("ed", Algorithm::Ed25519), ("k1", Algorithm::Secp256k1)] {
        engine
            .generate_key(&caller(), KeySpec::Single(alg), KeyOptions::alias(alias))
            .unwrap();
    }
}

/// Bulk keys are written straight into the store as a schema-3 release
/// wrote them (sealed under schema 3, no integrity MACs): the engine's first
/// open upgrades them (MACs every row once, see keyhold_core's integrity
/// module) exactly as it upgrades a real older store. A store holding keys
/// sealed under the current schema but no audit anchor is refused as edited.
const BULK_SCHEMA: u32 = 3;

fn sign_request(
    alias: &str,
    scheme: wire::SignatureScheme,
    payload: wire::sign_request::Payload,
) -> Vec<u8> {
    wire::Request {
        version: 1,
        operation: Some(wire::request::Operation::Sign(wire::SignRequest {
            key: Some(wire::KeyRef {
                by: Some(wire::key_ref::By::Alias(alias.into())),
            }),
            scheme: scheme as i32,
            payload: Some(payload),
            path: String::new(),
        })),
    }
    .encode_to_vec()
}

fn signature_of(response: &[u8]) -> Vec<u8> {
    match wire::Response::decode(response).unwrap().result {
        Some(wire::response::Result::Sign(s)) => s.signature,
        other => panic!("unexpected response {other:?}"),
    }
}

const MESSAGE: &[u8] = b"keyhold benchmark message: 64 bytes of payload to sign.........";
const DIGEST: [u8; 32] = [0x5a; 32];

fn sign_warm(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    populate(dir.path(), 10);
    let engine = Keyhold::open_in_dir(dir.path(), Config::default()).unwrap();
    let who = caller();
    let ed_req = sign_request(
        "ed",
        wire::SignatureScheme::Ed25519,
        wire::sign_request::Payload::Message(MESSAGE.to_vec()),
    );
    let k1_req = sign_request(
        "k1",
        wire::SignatureScheme::EcdsaDer,
        wire::sign_request::Payload::Digest(DIGEST.to_vec()),
    );
    // Warm the cache and check the requests succeed.
    assert_eq!(signature_of(&engine.handle(&who, &ed_req)).len(), 64);
    assert!(!signature_of(&engine.handle(&who, &k1_req)).is_empty());

    let ed_raw = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
    let k1_raw = k256::ecdsa::SigningKey::from_slice(&[7; 32]).unwrap();

    let mut group = c.benchmark_group("sign_warm");
    group.bench_function("ed25519/raw", |b| {
        b.iter(|| black_box(ed_raw.sign(black_box(MESSAGE))))
    });
    group.bench_function("ed25519/handle", |b| {
        b.iter(|| black_box(engine.handle(&who, black_box(&ed_req))))
    });
    group.bench_function("secp256k1/raw", |b| {
        b.iter(|| {
            let sig: k256::ecdsa::Signature = k1_raw.sign_prehash(black_box(&DIGEST)).unwrap();
            black_box(sig.to_der())
        })
    });
    group.bench_function("secp256k1/handle", |b| {
        b.iter(|| black_box(engine.handle(&who, black_box(&k1_req))))
    });
    // The alias rule's comparison key (NFC, lowercase, UTS #39 skeleton):
    // computed once per request that names a key by alias, so part of the
    // two handle figures above.
    group.bench_function("alias_key/wallet-eth-main", |b| {
        b.iter(|| black_box(keyhold_core::alias_key(black_box("wallet-eth-main"))))
    });
    group.finish();
}

fn sign_vs_store_size(c: &mut Criterion) {
    let who = caller();
    let req = sign_request(
        "ed",
        wire::SignatureScheme::Ed25519,
        wire::sign_request::Payload::Message(MESSAGE.to_vec()),
    );
    let mut group = c.benchmark_group("sign_vs_store_size");
    for count in [10usize, 100_000] {
        let dir = tempfile::tempdir().unwrap();
        populate(dir.path(), count);
        let engine = Keyhold::open_in_dir(dir.path(), Config::default()).unwrap();
        assert_eq!(engine.key_count().unwrap(), count as u64 + 2);
        group.bench_function(format!("warm/{count}"), |b| {
            b.iter(|| black_box(engine.handle(&who, &req)))
        });
        group.bench_function(format!("first_use/{count}"), |b| {
            b.iter_batched(
                || engine.lock(),
                |()| black_box(engine.handle(&who, &req)),
                BatchSize::PerIteration,
            )
        });
    }
    group.finish();
}

/// Total time of `iters` calls of `open`, excluding the drops between them.
fn timed_opens<T>(iters: u64, open: impl Fn() -> T) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        let start = std::time::Instant::now();
        let opened = black_box(open());
        total += start.elapsed();
        drop(opened);
    }
    total
}

fn open_vs_store_size(c: &mut Criterion) {
    let mut group = c.benchmark_group("open_vs_store_size");
    group.sample_size(30);
    for count in [10usize, 100_000] {
        let dir = tempfile::tempdir().unwrap();
        populate(dir.path(), count);
        // Only the open is timed; each instance is closed (which
        // checkpoints the WAL) before the next one opens.
        group.bench_function(format!("engine/{count}"), |b| {
            b.iter_custom(|iters| {
                timed_opens(iters, || {
                    Keyhold::open_in_dir(dir.path(), Config::default()).unwrap()
                })
            })
        });
        group.bench_function(format!("store/{count}"), |b| {
            b.iter_custom(|iters| {
                timed_opens(iters, || {
                    SqliteStore::open(&dir.path().join("keyhold.db")).unwrap()
                })
            })
        });
    }
    group.finish();
    // Keep the identity helper exercised so doors and bench agree on the encoding.
    assert!(!caller_to_identity_bytes(&caller()).is_empty());
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = sign_warm, sign_vs_store_size, open_vs_store_size
}
criterion_main!(benches);
