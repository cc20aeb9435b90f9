//! The production store: one SQLite file (schema in [`super::schema`]).
//!
//! - Durability: `journal_mode=WAL` with `synchronous=FULL`, so every
//!   acknowledged commit survives power loss, not only a killed process.
//! - Deleted secrets: `secure_delete=ON` overwrites freed content, and each
//!   `delete_key` ends with `wal_checkpoint(TRUNCATE)` so older copies of
//!   the row do not linger in the `-wal` file.
//! - Every pragma is read back at open; one that does not stick fails the
//!   open with [`Error::StorageOther`] naming it.
//! - Writes run in [`with_transaction`] (`BEGIN IMMEDIATE`, retried on
//!   `SQLITE_BUSY` with backoff), reads in [`with_read`] (a deferred
//!   transaction, same retry), so a multi-statement read is one snapshot.
//! - `<db>.lock` carries an exclusive advisory lock (`flock`) for the
//!   store's lifetime: a second opener, in this process or another, gets
//!   "store is in use by another process".
//! - Open runs no query whose cost grows with the number of keys, and
//!   writes nothing to a current database (so a store opens on a full
//!   disk). For that the `-wal` and `-shm` files are kept across closes
//!   (`SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE`; the store checkpoints and empties
//!   the WAL itself when it is dropped): SQLite would otherwise have to
//!   allocate a new 32 KiB `-shm` at the next open, which fails on a full
//!   disk with `SQLITE_IOERR_SHMSIZE`.
//! - Integrity (issue 10): once the engine attaches the store's integrity
//!   keys ([`KeyStore::attach_integrity`]), every key row read is checked
//!   against its metadata and usage MACs, every audit append must extend
//!   the MAC'd anchor and rewrites it in the same transaction (see
//!   [`crate::integrity`]).
//! - Aliases are found and kept unique by their comparison key
//!   (`alias_key`, see [`crate::alias`]).
//! - Audit snapshots ([`KeyStore::audit_snapshot`]) are read-only second
//!   connections in one read transaction, so `audit verify` walks the log
//!   while the store keeps writing. While one is open, a delete's WAL
//!   truncation is deferred to the first write after it closes (the
//!   deleted row's old pages stay in the `-wal` until then).
//! - No file of the store is opened through a symbolic link: `keyhold.db`,
//!   `-wal`, `-shm` and `.lock` with `O_NOFOLLOW`, SQLite's own opens with
//!   `SQLITE_OPEN_NOFOLLOW` (issue 10 item 7).

use super::schema::{APPLICATION_ID, MIGRATIONS, SCHEMA, SCHEMA_VERSION, V4_INDEX};
use super::{AuditSnapshot, KeyStore, StoredKey, check};
use crate::algorithm::{Algorithm, HdScheme, Operation};
use crate::alias::alias_key;
use crate::audit::{AuditAnchor, AuditRecord};
use crate::caller::CallerRule;
use crate::error::ErrorCode;
use crate::hd::DerivationPath;
use crate::integrity::{StoreIntegrity, ct_eq};
use crate::key::{KeyId, KeyInfo, KeyOrigin, KeyRef};
use crate::policy::{KeyPolicy, OperationSet};
use crate::sealer::SealerBinding;
use crate::{Error, Result};
use rusqlite::{
    Connection, OpenFlags, OptionalExtension, Row, Transaction, TransactionBehavior, params,
};
use std::collections::HashMap;
use std::fs::{File, OpenOptions, TryLockError};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// How long one statement waits for a lock held by another connection.
pub(crate) const BUSY_TIMEOUT: Duration = Duration::from_millis(1000);

/// Pauses between attempts of a transaction that still found the database
/// busy; after the last one the `SQLITE_BUSY` error is returned.
pub(crate) const BUSY_BACKOFF: [Duration; 5] = [
    Duration::from_millis(10),
    Duration::from_millis(50),
    Duration::from_millis(100),
    Duration::from_millis(250),
    Duration::from_millis(500),
];

/// The production store: one SQLite file in WAL mode, `synchronous=FULL`,
/// `secure_delete=ON`, guarded by an exclusive lock file.
pub struct SqliteStore {
    conn: rusqlite::Connection,
    /// Held (locked) for the store's lifetime; declared after `conn` so the
    /// database is closed before the lock is released.
    _lock: File,
    /// A `delete_key` could not truncate the WAL; retried on the next write.
    checkpoint_pending: bool,
    /// Set by [`KeyStore::attach_integrity`].
    integrity: Option<Integrity>,
    /// The database file, for the read-only connections of
    /// [`KeyStore::audit_snapshot`].
    path: PathBuf,
    /// Audit snapshots still open. While one is, `delete_key` does not wait
    /// for its WAL truncation (the snapshot's reader would make it wait the
    /// whole busy timeout with the store held); the truncation stays
    /// pending and runs before the first write after the last snapshot
    /// closes.
    readers: Arc<AtomicUsize>,
}

/// The integrity keys and the keyed chain's start, once attached.
#[derive(Clone)]
struct Integrity {
    keys: Arc<StoreIntegrity>,
    keyed_from: u64,
}

impl core::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("SqliteStore")
    }
}

