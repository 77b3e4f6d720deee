-- Avatars on S3/R2 and weekly progress digests (issue 6).

-- The object key of the current avatar, so replacing or removing it deletes exactly that object even
-- if the public base URL (CDN) changes later. avatar_url stays the value clients read.
ALTER TABLE users ADD COLUMN avatar_key text CHECK (avatar_key ~ '^avatars/[0-9a-f-]{36}/[0-9a-f]{32}\.(png|jpg|webp)$');

-- An IANA zone name ("Europe/Lisbon"); validated at the API edge (shared.timezones). The weekly
-- digest goes out on the user's local Monday at 08:00.
ALTER TABLE users ADD COLUMN timezone text NOT NULL DEFAULT 'UTC' CHECK (char_length(timezone) BETWEEN 1 AND 64);

-- A plain column rather than a key in privacy_settings: the planner filters on it (partial index
-- below), the unsubscribe link flips it with one UPDATE, and it cannot be dropped by a client that
-- rewrites the privacy_settings document.
ALTER TABLE users ADD COLUMN digest_opt_out boolean NOT NULL DEFAULT false;

-- The planner walks the users due at a given hour in keyset pages of (timezone, id).
CREATE INDEX users_digest_due_idx ON users (timezone, id) WHERE NOT digest_opt_out;

-- One row per user per ISO week: the final exactly-once guard. The worker claims the row
-- (INSERT … ON CONFLICT) before it sends, and records SES's message id after. A claim without a
-- message id older than the lease (a worker that died between claim and send) may be re-claimed.
CREATE TABLE digest_sends (
    user_id        uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    iso_year       smallint NOT NULL CHECK (iso_year BETWEEN 2000 AND 9999),
    iso_week       smallint NOT NULL CHECK (iso_week BETWEEN 1 AND 53),
    claimed_at     timestamptz NOT NULL DEFAULT now(),
    attempts       smallint NOT NULL DEFAULT 1,
    ses_message_id text,
    sent_at        timestamptz,
    summary        jsonb,
    CONSTRAINT digest_sends_once UNIQUE (user_id, iso_year, iso_week)
);
