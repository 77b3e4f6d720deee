"""The weekly digest mail, built on ``shared.mail.templates`` (HTML tables + inline styles, and text).

Level-ups with the note of their latest step, new skills, goals reached this week and goals due in
the coming 7 days (issue 17), the week's total and top categories, a link
back to the profile, and the unsubscribe link (also in the RFC 8058 headers ``shared.digests`` adds).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from shared.mail.templates import Button, Document, Email, Image, Items, Paragraph, render


def _day(iso_date: str) -> str:
    """``2025-02-20`` as ``Thu 20 Feb``: the goal's calendar day, as the user reads it."""
    return date.fromisoformat(iso_date).strftime("%a %d %b").replace(" 0", " ")


def render_digest(digest: dict[str, Any], *, unsubscribe_url: str, profile_url: str,
                  card_url: str | None = None) -> Email:
    """Render one user's digest row (from repositories.digests.compute_and_claim). ``card_url``: the
    radar card as a PNG (email clients show no SVG), only for a public profile (else it would 404)."""
    ups, fresh = digest["levelled_up"], digest["new_skills"]
    change, cats = int(digest["level_change"]), digest["top_categories"]
    reached, due = digest.get("goals_reached") or [], digest.get("goals_due") or []
    parts = [f"{len(reached)} goal{'s' * (len(reached) != 1)} reached" if reached else "",
             f"{len(ups)} skill{'s' * (len(ups) != 1)} levelled up" if ups else "",
             f"{len(fresh)} new skill{'s' * (len(fresh) != 1)}" if fresh else "",
             f"{change:+d} levels" if ups or fresh or change else "",  # a quiet week with a goal due: no "+0"
             f"{len(due)} goal{'s' * (len(due) != 1)} due soon" if due else ""]
    blocks: list[Any] = [Paragraph("Here is your week in Atribuo.")]
    if card_url:
        blocks.append(Image(card_url, alt=f"{digest['name']}'s character card", width=536, height=281))
    if ups:
        blocks.append(Items("Levelled up", [
            (u["name"], f" {u['from']} → {u['to']}" + (f": “{u['note']}”" if u.get("note") else "")) for u in ups]))
    if fresh:
        blocks.append(Items("New skills", [(s["name"], f" ({s['category']}), level {s['level']}") for s in fresh]))
    if reached:
        blocks.append(Items("Goals reached", [(g["name"], f": level {g['target_level']} reached") for g in reached]))
    if due:
        blocks.append(Items("Goals due soon", [
            (g["name"], f": level {g['level']} of {g['target_level']}, due {_day(g['target_date'])}") for g in due]))
    summary = f"Total level change: {change:+d}."
    if cats:
        summary += " Top categories: " + ", ".join(cats) + "."
    blocks += [Paragraph(summary), Button("See your character sheet", profile_url)]
    return render(Document(
        subject="Your week in Atribuo: " + ", ".join(p for p in parts if p),
        preheader=", ".join(p for p in parts if p),
        heading=f"Hi {digest['name']}, nice week!" if change > 0 else f"Hi {digest['name']}",
        blocks=blocks,
        footer=["You get this because weekly digests are on for your Atribuo account."],
        footer_link=("Unsubscribe from weekly digests", unsubscribe_url),
    ))
