-- Referral workflow, first slice: the platform directory, campaigns
-- (action days), and items (one piece of content at one location) with
-- the signals and bank matches found when they were captured. Times are
-- Unix milliseconds (INTEGER). Lists and rules are JSON text.

CREATE TABLE platforms (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    -- social, video, file_host, chat, forum, archive, paste, hosting,
    -- registrar, cdn, group_run
    kind TEXT NOT NULL,
    -- JSON array of host names: a host or any of its subdomains.
    domains TEXT NOT NULL,
    -- JSON array of `host/path-prefix` patterns, more specific than a domain.
    url_patterns TEXT NOT NULL,
    -- api, email, web_form, manual; and where to (URL or address).
    channel_kind TEXT NOT NULL,
    channel_target TEXT,
    tco_contact TEXT,
    language TEXT,
    -- JSON: {"status_codes": [...], "page_patterns": [...]}
    removal_rules TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE campaigns (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    starts_at INTEGER,
    ends_at INTEGER,
    created_at INTEGER NOT NULL
);

CREATE TABLE items (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id INTEGER REFERENCES organisations (id) ON DELETE RESTRICT,
    -- The audit log's actor (`user:NAME`, `token:ID`, `local:NAME`).
    submitted_by TEXT NOT NULL,
    user_id INTEGER REFERENCES users (id) ON DELETE RESTRICT,
    campaign_id INTEGER REFERENCES campaigns (id) ON DELETE RESTRICT,
    url TEXT NOT NULL,
    canonical_url TEXT NOT NULL,
    platform_id INTEGER REFERENCES platforms (id) ON DELETE SET NULL,
    -- SHA-256 (hex) of the captured bytes in the blob store.
    blob_sha256 TEXT,
    content_type TEXT,
    -- Private to the submitting organisation.
    note TEXT,
    status TEXT NOT NULL,
    -- A later submission of the same URL in the same campaign: it points
    -- at the first item, which alone goes on through the workflow.
    duplicate_of INTEGER REFERENCES items (id) ON DELETE RESTRICT,
    created_at INTEGER NOT NULL
);
-- One first item per URL per campaign (no campaign counts as one), even
-- if the store's write lock were ever bypassed.
CREATE UNIQUE INDEX items_first_per_url ON items (canonical_url, COALESCE(campaign_id, 0))
    WHERE duplicate_of IS NULL;
CREATE INDEX items_duplicate_of ON items (duplicate_of);
CREATE INDEX items_org ON items (org_id, id);
CREATE INDEX items_campaign ON items (campaign_id, id);
CREATE INDEX items_platform ON items (platform_id, id);

CREATE TABLE item_signals (
    item_id INTEGER NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    signal_type TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (item_id, signal_type, value)
);
CREATE INDEX item_signals_value ON item_signals (signal_type, value);

-- Bank entries that matched an item's signals when it was captured. No
-- foreign key: entries and banks may go later, the finding stays.
CREATE TABLE item_matches (
    item_id INTEGER NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    entry_id INTEGER NOT NULL,
    bank_id INTEGER NOT NULL,
    signal_type TEXT NOT NULL,
    distance INTEGER,
    PRIMARY KEY (item_id, entry_id, signal_type)
);
