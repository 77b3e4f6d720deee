"""The weekly digest mail, built on ``shared.mail.templates`` (HTML tables + inline styles, and text).

Level-ups with the note of their latest step, new skills, goals reached this week and goals due in
the coming 7 days, achievements earned this week (issue 17), the week's total and top categories, a
link back to the profile, and the unsubscribe link (also in the RFC 8058 headers ``shared.digests`` adds).
In the user's language (issue 17: ``digest["locale"]``, their setting; English when they chose none).
Achievement names and descriptions are the catalogue's (English).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from shared.core.i18n import DEFAULT, LOCALES, N_, _, ngettext
from shared.mail.templates import Button, Document, Email, Image, Items, Paragraph, render
from shared.models.achievements import BY_CODE

# The categories' slugs (shared.models.categories) as words of the mail's language.
CATEGORY_WORDS = {
    "programming": N_("programming"), "languages": N_("languages"), "music": N_("music"),
    "fitness": N_("fitness"), "art": N_("art"), "science": N_("science"), "craft": N_("craft"),
    "social": N_("social"), "mind": N_("mind"), "life": N_("life"),
}
# Calendar words in the catalogue rather than the C library's locale (a Lambda has only "C").
WEEKDAYS = (N_("Mon"), N_("Tue"), N_("Wed"), N_("Thu"), N_("Fri"), N_("Sat"), N_("Sun"))
MONTHS = (N_("Jan"), N_("Feb"), N_("Mar"), N_("Apr"), N_("May"), N_("Jun"), N_("Jul"), N_("Aug"), N_("Sep"),
          N_("Oct"), N_("Nov"), N_("Dec"))


def _category(slug: str, lang: str) -> str:
    """A category as a word of ``lang``; in English the slug as stored."""
    word = CATEGORY_WORDS.get(slug.lower())
    return _(word, lang) if word is not None and lang != DEFAULT else slug


def _day(iso_date: str, lang: str = DEFAULT) -> str:
    """``2025-02-20`` as ``Thu 20 Feb``: the goal's calendar day, as the user reads it."""
    day = date.fromisoformat(iso_date)
    return f"{_(WEEKDAYS[day.weekday()], lang)} {day.day} {_(MONTHS[day.month - 1], lang)}"


def render_digest(digest: dict[str, Any], *, unsubscribe_url: str, profile_url: str,
                  card_url: str | None = None) -> Email:
    """Render one user's digest row (from repositories.digests.compute_and_claim). ``card_url``: the
    radar card as a PNG (email clients show no SVG), only for a public profile (else it would 404)."""
    lang = digest.get("locale") if digest.get("locale") in LOCALES else DEFAULT
    ups, fresh = digest["levelled_up"], digest["new_skills"]
    change, cats = int(digest["level_change"]), digest["top_categories"]
    reached, due = digest.get("goals_reached") or [], digest.get("goals_due") or []
    parts = [ngettext("{n} goal reached", "{n} goals reached", len(reached), lang).format(n=len(reached))
             if reached else "",
             ngettext("{n} skill levelled up", "{n} skills levelled up", len(ups), lang).format(n=len(ups))
             if ups else "",
             ngettext("{n} new skill", "{n} new skills", len(fresh), lang).format(n=len(fresh)) if fresh else "",
             # a quiet week with a goal due: no "+0"
             _("{change} levels", lang).format(change=f"{change:+d}") if ups or fresh or change else "",
             ngettext("{n} goal due soon", "{n} goals due soon", len(due), lang).format(n=len(due)) if due else ""]
    blocks: list[Any] = [Paragraph(_("Here is your week in Atribuo.", lang))]
    if card_url:
        blocks.append(Image(card_url, alt=_("{name}'s character card", lang).format(name=digest["name"]),
                            width=536, height=281))
    if ups:
        blocks.append(Items(_("Levelled up", lang), [
            (u["name"], f" {u['from']} → {u['to']}" + (f": “{u['note']}”" if u.get("note") else "")) for u in ups]))
    if fresh:
        level = _("level {level}", lang)
        blocks.append(Items(_("New skills", lang), [
            (s["name"], f" ({_category(s['category'], lang)}), " + level.format(level=s["level"])) for s in fresh]))
    if reached:
        blocks.append(Items(_("Goals reached", lang), [
            (g["name"], _(": level {level} reached", lang).format(level=g["target_level"])) for g in reached]))
    if due:
        blocks.append(Items(_("Goals due soon", lang), [
            (g["name"], _(": level {level} of {target}, due {day}", lang).format(
                level=g["level"], target=g["target_level"], day=_day(g["target_date"], lang))) for g in due]))
    earned = [BY_CODE[code] for code in digest.get("achievements") or () if code in BY_CODE]
    if earned:
        items = [(_(a.name, lang), f": {_(a.description, lang)}") for a in earned]
        blocks.append(Items(_("New achievements", lang), items))
    summary = _("Total level change: {change}.", lang).format(change=f"{change:+d}")
    if cats:
        summary += " " + _("Top categories: {categories}.", lang).format(
            categories=", ".join(_category(c, lang) for c in cats))
    blocks += [Paragraph(summary), Button(_("See your character sheet", lang), profile_url)]
    said = ", ".join(p for p in parts if p)
    return render(Document(
        subject=_("Your week in Atribuo: {summary}", lang).format(summary=said),
        preheader=said,
        heading=(_("Hi {name}, nice week!", lang) if change > 0 else _("Hi {name}", lang)).format(name=digest["name"]),
        blocks=blocks,
        footer=[_("You get this because weekly digests are on for your Atribuo account.", lang)],
        footer_link=(_("Unsubscribe from weekly digests", lang), unsubscribe_url),
        lang=lang,
    ))
