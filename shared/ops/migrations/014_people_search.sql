-- Finding people (issue 17): GET /users?q= over public profiles, by username and display name,
-- prefix and fuzzy.
--
-- Fuzzy matching is trigram similarity, the measure pg_trgm uses, built from core PostgreSQL only:
-- the embedded Postgres the tests and `make dev` run on (pgserver, PostgreSQL 16 from pip) ships
-- no contrib extensions, so `CREATE EXTENSION pg_trgm` fails there, and a search that needed it
-- would be tested against something other than what runs. search_trigrams() extracts trigrams the
-- way pg_trgm's show_trgm() does (lower-cased words of letters and digits, each padded with two
-- spaces before and one after); the trigram sets are stored beside the names (generated columns,
-- so every write path keeps them without knowing) and indexed with core GIN (array_ops).

CREATE FUNCTION search_trigrams(value text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT COALESCE(array_agg(DISTINCT substr('  ' || word || ' ', i, 3)), '{}')
    FROM regexp_split_to_table(lower(value), '[^[:alnum:]]+') AS word,
         generate_series(1, char_length(word) + 1) AS i
    WHERE word <> ''
$$;

-- |a ∩ b| for two trigram sets (each element once, as search_trigrams returns them).
CREATE FUNCTION search_shared(a text[], b text[]) RETURNS integer
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT count(*)::integer FROM unnest(a) AS gram WHERE gram = ANY (b)
$$;

-- The trigrams of a query that a match must share at least one of. Every match shares at least
-- k = ceil(0.3 * |q|) trigrams with the query (similarity >= 0.3 needs shared >= 0.3 * |q ∪ x|
-- >= 0.3 * |q|; coverage >= 0.6 needs more), so after dropping any k - 1 of the query's trigrams a
-- match still shares one of the rest: the probe loses no match. It drops the most common kind
-- first, the word starts ("  a", then " al"), which put a large share of all names in one bucket.
-- A query without a word of three characters (no trigram free of padding) probes nothing: "ab" or
-- "a b" is a prefix search, not a fuzzy one (it would make every name with such a word start a candidate).
CREATE FUNCTION search_probe(query text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    WITH q AS (SELECT search_trigrams(query) AS grams)
    SELECT COALESCE(array_agg(gram ORDER BY gram), '{}')
    FROM (SELECT gram, row_number() OVER (ORDER BY gram LIKE '  %' DESC, gram LIKE ' %' DESC, gram) AS n
          FROM q, unnest(q.grams) AS gram) ranked, q
    WHERE ranked.n > ceil(0.3 * cardinality(q.grams)) - 1
      AND EXISTS (SELECT 1 FROM unnest(q.grams) AS whole WHERE position(' ' IN whole) = 0)
$$;

-- Cost, measured on the embedded Postgres: search_trigrams takes ~45 µs a name, so a new user pays
-- ~0.1 ms and a bulk load of 100k users ~9 s more. An UPDATE that changes neither name (every
-- sync_version bump) recomputes nothing: PostgreSQL skips stored generated columns whose inputs a
-- row UPDATE leaves alone (users has no BEFORE UPDATE trigger that would defeat it). Adding the
-- columns rewrites users under an exclusive lock: 5.5 s for 100k users, plus 2.4 s for the GIN
-- indexes; within migrate's 120 s per statement up to about 1M users, beyond that a maintenance window.
ALTER TABLE users ADD COLUMN search_username_grams text[] GENERATED ALWAYS AS (search_trigrams(username)) STORED;
ALTER TABLE users ADD COLUMN search_display_grams text[] GENERATED ALWAYS AS (search_trigrams(display_name)) STORED;

-- Public profiles only (partial indexes with the predicate the search repeats): a private
-- profile is not even in the indexes the search reads.
CREATE INDEX users_search_username_prefix_idx ON users (lower(username) text_pattern_ops)
    WHERE privacy_settings->>'profile_visibility' = 'public';
CREATE INDEX users_search_display_prefix_idx ON users (lower(display_name) text_pattern_ops)
    WHERE privacy_settings->>'profile_visibility' = 'public';
CREATE INDEX users_search_username_trgm_idx ON users USING gin (search_username_grams)
    WHERE privacy_settings->>'profile_visibility' = 'public';
CREATE INDEX users_search_display_trgm_idx ON users USING gin (search_display_grams)
    WHERE privacy_settings->>'profile_visibility' = 'public';

-- Without statistics on the visibility expression the planner guesses it matches 0.5% of users
-- (the default for an unknown equality), finds the partial indexes "small" and reads one of them
-- whole instead of probing all four. Expression statistics (PostgreSQL 14+) give it the real share.
CREATE STATISTICS users_visibility_stats ON (privacy_settings->>'profile_visibility') FROM users;

-- Leaderboard opt-out (issue 17): privacy_settings.leaderboard = 'hidden' keeps a public profile off
-- every leaderboard; it stays visible, searchable and shareable (that is profile_visibility's job).
-- The boards read skill_scores.public (migration 011), which 011's triggers keep equal to
-- atribuo_profile_is_public(privacy_settings), its only use; from here on that copy means "shown on
-- the leaderboards": public AND not hidden. Redefining the one function keeps 011's triggers, their
-- WHEN clause and skill_scores_rebuild() as they are; nothing was hidden before, so no row changes.
CREATE OR REPLACE FUNCTION atribuo_profile_is_public(settings jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN coalesce(settings->>'profile_visibility' = 'public', false)
       AND coalesce(settings->>'leaderboard', 'listed') <> 'hidden';
