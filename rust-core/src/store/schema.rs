//! The SQLite schema as code: the current [`SCHEMA`], its [`SCHEMA_VERSION`]
//! (kept in `PRAGMA user_version`) and the ordered [`MIGRATIONS`] that bring
//! an older database up to it.
//!
//! A new database is created from [`SCHEMA`] in one step; an existing one
//! runs every migration from its version on, in one transaction. A test
//! checks that a database created at version 1 (the fixture
//! `tests/fixtures/keyhold-v1.sql`) and migrated has exactly the schema of a
//! freshly created one. Changing the schema means: edit [`SCHEMA`], append a
//! migration, bump [`SCHEMA_VERSION`], and keep a fixture of the old version.
//!
//! Tables (all `STRICT`):
//!
//! - `key_entry`: one row per key. `id` is the [`KeyId`](crate::KeyId) bits
//!   as a signed 64-bit integer (the rowid, so lookups by id are a b-tree
//!   search); `(owner, alias)` is unique and indexed, which also serves
//!   `list_keys` (`WHERE owner = ? ORDER BY alias`). Policy scalars are
//!   columns: `allowed_operations` (an [`OperationSet`](crate::OperationSet)
//!   mask, NULL for "all the algorithm supports") and `max_uses` (NULL for
//!   unlimited). `sealed_secret` is the sealer's opaque output;
//!   `sealed_schema_version` is part of its AAD.
//! - `key_caller_rule`, `key_path_prefix`: the list-valued parts of the
//!   policy, ordered by `position`, deleted with their key (`ON DELETE
//!   CASCADE`, which needs `PRAGMA foreign_keys=ON`).
//! - `audit_log`: the hash-chained audit records, `seq` contiguous from 1.
//!   It has no foreign key: records outlive the keys they name. Since
//!   version 2 triggers refuse `UPDATE` and `DELETE` on it (the hash chain
//!   detects edits by anyone who bypasses them; the triggers stop our own
//!   code and maintenance tools from making them by mistake).
//! - `sealer_binding` (since version 3): at most one row (`id = 1`), what
//!   the store recorded about its wrapping key when it first sealed
//!   anything, and the sealed store key (see
//!   [`SealerBinding`](crate::SealerBinding)). Written once; triggers
//!   refuse `UPDATE` and `DELETE`.
//! - since version 4 (issue 10): `key_entry.alias_key`, the comparison
//!   key of the alias ([`alias_key`](crate::alias_key)), unique per owner
//!   (NULL for keys whose aliases collided when a store was upgraded: see
//!   [`crate::alias`]); `key_entry.meta_mac` and `usage_mac`, the row's
//!   integrity MACs; and `audit_anchor`, at most one row (`id = 1`): the
//!   MAC'd head of the keyed audit chain (see [`crate::integrity`]).
//!   Fresh databases run the same `ALTER TABLE` statements as the upgrade,
//!   so both record the same schema text.

/// Current schema version; also the version new secrets are sealed under
/// (it is part of their AAD).
pub const SCHEMA_VERSION: u32 = 4;

/// `PRAGMA application_id` of a Keyhold database ("KHLD").
pub(crate) const APPLICATION_ID: i32 = 0x4B48_4C44;

/// The `sealer_binding` table and its triggers: part of [`SCHEMA`] and the
/// whole of the version 2 -> 3 migration.
macro_rules! sealer_binding_sql {
    () => {
        "
CREATE TABLE sealer_binding (
    id               INTEGER PRIMARY KEY CHECK (id = 1),
    sealer           TEXT    NOT NULL,
    label            TEXT    NOT NULL,
    level_requested  TEXT    NOT NULL,
    level_obtained   TEXT    NOT NULL,
    created_at       INTEGER NOT NULL CHECK (created_at >= 0),
    sealed_store_key BLOB    NOT NULL
) STRICT;

CREATE TRIGGER sealer_binding_no_update BEFORE UPDATE ON sealer_binding
BEGIN
    SELECT RAISE(ABORT, 'sealer_binding is written once');
END;

CREATE TRIGGER sealer_binding_no_delete BEFORE DELETE ON sealer_binding
BEGIN
    SELECT RAISE(ABORT, 'sealer_binding is written once');
END;
"
    };
}

