//! SQLite-specific behaviour: pragmas, locking, persistence, busy handling,
//! corruption, migrations and what is left on disk.

use super::*;
use crate::error::SealerErrorKind;
use crate::sealer::{SealContext, Sealer, SoftwareSealer};
use crate::store::tests::{hd_key, next_audit, sample_key, verify};
use std::os::unix::fs::PermissionsExt;
use std::sync::mpsc;
use std::time::Instant;

fn open_in(dir: &tempfile::TempDir) -> SqliteStore {
    SqliteStore::open(&dir.path().join("keyhold.db")).unwrap()
}

fn no_check(_: &StoredKey) -> Result<()> {
    Ok(())
}

fn load(s: &mut SqliteStore, owner: &str, key: KeyRef) -> Result<StoredKey> {
    s.load_key(owner, &key, &mut no_check)
}

/// Every file in `dir` (database, -wal, -shm, lock), concatenated.
fn dir_bytes(dir: &Path) -> Vec<u8> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            out.extend(std::fs::read(&path).unwrap());
        }
    }
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn busy_error() -> Error {
    Error::Storage(rusqlite::Error::SqliteFailure(
        rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
        None,
    ))
}

// ---- D3: pragmas -------------------------------------------------------------

#[test]
fn pragmas_are_set_and_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let s = open_in(&dir);
    let q = |name: &str| -> String {
        s.conn
            .query_row(&format!("PRAGMA {name}"), [], |r| {
                r.get::<_, rusqlite::types::Value>(0)
            })
            .map(|v| match v {
                rusqlite::types::Value::Integer(i) => i.to_string(),
                rusqlite::types::Value::Text(t) => t,
                other => format!("{other:?}"),
            })
            .unwrap()
    };
    assert_eq!(q("journal_mode"), "wal");
    assert_eq!(q("synchronous"), "2", "FULL");
    assert_eq!(q("secure_delete"), "1");
    assert_eq!(q("foreign_keys"), "1");
    assert_eq!(q("busy_timeout"), BUSY_TIMEOUT.as_millis().to_string());
    assert_eq!(q("user_version"), SCHEMA_VERSION.to_string());
    assert_eq!(q("application_id"), APPLICATION_ID.to_string());
    // WAL is persistent: another connection sees it too.
    let other = Connection::open(dir.path().join("keyhold.db")).unwrap();
    let mode: String = other.pragma_query_one(None, "journal_mode").unwrap();
    assert_eq!(mode, "wal");
}

#[test]
fn a_pragma_that_does_not_stick_is_named() {
    // An in-memory database cannot use WAL.
    let conn = Connection::open_in_memory().unwrap();
    let err = configure(&conn).unwrap_err();
    match &err {
        Error::StorageOther(m) => assert!(m.contains("journal_mode"), "{m}"),
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(err.code(), ErrorCode::StorageFailure);
}

#[test]
fn files_are_private() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = open_in(&dir);
    s.insert_key(&sample_key("unix:1", "k", Algorithm::P256), &[])
        .unwrap();
    for name in [
        "keyhold.db",
        "keyhold.db-wal",
        "keyhold.db-shm",
        "keyhold.db.lock",
    ] {
        let mode = std::fs::metadata(dir.path().join(name))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{name}");
    }
}

// ---- locking -------------------------------------------------------------------

#[test]
fn a_second_store_on_the_same_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keyhold.db");
    let first = SqliteStore::open(&path).unwrap();
    let err = SqliteStore::open(&path).unwrap_err();
    match &err {
        Error::StorageOther(m) => assert_eq!(m, "store is in use by another process"),
        other => panic!("unexpected {other:?}"),
    }
    // Another process sees the lock too (flock(1) from util-linux).
    let lock = dir.path().join("keyhold.db.lock");
    let other_process = |expect_free: bool| {
        if let Ok(status) = std::process::Command::new("flock")
            .args(["-n", "-E", "75"])
            .arg(&lock)
            .arg("true")
            .status()
        {
            assert_eq!(
                status.code() == Some(0),
                expect_free,
                "flock exit {status:?}"
            );
        }
    };
    other_process(false);
    drop(first);
    other_process(true);
    SqliteStore::open(&path).unwrap();
}

// ---- persistence ---------------------------------------------------------------

#[test]
fn reopen_keeps_keys_usage_and_audit() {
    let dir = tempfile::tempdir().unwrap();
    let a = hd_key("unix:1", "hd", crate::algorithm::HdScheme::Bip32Secp256k1);
    let b = sample_key("unix:1", "plain", Algorithm::Ed25519);
    {
        let mut s = open_in(&dir);
        let audit = next_audit(&mut s, &[(Operation::GenerateKey, Some(a.info.id), None)]);
        s.insert_key(&a, &audit).unwrap();
        let audit = next_audit(&mut s, &[(Operation::ImportKey, Some(b.info.id), None)]);
        s.insert_key(&b, &audit).unwrap();
        s.add_usage(a.info.id, 3, Some(10)).unwrap();
        let audit = next_audit(&mut s, &[(Operation::Sign, Some(a.info.id), None); 3]);
        s.append_audit(&audit).unwrap();
    }
    let mut s = open_in(&dir);
    let mut expected = a.clone();
    expected.info.usage_count = 3;
    assert_eq!(
        load(&mut s, "unix:1", KeyRef::Id(a.info.id)).unwrap(),
        expected
    );
    assert_eq!(
        load(&mut s, "unix:1", KeyRef::Alias("plain".into())).unwrap(),
        b
    );
    assert_eq!(s.key_count().unwrap(), 2);
    assert_eq!(s.last_audit().unwrap().unwrap().seq, 5);
    // The chain continues across the reopen.
    let more = next_audit(&mut s, &[(Operation::ListKeys, None, None)]);
    s.append_audit(&more).unwrap();
    let v = verify(&mut s);
    assert_eq!((v.entries, v.first_broken_seq), (6, None));
}

