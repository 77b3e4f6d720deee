-- Rank histogram (issue 17, "Rank depth" in docs/scale.md): my rank without counting the users ahead.
--
-- Until now a rank was an index-only count of the board index entries above my score: O(rank), so
-- 279 ms for the last user at 100k. Here a maintained histogram holds, per board and score, how many
-- LISTED users have that score (listed = skill_scores.public: a public profile not opted out of the
-- leaderboards, migrations 011 and 014 — exactly the entries of skill_scores_board_idx). A rank is
-- then 1 + the sum over the histogram rows of my board with a higher score: an index range over
-- distinct scores (bounded by the score range and the shard count, never by the number of users).
--
-- Counter rows are sharded by owner (shard = a hash of owner_id, 0..3): users who share a score
-- (many do, low scores especially) update one of four rows rather than all one, so concurrent
-- writers rarely wait on each other. A user's shard is fixed, so each shard's count is exact on its
-- own (never negative) and a row whose count reaches 0 is deleted in the same statement.
--
-- Statement-level triggers on skill_scores (transition tables, as 011's on skills) fold every change
-- of a listed entry — a score change, a new or emptied board, a visibility or opt-out flip (011's
-- users trigger updates skill_scores.public), an account's ON DELETE CASCADE — into one upsert per
-- (category, score, shard) the statement touched, in key order (concurrent statements lock alike).
-- A username change leaves score and public alone: its net delta is 0 and nothing is written.
CREATE TABLE skill_score_counts (
    category text NOT NULL,
    score    integer NOT NULL,
    shard    smallint NOT NULL,
    users    integer NOT NULL,
    PRIMARY KEY (category, score, shard)
);

-- The shard of an owner's counter rows (one definition: the triggers and the rebuild use it).
CREATE FUNCTION skill_score_shard(owner uuid) RETURNS smallint
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN (hashtext(owner::text) & 3)::smallint;

-- Add per-(category, score, shard) deltas, then drop the touched rows left at 0 users.
CREATE FUNCTION skill_score_counts_add(categories text[], scores integer[], shards smallint[], deltas bigint[])
RETURNS void LANGUAGE sql AS $$
    INSERT INTO skill_score_counts AS h (category, score, shard, users)
    SELECT category, score, shard, delta
    FROM unnest(categories, scores, shards, deltas) AS d(category, score, shard, delta)
    ORDER BY category, score, shard
    ON CONFLICT (category, score, shard) DO UPDATE SET users = h.users + excluded.users;
    DELETE FROM skill_score_counts h
    USING unnest(categories, scores, shards) AS d(category, score, shard)
    WHERE h.category = d.category AND h.score = d.score AND h.shard = d.shard AND h.users <= 0;
$$;

CREATE FUNCTION skill_score_counts_on_scores() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    c text[]; s integer[]; h smallint[]; n bigint[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(category), array_agg(score), array_agg(shard), array_agg(delta) INTO c, s, h, n
        FROM (SELECT category, score, skill_score_shard(owner_id) AS shard, count(*) AS delta
              FROM new_rows WHERE public GROUP BY 1, 2, 3) d;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(category), array_agg(score), array_agg(shard), array_agg(delta) INTO c, s, h, n
        FROM (SELECT category, score, skill_score_shard(owner_id) AS shard, -count(*) AS delta
              FROM old_rows WHERE public GROUP BY 1, 2, 3) d;
    ELSE
        SELECT array_agg(category), array_agg(score), array_agg(shard), array_agg(delta) INTO c, s, h, n
        FROM (SELECT category, score, shard, sum(delta) AS delta
              FROM (SELECT category, score, skill_score_shard(owner_id) AS shard, 1 AS delta FROM new_rows WHERE public
                    UNION ALL
                    SELECT category, score, skill_score_shard(owner_id), -1 FROM old_rows WHERE public) x
              GROUP BY 1, 2, 3
              HAVING sum(delta) <> 0) d;
    END IF;
    IF c IS NOT NULL THEN
        PERFORM skill_score_counts_add(c, s, h, n);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER skill_scores_counts_insert AFTER INSERT ON skill_scores REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION skill_score_counts_on_scores();
CREATE TRIGGER skill_scores_counts_update AFTER UPDATE ON skill_scores
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION skill_score_counts_on_scores();
CREATE TRIGGER skill_scores_counts_delete AFTER DELETE ON skill_scores REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION skill_score_counts_on_scores();

-- Recount the histogram from skill_scores (the backfill below; also the repair after a load with
-- triggers off).
CREATE FUNCTION skill_score_counts_rebuild() RETURNS bigint LANGUAGE sql AS $$
    DELETE FROM skill_score_counts;
    INSERT INTO skill_score_counts (category, score, shard, users)
    SELECT category, score, skill_score_shard(owner_id), count(*)
    FROM skill_scores WHERE public
    GROUP BY 1, 2, 3;
    SELECT count(*) FROM skill_score_counts;
$$;

-- 011's rebuild of the scores now also recounts the histogram (the scale seed loads with triggers
-- off and calls it once at the end).
CREATE OR REPLACE FUNCTION skill_scores_rebuild() RETURNS bigint LANGUAGE sql AS $$
    DELETE FROM skill_scores;
    INSERT INTO skill_scores (owner_id, category, score, skill_count, username, public)
    SELECT a.owner_id, a.category, a.score, a.n, u.username, atribuo_profile_is_public(u.privacy_settings)
    FROM (SELECT owner_id, coalesce(category, '') AS category, sum(level) AS score, count(*) AS n
          FROM skills GROUP BY GROUPING SETS ((owner_id, category), (owner_id))) a
    JOIN users u ON u.id = a.owner_id;
    SELECT skill_score_counts_rebuild();
    SELECT count(*) FROM skill_scores;
$$;

SELECT skill_score_counts_rebuild();
