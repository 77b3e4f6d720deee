-- Offline batches resolve conflicts last-write-wins, and nothing is lost (issue 5):
-- * a level that lost is kept in the skill's level history as a `superseded` row (it never became
--   the skill's level, so the digest and stats ignore it, but the history shows it);
-- * every conflict, whichever side won, is logged with both values in `sync_conflicts`.

ALTER TABLE skill_progress ADD COLUMN superseded boolean NOT NULL DEFAULT false;

CREATE TABLE sync_conflicts (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    owner_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    entity      text NOT NULL CHECK (entity IN ('skill', 'profile')),
    entity_id   uuid NOT NULL,
    op_id       text NOT NULL,
    resolution  text NOT NULL CHECK (resolution IN ('incoming_won', 'stored_won')),
    winner      jsonb,
    loser       jsonb,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sync_conflicts_owner_idx ON sync_conflicts (owner_id, created_at DESC);