// ---- busy handling ---------------------------------------------------------------

#[test]
fn retry_busy_retries_busy_and_nothing_else() {
    let mut calls = 0;
    let out = retry_busy(|| {
        calls += 1;
        if calls < 3 { Err(busy_error()) } else { Ok(7) }
    });
    assert_eq!((out.unwrap(), calls), (7, 3));

    let mut calls = 0;
    let out: Result<()> = retry_busy(|| {
        calls += 1;
        Err(Error::PermissionDenied("no".into()))
    });
    assert!(matches!(out, Err(Error::PermissionDenied(_))));
    assert_eq!(calls, 1);

    let mut calls = 0;
    let out: Result<()> = retry_busy(|| {
        calls += 1;
        Err(busy_error())
    });
    assert!(is_busy(&out.unwrap_err()));
    assert_eq!(calls, BUSY_BACKOFF.len() + 1);
}

/// Two raw connections on one WAL database: `holder` keeps the write lock
/// for `hold`, then commits.
fn hold_write_lock(path: &Path, hold: Duration) -> std::thread::JoinHandle<()> {
    let holder = Connection::open(path).unwrap();
    holder.pragma_update(None, "journal_mode", "WAL").unwrap();
    let (ready_tx, ready_rx) = mpsc::channel();
    let handle = std::thread::spawn(move || {
        holder.execute_batch("BEGIN IMMEDIATE").unwrap();
        ready_tx.send(()).unwrap();
        std::thread::sleep(hold);
        holder.execute_batch("COMMIT").unwrap();
    });
    ready_rx.recv().unwrap();
    handle
}

fn scratch_db(dir: &tempfile::TempDir) -> PathBuf {
    let path = dir.path().join("scratch.db");
    let c = Connection::open(&path).unwrap();
    c.pragma_update(None, "journal_mode", "WAL").unwrap();
    c.execute_batch("CREATE TABLE t (v INTEGER)").unwrap();
    path
}

#[test]
fn with_transaction_retries_through_a_writer_without_a_busy_handler() {
    let dir = tempfile::tempdir().unwrap();
    let path = scratch_db(&dir);
    let mut conn = Connection::open(&path).unwrap();
    conn.busy_timeout(Duration::ZERO).unwrap();
    let holder = hold_write_lock(&path, Duration::from_millis(150));
    let started = Instant::now();
    let mut attempts = 0;
    with_transaction(&mut conn, |tx| {
        attempts += 1;
        tx.execute("INSERT INTO t VALUES (1)", [])?;
        Ok(())
    })
    .unwrap();
    holder.join().unwrap();
    assert!(started.elapsed() >= Duration::from_millis(100));
    assert_eq!(
        attempts, 1,
        "the body runs only once BEGIN IMMEDIATE succeeded"
    );
    let n: i64 = conn
        .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 1);
}

#[test]
fn with_transaction_gives_up_with_a_busy_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = scratch_db(&dir);
    let mut conn = Connection::open(&path).unwrap();
    conn.busy_timeout(Duration::ZERO).unwrap();
    let holder = hold_write_lock(&path, Duration::from_millis(2500));
    let started = Instant::now();
    let err = with_transaction(&mut conn, |tx| {
        tx.execute("INSERT INTO t VALUES (1)", [])?;
        Ok(())
    })
    .unwrap_err();
    let waited = started.elapsed();
    assert!(is_busy(&err), "{err}");
    assert_eq!(err.code(), ErrorCode::StorageFailure);
    let backoff: Duration = BUSY_BACKOFF.iter().sum();
    assert!(waited >= backoff, "{waited:?}");
    holder.join().unwrap();
}

#[test]
fn store_writes_wait_for_another_connection() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = open_in(&dir);
    let holder = hold_write_lock(&dir.path().join("keyhold.db"), Duration::from_millis(300));
    let k = sample_key("unix:1", "k", Algorithm::P256);
    s.insert_key(&k, &[]).unwrap();
    holder.join().unwrap();
    assert_eq!(load(&mut s, "unix:1", KeyRef::Id(k.info.id)).unwrap(), k);
}

// ---- corruption and foreign files --------------------------------------------------

