-- Core schema: organisations, tokens, banks, entries, signals, audit log.
-- Times are Unix milliseconds (INTEGER). Flags are 0/1 integers.

CREATE TABLE store_meta (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    -- Bumped by every change to entries or banks; the change feed's cursor.
    change_seq INTEGER NOT NULL,
    audit_seq INTEGER NOT NULL,
    audit_head BLOB NOT NULL
);
INSERT INTO store_meta (id, change_seq, audit_seq, audit_head) VALUES (1, 0, 0, zeroblob(32));

CREATE TABLE organisations (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);

CREATE TABLE tokens (
    id INTEGER PRIMARY KEY,
    -- SHA-256 of the secret; the secret itself is shown once and never stored.
    secret_hash BLOB NOT NULL UNIQUE,
    label TEXT NOT NULL,
    role TEXT NOT NULL,
    org_id INTEGER REFERENCES organisations (id) ON DELETE RESTRICT,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);

CREATE TABLE banks (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    enabled INTEGER NOT NULL,
    matching_enabled_ratio REAL NOT NULL,
    labels TEXT NOT NULL,
    org_id INTEGER REFERENCES organisations (id) ON DELETE RESTRICT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    seq INTEGER NOT NULL
);

CREATE TABLE entries (
    -- AUTOINCREMENT: ids are never reused, so a follower never mistakes a
    -- new entry for one it dropped.
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    bank_id INTEGER NOT NULL REFERENCES banks (id) ON DELETE CASCADE,
    -- The source's identity for the entry, for idempotent imports.
    external_id TEXT NOT NULL,
    enabled INTEGER NOT NULL,
    disable_until INTEGER,
    labels TEXT NOT NULL,
    source TEXT,
    collab TEXT,
    original_media_uri TEXT,
    -- HMA's free-text note (at most 255 characters) and user metadata (JSON).
    note TEXT,
    metadata TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    -- Tombstone: the change feed must tell followers what went away.
    deleted INTEGER NOT NULL,
    UNIQUE (bank_id, external_id)
);
CREATE INDEX entries_seq ON entries (seq);

CREATE TABLE signals (
    entry_id INTEGER NOT NULL REFERENCES entries (id) ON DELETE CASCADE,
    signal_type TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (entry_id, signal_type, value)
);
CREATE INDEX signals_value ON signals (signal_type, value);

CREATE TABLE audit_events (
    seq INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    record_kind TEXT NOT NULL,
    record_id TEXT NOT NULL,
    detail TEXT NOT NULL,
    prev_hash BLOB NOT NULL,
    hash BLOB NOT NULL
);

CREATE TABLE import_checkpoints (
    source TEXT PRIMARY KEY,
    checkpoint TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);
