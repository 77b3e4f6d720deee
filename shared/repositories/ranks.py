"""SQL for rank depth (issue 17): my rank, the window around me, board pages past the top 100 and
the character-level distribution. One statement per function, all on the maintained scores of
migration 011 (``skill_scores``) and its board index ``skill_scores_board_idx (category, score DESC,
username) WHERE public`` — where ``public`` means *listed*: a public profile not opted out of the
leaderboards (migration 014). Private and opted-out users have no entry in that index, so they
are in no count, window, page or distribution taken from it.

Ranks follow the board (``profiles.LEADERBOARD``): the order is ``score DESC, username`` and the
rank is competition style, ``1 + the number of listed users with a strictly higher score`` (ties
share a rank; among ties the username decides only the order). My rank (``MY_RANKS``) sums the
rank histogram of migration 021 (``skill_score_counts``: listed users per board, score and shard,
kept by triggers on skill_scores) over the scores above mine: a range over distinct scores, not
over users. Windows and pages rank their entries the same way (once per distinct score in them), and
the distribution sums the same histogram: no statement here counts users.

Keyset walks use the board order, which mixes directions (score DESC, username ASC), so "after
(s, u)" is two index ranges in order: ``score = s AND username > u`` then ``score < s``; each is a
bounded index scan (LIMIT), and their union is one ordered page.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from shared.repositories.sql import Row

if TYPE_CHECKING:
    import psycopg

LISTED = "atribuo_profile_is_public(u.privacy_settings)"  # migration 014: public AND not opted out
_COLUMNS = "b.owner_id, b.score, b.skill_count, b.username"
_BOARD = "b.category = %(board)s AND b.public"

# A page of the board after (after_score, after_username), in board order, at most %(limit)s entries.
_AFTER = f"""
    SELECT * FROM (
        (SELECT {_COLUMNS} FROM skill_scores b
         WHERE {_BOARD} AND b.score = %(after_score)s::int AND b.username > %(after_username)s::text
         ORDER BY b.score DESC, b.username LIMIT %(limit)s)
        UNION ALL
        (SELECT {_COLUMNS} FROM skill_scores b
         WHERE {_BOARD} AND b.score < %(after_score)s::int
         ORDER BY b.score DESC, b.username LIMIT %(limit)s)
    ) x ORDER BY score DESC, username LIMIT %(limit)s"""


def _ranked(window: str) -> str:
    """Entries of ``window`` (a board-ordered set of skill_scores rows: owner_id, score, skill_count,
    username) with their board-wide ranks and the fields of a board entry.

    An entry's rank is 1 + the listed users scoring strictly above it (ties share a rank): the sum of
    the rank histogram (migration 021) over the scores above, looked up once per distinct score of the
    window, so a page's ranks cost O(its distinct scores x the scores above), never O(users ahead).
    The users join re-tests "listed" (a drifted copy could only shorten a window, never show a
    private or opted-out profile)."""
    return f"""
WITH w AS ({window}),
ranks AS (SELECT s.score, 1 + (SELECT coalesce(sum(h.users), 0)::int FROM skill_score_counts h
                               WHERE h.category = %(board)s AND h.score > s.score) AS rank
          FROM (SELECT DISTINCT score FROM w) s)
SELECT r.rank, u.username, u.display_name, u.avatar_url, u.avatar_urls, w.score, w.skill_count,
       t.score AS total_level
