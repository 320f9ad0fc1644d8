-- Users: the people behind tokens (analysts, reviewers, admins, auditors,
-- platform staff), each with one role and at most one organisation. Review
-- queues, per-user settings and the audit log's "who" hang off `users.id`.
-- Users are disabled, never deleted, so that what they did stays
-- attributable. Times are Unix milliseconds (INTEGER).

CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    -- The login name: what the CLI, the API and the audit log (`user:<name>`)
    -- call the user. Never changes.
    name TEXT NOT NULL UNIQUE,
    display_name TEXT,
    -- The same roles as tokens': admin, analyst, reviewer, platform, auditor.
    role TEXT NOT NULL,
    org_id INTEGER REFERENCES organisations (id) ON DELETE RESTRICT,
    created_at INTEGER NOT NULL,
    disabled_at INTEGER
);

-- A token acts for its user, if it has one (NULL: a service token).
ALTER TABLE tokens ADD COLUMN user_id INTEGER REFERENCES users (id) ON DELETE RESTRICT;
CREATE INDEX tokens_user ON tokens (user_id);
