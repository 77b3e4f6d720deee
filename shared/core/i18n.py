"""Two languages (issue 17): English, the text written in the code, and Indonesian, the home market's.

Why stdlib ``gettext`` and ``.po`` files: translators' tools (Poedit, Weblate, Crowdin) speak them,
plural forms come for free (``ngettext``), and the runtime cost is the standard library's ``gettext``
module (about 1 ms of import) plus one small ``.mo`` file, both loaded on the first non-English answer.
Babel (pinned in requirements-dev.txt, never in a layer) only extracts and compiles: ``make messages``
runs ``local/messages.py``. Every sentence a person reads is English in the code and marked:

- the first argument of an ``AppError`` (``shared.core.errors``): its English message, a
  ``str.format`` template whose ``params`` are filled in after translation;
- ``N_("...")`` for a sentence stored before it is shown (a ``details`` message, a validator's
  ``ValueError``), ``_(text, locale)`` / ``ngettext`` where a mail or page is rendered.

Adding a sentence in English is all the code needs; ``make messages`` puts it in
``shared/locale/id/LC_MESSAGES/atribuo.po`` with an empty ``msgstr``, the one line to fill in, and
``tests/shared/core/test_i18n.py`` fails until it is filled (and until the ``.mo`` is recompiled).

Which language: the user's own setting (``users.locale``, carried in the access token as ``lang``)
beats ``Accept-Language``; neither → English. Codes never change, only the sentences.
"""

from __future__ import annotations

import os
import re
from contextvars import ContextVar
from functools import cache
from typing import TYPE_CHECKING, Any, Literal, get_args

if TYPE_CHECKING:
    import gettext

Locale = Literal["en", "id"]
LOCALES: tuple[str, ...] = get_args(Locale)
DEFAULT: Locale = "en"
DOMAIN = "atribuo"
LOCALE_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "locale")

# Tags that mean one of ours: "in" is Indonesian's withdrawn ISO 639 code, still sent by old Java and
# Android stacks (Locale("in", "ID")).
ALIASES = {"in": "id"}

# The language the caller asked for through Accept-Language (set by the HTTP edge, None when the
# header names none of ours) and the one the signed-in user chose (set by the auth dependency from the
# token's ``lang`` claim). ``current()`` decides between them.
header_locale: ContextVar[str | None] = ContextVar("header_locale", default=None)
user_locale: ContextVar[str | None] = ContextVar("user_locale", default=None)


class Sentence(str):
    """A ``str`` that is an English sentence to translate where it is shown (``N_`` makes them): a
    ``details`` message or an error's parameter; other strings (names, fields) are shown as they are.
    ``parts``: a text made of several marked sentences (``joined``), translated one by one."""

    parts: tuple[str, ...] = ()


def joined(*parts: str) -> Sentence:
    """Several sentences shown as one text (joined by spaces), each translated on its own."""
    text = Sentence(" ".join(parts))
    text.parts = parts
    return text


def N_(message: str) -> Sentence:
    """Mark ``message`` for translation where it is written; it is translated where it is shown."""
    return Sentence(message)


@cache
def translations(locale: str) -> gettext.NullTranslations:
    """The catalogue of ``locale`` (English: the source text itself). ``gettext`` is imported here, on
    the first answer that is not English: an English-only container never loads it."""
    import gettext

    if locale not in LOCALES or locale == DEFAULT:
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, localedir=LOCALE_DIR, languages=[locale])


def _(message: str, locale: str | None = None) -> str:
    """``message`` in ``locale`` (default: the current request's); English when there is no entry."""
    locale = locale or current()
    if locale not in LOCALES or locale == DEFAULT:
        return message  # a joined() Sentence already reads as its parts
    catalogue = translations(locale)
    if isinstance(message, Sentence) and message.parts:
        return " ".join(catalogue.gettext(part) for part in message.parts)
    return catalogue.gettext(message)


def ngettext(singular: str, plural: str, n: int, locale: str | None = None) -> str:
    locale = locale or current()
    if locale not in LOCALES or locale == DEFAULT:
        return singular if n == 1 else plural
    return translations(locale).ngettext(singular, plural, n)


def current() -> str:
    """The language of the current answer: the user's setting, else Accept-Language, else English."""
    return user_locale.get() or header_locale.get() or DEFAULT


def chosen_by_header() -> bool:
    """Whether the answer's language came from (or fell back past) Accept-Language: it must then
    say ``Vary: Accept-Language``."""
    return user_locale.get() is None


def pick(setting: str | None, fallback: str | None = None) -> str:
    """A user's stored setting if it is one of ours, else ``fallback`` (a language the request or
    queue message carried), else the current request's language (English outside a request)."""
    if setting in LOCALES:
        return setting
    return fallback if fallback in LOCALES else current()


# RFC 9110 §12.5.4: Accept-Language = #( language-range [ weight ] ); weight = OWS ";" OWS "q=" qvalue.
_RANGE = re.compile(r"\s*(\*|[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*)\s*"
                    r"(?:;\s*[qQ]\s*=\s*(0(?:\.\d{0,3})?|1(?:\.0{0,3})?)\s*)?")