#[test]
fn corrupt_rows_are_reported_as_corrupt_records() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = open_in(&dir);
    let cases: &[(&str, &str)] = &[
        (
            "unknown algorithm",
            "UPDATE key_entry SET algorithm = 'rot13' WHERE id = ?1",
        ),
        (
            "algorithm alias",
            "UPDATE key_entry SET algorithm = 'secp256r1' WHERE id = ?1",
        ),
        (
            "empty algorithm",
            "UPDATE key_entry SET algorithm = '' WHERE id = ?1",
        ),
        (
            "unknown hd scheme",
            "UPDATE key_entry SET hd_scheme = 'bip44-moon' WHERE id = ?1",
        ),
        (
            "mismatched hd scheme",
            "UPDATE key_entry SET hd_scheme = 'slip10-ed25519' WHERE id = ?1",
        ),
        (
            "unknown origin",
            "UPDATE key_entry SET origin = 9 WHERE id = ?1",
        ),
        (
            "short public key",
            "UPDATE key_entry SET public_key = X'0102' WHERE id = ?1",
        ),
        (
            "unknown op bit",
            "UPDATE key_entry SET allowed_operations = 1073741824 WHERE id = ?1",
        ),
        (
            "negative op mask",
            "UPDATE key_entry SET allowed_operations = -1 WHERE id = ?1",
        ),
        (
            "future seal version",
            "UPDATE key_entry SET sealed_schema_version = 99 WHERE id = ?1",
        ),
        (
            "zero seal version",
            "UPDATE key_entry SET sealed_schema_version = 0 WHERE id = ?1",
        ),
        (
            "empty sealed secret",
            "UPDATE key_entry SET sealed_secret = X'' WHERE id = ?1",
        ),
        (
            "short code digest",
            "UPDATE key_caller_rule SET code_sha256 = X'00' WHERE key_id = ?1",
        ),
        (
            "uid out of range",
            "UPDATE key_caller_rule SET uid = 5000000000 WHERE key_id = ?1",
        ),
        (
            "bad path prefix",
            "UPDATE key_path_prefix SET path = 'not a path' WHERE key_id = ?1",
        ),
    ];
    for (i, (what, sql)) in cases.iter().enumerate() {
        let owner = format!("unix:{i}");
        let k = hd_key(&owner, "k", crate::algorithm::HdScheme::Bip32Secp256k1);
        s.insert_key(&k, &[]).unwrap();
        let changed = s.conn.execute(sql, [id_sql(k.info.id)]).unwrap();
        assert!(changed > 0, "{what}: fixture did not apply");
        for key in [KeyRef::Id(k.info.id), KeyRef::Alias("k".into())] {
            let mut called = false;
            let err = s
                .load_key(&owner, &key, &mut |_| {
                    called = true;
                    Ok(())
                })
                .unwrap_err();
            assert!(matches!(err, Error::CorruptKeyRecord(_)), "{what}: {err:?}");
            assert_eq!(err.code(), ErrorCode::CorruptKeyRecord);
            assert!(!called, "{what}: check saw a corrupt record");
            assert!(!err.to_string().contains("sealed:"), "{what}: {err}");
        }
        let err = s.list_keys(&owner).unwrap_err();
        assert!(matches!(err, Error::CorruptKeyRecord(_)), "{what}: {err:?}");
    }
    // Other owners are unaffected.
    let ok = sample_key("unix:ok", "k", Algorithm::P256);
    s.insert_key(&ok, &[]).unwrap();
    assert_eq!(s.list_keys("unix:ok").unwrap(), vec![ok.info]);
}

#[test]
fn corrupt_audit_rows_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = open_in(&dir);
    let audit = next_audit(&mut s, &[(Operation::Sign, None, None); 3]);
    s.append_audit(&audit).unwrap();
    s.conn
        .execute_batch(
            "DROP TRIGGER audit_log_no_update; \
             UPDATE audit_log SET operation = 'teleport' WHERE seq = 3",
        )
        .unwrap();
    assert!(matches!(s.last_audit(), Err(Error::CorruptKeyRecord(_))));
    assert!(matches!(
        s.audit_records(1, 10),
        Err(Error::CorruptKeyRecord(_))
    ));
    s.conn
        .execute_batch("UPDATE audit_log SET operation = 'sign', hash = X'00' WHERE seq = 3")
        .unwrap();
    assert!(matches!(s.last_audit(), Err(Error::CorruptKeyRecord(_))));
}

#[test]
fn audit_log_is_append_only_and_edits_are_found() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = open_in(&dir);
    let audit = next_audit(&mut s, &[(Operation::Sign, None, None); 5]);
    s.append_audit(&audit).unwrap();
    for sql in [
        "UPDATE audit_log SET caller = 'x' WHERE seq = 2",
        "DELETE FROM audit_log WHERE seq = 5",
    ] {
        let err = s.conn.execute(sql, []).unwrap_err();
        assert!(err.to_string().contains("append-only"), "{err}");
    }
    // Someone who drops the triggers is still caught by the chain.
    s.conn
        .execute_batch(
            "DROP TRIGGER audit_log_no_update; \
             UPDATE audit_log SET caller = 'someone else' WHERE seq = 4",
        )
        .unwrap();
    assert_eq!(verify(&mut s).first_broken_seq, Some(4));
    s.conn
        .execute_batch("DROP TRIGGER audit_log_no_delete; DELETE FROM audit_log WHERE seq = 2")
        .unwrap();
    assert_eq!(verify(&mut s).first_broken_seq, Some(2));
}

