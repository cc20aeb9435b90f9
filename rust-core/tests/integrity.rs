//! Issue 10 item 3: the audit log, the policies and the usage counters are
//! tamper-evident under the store key the sealer protects. Each test writes
//! through the engine, closes it, edits `keyhold.db` directly (as anyone who
//! can write the file could) and reopens: every edit is found.
//!
//! Also: a store written by schema 3 (the fixture `keyhold-v3.db`) upgrades
//! (MACs and anchor written once, aliases that now collide become
//! reachable by id only) and then opens without writing.

#![allow(clippy::unwrap_used)] // test helpers unwrap by design

use keyhold_core::{
    Algorithm, AuditChain, AuditRecord, Caller, Config, ErrorCode, HdScheme, KeyId, KeyOptions,
    KeyPolicy, KeyRef, KeySpec, Keyhold, Operation, OperationSet, Payload, Sealer, SoftwareSealer,
};
use rusqlite::{Connection, params};
use std::path::Path;
use std::sync::Arc;

fn alice() -> Caller {
    Caller::Unix {
        uid: 1000,
        gid: 1000,
        pid: 1,
        exe_sha256: None,
    }
}

fn alias(a: &str) -> KeyRef {
    KeyRef::Alias(a.into())
}

fn open(dir: &Path) -> keyhold_core::Result<Keyhold> {
    Keyhold::open_in_dir(dir, Config::default())
}