impl SqliteStore {
    /// Opens (creating and migrating) the database at `path`.
    ///
    /// New files (database, `-wal`, `-shm`, `.lock`) are created with mode
    /// 0600. Fails with [`Error::StorageOther`] when another store holds the
    /// lock, when the file is not a Keyhold database (not SQLite, another
    /// application's, or a newer schema), or when a pragma does not stick.
    pub fn open(path: &Path) -> Result<Self> {
        let lock = acquire_lock(path)?;
        // Create the file ourselves so it (and the -wal/-shm SQLite derives
        // from it) gets mode 0600. No open of the store follows a symbolic
        // link (issue 10 item 7), so a link planted in a shared directory
        // cannot redirect the store to another file: SQLite's own open of
        // the database refuses one (SQLITE_OPEN_NOFOLLOW below) but opens
        // `-wal` and `-shm` by name as it finds them (a planted `-wal` link
        // was followed in `the_store_does_not_follow_planted_symbolic_links`),
        // so those are created or opened here first, with O_NOFOLLOW.
        for file in [
            path.to_path_buf(),
            sibling(path, "-wal"),
            sibling(path, "-shm"),
        ] {
            OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .mode(0o600)
                .custom_flags(libc::O_NOFOLLOW)
                .open(&file)
                .map_err(|e| Error::StorageOther(format!("cannot open {}: {e}", file.display())))?;
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_NOFOLLOW;
        let mut conn = Connection::open_with_flags(path, flags)?;
        configure(&conn).map_err(|e| not_a_database(e, path))?;
        migrate(&mut conn).map_err(|e| not_a_database(e, path))?;
        Ok(Self {
            conn,
            _lock: lock,
            checkpoint_pending: false,
            integrity: None,
            path: path.to_path_buf(),
            readers: Arc::new(AtomicUsize::new(0)),
        })
    }

    /// Copies the WAL into the database and truncates it to zero bytes, so
    /// no page image older than the last commit remains in the `-wal`.
    /// While an audit snapshot reads, the truncation could only wait for it
    /// (holding the store), so it is left pending instead.
    fn checkpoint(&mut self) {
        self.checkpoint_pending =
            self.readers.load(Ordering::SeqCst) != 0 || !wal_checkpoint_truncate(&self.conn);
    }

    fn before_write(&mut self) {
        if self.checkpoint_pending {
            self.checkpoint();
        }
    }

    /// Stores many new keys in one transaction: all or none, with the same
    /// checks as [`KeyStore::insert_key`] and no audit records of their own.
    /// For filling a store outside the engine (a restore, the benchmarks'
    /// large stores); the engine itself never calls it.
    pub fn insert_keys(&mut self, keys: &[StoredKey]) -> Result<()> {
        for key in keys {
            check::new_key(key)?;
        }
        self.before_write();
        let integrity = self.integrity.clone();
        with_transaction(&mut self.conn, |tx| {
            for key in keys {
                if alias_taken(tx, &key.owner, &key.info.alias)? {
                    return Err(Error::AliasExists(key.info.alias.clone()));
                }
                if tx
                    .prepare_cached(SQL_ID_TAKEN)?
                    .exists([id_sql(key.info.id)])?
                {
                    return Err(check::duplicate_id(key.info.id));
                }
                insert_key_rows(tx, key, integrity.as_ref())?;
            }
            Ok(())
        })
    }
}

impl Drop for SqliteStore {
    fn drop(&mut self) {
        // Fold the WAL into the database and truncate it, as closing would
        // have; the files themselves stay (see `configure`). On a full disk
        // this may fail: the WAL then keeps the commits and the next open
        // reads them.
        let _ = wal_checkpoint_truncate(&self.conn);
    }
}

fn lock_path(path: &Path) -> PathBuf {
    sibling(path, ".lock")
}

/// `path` with `suffix` appended to its file name (`keyhold.db-wal`).
fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Pauses before the lock is declared held by another opener.
const LOCK_RETRY_WAITS: [std::time::Duration; 3] = [
    std::time::Duration::from_millis(10),
    std::time::Duration::from_millis(40),
    std::time::Duration::from_millis(150),
];

fn acquire_lock(path: &Path) -> Result<File> {
    let lock_path = lock_path(path);
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(&lock_path)
        .map_err(|e| {
            Error::StorageOther(format!(
                "cannot open lock file {}: {e}",
                lock_path.display()
            ))
        })?;
    // A brief bounded retry: while another thread of this process forks a
    // child (which then execs), the child holds a copy of our descriptors
    // for a moment, and with it a lock the previous owner already released.
    let mut waits = LOCK_RETRY_WAITS.iter();
    let mut attempt = file.try_lock();
    while let (Err(TryLockError::WouldBlock), Some(wait)) = (&attempt, waits.next()) {
        std::thread::sleep(*wait);
        attempt = file.try_lock();
    }
    match attempt {
        Ok(()) => Ok(file),
        Err(TryLockError::WouldBlock) => Err(Error::StorageOther(
            "store is in use by another process".into(),
        )),
        Err(TryLockError::Error(e)) => Err(Error::StorageOther(format!(
            "cannot lock {}: {e}",
            lock_path.display()
        ))),
    }
}

/// Turns SQLite's "file is not a database" into a clear error.
fn not_a_database(e: Error, path: &Path) -> Error {
    match &e {
        Error::Storage(s) if s.sqlite_error_code() == Some(rusqlite::ErrorCode::NotADatabase) => {
            Error::StorageOther(format!("{} is not a SQLite database", path.display()))
        }
        _ => e,
    }
}

/// Sets and reads back every pragma the store relies on.
pub(crate) fn configure(conn: &Connection) -> Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    let want_ms = i64::try_from(BUSY_TIMEOUT.as_millis()).unwrap_or(i64::MAX);
    expect_int(conn, "busy_timeout", want_ms)?;

    let mode: String = conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(pragma_error("journal_mode", "wal", &mode));
    }
    let mode: String = conn.pragma_query_one(None, "journal_mode")?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(pragma_error("journal_mode", "wal", &mode));
    }
    conn.execute_batch("PRAGMA synchronous = FULL")?;
    expect_int(conn, "synchronous", 2)?;
    conn.execute_batch("PRAGMA secure_delete = ON")?;
    expect_int(conn, "secure_delete", 1)?;
    conn.execute_batch("PRAGMA foreign_keys = ON")?;
    expect_int(conn, "foreign_keys", 1)?;
    // Keep -wal and -shm on close, so reopening allocates nothing.
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE,
        true,
    )?;
    if !conn.db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE)? {
        return Err(pragma_error("NO_CKPT_ON_CLOSE", "1", "0"));
    }
    Ok(())
}

fn expect_int(conn: &Connection, name: &str, want: i64) -> Result<()> {
    let got: i64 = conn.pragma_query_one(None, name)?;
    if got == want {
        Ok(())
    } else {
        Err(pragma_error(name, &want.to_string(), &got.to_string()))
    }
}

fn pragma_error(name: &str, want: &str, got: &str) -> Error {
    Error::StorageOther(format!(
        "PRAGMA {name} did not take effect: wanted {want}, database reports {got}"
    ))
}

/// Creates the schema in an empty database or migrates an older one.
pub(crate) fn migrate(conn: &mut Connection) -> Result<()> {
    with_transaction(conn, |tx| {
        let version: i64 = tx.pragma_query_one(None, "user_version")?;
        let app_id: i64 = tx.pragma_query_one(None, "application_id")?;
        if version == 0 {
            let objects: i64 =
                tx.query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))?;
            if objects != 0 || app_id != 0 {
                return Err(Error::StorageOther(
                    "not a Keyhold database: it has content but no schema version".into(),
                ));
            }
            tx.execute_batch(SCHEMA)?;
            tx.pragma_update(None, "application_id", APPLICATION_ID)?;
            tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
            return Ok(());
        }
        if app_id != i64::from(APPLICATION_ID) {
            return Err(Error::StorageOther(format!(
                "not a Keyhold database (application_id {app_id:#x})"
            )));
        }
        let mut current = u32::try_from(version).map_err(|_| {
            Error::StorageOther(format!("invalid database schema version {version}"))
        })?;
        if current > SCHEMA_VERSION {
            return Err(Error::StorageOther(format!(
                "database schema version {current} is newer than this build supports ({SCHEMA_VERSION})"
            )));
        }
        if current == SCHEMA_VERSION {
            // Nothing to migrate: the open stays read-only (no sync).
            return Ok(());
        }
        while current < SCHEMA_VERSION {
            let step = MIGRATIONS
                .iter()
                .find(|m| m.from == current)
                .ok_or_else(|| {
                    Error::Internal(format!("no migration from schema version {current}"))
                })?;
            tx.execute_batch(step.sql)?;
            if let Some(then) = step.then {
                then(tx)?;
            }
            current += 1;
        }
        tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
        Ok(())
    })
}

