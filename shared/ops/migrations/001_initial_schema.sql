-- The schema from the product documents: users, their skills, and each skill's level history.

CREATE TABLE users (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    username         text NOT NULL CHECK (username ~ '^[a-z0-9_]{3,30}$'),
    email            text NOT NULL CHECK (char_length(email) <= 320),
    password_hash    text NOT NULL,
    display_name     text CHECK (char_length(display_name) <= 100),
    avatar_url       text,
    bio              text CHECK (char_length(bio) <= 2000),
    privacy_settings jsonb NOT NULL DEFAULT '{"profile_visibility": "public"}'::jsonb,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
-- Case-insensitive uniqueness: "Alice" and "alice" are the same account.
CREATE UNIQUE INDEX users_username_key ON users (lower(username));
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

CREATE TABLE skills (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    owner_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name        text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    category    text NOT NULL CHECK (char_length(category) BETWEEN 1 AND 50),
    level       smallint NOT NULL CHECK (level BETWEEN 1 AND 10),
    description text CHECK (char_length(description) <= 2000),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX skills_owner_idx ON skills (owner_id);
CREATE INDEX skills_owner_category_idx ON skills (owner_id, category);
CREATE UNIQUE INDEX skills_owner_name_key ON skills (owner_id, lower(name));

CREATE TABLE skill_progress (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    skill_id       uuid NOT NULL REFERENCES skills (id) ON DELETE CASCADE,
    -- owner_id is denormalised so a user's timeline and the weekly digest need no join to skills.
    owner_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    previous_level smallint CHECK (previous_level BETWEEN 1 AND 10),
    new_level      smallint NOT NULL CHECK (new_level BETWEEN 1 AND 10),
    note           text CHECK (char_length(note) <= 500),
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX skill_progress_skill_idx ON skill_progress (skill_id, created_at DESC);
CREATE INDEX skill_progress_owner_idx ON skill_progress (owner_id, created_at DESC);