/// A store with a limited key, an unlimited one, and a few dozen records.
fn populated(dir: &Path) {
    let k = open(dir).unwrap();
    k.generate_key(
        &alice(),
        KeySpec::Single(Algorithm::Ed25519),
        KeyOptions {
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
    k.generate_key(
        &alice(),
        KeySpec::Single(Algorithm::P256),
        KeyOptions::alias("plain"),
    )
    .unwrap();
    for _ in 0..3 {
        sign(&k, "limited").unwrap();
    }
    for _ in 0..20 {
        sign(&k, "plain").unwrap();
    }
    let v = k.audit_verify().unwrap();
    assert_eq!((v.entries, v.first_broken_seq), (25, None));
}

fn sign(k: &Keyhold, key: &str) -> keyhold_core::Result<Vec<u8>> {
    k.sign(&alice(), &alias(key), None, None, Payload::Message(b"m"))
}

fn db(dir: &Path) -> Connection {
    let c = Connection::open(dir.join("keyhold.db")).unwrap();
    c.execute_batch(
        "DROP TRIGGER IF EXISTS audit_log_no_update; DROP TRIGGER IF EXISTS audit_log_no_delete;",
    )
    .unwrap();
    c
}

fn records(c: &Connection) -> Vec<AuditRecord> {
    let mut stmt = c
        .prepare(
            "SELECT seq, time_ms, caller, operation, key_id, outcome FROM audit_log ORDER BY seq",
        )
        .unwrap();
    stmt.query_map([], |r| {
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
    .unwrap()
}

/// Rewrites the whole log as a valid plain SHA-256 chain (what an attacker
/// without the sealer can compute), renumbering from 1.
fn rechain_plain(c: &Connection, mut recs: Vec<AuditRecord>) {
    c.execute("DELETE FROM audit_log", []).unwrap();
    let mut chain = AuditChain::resume(None);
    for r in recs.drain(..) {
        let n = chain.append(r.time_ms, r.caller, r.operation, r.key_id, r.outcome);
        c.execute(
            "INSERT INTO audit_log (seq, time_ms, caller, operation, key_id, outcome, prev_hash, hash) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
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
fn a_deleted_range_is_found_where_it_starts() {
    let dir = tempfile::tempdir().unwrap();
    populated(dir.path());
    db(dir.path())
        .execute("DELETE FROM audit_log WHERE seq BETWEEN 8 AND 12", [])
        .unwrap();
    let v = open(dir.path()).unwrap().audit_verify().unwrap();
    assert_eq!(v.first_broken_seq, Some(8));
    assert!(!v.is_truncated());
}

#[test]
fn an_edited_record_cannot_be_rechained_with_sha256() {
    let dir = tempfile::tempdir().unwrap();
    populated(dir.path());
    let c = db(dir.path());
    let mut recs = records(&c);
    recs[9].outcome = Some(ErrorCode::PermissionDenied);
    recs[9].caller = "someone else".into();
    rechain_plain(&c, recs);
    // The anchor is left as it was: the attacker cannot MAC a new one.
    drop(c);
    let v = open(dir.path()).unwrap().audit_verify().unwrap();
    assert_eq!(v.first_broken_seq, Some(1), "every keyed record fails");
}

#[test]
fn a_removed_range_rechained_with_sha256_is_found() {
    let dir = tempfile::tempdir().unwrap();
    populated(dir.path());
    let c = db(dir.path());
    let mut recs = records(&c);
    recs.drain(5..10);
    rechain_plain(&c, recs);
    drop(c);
    let v = open(dir.path()).unwrap().audit_verify().unwrap();
    assert!(v.first_broken_seq.is_some());
}

#[test]
fn a_truncated_tail_is_reported_and_stays_reported() {
    let dir = tempfile::tempdir().unwrap();
    populated(dir.path());
    db(dir.path())
        .execute("DELETE FROM audit_log WHERE seq > 20", [])
        .unwrap();
    let k = open(dir.path()).unwrap();
    let v = k.audit_verify().unwrap();
    assert_eq!((v.entries, v.first_broken_seq), (20, Some(21)));
    assert!(v.is_truncated());
    // New records continue after the anchor, so the gap cannot be papered
    // over by using the store.
    sign(&k, "plain").unwrap();
    drop(k);
    let v = open(dir.path()).unwrap().audit_verify().unwrap();
    assert_eq!(v.first_broken_seq, Some(21));
    assert!(!v.is_truncated(), "now a gap inside the log");
}

#[test]
fn a_rewound_anchor_fails_its_mac_and_the_store_does_not_open() {
    let dir = tempfile::tempdir().unwrap();
    populated(dir.path());
    let c = db(dir.path());
    // Truncate and move the anchor back to the new last record.
    let (seq, hash): (i64, Vec<u8>) = c
        .query_row("SELECT seq, hash FROM audit_log WHERE seq = 20", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    c.execute("DELETE FROM audit_log WHERE seq > 20", [])
        .unwrap();
    c.execute(
        "UPDATE audit_anchor SET seq = ?1, head = ?2",
        params![seq, hash],
    )
    .unwrap();
    drop(c);
    let err = open(dir.path()).unwrap_err();
    assert_eq!(err.code(), ErrorCode::CorruptKeyRecord, "{err}");
    // Deleting the anchor instead is found too.
    db(dir.path())
        .execute("DELETE FROM audit_anchor", [])
        .unwrap();
    assert_eq!(
        open(dir.path()).unwrap_err().code(),
        ErrorCode::CorruptKeyRecord
    );
}

fn corrupt_on_use(dir: &Path, sql: &str) {
    populated(dir);
    let changed = db(dir).execute(sql, []).unwrap();
    assert!(changed > 0, "{sql} changed nothing");
    let k = open(dir).unwrap();
    assert_eq!(
        sign(&k, "limited").unwrap_err().code(),
        ErrorCode::CorruptKeyRecord,
        "{sql}"
    );
    assert_eq!(
        k.get_key_info(&alice(), &alias("limited"))
            .unwrap_err()
            .code(),
        ErrorCode::CorruptKeyRecord
    );
    // The untouched key still works.
    sign(&k, "plain").unwrap();
}

#[test]
fn loosened_policies_are_corrupt_records() {
    for sql in [
        "UPDATE key_entry SET max_uses = NULL WHERE alias = 'limited'",
        "UPDATE key_entry SET max_uses = 1000 WHERE alias = 'limited'",
        "UPDATE key_entry SET allowed_operations = NULL WHERE alias = 'limited'",
        "UPDATE key_caller_rule SET uid = NULL WHERE key_id = (SELECT id FROM key_entry WHERE alias = 'limited')",
        "INSERT INTO key_caller_rule (key_id, position, uid) SELECT id, 1, 4242 FROM key_entry WHERE alias = 'limited'",
        "UPDATE key_entry SET public_key = (SELECT public_key FROM key_entry WHERE alias = 'plain') WHERE alias = 'limited'",
    ] {
        let dir = tempfile::tempdir().unwrap();
        corrupt_on_use(dir.path(), sql);
    }
}

#[test]
fn a_lowered_counter_is_a_corrupt_record() {
    let dir = tempfile::tempdir().unwrap();
    corrupt_on_use(
        dir.path(),
        "UPDATE key_entry SET usage_count = 0 WHERE alias = 'limited'",
    );
    // Copying another key's (count, mac) pair does not help either.
    let dir = tempfile::tempdir().unwrap();
    corrupt_on_use(
        dir.path(),
        "UPDATE key_entry SET (usage_count, usage_mac) = \
         (SELECT usage_count, usage_mac FROM key_entry WHERE alias = 'plain') WHERE alias = 'limited'",
    );
}

#[test]
fn a_current_store_opens_without_writing() {
    let dir = tempfile::tempdir().unwrap();
    populated(dir.path());
    let before = std::fs::read(dir.path().join("keyhold.db")).unwrap();
    // Open and close with no operation (every operation is audited, so
    // only opening can be asked to write nothing).
    drop(open(dir.path()).unwrap());
    let after = std::fs::read(dir.path().join("keyhold.db")).unwrap();
    assert!(before == after, "opening wrote to the database");
}

// ---- upgrade from schema 3 ----------------------------------------------

/// A schema-3 store written by the previous release (`make_v3_fixture`,
/// see the fixture's README): keys `limited` (HD, sign+derive, 5 uses, 1
/// used, prefix m/44'/60'), `Wallet` and `wallet` (Ed25519), `plain` (P-256,
/// signed once), 7 audit records, sealed by a passphrase sealer.
const FIXTURE_V3: &[u8] = include_bytes!("fixtures/keyhold-v3.db");

fn fixture_sealer() -> Arc<dyn Sealer> {
    Arc::new(SoftwareSealer::from_passphrase(b"keyhold-fixture-v3", &[7u8; 16]).unwrap())
}

fn open_fixture(dir: &Path) -> keyhold_core::Result<Keyhold> {
    Keyhold::open_in_dir_with(dir, fixture_sealer(), Config::default())
}

#[test]
fn a_v3_store_upgrades_once_and_keeps_working() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("keyhold.db"), FIXTURE_V3).unwrap();
    let k = open_fixture(dir.path()).unwrap();
    // Its history verifies (plain records chained into the keyed ones).
    let v = k.audit_verify().unwrap();
    assert_eq!((v.entries, v.first_broken_seq), (7, None));
    // Keys and policies read back and are now MAC'd.
    let limited = k.get_key_info(&alice(), &alias("limited")).unwrap();
    assert_eq!(limited.usage_count, 1);
    assert_eq!(limited.policy.max_uses, Some(5));
    let path = keyhold_core::DerivationPath::parse("m/44'/60'/0'/0/0").unwrap();
    k.sign(
        &alice(),
        &alias("limited"),
        Some(&path),
        None,
        Payload::Digest(&[1; 32]),
    )
    .unwrap();
    sign(&k, "plain").unwrap();
    // `Wallet` and `wallet` now collide: neither is reachable by alias, both
    // by id, and the alias cannot be taken again.
    let err = sign(&k, "wallet").unwrap_err();
    assert_eq!(err.code(), ErrorCode::KeyNotFound);
    assert!(err.to_string().contains("id"), "{err}");
    assert_eq!(
        sign(&k, "Wallet").unwrap_err().code(),
        ErrorCode::KeyNotFound
    );
    let listed = k.list_keys(&alice()).unwrap();
    let wallets: Vec<_> = listed
        .iter()
        .filter(|i| i.alias.eq_ignore_ascii_case("wallet"))
        .collect();
    assert_eq!(wallets.len(), 2);
    for w in &wallets {
        k.sign(
            &alice(),
            &KeyRef::Id(w.id),
            None,
            None,
            Payload::Message(b"m"),
        )
        .unwrap();
    }
    assert_eq!(
        k.generate_key(
            &alice(),
            KeySpec::Single(Algorithm::Ed25519),
            KeyOptions::alias("WALLET")
        )
        .unwrap_err()
        .code(),
        ErrorCode::AliasExists
    );
    drop(k);
    // Once upgraded, edits are found like in any store...
    db(dir.path())
        .execute(
            "UPDATE key_entry SET max_uses = NULL WHERE alias = 'limited'",
            [],
        )
        .unwrap();
    let k = open_fixture(dir.path()).unwrap();
    assert_eq!(
        k.get_key_info(&alice(), &alias("limited"))
            .unwrap_err()
            .code(),
        ErrorCode::CorruptKeyRecord
    );
    drop(k);
    // ...and stripping the integrity to look un-upgraded is refused (a key
    // row still carries a MAC).
    db(dir.path())
        .execute("DELETE FROM audit_anchor", [])
        .unwrap();
    assert_eq!(
        open_fixture(dir.path()).unwrap_err().code(),
        ErrorCode::CorruptKeyRecord
    );
}

#[test]
fn hd_children_and_stores_made_today_carry_macs_from_birth() {
    let dir = tempfile::tempdir().unwrap();
    let k = open(dir.path()).unwrap();
    k.generate_key(
        &alice(),
        KeySpec::Hd(HdScheme::Slip10Ed25519),
        KeyOptions::alias("root"),
    )
    .unwrap();
    drop(k);
    let c = db(dir.path());
    let unmaced: i64 = c
        .query_row(
            "SELECT count(*) FROM key_entry WHERE meta_mac IS NULL OR usage_mac IS NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(unmaced, 0);
    let keyed_from: i64 = c
        .query_row("SELECT keyed_from FROM audit_anchor", [], |r| r.get(0))
        .unwrap();
    assert_eq!(keyed_from, 1, "a new store keys its whole log");
}