fn is_busy(e: &Error) -> bool {
    matches!(e, Error::Storage(s) if s.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy))
}

/// Runs `attempt` until it succeeds, fails with something other than
/// `SQLITE_BUSY`, or the backoff schedule is exhausted.
pub(crate) fn retry_busy<T>(mut attempt: impl FnMut() -> Result<T>) -> Result<T> {
    let mut pauses = BUSY_BACKOFF.iter();
    loop {
        match attempt() {
            Err(e) if is_busy(&e) => match pauses.next() {
                Some(pause) => std::thread::sleep(*pause),
                None => return Err(e),
            },
            other => return other,
        }
    }
}

/// The one way the store writes: `f` runs inside `BEGIN IMMEDIATE` (the
/// write lock is taken up front, so the transaction cannot fail half-way
/// for a lock), commits if it returns `Ok`, rolls back otherwise, and the
/// whole transaction is retried while SQLite reports `SQLITE_BUSY`.
pub(crate) fn with_transaction<T>(
    conn: &mut Connection,
    mut f: impl FnMut(&Transaction<'_>) -> Result<T>,
) -> Result<T> {
    retry_busy(|| {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    })
}

/// The one way the store reads: `f` runs inside a deferred transaction, so
/// all its statements see one snapshot; retried like [`with_transaction`].
pub(crate) fn with_read<T>(
    conn: &mut Connection,
    mut f: impl FnMut(&Connection) -> Result<T>,
) -> Result<T> {
    retry_busy(|| {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Deferred)?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    })
}

/// `PRAGMA wal_checkpoint(TRUNCATE)`: true when the WAL was fully copied
/// into the database and truncated to zero bytes. A reader of another
/// connection blocks it; SQLite's busy handler waits up to
/// [`BUSY_TIMEOUT`] for it to finish.
fn wal_checkpoint_truncate(conn: &Connection) -> bool {
    matches!(
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r
            .get::<_, i64>(0)),
        Ok(0)
    )
}

// ---- row encoding ----------------------------------------------------------

fn id_sql(id: KeyId) -> i64 {
    // The id's 64 bits, reinterpreted: ids are random over all of u64.
    id.as_u64() as i64
}

fn id_from_sql(v: i64) -> KeyId {
    KeyId::from_u64(v as u64)
}

fn u64_sql(v: u64) -> Result<i64> {
    i64::try_from(v).map_err(|_| Error::InvalidArgument("value above 2^63-1".into()))
}

/// Columns of `key_entry`, in the order [`KeyRow::read`] expects.
macro_rules! key_columns {
    () => {
        "id, alias, algorithm, hd_scheme, origin, public_key, allowed_operations, max_uses, \
         usage_count, created_at_ms, sealer, owner, sealed_schema_version, sealed_secret, \
         alias_key, meta_mac, usage_mac"
    };
}

/// Columns of `audit_log`, in the order [`read_audit`] expects.
macro_rules! audit_columns {
    () => {
        "seq, time_ms, caller, operation, key_id, outcome, prev_hash, hash"
    };
}

// Every statement the store runs. Each one a key operation runs is a
// b-tree search (checked by a test with EXPLAIN QUERY PLAN), so no key
// operation, and nothing at open, costs time proportional to the number of
// keys; only `key_count` scans.
const SQL_KEY_BY_ID: &str = concat!(
    "SELECT ",
    key_columns!(),
    " FROM key_entry WHERE id = ?1 AND owner = ?2"
);
const SQL_KEY_BY_ALIAS: &str = concat!(
    "SELECT ",
    key_columns!(),
    " FROM key_entry WHERE owner = ?1 AND alias_key = ?2"
);
const SQL_KEYS_OF_OWNER: &str = concat!(
    "SELECT ",
    key_columns!(),
    " FROM key_entry WHERE owner = ?1 ORDER BY alias"
);
const SQL_RULES_OF_KEY: &str =
    "SELECT uid, app_id, code_sha256 FROM key_caller_rule WHERE key_id = ?1 ORDER BY position";
const SQL_PREFIXES_OF_KEY: &str =
    "SELECT path FROM key_path_prefix WHERE key_id = ?1 ORDER BY position";
const SQL_RULES_OF_OWNER: &str = "SELECT r.key_id, r.uid, r.app_id, r.code_sha256 \
     FROM key_caller_rule r JOIN key_entry k ON k.id = r.key_id \
     WHERE k.owner = ?1 ORDER BY r.key_id, r.position";
const SQL_PREFIXES_OF_OWNER: &str = "SELECT p.key_id, p.path \
     FROM key_path_prefix p JOIN key_entry k ON k.id = p.key_id \
     WHERE k.owner = ?1 ORDER BY p.key_id, p.position";
const SQL_ALIAS_TAKEN: &str = "SELECT 1 FROM key_entry WHERE owner = ?1 AND alias_key = ?2";
/// Aliases that collided when the store was upgraded to the alias rule.
const SQL_AMBIGUOUS_ALIASES: &str =
    "SELECT alias FROM key_entry WHERE owner = ?1 AND alias_key IS NULL";
const SQL_ID_TAKEN: &str = "SELECT 1 FROM key_entry WHERE id = ?1";
const SQL_INSERT_KEY: &str = concat!(
    "INSERT INTO key_entry (",
    key_columns!(),
    ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)"
);
const SQL_INSERT_RULE: &str = "INSERT INTO key_caller_rule \
     (key_id, position, uid, app_id, code_sha256) VALUES (?1, ?2, ?3, ?4, ?5)";
const SQL_INSERT_PREFIX: &str =
    "INSERT INTO key_path_prefix (key_id, position, path) VALUES (?1, ?2, ?3)";
const SQL_DELETE_KEY: &str = "DELETE FROM key_entry WHERE id = ?1 AND owner = ?2";
const SQL_USAGE: &str = "SELECT usage_count, usage_mac FROM key_entry WHERE id = ?1";
const SQL_SET_USAGE: &str = "UPDATE key_entry SET usage_count = ?1, usage_mac = ?2 WHERE id = ?3";
const SQL_SET_MACS: &str = "UPDATE key_entry SET meta_mac = ?1, usage_mac = ?2 WHERE id = ?3";
const SQL_ANCHOR: &str = "SELECT seq, head, keyed_from, mac FROM audit_anchor WHERE id = 1";
const SQL_PUT_ANCHOR: &str = "INSERT INTO audit_anchor (id, seq, head, keyed_from, mac) \
     VALUES (1, ?1, ?2, ?3, ?4) ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, \
     head = excluded.head, keyed_from = excluded.keyed_from, mac = excluded.mac";