/// Version 4, first part: the integrity columns and the anchor table.
macro_rules! v4_columns_sql {
    () => {
        "
ALTER TABLE key_entry ADD COLUMN alias_key TEXT;
ALTER TABLE key_entry ADD COLUMN meta_mac BLOB;
ALTER TABLE key_entry ADD COLUMN usage_mac BLOB;

CREATE TABLE audit_anchor (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    seq        INTEGER NOT NULL CHECK (seq >= 0),
    head       BLOB    NOT NULL,
    keyed_from INTEGER NOT NULL CHECK (keyed_from >= 1),
    mac        BLOB    NOT NULL
) STRICT;
"
    };
}

/// Version 4, last part (after the alias keys are filled in on upgrade).
macro_rules! v4_index_sql {
    () => {
        "
CREATE UNIQUE INDEX key_entry_alias_key ON key_entry (owner, alias_key);
"
    };
}

/// The index of version 4, created once the alias keys are filled in.
pub(crate) const V4_INDEX: &str = v4_index_sql!();

/// The complete current schema, applied to an empty database.
pub(crate) const SCHEMA: &str = concat!(
    "
CREATE TABLE key_entry (
    id                    INTEGER PRIMARY KEY,
    owner                 TEXT    NOT NULL,
    alias                 TEXT    NOT NULL,
    algorithm             TEXT    NOT NULL,
    hd_scheme             TEXT,
    origin                INTEGER NOT NULL,
    public_key            BLOB    NOT NULL,
    allowed_operations    INTEGER,
    max_uses              INTEGER CHECK (max_uses >= 0),
    usage_count           INTEGER NOT NULL DEFAULT 0 CHECK (usage_count >= 0),
    created_at_ms         INTEGER NOT NULL,
    sealer                TEXT    NOT NULL,
    sealed_schema_version INTEGER NOT NULL,
    sealed_secret         BLOB    NOT NULL,
    UNIQUE (owner, alias)
) STRICT;

CREATE TABLE key_caller_rule (
    key_id      INTEGER NOT NULL REFERENCES key_entry (id) ON DELETE CASCADE,
    position    INTEGER NOT NULL,
    uid         INTEGER,
    app_id      TEXT,
    code_sha256 BLOB,
    PRIMARY KEY (key_id, position)
) STRICT, WITHOUT ROWID;

CREATE TABLE key_path_prefix (
    key_id   INTEGER NOT NULL REFERENCES key_entry (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    path     TEXT    NOT NULL,
    PRIMARY KEY (key_id, position)
) STRICT, WITHOUT ROWID;

CREATE TABLE audit_log (
    seq       INTEGER PRIMARY KEY CHECK (seq >= 1),
    time_ms   INTEGER NOT NULL,
    caller    TEXT    NOT NULL,
    operation TEXT    NOT NULL,
    key_id    INTEGER,
    outcome   INTEGER,
    prev_hash BLOB    NOT NULL,
    hash      BLOB    NOT NULL
) STRICT;

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

",
    sealer_binding_sql!(),
    v4_columns_sql!(),
    v4_index_sql!()
);

/// The `sealer_binding` table and its triggers (version 3).
const SEALER_BINDING_V3: &str = sealer_binding_sql!();

/// One schema step: the SQL that takes a database from `from` to `from + 1`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Migration {
    /// The version this step starts from.
    pub from: u32,
    /// The statements, run in the migration transaction.
    pub sql: &'static str,
    /// Work SQL cannot do, run after `sql` in the same transaction.
    pub then: Option<fn(&rusqlite::Transaction<'_>) -> crate::Result<()>>,
}

/// Every step, in order. Version 1 is the first released schema, so there
/// is no step from 0: an empty database gets [`SCHEMA`].
pub(crate) const MIGRATIONS: &[Migration] = &[
    Migration {
        from: 1,
        sql: "
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
",
        then: None,
    },
    Migration {
        from: 2,
        sql: SEALER_BINDING_V3,
        then: None,
    },
    Migration {
        from: 3,
        sql: v4_columns_sql!(),
        then: Some(super::sqlite::fill_alias_keys),
    },
];
