-- Cross-device sync (issue 5), laid down with the foundation so every write path is built for it.
-- Every mutation of a user's data increments users.sync_version and appends one row to `changes`
-- in the same statement/transaction; deletes are tombstones (op = 'delete', data NULL).

ALTER TABLE users ADD COLUMN sync_version bigint NOT NULL DEFAULT 0;
-- Versions below this were compacted away: a client behind it gets a full snapshot instead.
ALTER TABLE users ADD COLUMN changes_compacted_before bigint NOT NULL DEFAULT 0;

CREATE TABLE changes (
    owner_id   uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    version    bigint NOT NULL,
    entity     text NOT NULL CHECK (entity IN ('skill', 'profile')),
    entity_id  uuid NOT NULL,
    op         text NOT NULL CHECK (op IN ('upsert', 'delete')),
    data       jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (owner_id, version)
);

-- Offline batches: each client operation id is applied once per user; replays return the stored result.
CREATE TABLE applied_operations (
    owner_id   uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    op_id      text NOT NULL CHECK (char_length(op_id) BETWEEN 1 AND 100),
    result     jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (owner_id, op_id)
);
