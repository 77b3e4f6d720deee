"""Migration 014's trigram functions on the real Postgres: pg_trgm's extraction, and a probe that
never loses a match (the index prefilter of GET /users?q=)."""

from __future__ import annotations

from shared.repositories.search import COVERAGE, SIMILARITY
from tests.support.skills import db_all, db_one

NAMES = ["alice", "Alice Smith", "alicia keys", "malice", "Carol Alison", "bob_smith", "Nguyễn Thị Phương",
         "jean-luc picard", "o'brien", "x", "Zoë Saldaña", "robert", "roberta", "bert", "smithson", "mr smith jr"]
QUERIES = ["alice", "alcie", "smith", "smiht", "rob", "robrt", "picard", "nguyen", "phuong", "zoe", "saldana",
           "lic", "ali", "bert", "o brien", "jean luc"]


def test_trigrams_are_extracted_as_pg_trgm_does():
    # pg_trgm's documentation: show_trgm('word') = {"  w"," wo","ord","rd ","wor"}
    assert db_one("SELECT search_trigrams('word') AS g")["g"] == ["  w", " wo", "ord", "rd ", "wor"]
    # lower-cased, one padded set per word of letters and digits, each trigram once
    assert db_one("SELECT search_trigrams('Ab-AB x1') AS g")["g"] == ["  a", "  x", " ab", " x1", "ab ", "x1 "]
    assert db_one("SELECT search_trigrams('-- !') AS g")["g"] == []
    assert db_one("SELECT search_trigrams(NULL) AS g")["g"] is None


def test_the_probe_keeps_every_match():
    """For every (query, name): a name that meets either threshold shares a trigram with the probe."""
    rows = db_all("""
        SELECT q, name, search_shared(search_trigrams(q), search_trigrams(name)) AS shared,
               cardinality(search_trigrams(q)) AS nq, cardinality(search_trigrams(name)) AS nx,
               search_trigrams(name) && search_probe(q) AS probed, cardinality(search_probe(q)) AS probe_size
        FROM unnest(%s::text[]) AS q, unnest(%s::text[]) AS name""", QUERIES, NAMES)
    assert len(rows) == len(QUERIES) * len(NAMES)
    matched = 0
    for row in rows:
        similar = row["shared"] / (row["nq"] + row["nx"] - row["shared"]) >= SIMILARITY
        covered = row["shared"] / row["nq"] >= COVERAGE
        if (similar or covered) and any(len(word) >= 3 for word in row["q"].split()):
            matched += 1
            assert row["probed"], row
        assert row["probe_size"] <= row["nq"]
    assert matched > 20  # the lists do hold matches: the property was exercised
    smaller = {r["q"] for r in rows if r["probe_size"] < r["nq"]}
    assert smaller >= {"alice", "smith", "picard"}  # the probe did drop word starts


def test_the_probe_is_empty_for_queries_too_short_to_be_fuzzy():
    for q in ("ab", "a b", "x1", "jo-an"):
        assert db_one("SELECT cardinality(search_probe(%s)) AS n", q)["n"] == 0, q
    assert db_one("SELECT search_probe('ann') AS g")["g"] == [" an", "ann", "nn "]  # k = 2: "  a" dropped
