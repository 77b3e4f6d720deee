"""The weekly digest mail, built on ``shared.mail.templates`` (HTML tables + inline styles, and text).

Level-ups with the note of their latest step, new skills, the week's total and top categories, a link
back to the profile, and the unsubscribe link (also in the RFC 8058 headers ``shared.digests`` adds).
In the user's language (issue 17: ``digest["locale"]``, their setting; English when they chose none).
"""

from __future__ import annotations

from typing import Any

from shared.core.i18n import DEFAULT, LOCALES, N_, _, ngettext
from shared.mail.templates import Button, Document, Email, Image, Items, Paragraph, render

# The categories' slugs (shared.models.categories) as words of the mail's language.
CATEGORY_WORDS = {
    "programming": N_("programming"), "languages": N_("languages"), "music": N_("music"),
    "fitness": N_("fitness"), "art": N_("art"), "science": N_("science"), "craft": N_("craft"),
    "social": N_("social"), "mind": N_("mind"), "life": N_("life"),
}


def _category(slug: str, lang: str) -> str:
    """A category as a word of ``lang``; in English the slug as stored."""
    word = CATEGORY_WORDS.get(slug.lower())
    return _(word, lang) if word is not None and lang != DEFAULT else slug


def render_digest(digest: dict[str, Any], *, unsubscribe_url: str, profile_url: str,
                  card_url: str | None = None) -> Email:
    """Render one user's digest row (from repositories.digests.compute_and_claim). ``card_url``: the
    radar card as a PNG (email clients show no SVG), only for a public profile (else it would 404)."""
    lang = digest.get("locale") if digest.get("locale") in LOCALES else DEFAULT
    ups, fresh = digest["levelled_up"], digest["new_skills"]
    change, cats = int(digest["level_change"]), digest["top_categories"]
    parts = [ngettext("{n} skill levelled up", "{n} skills levelled up", len(ups), lang).format(n=len(ups))
             if ups else "",
             ngettext("{n} new skill", "{n} new skills", len(fresh), lang).format(n=len(fresh)) if fresh else "",
             ngettext("{change} level", "{change} levels", abs(change), lang).format(change=f"{change:+d}")]
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
            (s["name"], f" ({_category(s['category'], lang)}), "
             + level.format(level=s["level"])) for s in fresh]))
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
