-- Achievements (issue 17 item 1). The catalogue lives in code (shared.models.achievements); the
-- database holds who earned what, and enforces "exactly once": one row per (user, code), inserted
-- with ON CONFLICT DO NOTHING by every path that awards (skill writes, offline batches, import,
-- the backfill), so retries, replays and two devices at once can never award twice.

CREATE TABLE user_achievements (
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code       text NOT NULL CHECK (code ~ '^[a-z0-9_]{1,50}$'),
    -- The change log's entity_id for this award (changes.entity_id is a uuid).
    public_id  uuid NOT NULL DEFAULT gen_random_uuid(),
    awarded_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT user_achievements_once PRIMARY KEY (user_id, code)
);
CREATE UNIQUE INDEX user_achievements_public_id_key ON user_achievements (public_id);
-- The rarity count (maintenance) reads code alone.
CREATE INDEX user_achievements_code_idx ON user_achievements (code);

-- Each award is a change-log entry (entity 'achievement', entity_id = public_id): pushed to the
-- user's devices, delivered by GET /sync.
ALTER TABLE changes DROP CONSTRAINT changes_entity_check;
ALTER TABLE changes ADD CONSTRAINT changes_entity_check
    CHECK (entity IN ('skill', 'profile', 'conflict', 'achievement'));

-- Rarity: the share of all users holding each achievement, recomputed by the daily maintenance run
-- (an aggregate over every user, so never per request). ``holders``/``users`` stay in here; the API
-- shows only a rounded share, and none below settings.achievement_rarity_min_holders holders.
CREATE TABLE achievement_rarity (
    code        text PRIMARY KEY,
    holders     integer NOT NULL CHECK (holders >= 0),
    users       integer NOT NULL CHECK (users >= 0),
    computed_at timestamptz NOT NULL DEFAULT now()
);

-- The one-off backfill of the users who existed before achievements (a maintenance step): users
-- created before ``cutoff`` (this migration) are awarded what their rows already earn; later users
-- earn theirs with their writes. The walk's position is kept, so a run that stops for time carries
-- on and a finished walk costs one read. Awarding is idempotent (the primary key above), so running
-- it twice, or again from the start, awards nothing twice. No row: nothing to backfill.
CREATE TABLE achievement_backfill (
    id           boolean PRIMARY KEY DEFAULT true CHECK (id),
    cutoff       timestamptz NOT NULL DEFAULT now(),
    resume_after uuid NOT NULL DEFAULT '00000000-0000-0000-0000-000000000000',
    finished_at  timestamptz
);
INSERT INTO achievement_backfill DEFAULT VALUES;