const SQL_LAST_AUDIT: &str = concat!(
    "SELECT ",
    audit_columns!(),
    " FROM audit_log ORDER BY seq DESC LIMIT 1"
);
const SQL_AUDIT_FROM: &str = concat!(
    "SELECT ",
    audit_columns!(),
    " FROM audit_log WHERE seq >= ?1 ORDER BY seq LIMIT ?2"
);
const SQL_INSERT_AUDIT: &str = concat!(
    "INSERT INTO audit_log (",
    audit_columns!(),
    ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
);
const SQL_KEY_COUNT: &str = "SELECT count(*) FROM key_entry";
const SQL_BINDING: &str = "SELECT sealer, label, level_requested, level_obtained, created_at, \
     sealed_store_key FROM sealer_binding WHERE id = 1";
const SQL_INSERT_BINDING: &str = "INSERT INTO sealer_binding \
     (id, sealer, label, level_requested, level_obtained, created_at, sealed_store_key) \
     VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6)";

/// A `key_entry` row as SQLite returned it, not yet validated.
struct KeyRow {
    id: i64,
    alias: String,
    algorithm: String,
    hd_scheme: Option<String>,
    origin: i64,
    public_key: Vec<u8>,
    allowed_operations: Option<i64>,
    max_uses: Option<i64>,
    usage_count: i64,
    created_at_ms: i64,
    sealer: String,
    owner: String,
    sealed_schema_version: i64,
    sealed_secret: Vec<u8>,
    alias_key: Option<String>,
    meta_mac: Option<Vec<u8>>,
    usage_mac: Option<Vec<u8>>,
}

impl KeyRow {
    fn read(r: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            id: r.get(0)?,
            alias: r.get(1)?,
            algorithm: r.get(2)?,
            hd_scheme: r.get(3)?,
            origin: r.get(4)?,
            public_key: r.get(5)?,
            allowed_operations: r.get(6)?,
            max_uses: r.get(7)?,
            usage_count: r.get(8)?,
            created_at_ms: r.get(9)?,
            sealer: r.get(10)?,
            owner: r.get(11)?,
            sealed_schema_version: r.get(12)?,
            sealed_secret: r.get(13)?,
            alias_key: r.get(14)?,
            meta_mac: r.get(15)?,
            usage_mac: r.get(16)?,
        })
    }

    /// Validates the row, attaches its policy lists and, with integrity
    /// keys, checks its MACs and alias key.
    fn into_checked(
        self,
        rules: Vec<CallerRule>,
        prefixes: Vec<DerivationPath>,
        integrity: Option<&Integrity>,
    ) -> Result<StoredKey> {
        let alias_key_stored = self.alias_key.clone();
        let meta_mac = self.meta_mac.clone();
        let usage_mac = self.usage_mac.clone();
        let stored = self.into_stored(rules, prefixes)?;
        let id = stored.info.id;
        if let Some(k) = alias_key_stored
            && k != alias_key(&stored.info.alias)
        {
            return Err(Error::CorruptKeyRecord(format!(
                "key {id}: its alias key does not match its alias"
            )));
        }
        if let Some(integrity) = integrity {
            let meta_ok = meta_mac
                .as_deref()
                .is_some_and(|m| ct_eq(&stored.meta_mac(&integrity.keys), m));
            if !meta_ok {
                return Err(Error::CorruptKeyRecord(format!(
                    "key {id}: its policy or metadata fails its integrity check (edited outside Keyhold)"
                )));
            }
            check_usage_mac(integrity, id, stored.info.usage_count, usage_mac.as_deref())?;
        }
        Ok(stored)
    }

    /// Validates the row and attaches its policy lists.
    fn into_stored(
        self,
        rules: Vec<CallerRule>,
        prefixes: Vec<DerivationPath>,
    ) -> Result<StoredKey> {
        let id = id_from_sql(self.id);
        let corrupt = |why: &str| Error::CorruptKeyRecord(format!("key {id}: {why}"));
        let algorithm = Algorithm::from_name(&self.algorithm)
            .ok()
            .filter(|a| a.name() == self.algorithm)
            .ok_or_else(|| corrupt("unknown algorithm name"))?;
        let hd_scheme = match &self.hd_scheme {
            None => None,
            Some(name) => Some(
                HdScheme::from_name(name)
                    .ok()
                    .filter(|s| s.name() == name && s.algorithm() == algorithm)
                    .ok_or_else(|| corrupt("unknown or mismatched HD scheme"))?,
            ),
        };
        let origin = u8::try_from(self.origin)
            .ok()
            .and_then(KeyOrigin::from_u8)
            .ok_or_else(|| corrupt("unknown origin"))?;
        if self.public_key.len() != check::public_key_len(algorithm) {
            return Err(corrupt("public key has the wrong length for its algorithm"));
        }
        let allowed_operations = match self.allowed_operations {
            None => None,
            Some(bits) => {
                let bits = u32::try_from(bits).map_err(|_| corrupt("bad operation mask"))?;
                let set = OperationSet::from_bits(bits);
                if set.bits() != bits {
                    return Err(corrupt("operation mask has unknown bits"));
                }
                Some(set)
            }
        };
        let max_uses = self
            .max_uses
            .map(u64::try_from)
            .transpose()
            .map_err(|_| corrupt("negative usage limit"))?;
        let usage_count =
            u64::try_from(self.usage_count).map_err(|_| corrupt("negative usage count"))?;
        let sealed_schema_version = u32::try_from(self.sealed_schema_version)
            .ok()
            .filter(|v| (1..=SCHEMA_VERSION).contains(v))
            .ok_or_else(|| corrupt("unknown sealed schema version"))?;
        if self.sealed_secret.is_empty() {
            return Err(corrupt("empty sealed secret"));
        }
        Ok(StoredKey {
            info: KeyInfo {
                id,
                alias: self.alias,
                algorithm,
                hd_scheme,
                origin,
                public_key: self.public_key,
                policy: KeyPolicy {
                    allowed_callers: rules,
                    allowed_operations,
                    allowed_path_prefixes: prefixes,
                    max_uses,
                },
                usage_count,
                created_at_ms: self.created_at_ms,
                sealer: self.sealer,
            },
            owner: self.owner,
            sealed_secret: self.sealed_secret,
            sealed_schema_version,
        })
    }
}

