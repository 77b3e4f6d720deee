"""Leave with your data (issue 15): GET /me/export and GET /me/export/history.csv through the handler."""

from __future__ import annotations

import csv
import io
import json

from functions.auth.app import handler
from functions.profiles.app import handler as profiles_handler
from functions.skills.app import handler as skills_handler
from shared.clients import db
from shared.identity import portability
from tests.functions.auth.test_app import bearer, register
from tests.support import http_event, invoke
from tests.support.skills import call as call_function


def export(pair: dict | None, path: str = "/api/v1/me/export"):
    return invoke(handler, http_event("GET", path, headers=bearer(pair) if pair else None))


def seed(pair: dict) -> None:
    """Two skills, three level changes (one note a spreadsheet would run), a superseded level, a conflict."""
    headers = bearer(pair)
    created = call_function(skills_handler, "POST", "/api/v1/skills", headers,
                            {"name": "Python", "category": "science", "level": 3, "note": "started"})
    assert created.status == 201, created
    python = created.json
    guitar = {"name": "Guitar", "category": "music", "level": 1}
    assert call_function(skills_handler, "POST", "/api/v1/skills", headers, guitar).status == 201
    for level, note in ((4, "=HYPERLINK(\"http://evil\")"), (5, "finally, \"quoted\"")):
        assert call_function(skills_handler, "PATCH", f"/api/v1/skills/{python['id']}", headers,
                             {"level": level, "note": note}).status == 200
    conn = db.get_conn()
    conn.execute("INSERT INTO skill_progress (skill_id, owner_id, previous_level, new_level, superseded)"
                 " VALUES (%s, %s, 5, 2, true)", (python["id"], pair["user"]["id"]))
    conn.execute("INSERT INTO sync_conflicts (owner_id, entity, entity_id, op_id, resolution, winner, loser)"
                 " VALUES (%s, 'skill', %s, 'op-1', 'stored_won', '{\"level\": 5}', '{\"level\": 2}')",
                 (pair["user"]["id"], python["id"]))


def test_the_export_holds_everything_and_is_one_valid_document():
    pair = register()
    seed(pair)
    response = export(pair)
    assert response.status == 200, response
    assert response.headers["content-disposition"] == 'attachment; filename="atribuo-quester.json"'
    assert response.headers["cache-control"] == "no-store"
    document = json.loads(response.body)
    assert document["format"] == "atribuo-export" and document["version"] == 1
    assert document["profile"]["username"] == "quester" and "password" not in response.body.decode()
    assert document["settings"] == {"privacy_settings": {"profile_visibility": "public"}, "timezone": "UTC",
                                    "digest_opt_out": False, "locale": None}
    assert sorted(s["name"] for s in document["skills"]) == ["Guitar", "Python"]
    history = document["history"]
    assert [(h["skill"], h["new_level"], h["superseded"]) for h in history] == [
        ("Python", 3, False), ("Guitar", 1, False), ("Python", 4, False), ("Python", 5, False), ("Python", 2, True)]
    assert [c["resolution"] for c in document["conflicts"]] == ["stored_won"]
    assert len(document["sessions"]) == 1 and document["sessions"][0]["revoked_at"] is None


def test_paging_changes_nothing_in_the_document(monkeypatch):
    pair = register()
    seed(pair)
    whole = json.loads(export(pair).body)
    monkeypatch.setattr(portability, "PAGE_ROWS", 2)
    paged = json.loads(export(pair).body)
    assert {k: v for k, v in paged.items() if k != "exported_at"} == \
        {k: v for k, v in whole.items() if k != "exported_at"}


def test_the_history_csv_has_a_row_per_change_and_defuses_formulas():
    pair = register()
    seed(pair)
    response = export(pair, "/api/v1/me/export/history.csv")
    assert response.status == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.body.decode())))
    assert len(rows) == 5 and list(rows[0]) == list(portability.CSV_COLUMNS)
    assert [r["superseded"] for r in rows].count("True") == 1
    notes = [r["note"] for r in rows]
    assert "'=HYPERLINK(\"http://evil\")" in notes and 'finally, "quoted"' in notes


def test_an_empty_account_exports_and_a_missing_one_is_401():
    pair = register()
    document = json.loads(export(pair).body)
    assert document["skills"] == document["history"] == document["conflicts"] == []
    assert export(None).status == 401
    db.get_conn().execute("DELETE FROM users")
    assert export(pair).status == 401
    assert export(pair, "/api/v1/me/export/history.csv").status == 401


# --- import ---------------------------------------------------------------------------------------

def sync_snapshot(pair: dict) -> dict:
    from functions.realtime.app import handler as realtime_handler

    response = invoke(realtime_handler, http_event("GET", "/api/v1/sync", headers=bearer(pair)))
    assert response.status == 200 and response.json["mode"] == "snapshot", response
    return response.json


def comparable(snapshot: dict) -> dict:
    """A snapshot without what differs between two accounts: ids, timestamps, versions, who."""
    skills = sorted(({k: v for k, v in s.items() if k not in ("id", "created_at", "updated_at")}
                     for s in snapshot["skills"]), key=lambda s: s["name"])
    settings = {k: snapshot["profile"][k] for k in portability.SETTINGS}
    achievements = sorted(a["code"] for a in snapshot["achievements"])
    return {"skills": skills, "settings": settings, "achievements": achievements}


def history(pair: dict) -> list[tuple]:
    rows = json.loads(export(pair).body)["history"]
    return [(h["skill"], h["previous_level"], h["new_level"], h["note"]) for h in rows if not h["superseded"]]


