-- Sign-in with Google, Discord and Facebook (issue 16).

-- An account may have no password: it signs in only through its linked identities. Password login
-- and password change refuse such an account (409 password_not_set); password recovery can add one.
ALTER TABLE users ALTER COLUMN password_hash DROP NOT NULL;

-- One row per external account that can sign in to a user: the provider's name and its stable subject
-- (the OpenID `sub`, Discord's / Facebook's user id). `email` is the address as the provider stated it
-- at the last sign-in and `email_verified` whether the provider said it had verified it; neither is
-- ever used to find the account again (the subject is), only to decide a first sign-in's auto-link.
CREATE TABLE user_identities (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id        uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    provider       text NOT NULL CHECK (provider ~ '^[a-z][a-z0-9_-]{0,31}$'),
    subject        text NOT NULL CHECK (char_length(subject) BETWEEN 1 AND 255),
    email          text CHECK (char_length(email) <= 320),
    email_verified boolean NOT NULL DEFAULT false,
    created_at     timestamptz NOT NULL DEFAULT now(),
    last_used_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT user_identities_provider_subject_key UNIQUE (provider, subject)
);
-- GET /me/identities and the "last way to sign in" count.
CREATE INDEX user_identities_user_idx ON user_identities (user_id);