/// A `rusqlite` type error while reading a row means the row is corrupt.
fn row_error(what: &str) -> impl Fn(rusqlite::Error) -> Error + '_ {
    move |e| match e {
        rusqlite::Error::InvalidColumnType(..)
        | rusqlite::Error::FromSqlConversionFailure(..)
        | rusqlite::Error::IntegralValueOutOfRange(..) => {
            Error::CorruptKeyRecord(format!("{what}: a column has the wrong type"))
        }
        other => Error::Storage(other),
    }
}

fn decode_rule(
    key_id: i64,
    uid: Option<i64>,
    app_id: Option<String>,
    code: Option<Vec<u8>>,
) -> Result<CallerRule> {
    let corrupt = |why: &str| {
        Error::CorruptKeyRecord(format!("key {}: caller rule {why}", id_from_sql(key_id)))
    };
    let uid = uid
        .map(u32::try_from)
        .transpose()
        .map_err(|_| corrupt("uid out of range"))?;
    let code_sha256 = code
        .map(|c| <[u8; 32]>::try_from(c.as_slice()))
        .transpose()
        .map_err(|_| corrupt("code digest is not 32 bytes"))?;
    Ok(CallerRule {
        uid,
        app_id,
        code_sha256,
    })
}

fn decode_prefix(key_id: i64, text: &str) -> Result<DerivationPath> {
    DerivationPath::parse(text).map_err(|_| {
        Error::CorruptKeyRecord(format!(
            "key {}: invalid derivation path prefix",
            id_from_sql(key_id)
        ))
    })
}

/// Reads the key row selected by `sql` (two parameters) and its policy lists.
fn read_key(
    conn: &Connection,
    sql: &str,
    p1: &dyn rusqlite::ToSql,
    p2: &dyn rusqlite::ToSql,
    integrity: Option<&Integrity>,
) -> Result<Option<StoredKey>> {
    let row = conn
        .prepare_cached(sql)?
        .query_row([p1, p2], KeyRow::read)
        .optional()
        .map_err(row_error("key row"))?;
    let Some(row) = row else { return Ok(None) };
    let mut rules = Vec::new();
    let mut stmt = conn.prepare_cached(SQL_RULES_OF_KEY)?;
    let mut rows = stmt.query([row.id])?;
    while let Some(r) = rows.next()? {
        let read =
            (|| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))().map_err(row_error("caller rule"))?;
        rules.push(decode_rule(row.id, read.0, read.1, read.2)?);
    }
    let mut prefixes = Vec::new();
    let mut stmt = conn.prepare_cached(SQL_PREFIXES_OF_KEY)?;
    let mut rows = stmt.query([row.id])?;
    while let Some(r) = rows.next()? {
        let text: String = r.get(0).map_err(row_error("path prefix"))?;
        prefixes.push(decode_prefix(row.id, &text)?);
    }
    row.into_checked(rules, prefixes, integrity).map(Some)
}

/// Refuses a usage count whose MAC is missing or wrong.
fn check_usage_mac(integrity: &Integrity, id: KeyId, count: u64, mac: Option<&[u8]>) -> Result<()> {
    if mac.is_some_and(|m| ct_eq(&integrity.keys.usage_mac(id, count), m)) {
        Ok(())
    } else {
        Err(Error::CorruptKeyRecord(format!(
            "key {id}: its usage count fails its integrity check (edited outside Keyhold)"
        )))
    }
}

/// True when `alias` collides with a key whose alias became ambiguous at
/// the upgrade to the alias rule.
fn ambiguous(conn: &Connection, owner: &str, key: &str) -> Result<bool> {
    let mut stmt = conn.prepare_cached(SQL_AMBIGUOUS_ALIASES)?;
    let mut rows = stmt.query([owner])?;
    while let Some(r) = rows.next()? {
        let alias: String = r.get(0).map_err(row_error("key row"))?;
        if alias_key(&alias) == key {
            return Ok(true);
        }
    }
    Ok(false)
}

/// True when (owner, alias) is taken, by its comparison key.
fn alias_taken(conn: &Connection, owner: &str, alias: &str) -> Result<bool> {
    let key = alias_key(alias);
    Ok(conn
        .prepare_cached(SQL_ALIAS_TAKEN)?
        .exists(params![owner, key])?
        || ambiguous(conn, owner, &key)?)
}

/// Schema 3 -> 4: fills in every alias's comparison key. Keys of one owner
/// whose aliases now compare equal keep NULL (reachable by id only; see
/// [`crate::alias`]). Then creates the unique index.
pub(crate) fn fill_alias_keys(tx: &Transaction<'_>) -> Result<()> {
    let mut groups: HashMap<(String, String), Vec<i64>> = HashMap::new();
    {
        let mut stmt = tx.prepare("SELECT id, owner, alias FROM key_entry")?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let (id, owner, alias): (i64, String, String) =
                (|| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))().map_err(row_error("key row"))?;
            groups
                .entry((owner, alias_key(&alias)))
                .or_default()
                .push(id);
        }
    }
    let mut stmt = tx.prepare("UPDATE key_entry SET alias_key = ?1 WHERE id = ?2")?;
    for ((_, key), ids) in &groups {
        if let [id] = ids.as_slice() {
            stmt.execute(params![key, id])?;
        }
    }
    tx.execute_batch(V4_INDEX)?;
    Ok(())
}

fn read_anchor(conn: &Connection) -> Result<Option<AuditAnchor>> {
    let row = conn
        .prepare_cached(SQL_ANCHOR)?
        .query_row([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, Vec<u8>>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, Vec<u8>>(3)?,
            ))
        })
        .optional()
        .map_err(row_error("audit anchor"))?;
    let Some((seq, head, keyed_from, mac)) = row else {
        return Ok(None);
    };
    let corrupt = || Error::CorruptKeyRecord("the audit anchor is malformed".into());
    Ok(Some(AuditAnchor {
        seq: u64::try_from(seq).map_err(|_| corrupt())?,
        head: head.as_slice().try_into().map_err(|_| corrupt())?,
        keyed_from: u64::try_from(keyed_from).map_err(|_| corrupt())?,
        mac: mac.as_slice().try_into().map_err(|_| corrupt())?,
    }))
}

fn put_anchor(tx: &Transaction<'_>, anchor: &AuditAnchor) -> Result<()> {
    tx.prepare_cached(SQL_PUT_ANCHOR)?.execute(params![
        u64_sql(anchor.seq)?,
        anchor.head.as_slice(),
        u64_sql(anchor.keyed_from)?,
        anchor.mac.as_slice(),
    ])?;
    Ok(())
}