def test_export_then_import_into_a_new_account_gives_the_same_sync_snapshot():
    source = register("source")
    seed(source)
    assert call_function(profiles_handler, "PATCH", "/api/v1/me/profile", bearer(source),
                         {"timezone": "Asia/Jakarta"}).status == 200
    document = json.loads(export(source).body)
    target = register("target")
    version = sync_snapshot(target)["version"]
    response = invoke(handler, http_event("POST", "/api/v1/me/import", body=document, headers=bearer(target)))
    assert response.status == 200 and response.json == {"imported": True, "skills": 2, "levels": 4}, response
    assert comparable(sync_snapshot(target)) == comparable(sync_snapshot(source))
    assert history(target) == history(source)  # every level change, with its note, in order
    changes = db.get_conn().execute("SELECT count(*) AS n FROM changes WHERE owner_id = %s",
                                    (target["user"]["id"],)).fetchone()["n"]
    # the ordinary write paths: 5 writes, then the 3 achievements the history earns, awarded once at the end
    assert changes == 5 + 3 and sync_snapshot(target)["version"] == version + 5 + 3
    again = invoke(handler, http_event("POST", "/api/v1/me/import", body=document, headers=bearer(target)))
    assert again.status == 200 and again.json["imported"] is False  # idempotent
    assert comparable(sync_snapshot(target)) == comparable(sync_snapshot(source))


def test_import_refuses_an_account_with_other_skills_and_bad_documents():
    source = register("source")
    seed(source)
    document = json.loads(export(source).body)
    response = invoke(handler, http_event("POST", "/api/v1/me/import", body=document, headers=bearer(source)))
    assert response.status == 409 and response.json["error"]["code"] == "account_not_empty"
    target = register("target")
    for bad in ({**document, "format": "other"}, {**document, "skills": [{"name": "x"}]}, {}):
        assert invoke(handler, http_event("POST", "/api/v1/me/import", body=bad,
                                          headers=bearer(target))).status == 422
    # a history dated in the future would earn streaks and reached goals ahead of time: refused, named
    future = {**document, "history": [{**document["history"][0], "created_at": "2999-01-01T00:00:00Z"}]}
    refused = invoke(handler, http_event("POST", "/api/v1/me/import", body=future, headers=bearer(target)))
    assert refused.status == 422 and refused.json["error"]["details"][0]["field"] == "body.history.0.created_at"
    assert sync_snapshot(target)["skills"] == []  # nothing imported


def without_ids(document: dict) -> dict:
    """An export without what differs between two accounts holding the same data: ids, the account's
    identity and its own timestamps, when it was exported and acknowledged, its devices."""
    def drop(item: dict | None, *keys: str) -> dict | None:
        return None if item is None else {k: v for k, v in item.items() if k not in keys}

    mine = ("id", "username", "email", "email_verified", "avatar_url", "created_at", "updated_at")
    return {
        "profile": drop(document["profile"], *mine), "settings": document["settings"],
        "skills": sorted((drop(s, "id", "created_at", "updated_at") for s in document["skills"]),
                         key=lambda s: s["name"]),
        "history": [drop(h, "id", "skill_id") for h in document["history"]],
        "conflicts": [{**drop(c, "id", "entity_id", "acked_at"), "winner": drop(c["winner"], "id"),
                       "loser": drop(c["loser"], "id")} for c in document["conflicts"]],
    }


def test_the_export_of_an_import_is_the_original_export_superseded_levels_and_conflicts_included():
    """The whole history round-trips (superseded levels and their dates too), conflicts come in as
    acknowledged records (no device of the new account is asked about them), sessions never do."""
    from functions.realtime.app import handler as realtime_handler

    source = register("source")
    seed(source)
    python = next(s for s in json.loads(export(source).body)["skills"] if s["name"] == "Python")
    conn = db.get_conn()
    conn.execute("UPDATE skill_progress SET created_at = created_at - make_interval(days => id::int)"
                 " WHERE owner_id = %s", (source["user"]["id"],))  # distinct dates, in order
    conn.execute("INSERT INTO sync_conflicts (owner_id, entity, entity_id, op_id, source, resolution, winner, loser)"
                 " VALUES (%s, 'skill', %s, 'op-2', 'rest', 'incoming_won', %s, '{\"level\": 4}')",
                 (source["user"]["id"], python["id"], json.dumps({**python, "level": 5})))
    assert call_function(profiles_handler, "PATCH", "/api/v1/me/profile", bearer(source),
                         {"display_name": "The Source", "bio": "plays guitar"}).status == 200
    original = json.loads(export(source).body)
    assert len(original["conflicts"]) == 2 and original["conflicts"][1]["winner"]["id"] == python["id"]
    target = register("target")
    imported = invoke(handler, http_event("POST", "/api/v1/me/import", body=original, headers=bearer(target)))
    assert imported.status == 200 and imported.json["imported"] is True, imported
    again = json.loads(export(target).body)
    assert without_ids(again) == without_ids(original)
    assert [h["superseded"] for h in again["history"]].count(True) == 1
    assert again["conflicts"][1]["winner"]["id"] == next(s["id"] for s in again["skills"] if s["name"] == "Python")
    assert all(c["acked_at"] for c in again["conflicts"])  # resolved records, not questions
    inbox = invoke(realtime_handler, http_event("GET", "/api/v1/sync/conflicts", headers=bearer(target)))
    assert inbox.status == 200 and inbox.json["items"] == [], inbox
    assert [s["id"] for s in again["sessions"]] != [s["id"] for s in original["sessions"]]
    assert len(again["sessions"]) == 1  # the target's own sign-in only: sessions are never imported
    assert comparable(sync_snapshot(target)) == comparable(sync_snapshot(source))
