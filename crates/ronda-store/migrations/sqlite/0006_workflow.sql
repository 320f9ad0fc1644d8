-- Referral workflow, second slice: review (queue with claims, assessments),
-- referrals and removal orders (status history, delivery attempts, Annex I
-- orders, Annex II/III responses), liveness checks, platform organisations
-- and group-run platforms' infrastructure providers and mirrors. Times are
-- Unix milliseconds (INTEGER); lists and documents are JSON text.

-- The organisation that runs a platform: its `platform` tokens see the
-- referrals addressed to it, and only those.
ALTER TABLE platforms ADD COLUMN org_id INTEGER REFERENCES organisations (id) ON DELETE RESTRICT;
CREATE INDEX platforms_org ON platforms (org_id);

-- A group-run platform's infrastructure providers (C15): its referrals go
-- to them. role: hosting, registrar, cdn.
CREATE TABLE platform_providers (
    platform_id INTEGER NOT NULL REFERENCES platforms (id) ON DELETE CASCADE,
    provider_id INTEGER NOT NULL REFERENCES platforms (id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (platform_id, provider_id, role)
);
CREATE INDEX platform_providers_provider ON platform_providers (provider_id);

-- Items that mirror a group-run platform (on other domains).
CREATE TABLE platform_mirrors (
    platform_id INTEGER NOT NULL REFERENCES platforms (id) ON DELETE CASCADE,
    item_id INTEGER NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (platform_id, item_id)
);
CREATE INDEX platform_mirrors_item ON platform_mirrors (item_id);

-- Decisions on items, newest last; the item's status follows the latest.
CREATE TABLE assessments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    item_id INTEGER NOT NULL REFERENCES items (id) ON DELETE RESTRICT,
    -- terrorist_content, not_terrorist_content, escalate
    verdict TEXT NOT NULL,
    -- TCO Art. 2(7): incites, solicits_to_commit, solicits_to_participate,
    -- instruction, threat
    reason TEXT,
    group_name TEXT,
    outlet TEXT,
    severity INTEGER,
    language TEXT,
    notes TEXT,
    -- The audit log's actor.
    reviewer TEXT NOT NULL,
    user_id INTEGER REFERENCES users (id) ON DELETE RESTRICT,
    decided_at INTEGER NOT NULL
);
CREATE INDEX assessments_item ON assessments (item_id, id);
CREATE INDEX assessments_reviewer ON assessments (reviewer, decided_at);

-- Items waiting for a decision, with a claim (a lease) per reviewer.
CREATE TABLE review_queue (
    item_id INTEGER PRIMARY KEY REFERENCES items (id) ON DELETE CASCADE,
    -- 0 to 10, highest first.
    priority INTEGER NOT NULL,
    enqueued_at INTEGER NOT NULL,
    claimed_by TEXT,
    claim_expires_at INTEGER
);
CREATE INDEX review_queue_order ON review_queue (priority DESC, enqueued_at, item_id);
-- First reports captured before this migration wait for review too.
INSERT INTO review_queue (item_id, priority, enqueued_at)
    SELECT i.id,
           CASE WHEN EXISTS (SELECT 1 FROM item_matches m WHERE m.item_id = i.id) THEN 6 ELSE 2 END,
           i.created_at
    FROM items i WHERE i.duplicate_of IS NULL AND i.status = 'new';

-- Referrals and removal orders: an item to a platform (for a group-run
-- site: to each of its providers).
CREATE TABLE referrals (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    item_id INTEGER NOT NULL REFERENCES items (id) ON DELETE RESTRICT,
    platform_id INTEGER NOT NULL REFERENCES platforms (id) ON DELETE RESTRICT,
    -- referral, removal_order
    kind TEXT NOT NULL,
    -- draft, sent, acknowledged, removed, not_removed, disputed,
    -- impossible, withdrawn
    status TEXT NOT NULL,
    -- Random, stable: the platform deduplicates redeliveries on it.
    idempotency_key TEXT NOT NULL UNIQUE,
    -- The channel at creation: api, email, web_form, manual; and where.
    channel_kind TEXT NOT NULL,
    channel_target TEXT,
    -- The package (JSON) as prepared, replaced by the one sent.
    package TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    -- Ready for automatic delivery since; retry time; given up at.
    queued_at INTEGER,
    next_attempt_at INTEGER,
    delivery_failed_at INTEGER,
    sent_at INTEGER,
    acknowledged_at INTEGER,
    outcome_at INTEGER,
    updated_at INTEGER NOT NULL
);
-- One open referral per item and platform, and never the same kind twice
-- (a removal order may follow a referral the platform did not act on).
CREATE UNIQUE INDEX referrals_one_open ON referrals (item_id, platform_id)
    WHERE status IN ('draft', 'sent', 'acknowledged', 'disputed', 'impossible');