/// The anchor, refused unless it carries its MAC.
fn authentic_anchor(conn: &Connection, integrity: &Integrity) -> Result<AuditAnchor> {
    let anchor = read_anchor(conn)?.ok_or_else(|| {
        Error::CorruptKeyRecord(
            "the audit anchor is missing (the database was edited outside Keyhold)".into(),
        )
    })?;
    if anchor.is_authentic(&integrity.keys) {
        Ok(anchor)
    } else {
        Err(Error::CorruptKeyRecord(
            "the audit anchor fails its integrity check (the database was edited outside Keyhold)"
                .into(),
        ))
    }
}

fn insert_key_rows(
    tx: &Transaction<'_>,
    key: &StoredKey,
    integrity: Option<&Integrity>,
) -> Result<()> {
    let info = &key.info;
    let policy = &info.policy;
    let meta_mac = integrity.map(|i| key.meta_mac(&i.keys));
    let usage_mac = integrity.map(|i| i.keys.usage_mac(info.id, info.usage_count));
    tx.prepare_cached(SQL_INSERT_KEY)?.execute(params![
        id_sql(info.id),
        info.alias,
        info.algorithm.name(),
        info.hd_scheme.map(HdScheme::name),
        info.origin.as_u8(),
        info.public_key,
        policy.allowed_operations.map(OperationSet::bits),
        policy.max_uses.map(u64_sql).transpose()?,
        u64_sql(info.usage_count)?,
        info.created_at_ms,
        info.sealer,
        key.owner,
        key.sealed_schema_version,
        key.sealed_secret,
        alias_key(&info.alias),
        meta_mac.as_ref().map(|m| m.as_slice()),
        usage_mac.as_ref().map(|m| m.as_slice()),
    ])?;
    let mut stmt = tx.prepare_cached(SQL_INSERT_RULE)?;
    for (i, rule) in policy.allowed_callers.iter().enumerate() {
        stmt.execute(params![
            id_sql(info.id),
            i as i64,
            rule.uid,
            rule.app_id,
            rule.code_sha256.as_ref().map(|c| c.as_slice()),
        ])?;
    }
    let mut stmt = tx.prepare_cached(SQL_INSERT_PREFIX)?;
    for (i, prefix) in policy.allowed_path_prefixes.iter().enumerate() {
        stmt.execute(params![id_sql(info.id), i as i64, prefix.to_string()])?;
    }
    Ok(())
}

fn read_audit(r: &Row<'_>) -> Result<AuditRecord> {
    type Raw = (
        i64,
        i64,
        String,
        String,
        Option<i64>,
        Option<i64>,
        Vec<u8>,
        Vec<u8>,
    );
    let raw: Raw = (|| {
        Ok((
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get(4)?,
            r.get(5)?,
            r.get(6)?,
            r.get(7)?,
        ))
    })()
    .map_err(row_error("audit record"))?;
    let (seq, time_ms, caller, operation, key_id, outcome, prev_hash, hash) = raw;
    let corrupt = |why: &str| Error::CorruptKeyRecord(format!("audit record {seq}: {why}"));
    Ok(AuditRecord {
        seq: u64::try_from(seq).map_err(|_| corrupt("negative seq"))?,
        time_ms,
        caller,
        operation: Operation::from_name(&operation).map_err(|_| corrupt("unknown operation"))?,
        key_id: key_id.map(id_from_sql),
        outcome: outcome
            .map(|c| {
                u32::try_from(c)
                    .ok()
                    .and_then(ErrorCode::from_u32)
                    .ok_or_else(|| corrupt("unknown outcome code"))
            })
            .transpose()?,
        prev_hash: prev_hash
            .as_slice()
            .try_into()
            .map_err(|_| corrupt("prev_hash is not 32 bytes"))?,
        hash: hash
            .as_slice()
            .try_into()
            .map_err(|_| corrupt("hash is not 32 bytes"))?,
    })
}

fn last_link(conn: &Connection) -> Result<Option<(u64, [u8; 32])>> {
    let last = conn
        .prepare_cached(SQL_LAST_AUDIT)?
        .query_and_then([], read_audit)?
        .next()
        .transpose()?;
    Ok(last.map(|r| (r.seq, r.hash)))
}

