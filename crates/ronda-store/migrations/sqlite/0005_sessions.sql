-- People's logins to the web UI: passwords (argon2id, never in clear),
-- sessions (only the SHA-256 of the cookie's secret is kept) and per-user
-- wellness preferences. Times are Unix milliseconds (INTEGER); booleans
-- are 0/1.

CREATE TABLE user_passwords (
    user_id INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE RESTRICT,
    -- The PHC string: algorithm, parameters, salt and hash.
    hash TEXT NOT NULL,
    set_at INTEGER NOT NULL,
    -- Failed logins since the last success; the account locks at a limit.
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_until INTEGER
);

CREATE TABLE sessions (
    id INTEGER PRIMARY KEY,
    token_hash BLOB NOT NULL UNIQUE,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    -- The synchronizer token every form of the session carries.
    csrf_token TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    -- The absolute end; the idle timeout counts from last_seen_at.
    expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE user_preferences (
    user_id INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE RESTRICT,
    blur_media INTEGER NOT NULL,
    greyscale INTEGER NOT NULL,
    mute_video INTEGER NOT NULL,
    pause_video INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
