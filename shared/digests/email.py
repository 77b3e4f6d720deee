"""The weekly digest email, as plain text and HTML (every user value escaped in the HTML)."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from typing import Any


@dataclass(frozen=True)
class Email:
    subject: str
    text: str
    html: str


def render(digest: dict[str, Any], unsubscribe_url: str) -> Email:
    """Render one user's digest row (from repositories.digests.compute_and_claim)."""
    ups, fresh = digest["levelled_up"], digest["new_skills"]
    change, cats = int(digest["level_change"]), digest["top_categories"]
    parts = [f"{len(ups)} skill{'s' * (len(ups) != 1)} levelled up" if ups else "",
             f"{len(fresh)} new skill{'s' * (len(fresh) != 1)}" if fresh else "", f"{change:+d} levels"]
    subject = "Your week in Atribuo: " + ", ".join(p for p in parts if p)
    lines = [f"Hi {digest['name']},", "", "Here is your week in Atribuo.", ""]
    lines += [f"Levelled up: {u['name']} {u['from']} -> {u['to']}" for u in ups]
    lines += [f"New skill: {s['name']} ({s['category']}), level {s['level']}" for s in fresh]
    lines += ["", f"Total level change: {change:+d}"]
    if cats:
        lines.append("Top categories: " + ", ".join(cats))
    lines += ["", f"Unsubscribe from weekly digests: {unsubscribe_url}"]
    items = [f"<li>Levelled up: <b>{escape(u['name'])}</b> {u['from']} &rarr; {u['to']}</li>" for u in ups]
    items += [f"<li>New skill: <b>{escape(s['name'])}</b> ({escape(s['category'])}), level {s['level']}</li>"
              for s in fresh]
    cats_html = f"<p>Top categories: {escape(', '.join(cats))}</p>" if cats else ""
    html = (
        "<!doctype html><html><body>"
        f"<p>Hi {escape(digest['name'])},</p><p>Here is your week in Atribuo.</p>"
        f"<ul>{''.join(items)}</ul><p>Total level change: <b>{change:+d}</b></p>{cats_html}"
        f'<p style="font-size:12px"><a href="{escape(unsubscribe_url)}">Unsubscribe from weekly digests</a></p>'
        "</body></html>"
    )
    return Email(subject=subject, text="\n".join(lines), html=html)
