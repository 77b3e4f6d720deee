-- Scale (issue 14): every request costs O(its page), not O(all users).

-- 1. Maintained leaderboard scores. One row per (user, category) the user has skills in, plus one
-- row per user with category '' for the overall board (a skill's category is 1-50 characters, so ''
-- is never a real one). score = sum of levels, skill_count = number of skills; a row whose count
-- drops to 0 is deleted. username and public are copies of the owner's, so a board's top-N (and a
-- rank) reads one index and never joins users to filter or order. Triggers keep it exact in the
-- same transaction as the write (see docs/skills.md, "Leaderboards"):
-- * statement-level triggers on skills (transition tables) fold every insert/update/delete — REST
--   writes, offline batches, an account's ON DELETE CASCADE, COPY — into one upsert per
--   (owner, category) the statement touched, so no write statement had to change;
-- * a row trigger on users copies username and visibility when either changes.
CREATE TABLE skill_scores (
    owner_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    category    text NOT NULL,
    score       integer NOT NULL,
    skill_count integer NOT NULL,
    username    text NOT NULL,
    public      boolean NOT NULL,
    PRIMARY KEY (owner_id, category)
);
-- One board's order (score DESC, username), public profiles only: top-N is the first N entries, and
-- "how many public users score above S" is an index-only range count.
CREATE INDEX skill_scores_board_idx ON skill_scores (category, score DESC, username) WHERE public;

-- The one definition of a public profile that the copies use (the public reads test the same).
CREATE FUNCTION atribuo_profile_is_public(settings jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN coalesce(settings->>'profile_visibility' = 'public', false);

-- Add per-(owner, category) deltas (and their per-owner sums to the overall row ''), then drop
-- rows left without skills. Rows are upserted in key order, so concurrent statements lock alike.
CREATE FUNCTION skill_scores_add(owners uuid[], categories text[], scores bigint[], counts bigint[])
RETURNS void LANGUAGE sql AS $$
    WITH d AS (
        SELECT * FROM unnest(owners, categories, scores, counts) AS d(owner_id, category, score, n)
    ), net AS (
        SELECT owner_id, category, sum(score) AS score, sum(n) AS n
        FROM (SELECT owner_id, category, score, n FROM d
              UNION ALL
              SELECT owner_id, '', sum(score), sum(n) FROM d GROUP BY owner_id) x
        GROUP BY owner_id, category
        HAVING sum(score) <> 0 OR sum(n) <> 0
    )
    INSERT INTO skill_scores AS s (owner_id, category, score, skill_count, username, public)
    SELECT net.owner_id, net.category, net.score, net.n, u.username, atribuo_profile_is_public(u.privacy_settings)
    FROM net JOIN users u ON u.id = net.owner_id
    ORDER BY net.owner_id, net.category
    ON CONFLICT (owner_id, category) DO UPDATE
        SET score = s.score + excluded.score, skill_count = s.skill_count + excluded.skill_count;
    DELETE FROM skill_scores s
    WHERE s.owner_id = ANY(owners) AND s.skill_count <= 0;
$$;

CREATE FUNCTION skill_scores_on_skills() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    o uuid[]; c text[]; s bigint[]; n bigint[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(owner_id), array_agg(category), array_agg(score), array_agg(cnt) INTO o, c, s, n
        FROM (SELECT owner_id, category, sum(level) AS score, count(*) AS cnt FROM new_rows GROUP BY 1, 2) d;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(owner_id), array_agg(category), array_agg(score), array_agg(cnt) INTO o, c, s, n
        FROM (SELECT owner_id, category, -sum(level) AS score, -count(*) AS cnt FROM old_rows GROUP BY 1, 2) d;
    ELSE
        SELECT array_agg(owner_id), array_agg(category), array_agg(score), array_agg(cnt) INTO o, c, s, n
        FROM (SELECT owner_id, category, sum(level) AS score, count(*) AS cnt FROM new_rows GROUP BY 1, 2
              UNION ALL
              SELECT owner_id, category, -sum(level), -count(*) FROM old_rows GROUP BY 1, 2) d;
    END IF;
    IF o IS NOT NULL THEN
        PERFORM skill_scores_add(o, c, s, n);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER skills_scores_insert AFTER INSERT ON skills REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION skill_scores_on_skills();
CREATE TRIGGER skills_scores_update AFTER UPDATE ON skills REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION skill_scores_on_skills();
CREATE TRIGGER skills_scores_delete AFTER DELETE ON skills REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION skill_scores_on_skills();

CREATE FUNCTION skill_scores_on_users() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE skill_scores SET username = NEW.username, public = atribuo_profile_is_public(NEW.privacy_settings)
    WHERE owner_id = NEW.id;
    RETURN NULL;
END $$;

CREATE TRIGGER users_scores_owner AFTER UPDATE OF username, privacy_settings ON users FOR EACH ROW
    WHEN (OLD.username IS DISTINCT FROM NEW.username
          OR atribuo_profile_is_public(OLD.privacy_settings) IS DISTINCT FROM atribuo_profile_is_public(NEW.privacy_settings))
    EXECUTE FUNCTION skill_scores_on_users();

-- Recompute every score from skills (the backfill below; also the repair for a store that was
-- loaded with triggers off, e.g. the scale benchmark's generator).
CREATE FUNCTION skill_scores_rebuild() RETURNS bigint LANGUAGE sql AS $$
    DELETE FROM skill_scores;
    INSERT INTO skill_scores (owner_id, category, score, skill_count, username, public)
    SELECT a.owner_id, a.category, a.score, a.n, u.username, atribuo_profile_is_public(u.privacy_settings)
    FROM (SELECT owner_id, coalesce(category, '') AS category, sum(level) AS score, count(*) AS n
          FROM skills GROUP BY GROUPING SETS ((owner_id, category), (owner_id))) a
    JOIN users u ON u.id = a.owner_id;
    SELECT count(*) FROM skill_scores;
$$;

SELECT skill_scores_rebuild();