def negotiate(header: str | None) -> str | None:
    """The best of ``LOCALES`` for an ``Accept-Language`` value, or None when it names none of them.

    Ranges are tried by weight (ties keep their order); a range matches a locale by its primary
    subtag ("id-ID", "in", "en-GB" …); ``q=0`` rules a language out; ``*`` is every language no
    other range names (RFC 9110), English first. Malformed entries are skipped, not fatal.
    Hand-written because werkzeug's parser costs ~175 ms of import (measured, bench/ and the report);
    tests/shared/core/test_i18n.py checks it against werkzeug's ``LanguageAccept.best_match``.
    """
    if not header:
        return None
    ranges: list[tuple[float, int, str]] = []
    for index, part in enumerate(header[:1024].split(",")):
        match = _RANGE.fullmatch(part)
        if match is None:
            continue
        tag, weight = match.group(1).lower(), match.group(2)
        primary = tag.split("-", 1)[0]
        ranges.append((float(weight) if weight is not None else 1.0, index, ALIASES.get(primary, primary)))
    named = {primary for _, _, primary in ranges if primary != "*"}
    for q, _, primary in sorted(ranges, key=lambda r: (-r[0], r[1])):
        if q == 0:
            break
        if primary == "*":  # RFC 9110: every language no other range names
            rest = [locale for locale in LOCALES if locale not in named]
            if rest:
                return DEFAULT if DEFAULT in rest else rest[0]
        elif primary in LOCALES:
            return primary
    return None


def format_message(template: str, params: dict[str, Any], locale: str | None = None) -> str:
    """An error's ``template`` in ``locale``, then its ``params`` filled in (``N_``-marked values are
    sentences too: they are translated first)."""
    text = _(template, locale)
    if not params:
        return text
    return text.format(**{key: _(value, locale) if isinstance(value, Sentence) else value
                          for key, value in params.items()})


def localize_details(details: Any, locale: str | None = None) -> Any:
    """An error's ``details`` with each ``N_``-marked ``message`` translated (the rest as it is)."""
    if not isinstance(details, list) or (locale or current()) == DEFAULT:
        return details
    return [{**item, "message": _(item["message"], locale)}
            if isinstance(item, dict) and isinstance(item.get("message"), Sentence) else item
            for item in details]


# pydantic's own per-field messages, by error ``type``: English is pydantic's ``msg`` as it is; these
# are the Indonesian sentences for the types our models produce. ``{…}`` names a key of the error's
# ``ctx``. A type not listed gets the generic sentence (its ``type`` still says what failed).
FIELD_MESSAGES: dict[str, str] = {
    "missing": N_("Field required"),
    "extra_forbidden": N_("Extra inputs are not permitted"),
    "string_type": N_("Input should be a valid string"),
    "string_too_short": N_("String should have at least {min_length} characters"),
    "string_too_long": N_("String should have at most {max_length} characters"),
    "string_pattern_mismatch": N_("String should match pattern '{pattern}'"),
    "int_type": N_("Input should be a valid integer"),
    "int_parsing": N_("Input should be a valid integer, unable to parse string as an integer"),
    "int_from_float": N_("Input should be a valid integer, got a number with a fractional part"),
    "float_type": N_("Input should be a valid number"),
    "float_parsing": N_("Input should be a valid number, unable to parse string as a number"),
    "bool_type": N_("Input should be a valid boolean"),
    "bool_parsing": N_("Input should be a valid boolean, unable to interpret input"),
    "greater_than": N_("Input should be greater than {gt}"),
    "greater_than_equal": N_("Input should be greater than or equal to {ge}"),
    "less_than": N_("Input should be less than {lt}"),
    "less_than_equal": N_("Input should be less than or equal to {le}"),
    "literal_error": N_("Input should be {expected}"),
    "enum": N_("Input should be {expected}"),
    "list_type": N_("Input should be a valid list"),
    "dict_type": N_("Input should be a valid dictionary"),
    "model_type": N_("Input should be a valid dictionary or object to extract fields from"),
    "model_attributes_type": N_("Input should be a valid dictionary or object to extract fields from"),
    "too_short": N_("List should have at least {min_length} items"),
    "too_long": N_("List should have at most {max_length} items"),
    "uuid_type": N_("UUID input should be a string, bytes or UUID object"),
    "uuid_parsing": N_("Input should be a valid UUID"),
    "datetime_type": N_("Input should be a valid datetime"),
    "datetime_parsing": N_("Input should be a valid datetime"),
    "datetime_from_date_parsing": N_("Input should be a valid datetime or date"),
    "date_type": N_("Input should be a valid date"),
    "date_parsing": N_("Input should be a valid date in the format YYYY-MM-DD"),
    "date_from_datetime_parsing": N_("Input should be a valid date or datetime"),
    "timezone_aware": N_("Input should have timezone info"),
    "url_parsing": N_("Input should be a valid URL"),
    "url_type": N_("URL input should be a string or URL"),
    "url_scheme": N_("URL scheme should be {expected_schemes}"),
    "json_invalid": N_("Invalid JSON"),
    "value_error": N_("Value error, {error}"),
    "assertion_error": N_("Assertion failed, {error}"),
}
OTHER_FIELD_MESSAGE = N_("the value is not valid")
OR = N_("or")  # the last separator of pydantic's list of choices


def field_message(error: dict[str, Any], locale: str | None = None) -> str:
    """One pydantic error's ``msg`` in ``locale``: pydantic's own in English, ours in Indonesian; a
    validator's ``ValueError`` text (``N_``-marked in shared.models) is translated inside it."""
    locale = locale or current()
    if locale == DEFAULT:
        return str(error.get("msg", ""))
    template = FIELD_MESSAGES.get(str(error.get("type", "")))
    if template is None:
        return _(OTHER_FIELD_MESSAGE, locale)
    ctx = dict(error.get("ctx") or {})
    if "error" in ctx:
        ctx["error"] = _(str(ctx["error"]), locale)
    if isinstance(ctx.get("expected"), str):  # pydantic lists choices as "'a', 'b' or 'c'"
        head, sep, last = ctx["expected"].rpartition(" or ")
        ctx["expected"] = f"{head} {_(OR, locale)} {last}" if sep else last
    try:
        return _(template, locale).format(**ctx)
    except (KeyError, IndexError, ValueError):  # a ctx without the key this sentence names
        return _(OTHER_FIELD_MESSAGE, locale)
