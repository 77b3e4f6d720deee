-- Goals (issue 17, item 4): a skill may have a target level and a target date.
--
-- Columns of the skill, not a table of their own: a goal change is a skill write like any other (the
-- same statement bumps the version, logs the change, and the goal is part of the skill's JSON, so
-- its ETag, the sync snapshot and the export carry it without a join).
--
-- goal_reached_at is recorded by the write statement whose level change reaches the target (it is
-- that statement's now(), the created_at of the history row it writes). Superseded levels (offline
-- edits that lost) are history rows only: they never update the skill, so they can never reach a goal.
ALTER TABLE skills
    ADD COLUMN goal_level smallint,
    ADD COLUMN goal_date date,
    ADD COLUMN goal_reached_at timestamptz;

-- NOT VALID: the columns are new, so every existing row is NULL and holds all three; skipping the
-- validation scan keeps the migration's lock on skills to a catalogue update at any table size. The
-- constraints are enforced for every write from now on.
--   * a goal is whole (level and date together); only a goal can be reached;
--   * an open goal is always above the skill's level: setting one at or below the level is refused,
--     and a level change that reaches it stamps goal_reached_at in the same statement. So "reached"
--     means a level-up got there, never that the goal was set low.
ALTER TABLE skills
    ADD CONSTRAINT skills_goal_level_range CHECK (goal_level BETWEEN 2 AND 10) NOT VALID,
    ADD CONSTRAINT skills_goal_whole CHECK ((goal_level IS NULL) = (goal_date IS NULL)
                                            AND (goal_reached_at IS NULL OR goal_level IS NOT NULL)) NOT VALID,
    ADD CONSTRAINT skills_goal_above_level CHECK (goal_level IS NULL OR goal_reached_at IS NOT NULL
                                                  OR goal_level > level) NOT VALID;

-- GET /me/goals pages one user's goals by (goal_date, id), and the digest probes a user's open goals
-- by date: both are ranges of this index, which holds only the skills that have a goal.
CREATE INDEX skills_goals_idx ON skills (owner_id, goal_date, id) WHERE goal_level IS NOT NULL;