#[test]
fn files_that_are_not_keyhold_databases_are_refused() {
    let dir = tempfile::tempdir().unwrap();

    // Not SQLite at all: a typed error and the file is left untouched.
    for (name, content) in [
        (
            "text.db",
            b"this is not a database, it is a shopping list\n".repeat(100),
        ),
        ("zeros.db", vec![0u8; 8192]),
        ("header.db", {
            let mut v = b"SQLite format 3\0".to_vec();
            v.extend(vec![0xFFu8; 4000]);
            v
        }),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, &content).unwrap();
        let err = SqliteStore::open(&path).unwrap_err();
        assert_eq!(err.code(), ErrorCode::StorageFailure, "{name}: {err}");
        assert_eq!(
            std::fs::read(&path).unwrap(),
            content,
            "{name} was modified"
        );
    }
    let err = SqliteStore::open(&dir.path().join("text.db")).unwrap_err();
    assert!(err.to_string().contains("not a SQLite database"), "{err}");

    // Another application's SQLite database.
    let other = dir.path().join("other.db");
    Connection::open(&other)
        .unwrap()
        .execute_batch("CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('hi');")
        .unwrap();
    let err = SqliteStore::open(&other).unwrap_err();
    assert!(err.to_string().contains("not a Keyhold database"), "{err}");

    let other = dir.path().join("other2.db");
    Connection::open(&other)
        .unwrap()
        .execute_batch("PRAGMA application_id = 42; PRAGMA user_version = 1;")
        .unwrap();
    let err = SqliteStore::open(&other).unwrap_err();
    assert!(err.to_string().contains("not a Keyhold database"), "{err}");

    // A newer Keyhold database.
    let newer = dir.path().join("newer.db");
    drop(SqliteStore::open(&newer).unwrap());
    Connection::open(&newer)
        .unwrap()
        .pragma_update(None, "user_version", SCHEMA_VERSION + 1)
        .unwrap();
    let err = SqliteStore::open(&newer).unwrap_err();
    assert!(err.to_string().contains("newer"), "{err}");
}

// ---- schema and migrations ---------------------------------------------------------

const FIXTURE_V1: &str = include_str!("../../../tests/fixtures/keyhold-v1.sql");