/// Appends `records` in `tx` after checking they extend the stored chain.
/// Adds `delta` to a key's usage count within `limit`; `None` if the key is gone.
fn bump_usage(
    tx: &Transaction<'_>,
    id: KeyId,
    delta: u64,
    limit: Option<u64>,
    integrity: Option<&Integrity>,
) -> Result<Option<u64>> {
    let row: Option<(i64, Option<Vec<u8>>)> = tx
        .prepare_cached(SQL_USAGE)?
        .query_row([id_sql(id)], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()
        .map_err(row_error("key row"))?;
    let Some((count, mac)) = row else {
        return Ok(None);
    };
    let count = u64::try_from(count)
        .map_err(|_| Error::CorruptKeyRecord(format!("key {id}: negative usage count")))?;
    if let Some(integrity) = integrity {
        check_usage_mac(integrity, id, count, mac.as_deref())?;
    }
    let new = check::next_usage(count, delta, limit)?;
    let new_mac = integrity.map(|i| i.keys.usage_mac(id, new));
    tx.prepare_cached(SQL_SET_USAGE)?.execute(params![
        u64_sql(new)?,
        new_mac.as_ref().map(|m| m.as_slice()),
        id_sql(id)
    ])?;
    Ok(Some(new))
}

fn append_audit_rows(
    tx: &Transaction<'_>,
    records: &[AuditRecord],
    integrity: Option<&Integrity>,
) -> Result<()> {
    if records.is_empty() {
        return Ok(());
    }
    match integrity {
        None => check::audit_extends(last_link(tx)?, records, &crate::audit::record_hash)?,
        Some(i) => {
            let anchor = authentic_anchor(tx, i)?;
            check::audit_extends(Some((anchor.seq, anchor.head)), records, &|r| {
                crate::audit::expected_hash(&i.keys, i.keyed_from, r)
            })?;
        }
    }
    let mut stmt = tx.prepare_cached(SQL_INSERT_AUDIT)?;
    for r in records {
        stmt.execute(params![
            u64_sql(r.seq)?,
            r.time_ms,
            r.caller,
            r.operation.name(),
            r.key_id.map(id_sql),
            r.outcome.map(ErrorCode::as_u32),
            r.prev_hash.as_slice(),
            r.hash.as_slice(),
        ])?;
    }
    if let (Some(i), Some(last)) = (integrity, records.last()) {
        put_anchor(
            tx,
            &AuditAnchor::keyed(&i.keys, last.seq, last.hash, i.keyed_from),
        )?;
    }
    Ok(())
}

impl KeyStore for SqliteStore {
    fn insert_key(&mut self, key: &StoredKey, audit: &[AuditRecord]) -> Result<()> {
        check::new_key(key)?;
        self.before_write();
        let integrity = self.integrity.clone();
        with_transaction(&mut self.conn, |tx| {
            if alias_taken(tx, &key.owner, &key.info.alias)? {
                return Err(Error::AliasExists(key.info.alias.clone()));
            }
            let id_taken = tx
                .prepare_cached(SQL_ID_TAKEN)?
                .exists([id_sql(key.info.id)])?;
            if id_taken {
                return Err(check::duplicate_id(key.info.id));
            }
            insert_key_rows(tx, key, integrity.as_ref())?;
            append_audit_rows(tx, audit, integrity.as_ref())
        })
    }

    fn load_key(
        &mut self,
        owner: &str,
        key: &KeyRef,
        check: &mut dyn FnMut(&StoredKey) -> Result<()>,
    ) -> Result<StoredKey> {
        let integrity = self.integrity.clone();
        let integrity = integrity.as_ref();
        with_read(&mut self.conn, |conn| {
            let found = match key {
                KeyRef::Id(id) => read_key(conn, SQL_KEY_BY_ID, &id_sql(*id), &owner, integrity)?,
                KeyRef::Alias(alias) => {
                    let k = alias_key(alias);
                    let found = read_key(conn, SQL_KEY_BY_ALIAS, &owner, &k, integrity)?;
                    if found.is_none() && ambiguous(conn, owner, &k)? {
                        return Err(Error::KeyNotFound(format!(
                            "{key}: several keys had this alias before aliases compared \
                             case- and confusable-insensitively; name the key by its id"
                        )));
                    }
                    found
                }
            };
            let stored = found.ok_or_else(|| Error::KeyNotFound(key.to_string()))?;
            check(&stored)?;
            Ok(stored)
        })
    }

    fn delete_key(&mut self, owner: &str, id: KeyId, audit: &[AuditRecord]) -> Result<()> {
        self.before_write();
        let integrity = self.integrity.clone();
        with_transaction(&mut self.conn, |tx| {
            let deleted = tx
                .prepare_cached(SQL_DELETE_KEY)?
                .execute(params![id_sql(id), owner])?;
            if deleted == 0 {
                return Err(Error::KeyNotFound(KeyRef::Id(id).to_string()));
            }
            append_audit_rows(tx, audit, integrity.as_ref())
        })?;
        // The delete is committed: from here on nothing may report failure
        // (the caller's audit chain has advanced). If a reader blocks the
        // truncation it is retried before the next write.
        self.checkpoint();
        Ok(())
    }

    fn list_keys(&mut self, owner: &str) -> Result<Vec<KeyInfo>> {
        let integrity = self.integrity.clone();
        with_read(&mut self.conn, |conn| {
            let mut rules: HashMap<i64, Vec<CallerRule>> = HashMap::new();
            let mut stmt = conn.prepare_cached(SQL_RULES_OF_OWNER)?;
            let mut rows = stmt.query([owner])?;
            while let Some(r) = rows.next()? {
                let (key_id, uid, app_id, code) =
                    (|| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))()
                        .map_err(row_error("caller rule"))?;
                rules
                    .entry(key_id)
                    .or_default()
                    .push(decode_rule(key_id, uid, app_id, code)?);
            }
            let mut prefixes: HashMap<i64, Vec<DerivationPath>> = HashMap::new();
            let mut stmt = conn.prepare_cached(SQL_PREFIXES_OF_OWNER)?;
            let mut rows = stmt.query([owner])?;
            while let Some(r) = rows.next()? {
                let (key_id, text): (i64, String) =
                    (|| Ok((r.get(0)?, r.get(1)?)))().map_err(row_error("path prefix"))?;
                prefixes
                    .entry(key_id)
                    .or_default()
                    .push(decode_prefix(key_id, &text)?);
            }
            let mut stmt = conn.prepare_cached(SQL_KEYS_OF_OWNER)?;
            let mut rows = stmt.query([owner])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                let row = KeyRow::read(r).map_err(row_error("key row"))?;
                let id = row.id;
                let stored = row.into_checked(
                    rules.remove(&id).unwrap_or_default(),
                    prefixes.remove(&id).unwrap_or_default(),
                    integrity.as_ref(),
                )?;
                out.push(stored.info);
            }
            Ok(out)
        })
    }

    fn add_usage(&mut self, id: KeyId, delta: u64, limit: Option<u64>) -> Result<u64> {
        self.before_write();
        let integrity = self.integrity.clone();
        with_transaction(&mut self.conn, |tx| {
            bump_usage(tx, id, delta, limit, integrity.as_ref())?
                .ok_or_else(|| Error::KeyNotFound(KeyRef::Id(id).to_string()))
        })
    }

    fn commit_journal(&mut self, records: &[AuditRecord], usage: &[(KeyId, u64)]) -> Result<()> {
        if records.is_empty() && usage.is_empty() {
            return Ok(());
        }
        self.before_write();
        let integrity = self.integrity.clone();
        with_transaction(&mut self.conn, |tx| {
            append_audit_rows(tx, records, integrity.as_ref())?;
            for (id, delta) in usage {
                // A key deleted since its uses were counted is skipped.
                bump_usage(tx, *id, *delta, None, integrity.as_ref())?;
            }
            Ok(())
        })
    }

    fn append_audit(&mut self, records: &[AuditRecord]) -> Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        self.before_write();
        let integrity = self.integrity.clone();
        with_transaction(&mut self.conn, |tx| {
            append_audit_rows(tx, records, integrity.as_ref())
        })
    }

    fn last_audit(&mut self) -> Result<Option<AuditRecord>> {
        with_read(&mut self.conn, |conn| {
            conn.prepare_cached(SQL_LAST_AUDIT)?
                .query_and_then([], read_audit)?
                .next()
                .transpose()
        })
    }

    fn audit_records(&mut self, from_seq: u64, limit: usize) -> Result<Vec<AuditRecord>> {
        let Ok(from) = i64::try_from(from_seq) else {
            return Ok(Vec::new());
        };
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        with_read(&mut self.conn, |conn| {
            conn.prepare_cached(SQL_AUDIT_FROM)?
                .query_and_then([from, limit], read_audit)?
                .collect()
        })
    }

    fn key_count(&mut self) -> Result<u64> {
        with_read(&mut self.conn, |conn| {
            let n: i64 = conn.query_row(SQL_KEY_COUNT, [], |r| r.get(0))?;
            Ok(n as u64)
        })
    }

    fn schema_version(&self) -> u32 {
        SCHEMA_VERSION
    }

    fn sealer_binding(&mut self) -> Result<Option<SealerBinding>> {
        with_read(&mut self.conn, |conn| {
            conn.prepare_cached(SQL_BINDING)?
                .query_and_then([], |r| -> Result<SealerBinding> {
                    let created_at: i64 = r.get(4)?;
                    Ok(SealerBinding {
                        sealer: r.get(0)?,
                        label: r.get(1)?,
                        level_requested: r.get(2)?,
                        level_obtained: r.get(3)?,
                        created_at: u64::try_from(created_at).map_err(|_| {
                            Error::StorageOther("sealer binding has a negative time".into())
                        })?,
                        sealed_store_key: r.get(5)?,
                    })
                })?
                .next()
                .transpose()
        })
    }

    fn attach_integrity(&mut self, keys: Arc<StoreIntegrity>) -> Result<AuditAnchor> {
        if let Some(anchor) = with_read(&mut self.conn, read_anchor)? {
            let integrity = Integrity {
                keys,
                keyed_from: anchor.keyed_from,
            };
            // Checked like every later read: a current store opens with no write.
            let anchor = with_read(&mut self.conn, |conn| authentic_anchor(conn, &integrity))?;
            self.integrity = Some(integrity);
            return Ok(anchor);
        }
        // No anchor: a store never opened under integrity (new, or upgraded
        // from schema 3 or earlier). Any trace of integrity means the anchor
        // was removed.
        let traces: bool = with_read(&mut self.conn, |conn| {
            Ok(conn.query_row(
                "SELECT EXISTS (SELECT 1 FROM key_entry WHERE meta_mac IS NOT NULL \
                 OR usage_mac IS NOT NULL OR sealed_schema_version >= 4)",
                [],
                |r| r.get(0),
            )?)
        })?;
        if traces {
            return Err(Error::CorruptKeyRecord(
                "the audit anchor is missing but keys carry integrity MACs or were sealed at \
                 schema 4: the database was edited outside Keyhold"
                    .into(),
            ));
        }
        // First attach: the pre-integrity metadata is trusted as found (it
        // had nothing to check it with) and MAC'd from here on.
        self.before_write();
        let anchor = with_transaction(&mut self.conn, |tx| {
            let ids: Vec<(i64, String)> = tx
                .prepare("SELECT id, owner FROM key_entry")?
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<_>>()?;
            for (id, owner) in ids {
                let stored = read_key(tx, SQL_KEY_BY_ID, &id, &owner, None)?
                    .ok_or_else(|| Error::Internal("key row vanished during upgrade".into()))?;
                tx.prepare_cached(SQL_SET_MACS)?.execute(params![
                    stored.meta_mac(&keys).as_slice(),
                    keys.usage_mac(stored.info.id, stored.info.usage_count)
                        .as_slice(),
                    id
                ])?;
            }
            let (seq, head) = last_link(tx)?.unwrap_or((0, [0u8; 32]));
            let anchor = AuditAnchor::keyed(&keys, seq, head, seq + 1);
            put_anchor(tx, &anchor)?;
            Ok(anchor)
        })?;
        self.integrity = Some(Integrity {
            keys,
            keyed_from: anchor.keyed_from,
        });
        Ok(anchor)
    }

    fn audit_anchor(&mut self) -> Result<Option<AuditAnchor>> {
        let Some(integrity) = self.integrity.clone() else {
            return Ok(None);
        };
        with_read(&mut self.conn, |conn| authentic_anchor(conn, &integrity)).map(Some)
    }

    fn audit_snapshot(&mut self) -> Result<Box<dyn AuditSnapshot>> {
        Ok(Box::new(SqliteAuditSnapshot::begin(
            &self.path,
            self.integrity.as_ref(),
            &self.readers,
        )?))
    }

    fn put_sealer_binding(&mut self, binding: &SealerBinding) -> Result<()> {
        self.before_write();
        with_transaction(&mut self.conn, |tx| {
            let taken: i64 =
                tx.query_row("SELECT count(*) FROM sealer_binding", [], |r| r.get(0))?;
            if taken != 0 {
                return Err(Error::StorageOther(
                    "a sealer binding is already recorded".into(),
                ));
            }
            tx.prepare_cached(SQL_INSERT_BINDING)?
                .execute(rusqlite::params![
                    binding.sealer,
                    binding.label,
                    binding.level_requested,
                    binding.level_obtained,
                    u64_sql(binding.created_at)?,
                    binding.sealed_store_key,
                ])?;
            Ok(())
        })
    }
}

