-- Accounts for real people (issue 15): verified e-mail, recovery, devices, a security log, deletion,
-- and suppressed addresses.

-- When the current e-mail address was proven (a mailed link was used); NULL = unverified. Digests go
-- only to verified addresses.
ALTER TABLE users ADD COLUMN email_verified_at timestamptz;

-- Single-use mailed tokens: 256 random bits, stored only as SHA-256 (as refresh tokens are). ``email``
-- is the address the link was mailed to: a verification counts only while it is still the user's.
CREATE TABLE account_tokens (
    token_hash bytea PRIMARY KEY CHECK (octet_length(token_hash) = 32),
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose    text NOT NULL CHECK (purpose IN ('verify_email', 'reset_password', 'change_email')),
    email      text NOT NULL,  -- for change_email: the new address, which becomes the user's once proven
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);
-- A new link of a purpose supersedes the user's older unused ones; the purge walks expires_at.
CREATE INDEX account_tokens_user_idx ON account_tokens (user_id, purpose) WHERE used_at IS NULL;
CREATE INDEX account_tokens_expires_idx ON account_tokens (expires_at);

-- Addresses SES reported as bouncing (permanently) or complaining: nothing is sent to them again.
-- Keyed on the lower-cased address, not the user: a new account with the address stays suppressed.
CREATE TABLE email_suppressions (
    email         text PRIMARY KEY CHECK (email = lower(email)),
    reason        text NOT NULL CHECK (reason IN ('bounce', 'complaint')),
    feedback_id   text,
    suppressed_at timestamptz NOT NULL DEFAULT now()
);

-- Sessions as devices: each refresh family is one device, named from its user agent (or a label the
-- client sent), with where it signed in (IP prefix, never the full address) and when it was last used.
ALTER TABLE refresh_families ADD COLUMN device_name text CHECK (char_length(device_name) <= 100);
ALTER TABLE refresh_families ADD COLUMN ip_prefix text CHECK (char_length(ip_prefix) <= 64);
ALTER TABLE refresh_families ADD COLUMN last_used_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE refresh_families DROP CONSTRAINT refresh_families_revoked_reason_check;
ALTER TABLE refresh_families ADD CONSTRAINT refresh_families_revoked_reason_check
    CHECK (revoked_reason IN ('logout', 'logout_all', 'password_change', 'reuse', 'password_reset', 'device_revoked'));

-- The sign-in (refresh family) a WebSocket was opened under, so signing a device out closes its sockets.
ALTER TABLE ws_connections ADD COLUMN session_id uuid;
CREATE INDEX ws_connections_session_idx ON ws_connections (session_id) WHERE session_id IS NOT NULL;

-- What happened to an account, for its owner to read (GET /me/security-events). A deleted account's
-- log goes with it (the user asked for their data to be erased); username_tombstones records the deletion.
CREATE TABLE security_events (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind        text NOT NULL CHECK (kind IN ('sign_in', 'sign_in_failed', 'password_changed', 'password_reset',
                                              'password_reset_requested', 'email_verified', 'session_revoked',
                                              'sessions_revoked', 'email_changed', 'username_changed')),
    session_id  uuid,          -- the sign-in it concerns (the new one for sign_in, the revoked one, …)
    ip_prefix   text CHECK (char_length(ip_prefix) <= 64),
    device_name text CHECK (char_length(device_name) <= 100),
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX security_events_user_idx ON security_events (user_id, id DESC);
CREATE INDEX security_events_created_idx ON security_events (created_at);

-- A deleted account's username, or a username its owner changed away from, stays reserved for a
-- while, so nobody can take over the old public profile link. ``user_id`` (no foreign key: the
-- account may be gone) lets the owner who changed it take it back.
CREATE TABLE username_tombstones (
    username      text PRIMARY KEY,
    user_id       uuid,
    deleted_at    timestamptz NOT NULL DEFAULT now(),
    reserved_until timestamptz NOT NULL
);
CREATE INDEX username_tombstones_reserved_idx ON username_tombstones (reserved_until);