/// The schema as SQLite records it, comments dropped and whitespace
/// normalised, plus the header pragmas.
fn schema_dump(conn: &Connection) -> Vec<String> {
    let normalise = |sql: &str| {
        sql.lines()
            .map(|l| l.split("--").next().unwrap_or(""))
            .collect::<Vec<_>>()
            .join(" ")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut stmt = conn
        .prepare("SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY type, name")
        .unwrap();
    let mut out: Vec<String> = stmt
        .query_map([], |r| {
            let sql: Option<String> = r.get(3)?;
            Ok(format!(
                "{} {} on {}: {}",
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                sql.as_deref().map(normalise).unwrap_or_default()
            ))
        })
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    for pragma in ["user_version", "application_id"] {
        let v: i64 = conn.pragma_query_one(None, pragma).unwrap();
        out.push(format!("{pragma} = {v}"));
    }
    out
}

#[test]
fn migrations_are_contiguous_up_to_the_current_version() {
    let froms: Vec<u32> = MIGRATIONS.iter().map(|m| m.from).collect();
    let expected: Vec<u32> = (1..SCHEMA_VERSION).collect();
    assert_eq!(froms, expected);
}

#[test]
fn v1_database_migrates_to_the_fresh_schema_and_keeps_its_data() {
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("v1.db");
    Connection::open(&old)
        .unwrap()
        .execute_batch(FIXTURE_V1)
        .unwrap();
    let fresh_dir = tempfile::tempdir().unwrap();
    let fresh = open_in(&fresh_dir);

    let mut migrated = SqliteStore::open(&old).unwrap();
    assert_eq!(schema_dump(&migrated.conn), schema_dump(&fresh.conn));
    assert!(
        schema_dump(&migrated.conn)
            .iter()
            .any(|l| l.contains("audit_log_no_update"))
    );

    // Data written by version 1 reads back unchanged.
    let btc = load(&mut migrated, "unix:1000", KeyRef::Alias("btc-main".into())).unwrap();
    assert_eq!(btc.info.id, KeyId::from_u64(0x0123_4567_89ab_cdef));
    assert_eq!(btc.info.algorithm, Algorithm::Secp256k1);
    assert_eq!(
        btc.info.hd_scheme,
        Some(crate::algorithm::HdScheme::Bip32Secp256k1)
    );
    assert_eq!(btc.info.origin, KeyOrigin::Imported);
    assert_eq!(btc.info.usage_count, 3);
    assert_eq!(btc.info.policy.max_uses, Some(10));
    assert_eq!(btc.info.policy.allowed_operations, None);
    assert_eq!(
        btc.info
            .policy
            .allowed_path_prefixes
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        ["m/44'/0'/0'", "m/84'/0'/0'"]
    );
    assert_eq!(
        btc.info.policy.allowed_callers,
        vec![CallerRule {
            uid: Some(1000),
            app_id: None,
            code_sha256: Some([0xC0; 32])
        }]
    );
    assert_eq!(
        btc.sealed_schema_version, 1,
        "old secrets keep their AAD version"
    );
    assert_eq!(btc.info.sealer, "software-file");

    let p256 = load(
        &mut migrated,
        "android:com.example.wallet",
        KeyRef::Id(KeyId::from_u64(0xfedc_ba98_7654_3210)),
    )
    .unwrap();
    assert_eq!(p256.info.alias, "signing");
    assert_eq!(
        p256.info.policy.allowed_operations,
        Some(OperationSet::of(&[
            Operation::Sign,
            Operation::GetPublicKey
        ]))
    );
    assert_eq!(p256.info.policy.allowed_callers.len(), 2);
    assert_eq!(p256.info.policy.allowed_callers[1].uid, Some(10123));

    // Its audit chain (hashed outside Rust) verifies and continues.
    let v = verify(&mut migrated);
    assert_eq!((v.entries, v.first_broken_seq), (3, None));
    let last = migrated.last_audit().unwrap().unwrap();
    assert_eq!(last.outcome, Some(ErrorCode::PermissionDenied));
    let more = next_audit(
        &mut migrated,
        &[(Operation::DeleteKey, Some(btc.info.id), None)],
    );
    migrated
        .delete_key("unix:1000", btc.info.id, &more)
        .unwrap();
    assert_eq!(verify(&mut migrated).first_broken_seq, None);
    drop(migrated);

    // Reopening a migrated database is a no-op.
    let again = SqliteStore::open(&old).unwrap();
    assert_eq!(schema_dump(&again.conn), schema_dump(&fresh.conn));
}

#[test]
fn a_failed_migration_leaves_the_old_version() {
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("v1.db");
    let conn = Connection::open(&old).unwrap();
    conn.execute_batch(FIXTURE_V1).unwrap();
    // Make the v1 -> v2 step fail: its trigger name is taken.
    conn.execute_batch(
        "CREATE TRIGGER audit_log_no_delete AFTER INSERT ON audit_log BEGIN SELECT 1; END;",
    )
    .unwrap();
    drop(conn);
    assert!(SqliteStore::open(&old).is_err());
    let conn = Connection::open(&old).unwrap();
    let v: i64 = conn.pragma_query_one(None, "user_version").unwrap();
    assert_eq!(v, 1);
    let n: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_schema WHERE name = 'audit_log_no_update'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(n, 0, "the migration is all or nothing");
}

// ---- what stays on disk (K5, K7, Z3) ---------------------------------------------------

#[test]
fn deleted_secret_is_gone_from_db_and_wal() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = open_in(&dir);
    let needle = b"NEEDLE-7f3a91c2-deleted-sealed-secret-NEEDLE".to_vec();
    let mut doomed = sample_key("unix:1", "doomed", Algorithm::P256);
    doomed.sealed_secret = needle.clone();
    let kept = sample_key("unix:1", "kept", Algorithm::P256);
    s.insert_key(&doomed, &[]).unwrap();
    s.insert_key(&kept, &[]).unwrap();
    // More page versions of the row in the WAL.
    for _ in 0..5 {
        s.add_usage(doomed.info.id, 1, None).unwrap();
    }
    // Positive control: the scan finds the needle while the key exists,
    // including after a checkpoint has put it in the main file.
    assert!(contains(&dir_bytes(dir.path()), &needle));
    assert!(wal_checkpoint_truncate(&s.conn));
    assert!(contains(
        &std::fs::read(dir.path().join("keyhold.db")).unwrap(),
        &needle
    ));
    s.add_usage(doomed.info.id, 1, None).unwrap();

    let audit = next_audit(
        &mut s,
        &[(Operation::DeleteKey, Some(doomed.info.id), None)],
    );
    s.delete_key("unix:1", doomed.info.id, &audit).unwrap();
    assert!(!s.checkpoint_pending);
    assert_eq!(
        std::fs::metadata(dir.path().join("keyhold.db-wal"))
            .unwrap()
            .len(),
        0
    );
    assert!(
        !contains(&dir_bytes(dir.path()), &needle),
        "needle left on disk"
    );
    assert_eq!(
        load(&mut s, "unix:1", KeyRef::Alias("kept".into())).unwrap(),
        kept
    );
    drop(s);
    assert!(
        !contains(&dir_bytes(dir.path()), &needle),
        "needle left on disk after close"
    );
}

#[test]
fn a_blocked_checkpoint_is_retried_before_the_next_write() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = open_in(&dir);
    let needle = b"NEEDLE-0b1d-blocked-checkpoint-NEEDLE".to_vec();
    let mut doomed = sample_key("unix:1", "doomed", Algorithm::P256);
    doomed.sealed_secret = needle.clone();
    s.insert_key(&doomed, &[]).unwrap();

    // A reader in another connection pins the WAL.
    let reader = Connection::open(dir.path().join("keyhold.db")).unwrap();
    reader.execute_batch("BEGIN").unwrap();
    let _: i64 = reader
        .query_row("SELECT count(*) FROM key_entry", [], |r| r.get(0))
        .unwrap();

    // The delete itself is committed and reported as done.
    s.delete_key("unix:1", doomed.info.id, &[]).unwrap();
    assert!(s.checkpoint_pending);
    assert!(matches!(
        load(&mut s, "unix:1", KeyRef::Id(doomed.info.id)),
        Err(Error::KeyNotFound(_))
    ));

    reader.execute_batch("COMMIT").unwrap();
    drop(reader);
    s.insert_key(&sample_key("unix:1", "next", Algorithm::P256), &[])
        .unwrap();
    assert!(!s.checkpoint_pending);
    assert!(
        !contains(&dir_bytes(dir.path()), &needle),
        "needle left on disk"
    );
}