/// A read-only connection to the store's file inside one read transaction
/// (see [`KeyStore::audit_snapshot`]). In WAL mode a reader sees the
/// database as of its first read and neither blocks the store's writes nor
/// is blocked by them (<https://sqlite.org/wal.html>, "Concurrency"); the
/// transaction stays open until the snapshot is dropped, so every page it
/// reads comes from that one instant.
struct SqliteAuditSnapshot {
    conn: Connection,
    anchor: Option<AuditAnchor>,
    /// The store's count of open snapshots; decremented on drop.
    readers: Arc<AtomicUsize>,
}

impl SqliteAuditSnapshot {
    fn begin(
        path: &Path,
        integrity: Option<&Integrity>,
        readers: &Arc<AtomicUsize>,
    ) -> Result<Self> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_NOFOLLOW;
        let conn = Connection::open_with_flags(path, flags)?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        // Counted before the read transaction starts, so a delete that
        // commits meanwhile already leaves its truncation pending.
        readers.fetch_add(1, Ordering::SeqCst);
        let mut snapshot = Self {
            conn,
            anchor: None,
            readers: Arc::clone(readers),
        };
        // BEGIN DEFERRED takes no snapshot; the first read (the anchor)
        // does, and every later read of this transaction shares it.
        snapshot.anchor = retry_busy(|| {
            let _ = snapshot.conn.execute_batch("ROLLBACK");
            snapshot.conn.execute_batch("BEGIN DEFERRED")?;
            match integrity {
                Some(i) => authentic_anchor(&snapshot.conn, i).map(Some),
                // No integrity yet: still pin the snapshot with a read.
                None => {
                    snapshot
                        .conn
                        .query_row("SELECT count(*) FROM audit_log", [], |r| r.get::<_, i64>(0))?;
                    Ok(None)
                }
            }
        })?;
        Ok(snapshot)
    }
}

impl AuditSnapshot for SqliteAuditSnapshot {
    fn anchor(&self) -> Option<AuditAnchor> {
        self.anchor
    }

    fn audit_records(&mut self, from_seq: u64, limit: usize) -> Result<Vec<AuditRecord>> {
        let Ok(from) = i64::try_from(from_seq) else {
            return Ok(Vec::new());
        };
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.conn
            .prepare_cached(SQL_AUDIT_FROM)?
            .query_and_then([from, limit], read_audit)?
            .collect()
    }
}

impl Drop for SqliteAuditSnapshot {
    fn drop(&mut self) {
        // Ends the read transaction (closing would too) before the store is
        // told the reader is gone.
        let _ = self.conn.execute_batch("ROLLBACK");
        self.readers.fetch_sub(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests;
