//! Issue 10 item 3 through the real daemon: with the daemon stopped, the
//! database is edited as anyone who can write the file could (rusqlite,
//! the append-only triggers dropped), the daemon restarted, and each edit
//! is found: by `audit verify` (what `keyhold audit verify` prints) or when
//! the key is used (`CORRUPT_KEY_RECORD`).
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure

mod common;

use common::TestDaemon;
use keyhold_core::{
    Algorithm, AuditChain, AuditRecord, ErrorCode, KeyId, KeyOptions, KeyPolicy, KeyRef, KeySpec,
    Operation, OperationSet, Payload,
};
use rusqlite::{Connection, params};

fn alias(a: &str) -> KeyRef {
    KeyRef::Alias(a.into())
}

/// A daemon with a limited and an unlimited key and 30 audit records,
/// stopped (its journal flushed by the shutdown).
fn stopped_daemon() -> TestDaemon {
    let mut daemon = TestDaemon::start(&[]);
    let mut c = daemon.client();
    c.generate_key(
        KeySpec::Single(Algorithm::Ed25519),
        &KeyOptions {
            alias: "limited".into(),
            policy: KeyPolicy {
                allowed_operations: Some(OperationSet::of(&[Operation::Sign])),
                max_uses: Some(5),
                ..KeyPolicy::default()
            },
            bind_to_caller_code: false,
        },
    )
    .unwrap();
    c.generate_key(
        KeySpec::Single(Algorithm::P256),
        &KeyOptions::alias("plain"),
    )
    .unwrap();
    for _ in 0..3 {
        c.sign(&alias("limited"), None, None, Payload::Message(b"m"))
            .unwrap();
    }
    for _ in 0..25 {
        c.sign(&alias("plain"), None, None, Payload::Message(b"m"))
            .unwrap();
    }
    let v = c.audit_verify().unwrap();
    assert_eq!(v.first_broken_seq, None);
    drop(c);
    assert!(daemon.terminate().success());
    daemon
}

fn db(daemon: &TestDaemon) -> Connection {
    let c = Connection::open(daemon.data_dir.join("keyhold.db")).unwrap();
    c.execute_batch(
        "DROP TRIGGER IF EXISTS audit_log_no_update; DROP TRIGGER IF EXISTS audit_log_no_delete;",
    )
    .unwrap();
    c
}

/// The log re-chained with plain SHA-256 (all an attacker can compute).
fn rechain_plain(c: &Connection, edit: impl FnOnce(&mut Vec<AuditRecord>)) {
    let mut recs: Vec<AuditRecord> = c
        .prepare(
            "SELECT seq, time_ms, caller, operation, key_id, outcome FROM audit_log ORDER BY seq",
        )
        .unwrap()
        .query_map([], |r| {
            Ok(AuditRecord {
                seq: r.get::<_, i64>(0)? as u64,
                time_ms: r.get(1)?,
                caller: r.get(2)?,
                operation: Operation::from_name(&r.get::<_, String>(3)?).unwrap(),
                key_id: r
                    .get::<_, Option<i64>>(4)?
                    .map(|v| KeyId::from_u64(v as u64)),
                outcome: r
                    .get::<_, Option<i64>>(5)?
                    .map(|c| ErrorCode::from_u32(c as u32).unwrap()),
                prev_hash: [0; 32],
                hash: [0; 32],
            })
        })
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    edit(&mut recs);
    c.execute("DELETE FROM audit_log", []).unwrap();
    let mut chain = AuditChain::resume(None);
    for r in recs {
        let n = chain.append(r.time_ms, r.caller, r.operation, r.key_id, r.outcome);
        c.execute(
            "INSERT INTO audit_log VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                n.seq as i64,
                n.time_ms,
                n.caller,
                n.operation.name(),
                n.key_id.map(|k| k.as_u64() as i64),
                n.outcome.map(|o| o.as_u32()),
                n.prev_hash.as_slice(),
                n.hash.as_slice()
            ],
        )
        .unwrap();
    }
}

#[test]
fn audit_log_edits_and_truncation_are_found_after_a_restart() {
    let mut daemon = stopped_daemon();
    // 1. A deleted range.
    db(&daemon)
        .execute("DELETE FROM audit_log WHERE seq BETWEEN 10 AND 14", [])
        .unwrap();
    daemon.spawn();
    let v = daemon.client().audit_verify().unwrap();
    assert_eq!(v.first_broken_seq, Some(10), "{v:?}");
    assert!(!v.is_truncated());
    assert!(daemon.terminate().success());

    // 2. An edited record, the whole chain recomputed with SHA-256.
    rechain_plain(&db(&daemon), |recs| {
        recs[4].caller = "unix uid=0 gid=0 pid=1".into();
    });
    daemon.spawn();
    let v = daemon.client().audit_verify().unwrap();
    assert!(v.first_broken_seq.is_some(), "{v:?}");
    assert!(daemon.terminate().success());

    // 3. The newest records removed (on a fresh store, intact before).
    let mut daemon = stopped_daemon();
    db(&daemon)
        .execute("DELETE FROM audit_log WHERE seq > 25", [])
        .unwrap();
    daemon.spawn();
    let v = daemon.client().audit_verify().unwrap();
    assert!(v.is_truncated(), "{v:?}");
    assert_eq!((v.entries, v.first_broken_seq), (25, Some(26)));
}

#[test]
fn a_loosened_policy_or_lowered_counter_is_a_corrupt_record() {
    let mut daemon = stopped_daemon();
    let c = db(&daemon);
    c.execute(
        "UPDATE key_entry SET max_uses = NULL, allowed_operations = NULL WHERE alias = 'limited'",
        [],
    )
    .unwrap();
    c.execute(
        "UPDATE key_entry SET usage_count = 0 WHERE alias = 'plain'",
        [],
    )
    .unwrap();
    drop(c);
    daemon.spawn();
    let mut client = daemon.client();
    for key in ["limited", "plain"] {
        assert_eq!(
            client
                .sign(&alias(key), None, None, Payload::Message(b"m"))
                .unwrap_err()
                .code(),
            Some(ErrorCode::CorruptKeyRecord),
            "{key}"
        );
        assert_eq!(
            client.get_key_info(&alias(key)).unwrap_err().code(),
            Some(ErrorCode::CorruptKeyRecord),
            "{key}"
        );
    }
}