/// Control for the test above: without `secure_delete` a deleted row's
/// bytes survive a checkpoint, with it they do not.
#[test]
fn secure_delete_is_what_erases_deleted_rows() {
    let needle = b"NEEDLE-control-5e2b-secure-delete".to_vec();
    for secure in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("raw.db");
        let conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "journal_mode", "WAL").unwrap();
        conn.pragma_update(None, "secure_delete", secure).unwrap();
        conn.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, b BLOB)")
            .unwrap();
        conn.execute("INSERT INTO t (b) VALUES (?1)", [&needle])
            .unwrap();
        conn.execute("INSERT INTO t (b) VALUES (x'00')", [])
            .unwrap();
        assert!(wal_checkpoint_truncate(&conn));
        conn.execute("DELETE FROM t WHERE b = ?1", [&needle])
            .unwrap();
        assert!(wal_checkpoint_truncate(&conn));
        assert_eq!(
            contains(&dir_bytes(dir.path()), &needle),
            !secure,
            "secure_delete={secure}"
        );
    }
}

fn seal_context(k: &StoredKey) -> SealContext<'_> {
    SealContext {
        key_id: k.info.id,
        owner: &k.owner,
        algorithm: k.info.algorithm,
        hd_scheme: k.info.hd_scheme,
        schema_version: k.sealed_schema_version,
    }
}

#[test]
fn files_hold_only_ciphertext() {
    let dir = tempfile::tempdir().unwrap();
    let sealer = SoftwareSealer::ephemeral().unwrap();
    let mut s = open_in(&dir);
    let secret = b"PLAINTEXT-NEEDLE-c4f1-private-key-bytes-32".to_vec();
    let mut k = sample_key("unix:1", "k", Algorithm::Secp256k1);
    k.sealed_secret = sealer.seal(&secret, &seal_context(&k).to_aad()).unwrap();
    s.insert_key(&k, &[]).unwrap();
    let files = dir_bytes(dir.path());
    assert!(
        contains(&files, &k.sealed_secret),
        "control: the sealed blob is on disk"
    );
    assert!(!contains(&files, &secret));
    assert!(!contains(&files, &secret[..16]));
}

#[test]
fn moved_or_rebound_sealed_blobs_do_not_unseal() {
    let dir = tempfile::tempdir().unwrap();
    let sealer = SoftwareSealer::ephemeral().unwrap();
    let mut s = open_in(&dir);
    let mut a = sample_key("unix:1", "a", Algorithm::Secp256k1);
    let mut b = sample_key("unix:1", "b", Algorithm::Secp256k1);
    a.sealed_secret = sealer
        .seal(b"secret of a", &seal_context(&a).to_aad())
        .unwrap();
    b.sealed_secret = sealer
        .seal(b"secret of b", &seal_context(&b).to_aad())
        .unwrap();
    s.insert_key(&a, &[]).unwrap();
    s.insert_key(&b, &[]).unwrap();

    let unseal = |s: &mut SqliteStore, owner: &str, alias: &str| {
        let k = load(s, owner, KeyRef::Alias(alias.into())).unwrap();
        sealer.unseal(&k.sealed_secret, &seal_context(&k).to_aad())
    };
    assert!(unseal(&mut s, "unix:1", "a").unwrap().ct_eq(b"secret of a"));

    let auth_failed = |r: Result<crate::SecretBytes>| match r {
        Err(Error::Sealer { kind, .. }) => assert_eq!(kind, SealerErrorKind::AuthenticationFailed),
        Err(other) => panic!("unexpected {other:?}"),
        Ok(_) => panic!("a moved blob unsealed"),
    };
    // Swap the blobs between the rows.
    s.conn
        .execute(
            "UPDATE key_entry SET sealed_secret = CASE id WHEN ?1 THEN ?4 WHEN ?2 THEN ?3 END \
             WHERE id IN (?1, ?2)",
            params![
                id_sql(a.info.id),
                id_sql(b.info.id),
                a.sealed_secret,
                b.sealed_secret
            ],
        )
        .unwrap();
    auth_failed(unseal(&mut s, "unix:1", "a"));
    auth_failed(unseal(&mut s, "unix:1", "b"));
    // Swap back, then move a row to another owner or algorithm.
    s.conn
        .execute(
            "UPDATE key_entry SET sealed_secret = CASE id WHEN ?1 THEN ?3 WHEN ?2 THEN ?4 END \
             WHERE id IN (?1, ?2)",
            params![
                id_sql(a.info.id),
                id_sql(b.info.id),
                a.sealed_secret,
                b.sealed_secret
            ],
        )
        .unwrap();
    assert!(unseal(&mut s, "unix:1", "b").unwrap().ct_eq(b"secret of b"));
    s.conn
        .execute(
            "UPDATE key_entry SET owner = 'unix:666' WHERE id = ?1",
            [id_sql(a.info.id)],
        )
        .unwrap();
    auth_failed(unseal(&mut s, "unix:666", "a"));
    s.conn
        .execute(
            "UPDATE key_entry SET algorithm = 'p256' WHERE id = ?1",
            [id_sql(b.info.id)],
        )
        .unwrap();
    auth_failed(unseal(&mut s, "unix:1", "b"));
}

