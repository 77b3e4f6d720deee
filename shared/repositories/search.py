"""SQL for finding people: public profiles by username and display name, prefix and fuzzy. One statement.

A profile matches when its username or display name starts with the query (``prefix``), or when it
is trigram-similar (``fuzzy``, migration 014's ``search_trigrams``): the query's trigrams ``Q`` against
the username's or display name's ``X``, a match when ``shared(Q, X) / union(Q, X) ≥ 0.3`` (pg_trgm's ``similarity``
and its default threshold) or ``shared(Q, X) / size(Q) ≥ 0.6`` (most of the query inside the name, as pg_trgm's
``word_similarity`` and its default threshold: "smith" finds "Alice Smith").

Candidates come from the indexes: the prefixes, or a stored trigram set sharing one of the query's
``search_probe`` trigrams (all of them but k - 1 word starts; a match must share k, see migration 014).
A query without a three-character word is a prefix search only.

Order: prefix matches first (rank 2), then fuzzy ones by their best score (rank 0.3…1, 4 decimals),
then username. Keyset pages over ``(rank, username)``; the cursor's sort name carries a hash of the
query, so a cursor is only good for the query that issued it. Every candidate comes out of the
partial indexes of migration 014 (two btree ``text_pattern_ops`` for the prefixes, two GIN for the
trigrams), which hold public profiles only; the statement repeats the visibility predicate, so a
private profile can never be a result.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from shared.repositories.cursors import decode_cursor, page
from shared.repositories.profiles import PUBLIC
from shared.repositories.sql import Row

if TYPE_CHECKING:
    import psycopg

SIMILARITY, COVERAGE = 0.3, 0.6  # pg_trgm's default similarity_threshold and word_similarity_threshold
PREFIX_RANK = Decimal(2)

# |q ∩ x| inline (a sub-select runs several times faster per row than a call of SQL function search_shared)
_SHARED = "(SELECT count(*) FROM unnest(u.search_{}_grams) AS gram WHERE gram = ANY (q.grams))::int"
_PREFIX = "(lower(u.username) LIKE %(pattern)s OR lower(u.display_name) LIKE %(pattern)s)"
_CANDIDATES = """
    SELECT u.id, u.username, u.display_name, u.avatar_url, u.avatar_urls,
           {prefix} AS prefix,
           CASE WHEN {prefix} THEN 0 ELSE {shared_username} END AS su,
           cardinality(u.search_username_grams) AS nu,
           CASE WHEN {prefix} THEN 0 ELSE {shared_display} END AS sd,
           COALESCE(cardinality(u.search_display_grams), 0) AS nd, cardinality(q.grams) AS nq
    FROM users u, (SELECT search_trigrams(%(q)s::text) AS grams) q
    WHERE {public}
      AND ({prefix}
           OR u.search_username_grams && search_probe(%(q)s::text)
           OR u.search_display_grams && search_probe(%(q)s::text))
"""
_SIMILAR = "s.{x}::numeric / NULLIF(s.nq + s.n{y} - s.{x}, 0)"
SEARCH = f"""
WITH scored AS ({_CANDIDATES.format(public=PUBLIC, prefix=_PREFIX, shared_username=_SHARED.format("username"),
                                    shared_display=_SHARED.format("display"))}),
ranked AS (
    SELECT s.*, CASE WHEN s.prefix THEN 2 ELSE round(greatest(
               {_SIMILAR.format(x="su", y="u")}, {_SIMILAR.format(x="sd", y="d")},
               greatest(s.su, s.sd)::numeric / NULLIF(s.nq, 0)), 4) END AS rank
    FROM scored s
    WHERE s.prefix
       OR {_SIMILAR.format(x="su", y="u")} >= {SIMILARITY}
       OR {_SIMILAR.format(x="sd", y="d")} >= {SIMILARITY}
       OR greatest(s.su, s.sd)::numeric / NULLIF(s.nq, 0) >= {COVERAGE}
),
shown AS (
    SELECT * FROM ranked
    WHERE %(after_rank)s::numeric IS NULL OR rank < %(after_rank)s::numeric
       OR (rank = %(after_rank)s::numeric AND username > %(after_username)s::text)
    ORDER BY rank DESC, username
    LIMIT %(limit)s
)
SELECT jsonb_build_object(
           'id', s.username, 'username', s.username, 'display_name', s.display_name, 'avatar_url', s.avatar_url,
           'avatar_urls', s.avatar_urls,
           'match', CASE WHEN s.prefix THEN 'prefix' ELSE 'fuzzy' END, 'score', s.rank,
           'total_level', (SELECT COALESCE(sum(k.level), 0)::int FROM skills k WHERE k.owner_id = s.id)) AS item,
       s.rank::text AS k
FROM shown s
ORDER BY s.rank DESC, s.username
"""


def like_prefix(query: str) -> str:
    """A LIKE pattern matching what starts with ``query`` (lower-cased, its wildcards escaped)."""
    escaped = query.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


def sort_name(query: str) -> str:
    return "search:" + hashlib.sha256(query.lower().encode()).hexdigest()[:12]


def _rank(value: Any) -> Decimal:
    try:
        rank = Decimal(str(value))
    except InvalidOperation as exc:
        raise ValueError("not a rank") from exc
    if not rank.is_finite() or not (0 <= rank <= PREFIX_RANK):  # NaN would not even compare
        raise ValueError("not a rank")
    return rank


def _username(value: str) -> str:
    if not (3 <= len(value) <= 30):
        raise ValueError("not a username")
    return value


def search(conn: psycopg.Connection, query: str, *, limit: int = 20, cursor: str | None = None) -> dict[str, Any]:
    """``{"items", "next_cursor"}``: one page of public profiles matching ``query``, best first."""
    sort = sort_name(query)
    after_rank, after_username = decode_cursor(cursor, sort, _rank, _username)
    params = {"q": query, "pattern": like_prefix(query), "after_rank": after_rank,
              "after_username": after_username, "limit": limit + 1}
    rows: list[Row] = conn.execute(SEARCH, params).fetchall()
    result = page(rows, limit, sort)
    for item in result["items"]:
        del item["id"]
        item["score"] = float(item["score"])
    return result
