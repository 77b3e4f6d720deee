-- Finding people (issue 17): GET /users?q= over public profiles, by username and display name,
-- prefix and fuzzy.
--
-- Fuzzy matching is trigram similarity, the measure pg_trgm uses, built from core PostgreSQL only:
-- the embedded Postgres the tests and `make dev` run on (pgserver, PostgreSQL 16 from pip) ships
-- no contrib extensions, so `CREATE EXTENSION pg_trgm` fails there, and a search that needed it
-- would be tested against something other than what runs. search_trigrams() extracts trigrams the
-- way pg_trgm's show_trgm() does (lower-cased words of letters and digits, each padded with two
-- spaces before and one after); a GIN index over the text[] it returns (core array_ops) finds the
-- rows sharing a trigram with the query (&&), and the statement scores those candidates.

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

-- Public profiles only (partial indexes with the predicate the search repeats): a private
-- profile is not even in the indexes the search reads.
CREATE INDEX users_search_username_prefix_idx ON users (lower(username) text_pattern_ops)
    WHERE privacy_settings->>'profile_visibility' = 'public';
CREATE INDEX users_search_display_prefix_idx ON users (lower(display_name) text_pattern_ops)
    WHERE privacy_settings->>'profile_visibility' = 'public';
CREATE INDEX users_search_username_trgm_idx ON users USING gin (search_trigrams(username))
    WHERE privacy_settings->>'profile_visibility' = 'public';
CREATE INDEX users_search_display_trgm_idx ON users USING gin (search_trigrams(display_name))
    WHERE privacy_settings->>'profile_visibility' = 'public';

-- Without statistics on the visibility expression the planner guesses it matches 0.5% of users
-- (the default for an unknown equality), finds the partial indexes "small" and reads one of them
-- whole instead of probing all four. Expression statistics (PostgreSQL 14+) give it the real share.
CREATE STATISTICS users_visibility_stats ON (privacy_settings->>'profile_visibility') FROM users;
