-- Refresh tokens (issue 3): opaque random tokens, stored only as their SHA-256, grouped in families.
-- A family is one sign-in on one device; every refresh rotates the token inside its family. Reusing a
-- token that was rotated more than the grace window ago means it leaked: the whole family is revoked.

CREATE TABLE refresh_families (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id        uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at     timestamptz NOT NULL DEFAULT now(),
    revoked_at     timestamptz,
    -- why it ended: 'logout', 'logout_all', 'password_change', 'reuse'
    revoked_reason text CHECK (revoked_reason IN ('logout', 'logout_all', 'password_change', 'reuse'))
);
-- logout-all and password change revoke the live families of one user.
CREATE INDEX refresh_families_live_user_idx ON refresh_families (user_id) WHERE revoked_at IS NULL;

CREATE TABLE refresh_tokens (
    token_hash   bytea PRIMARY KEY CHECK (octet_length(token_hash) = 32),  -- sha256(token); never the token
    family_id    uuid NOT NULL REFERENCES refresh_families (id) ON DELETE CASCADE,
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    parent_hash  bytea,                      -- the token this one replaced (NULL for a sign-in)
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    -- set by the first refresh that used this token; a second use within the grace window still
    -- succeeds (two tabs refreshing at once), a use after it revokes the family.
    rotated_at   timestamptz,
    -- idle expiry: each rotation issues a token valid for another 30 days
    expires_at   timestamptz NOT NULL
);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
-- For the periodic purge of expired tokens.
CREATE INDEX refresh_tokens_expires_idx ON refresh_tokens (expires_at);