FROM w JOIN ranks r ON r.score = w.score
JOIN users u ON u.id = w.owner_id
JOIN skill_scores t ON t.owner_id = w.owner_id AND t.category = ''
WHERE {LISTED}
ORDER BY w.score DESC, w.username
"""


BOARD_PAGE = _ranked(_AFTER)

# My entry on a board (none when I am not listed or have no score there), then the five above and
# the five below me in board order: four bounded index scans around my key.
_NEAR = 5
_ME = f"""
    SELECT {_COLUMNS} FROM skill_scores b JOIN users u ON u.id = b.owner_id
    WHERE b.owner_id = %(owner_id)s AND {_BOARD} AND {LISTED}"""
AROUND = _ranked(f"""
    WITH me AS ({_ME}),
    above AS (
        SELECT * FROM (
            (SELECT {_COLUMNS} FROM skill_scores b
             WHERE {_BOARD} AND b.score = (SELECT score FROM me) AND b.username < (SELECT username FROM me)
             ORDER BY b.score, b.username DESC LIMIT {_NEAR})
            UNION ALL
            (SELECT {_COLUMNS} FROM skill_scores b
             WHERE {_BOARD} AND b.score > (SELECT score FROM me)
             ORDER BY b.score, b.username DESC LIMIT {_NEAR})
        ) x ORDER BY score, username DESC LIMIT {_NEAR}),
    below AS (
        SELECT * FROM (
            (SELECT {_COLUMNS} FROM skill_scores b
             WHERE {_BOARD} AND b.score = (SELECT score FROM me) AND b.username > (SELECT username FROM me)
             ORDER BY b.score DESC, b.username LIMIT {_NEAR})
            UNION ALL
            (SELECT {_COLUMNS} FROM skill_scores b
             WHERE {_BOARD} AND b.score < (SELECT score FROM me)
             ORDER BY b.score DESC, b.username LIMIT {_NEAR})
        ) x ORDER BY score DESC, username LIMIT {_NEAR})
    SELECT * FROM above UNION ALL SELECT * FROM me UNION ALL SELECT * FROM below""")

# My score on every board I have one on, with my rank where I am listed: per board (at most 1 + the
# number of categories), the sum of the rank histogram (migration 021) over the scores above mine, a
# primary-key range of skill_score_counts bounded by the distinct scores above me (times its four
# shards), whatever the number of users ahead. The histogram counts exactly the board index's entries
# (skill_scores.public), so the rank is the same "1 + listed users with a strictly higher score".
MY_RANKS = f"""
SELECT u.sync_version, u.privacy_settings, {LISTED} AS listed, s.category, s.score, s.skill_count,
       CASE WHEN s.public AND {LISTED} THEN
           1 + (SELECT coalesce(sum(h.users), 0)::int FROM skill_score_counts h
                WHERE h.category = s.category AND h.score > s.score) END AS rank
FROM users u
LEFT JOIN skill_scores s ON s.owner_id = u.id
WHERE u.id = %(owner_id)s
"""

# Whether I am listed at all (for the reason an around-me window is empty).
LISTED_ME = f"SELECT u.privacy_settings, {LISTED} AS listed FROM users u WHERE u.id = %(owner_id)s"

# Listed users per character level (1 + floor(sqrt(total level)), shared.public.character) on the
# overall board: read from the rank histogram (it counts exactly the overall board's entries), so
# O(distinct total levels), not O(listed users); the view caches it like a board.
DISTRIBUTION = """
SELECT 1 + floor(sqrt(h.score))::int AS character_level, sum(h.users)::int AS users
FROM skill_score_counts h
WHERE h.category = ''
GROUP BY 1
ORDER BY 1
"""


def board_page(conn: psycopg.Connection, category: str | None, after: tuple[int, str], limit: int) -> list[Row]:
    """The board entries (with board-wide ranks) after the key ``(score, username)``, in order."""
    return conn.execute(BOARD_PAGE, {"board": category or "", "after_score": after[0], "after_username": after[1],
                                     "limit": limit}).fetchall()


def around(conn: psycopg.Connection, owner_id: uuid.UUID, category: str | None) -> list[Row]:
    """Up to five entries above me, me, and up to five below, in board order with their ranks;
    empty when I am not on this board (not listed, or no score on it)."""
    return conn.execute(AROUND, {"board": category or "", "owner_id": owner_id}).fetchall()


def my_ranks(conn: psycopg.Connection, owner_id: uuid.UUID) -> list[Row]:
    """One row per board I have a score on (``category`` '' is overall; one row with ``category``
    None when I have no skills), with ``rank`` (None unless listed), ``listed``, ``privacy_settings``
    and ``sync_version``; no row when the account is gone."""
    return conn.execute(MY_RANKS, {"owner_id": owner_id}).fetchall()


def listed(conn: psycopg.Connection, owner_id: uuid.UUID) -> Row | None:
    """``{privacy_settings, listed}`` of a user, or None when the account is gone."""
    return conn.execute(LISTED_ME, {"owner_id": owner_id}).fetchone()


def distribution(conn: psycopg.Connection) -> list[Row]:
    """``[{character_level, users}]`` of the listed users on the overall board, by level."""
    return conn.execute(DISTRIBUTION).fetchall()