// ---- scale ---------------------------------------------------------------------------

/// Every statement a key operation runs searches an index; none scans.
#[test]
fn key_queries_search_indexes() {
    let dir = tempfile::tempdir().unwrap();
    let s = open_in(&dir);
    for sql in [
        SQL_KEY_BY_ID,
        SQL_KEY_BY_ALIAS,
        SQL_KEYS_OF_OWNER,
        SQL_RULES_OF_KEY,
        SQL_PREFIXES_OF_KEY,
        SQL_RULES_OF_OWNER,
        SQL_PREFIXES_OF_OWNER,
        SQL_ALIAS_TAKEN,
        SQL_ID_TAKEN,
        SQL_DELETE_KEY,
        SQL_USAGE,
        SQL_SET_USAGE,
        SQL_AUDIT_FROM,
    ] {
        let plan = query_plan(&s.conn, sql);
        for step in &plan {
            assert!(!step.starts_with("SCAN"), "{sql}\n  scans: {plan:?}");
        }
    }
    // The last audit record: a walk of the rowid b-tree from its end that
    // LIMIT 1 stops at the first row (no sort, no temporary b-tree).
    assert_eq!(query_plan(&s.conn, SQL_LAST_AUDIT), ["SCAN audit_log"]);
}

fn query_plan(conn: &Connection, sql: &str) -> Vec<String> {
    let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
    stmt.query_map(
        rusqlite::params_from_iter(std::iter::repeat_n(0i64, stmt_params(sql))),
        |r| r.get(3),
    )
    .unwrap()
    .collect::<rusqlite::Result<_>>()
    .unwrap()
}

fn stmt_params(sql: &str) -> usize {
    (1..=14)
        .rev()
        .find(|i| sql.contains(&format!("?{i}")))
        .unwrap_or(0)
}

#[test]
fn open_and_key_operations_stay_fast_with_100k_keys() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keyhold.db");
    let n = 100_000u32;
    let probe = sample_key("unix:probe", "probe", Algorithm::Ed25519);
    {
        let mut s = SqliteStore::open(&path).unwrap();
        let template = sample_key("unix:0", "k", Algorithm::Secp256k1);
        with_transaction(&mut s.conn, |tx| {
            for i in 0..n {
                let mut k = template.clone();
                k.info.id = KeyId::from_u64(u64::from(i).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
                k.owner = format!("unix:{}", i % 1000);
                k.info.alias = format!("key-{i}");
                insert_key_rows(tx, &k, None)?;
            }
            Ok(())
        })
        .unwrap();
        s.insert_key(&probe, &[]).unwrap();
    }
    // Measured at about 1 ms (open) and 4 ms (operations) in a debug build;
    // the bounds leave room for a loaded CI machine. The query plans (test
    // above) are what keep these flat as the store grows.
    let started = Instant::now();
    let mut s = SqliteStore::open(&path).unwrap();
    let open_time = started.elapsed();
    assert!(
        open_time < Duration::from_millis(100),
        "open took {open_time:?}"
    );

    let started = Instant::now();
    assert_eq!(
        load(&mut s, "unix:probe", KeyRef::Alias("probe".into())).unwrap(),
        probe
    );
    assert_eq!(
        load(&mut s, "unix:probe", KeyRef::Id(probe.info.id)).unwrap(),
        probe
    );
    assert_eq!(s.list_keys("unix:probe").unwrap(), vec![probe.info.clone()]);
    assert_eq!(s.list_keys("unix:7").unwrap().len(), 100);
    s.add_usage(probe.info.id, 1, Some(5)).unwrap();
    let ops_time = started.elapsed();
    assert!(
        ops_time < Duration::from_millis(250),
        "key operations took {ops_time:?}"
    );
    assert_eq!(s.key_count().unwrap(), u64::from(n) + 1);
}

const FIXTURE_V3: &[u8] = include_bytes!("../../../tests/fixtures/keyhold-v3.db");

#[test]
fn v3_database_migrates_to_the_fresh_schema_and_flags_colliding_aliases() {
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("v3.db");
    std::fs::write(&old, FIXTURE_V3).unwrap();
    let fresh_dir = tempfile::tempdir().unwrap();
    let fresh = open_in(&fresh_dir);
    let mut migrated = SqliteStore::open(&old).unwrap();
    assert_eq!(schema_dump(&migrated.conn), schema_dump(&fresh.conn));
    let keys: Vec<(String, Option<String>)> = migrated
        .conn
        .prepare("SELECT alias, alias_key FROM key_entry ORDER BY alias")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert_eq!(
        keys,
        vec![
            ("Wallet".to_string(), None),
            (
                "limited".to_string(),
                Some(crate::alias::alias_key("limited"))
            ),
            ("plain".to_string(), Some(crate::alias::alias_key("plain"))),
            ("wallet".to_string(), None),
        ]
    );
    // Colliding aliases are reachable by id only, and stay taken.
    let err = load(&mut migrated, "unix:1000", KeyRef::Alias("WALLET".into())).unwrap_err();
    assert!(matches!(err, Error::KeyNotFound(_)), "{err}");
    let twin = sample_key("unix:1000", "wallet", Algorithm::Ed25519);
    assert!(matches!(
        migrated.insert_key(&twin, &[]).unwrap_err(),
        Error::AliasExists(_)
    ));
    assert_eq!(
        load(&mut migrated, "unix:1000", KeyRef::Alias("PLAIN".into()))
            .unwrap()
            .info
            .alias,
        "plain"
    );
}

