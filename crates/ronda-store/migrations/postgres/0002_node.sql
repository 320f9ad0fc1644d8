-- A random identity for the store, so that a node's index snapshot is used
-- only against the database it was taken from; and import progress beside
-- each import's checkpoint, for `/metrics`.

ALTER TABLE store_meta ADD COLUMN store_id TEXT NOT NULL DEFAULT '';
UPDATE store_meta SET store_id = replace(gen_random_uuid()::text, '-', '');

-- Which bank the import fills, records committed so far (across resumes),
-- bytes read of how many (NULL when the source has no known size), and
-- when it finished (an API source keeps its checkpoint for the next run).
ALTER TABLE import_checkpoints ADD COLUMN bank TEXT NOT NULL DEFAULT '';
ALTER TABLE import_checkpoints ADD COLUMN records BIGINT NOT NULL DEFAULT 0;
ALTER TABLE import_checkpoints ADD COLUMN bytes_done BIGINT;
ALTER TABLE import_checkpoints ADD COLUMN bytes_total BIGINT;
ALTER TABLE import_checkpoints ADD COLUMN finished_at BIGINT;