CREATE UNIQUE INDEX referrals_one_per_kind ON referrals (item_id, platform_id, kind)
    WHERE status <> 'withdrawn';
CREATE INDEX referrals_platform ON referrals (platform_id, id);
CREATE INDEX referrals_status ON referrals (status, id);

-- Every status change, with the time it happened (which the order's
-- clock is computed from).
CREATE TABLE referral_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    referral_id INTEGER NOT NULL REFERENCES referrals (id) ON DELETE CASCADE,
    at INTEGER NOT NULL,
    event TEXT NOT NULL,
    from_status TEXT NOT NULL,
    to_status TEXT NOT NULL,
    actor TEXT NOT NULL,
    detail TEXT
);
CREATE INDEX referral_events_referral ON referral_events (referral_id, id);

CREATE TABLE delivery_attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    referral_id INTEGER NOT NULL REFERENCES referrals (id) ON DELETE CASCADE,
    at INTEGER NOT NULL,
    -- delivered, retry, failed
    outcome TEXT NOT NULL,
    http_status INTEGER,
    error TEXT,
    next_retry_at INTEGER
);
CREATE INDEX delivery_attempts_referral ON delivery_attempts (referral_id, id);

-- A referral of kind removal_order: its Annex I fields (JSON), and what
-- its clock starts from.
CREATE TABLE removal_orders (
    referral_id INTEGER PRIMARY KEY REFERENCES referrals (id) ON DELETE CASCADE,
    reference_number TEXT NOT NULL,
    annex_i TEXT NOT NULL,
    emergency INTEGER NOT NULL,
    -- The host's first order, not an emergency: 12 hours' notice.
    notice_first INTEGER NOT NULL,
    received_at INTEGER
);
CREATE INDEX removal_orders_reference ON removal_orders (reference_number);

-- Annex II feedback and Annex III impossibility, from the platform or
-- entered by hand.
CREATE TABLE referral_responses (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    referral_id INTEGER NOT NULL REFERENCES referrals (id) ON DELETE CASCADE,
    -- annex_ii, annex_iii
    kind TEXT NOT NULL,
    -- Annex II: removed, disabled; and when.
    measure TEXT,
    measure_at INTEGER,
    -- Annex III: the reason code and explanation.
    reason TEXT,
    explanation TEXT,
    authority_file_ref TEXT,
    platform_file_ref TEXT,
    received_at INTEGER,
    -- platform, manual
    source TEXT NOT NULL,
    actor TEXT NOT NULL,
    at INTEGER NOT NULL
);
CREATE INDEX referral_responses_referral ON referral_responses (referral_id, id);

CREATE TABLE liveness_checks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    item_id INTEGER NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    referral_id INTEGER REFERENCES referrals (id) ON DELETE SET NULL,
    checked_at INTEGER NOT NULL,
    http_status INTEGER,
    -- live, removed, unavailable, changed
    state TEXT NOT NULL,
    evidence_sha256 TEXT,
    detail TEXT
);
CREATE INDEX liveness_checks_item ON liveness_checks (item_id, id);

-- Per item: what the checks found, so that a report can bound the time of
-- removal (after the last check that saw it live, at or before the first
-- that saw it gone).
CREATE TABLE item_liveness (
    item_id INTEGER PRIMARY KEY REFERENCES items (id) ON DELETE CASCADE,
    checks INTEGER NOT NULL,
    last_checked_at INTEGER NOT NULL,
    last_state TEXT NOT NULL,
    last_seen_live_at INTEGER,
    first_seen_removed_at INTEGER
);
CREATE INDEX item_liveness_due ON item_liveness (last_checked_at);