#[test]
fn insert_keys_is_all_or_none() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = open_in(&dir);
    let a = sample_key("unix:1", "a", Algorithm::Ed25519);
    let b = sample_key("unix:1", "b", Algorithm::P256);
    // The third key takes the first one's alias: nothing is stored.
    let clash = sample_key("unix:1", "a", Algorithm::Secp256k1);
    assert!(matches!(
        s.insert_keys(&[a.clone(), b.clone(), clash]),
        Err(Error::AliasExists(_))
    ));
    assert_eq!(s.key_count().unwrap(), 0);
    // A key that breaks the store contract refuses the batch before it starts.
    let mut empty = sample_key("unix:1", "c", Algorithm::P256);
    empty.sealed_secret.clear();
    assert!(matches!(
        s.insert_keys(&[a.clone(), empty]),
        Err(Error::StoreContract(
            crate::error::StoreContract::EmptySealedSecret { .. }
        ))
    ));
    assert_eq!(s.key_count().unwrap(), 0);
    // A clean batch is stored whole, with no audit records.
    s.insert_keys(&[a.clone(), b.clone()]).unwrap();
    assert_eq!(s.key_count().unwrap(), 2);
    assert_eq!(
        load(&mut s, "unix:1", KeyRef::Alias("b".into()))
            .unwrap()
            .info
            .id,
        b.info.id
    );
    assert!(s.last_audit().unwrap().is_none());
}

// ---- audit snapshots (issue 10 item 4) ----------------------------------------

#[test]
fn a_delete_during_an_audit_snapshot_does_not_wait_for_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = open_in(&dir);
    let needle = b"NEEDLE-5c2e-delete-during-snapshot-NEEDLE".to_vec();
    let mut doomed = sample_key("unix:1", "doomed", Algorithm::P256);
    doomed.sealed_secret = needle.clone();
    s.insert_key(&doomed, &[]).unwrap();

    let snapshot = s.audit_snapshot().unwrap();
    assert_eq!(s.readers.load(Ordering::SeqCst), 1);
    // A truncating checkpoint would wait the whole busy timeout for the
    // snapshot's reader (with the engine's store lock held); it is left
    // pending instead.
    let started = Instant::now();
    s.delete_key("unix:1", doomed.info.id, &[]).unwrap();
    assert!(started.elapsed() < BUSY_TIMEOUT, "{:?}", started.elapsed());
    assert!(s.checkpoint_pending);
    // Writes go on while the snapshot is open, still without truncating.
    s.insert_key(&sample_key("unix:1", "during", Algorithm::P256), &[])
        .unwrap();
    assert!(s.checkpoint_pending);

    drop(snapshot);
    assert_eq!(s.readers.load(Ordering::SeqCst), 0);
    s.insert_key(&sample_key("unix:1", "after", Algorithm::P256), &[])
        .unwrap();
    assert!(!s.checkpoint_pending);
    assert!(
        !contains(&dir_bytes(dir.path()), &needle),
        "needle left on disk"
    );
}

#[test]
fn an_audit_snapshot_is_read_only() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = open_in(&dir);
    let snapshot = SqliteAuditSnapshot::begin(&s.path, None, &s.readers).unwrap();
    let refused = snapshot.conn.execute_batch(
        "INSERT INTO audit_anchor (id, seq, head, keyed_from, mac) VALUES (1, 0, x'', 1, x'')",
    );
    assert!(refused.is_err(), "a snapshot connection wrote");
    drop(snapshot);
    assert_eq!(s.audit_anchor().unwrap(), None);
    assert_eq!(s.readers.load(Ordering::SeqCst), 0);
}

// ---- symbolic links (issue 10 item 7) -------------------------------------------

/// A symbolic link planted where the store would create one of its files.
/// `target` is what the link points at (an attacker's file).
fn planted(name: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("elsewhere");
    std::fs::write(&target, b"the attacker's file").unwrap();
    std::os::unix::fs::symlink(&target, dir.path().join(name)).unwrap();
    (dir, target)
}

#[test]
fn the_store_does_not_follow_planted_symbolic_links() {
    for name in [
        "keyhold.db",
        "keyhold.db.lock",
        "keyhold.db-wal",
        "keyhold.db-shm",
    ] {
        let (dir, target) = planted(name);
        let result = SqliteStore::open(&dir.path().join("keyhold.db"));
        assert!(
            matches!(result, Err(Error::StorageOther(_)) | Err(Error::Storage(_))),
            "{name}: {result:?}"
        );
        assert_eq!(
            std::fs::read(&target).unwrap(),
            b"the attacker's file",
            "{name}: the link's target was written"
        );
        assert!(
            std::fs::symlink_metadata(dir.path().join(name))
                .unwrap()
                .file_type()
                .is_symlink(),
            "{name}: the link was replaced"
        );
    }
    // Control: the same directory without a link opens.
    let dir = tempfile::tempdir().unwrap();
    SqliteStore::open(&dir.path().join("keyhold.db")).unwrap();
}
