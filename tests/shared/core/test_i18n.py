"""Two languages (issue 17): the catalogue is complete and compiled, Accept-Language is negotiated by
weight, and pydantic's messages have our Indonesian.

The completeness tests are the merge gate: a new error code, error message or mail sentence without
its Indonesian fails here with the sentence named (fix: ``make messages``, fill in the ``msgstr``).
"""

from __future__ import annotations

import ast
import gettext

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from local import messages
from shared.core import i18n
from shared.core.errors import CODE_MESSAGES, ERROR_CODES, AppError, NotFoundError, WeakPasswordError


@pytest.fixture(scope="module")
def found() -> messages.Extracted:
    return messages.extract()


@pytest.fixture(scope="module")
def catalogue():
    return messages.read("id")


def test_every_error_message_is_a_literal_that_can_be_translated(found):
    assert found.problems == []


def test_every_sentence_in_the_code_has_its_indonesian(found, catalogue):
    assert len(found.messages) > 150  # the extraction found the code's sentences (errors, mails, pages)
    assert messages.untranslated(catalogue, found) == [], "run `make messages` and fill in the msgstr lines"


def test_every_error_code_has_a_sentence_in_both_languages(catalogue):
    assert set(CODE_MESSAGES) == set(ERROR_CODES)
    for code, sentence in CODE_MESSAGES.items():
        indonesian = i18n._(sentence, "id")
        assert indonesian and indonesian != sentence, code
        assert catalogue.get(sentence) is not None and not catalogue.get(sentence).fuzzy, code


def test_every_mail_sentence_is_extracted(found):
    """The mail modules' ``_()`` sentences are all in the extraction (so all are translated above)."""
    for module in ("shared/mail/messages.py", "shared/mail/templates.py", "shared/digests/email.py",
                   "functions/digest/app.py"):
        tree = ast.parse((messages.ROOT / module).read_text())
        marked = [node.args[0].value for node in ast.walk(tree)
                  if isinstance(node, ast.Call) and messages._name(node.func) in {"_", "N_", "ngettext"}
                  and node.args and isinstance(node.args[0], ast.Constant)]
        assert marked, module
        assert set(marked) <= set(found.messages), module


def test_the_committed_mo_is_the_compiled_po(catalogue):
    """The runtime reads the .mo; it must say exactly what the .po says (`make messages` rebuilds it)."""
    mo = messages.po_path("id").with_suffix(".mo")
    assert mo.read_bytes() == messages.compiled(catalogue), "stale .mo: run `make messages`"
    with mo.open("rb") as handle:
        runtime = gettext.GNUTranslations(handle)
    for message in catalogue:
        if message.id and not message.pluralizable:
            assert runtime.gettext(message.id) == message.string
    assert runtime.ngettext("{n} new skill", "{n} new skills", 5) == "{n} keahlian baru"


def test_a_placeholder_survives_translation(found):
    """Each translation keeps exactly the ``{names}`` of its English (else .format would fail or lie)."""
    import string

    def names(text: str) -> set[str]:
        return {field for _, field, _, _ in string.Formatter().parse(text) if field}

    for msgid in found.messages:
        assert names(i18n._(msgid, "id")) == names(msgid), msgid


# --- Accept-Language -------------------------------------------------------------------------------

@pytest.mark.parametrize(("header", "expected"), [
    (None, None), ("", None),
    ("id", "id"), ("id-ID", "id"), ("ID-id", "id"), ("in-ID", "id"),  # "in": the withdrawn ISO code
    ("en-GB", "en"), ("fr", None), ("fr, de;q=0.9", None),
    ("fr, id;q=0.5, en;q=0.4", "id"),
    ("en;q=0.5, id;q=0.8", "id"),  # by weight, not by order
    ("id;q=0.8, en;q=0.8", "id"),  # equal weights: the first listed
    ("en;q=0, *", "id"),  # q=0 rules English out; * is then "any other"
    ("id;q=0, *;q=0.5", "en"),
    ("*", "en"),
    ("id;q=0", None),
    ("id;q=garbage, en", "en"),  # a malformed entry is skipped
    ("id ; q = 0.7 ,en;q=0.6", "id"),  # optional whitespace
    ("en;q=1.0001, id", "id"),  # not a qvalue
    ("x" * 5000 + ",id", None),  # bounded: only the first 1024 characters are read
])
def test_accept_language_is_negotiated_by_weight(header, expected):
    assert i18n.negotiate(header) == expected


TAGS = st.sampled_from(["en", "id", "fr", "de", "ja", "pt", "ms", "*"])
QS = st.sampled_from([None, "1", "0.9", "0.5", "0.25", "0.1", "0.001", "0"])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(TAGS, QS), min_size=1, max_size=6,
                unique_by=(lambda entry: entry[0], lambda entry: float(entry[1] or 1))))
def test_negotiation_agrees_with_werkzeug(entries):
    """werkzeug (a dev dependency via moto) is the reference for weights, order, q=0 and ``*``; its
    ~175 ms of import keep it out of the Lambda layer. Tags are primary subtags here: for regions
    werkzeug prefers an exact tag anywhere in the header over the RFC 4647 lookup ("en-US, id" → id),
    where we follow RFC 4647 (→ en); and weights are distinct, because werkzeug breaks a tie by the
    server's order of languages where we take the client's order (the parametrized cases above)."""
    from werkzeug.datastructures import LanguageAccept
    from werkzeug.http import parse_accept_header

    header = ", ".join(tag if q is None else f"{tag};q={q}" for tag, q in entries)
    reference = parse_accept_header(header, LanguageAccept).best_match(["en", "id"])
    assert i18n.negotiate(header) == reference, header


# --- messages ------------------------------------------------------------------------------------

def test_an_error_keeps_its_code_and_english_and_translates_with_its_params():
    error = NotFoundError("no sign-in provider called {name} is enabled", code="unknown_provider",
                          params={"name": "'myspace'"})
    assert str(error) == error.message and error.code == "unknown_provider"
    assert error.localized("id")[0] == "tidak ada penyedia masuk bernama 'myspace' yang aktif"
    assert error.localized("en")[0] == "no sign-in provider called 'myspace' is enabled"


def test_a_weak_password_reason_is_translated_sentence_by_sentence():
    from shared.identity.passwords import weak_password_reason

    reason = weak_password_reason("password1", username="quester", email="quester@example.com")
    error = WeakPasswordError(reason)
    assert error.message.startswith("password is not accepted: it is too easy to guess. ")
    message, details = error.localized("id")
    assert message.startswith("password tidak diterima: kata sandi ini terlalu mudah ditebak. ")
    assert "Ini termasuk" in message or "Tambahkan" in message, message  # zxcvbn's own hints, in Indonesian
    assert details[0]["message"] == message.removeprefix("password tidak diterima: ")
    assert details[0]["type"] == "weak_password" and details[0]["field"] == "body.password"
    contains = WeakPasswordError(weak_password_reason("quester-rules-42", username="quester", email=None))
    assert contains.localized("id")[0] == ("password tidak diterima: kata sandi ini memuat nama penggunamu; "
                                           "pilih kata sandi yang sama sekali tidak berkaitan dengan akunmu")


def test_a_plain_string_param_is_never_translated():
    """Only N_-marked values are sentences: a username that happens to equal a msgid stays as it is."""
    error = AppError("that {field} is already taken", params={"field": "incorrect"})
    assert error.localized("id")[0] == "incorrect itu sudah dipakai"


@pytest.mark.parametrize(("error", "english", "indonesian"), [
    ({"type": "missing", "msg": "Field required"}, "Field required", "Kolom ini wajib diisi"),
    ({"type": "string_too_long", "msg": "String should have at most 100 characters", "ctx": {"max_length": 100}},
     "String should have at most 100 characters", "Teks boleh terdiri dari paling banyak 100 karakter"),
    ({"type": "less_than_equal", "msg": "Input should be less than or equal to 10", "ctx": {"le": 10}},
     "Input should be less than or equal to 10", "Masukan harus lebih kecil dari atau sama dengan 10"),
    ({"type": "value_error", "msg": "Value error, may be omitted but not null",
      "ctx": {"error": ValueError("may be omitted but not null")}},
     "Value error, may be omitted but not null", "Nilai tidak valid: boleh tidak dikirim, tetapi tidak boleh null"),
    ({"type": "some_new_pydantic_type", "msg": "Something"}, "Something", "nilainya tidak valid"),
    ({"type": "string_too_long", "msg": "…"}, "…", "nilainya tidak valid"),  # ctx missing: the generic one
])
def test_pydantic_messages(error, english, indonesian):
    assert i18n.field_message(error, "en") == english
    assert i18n.field_message(error, "id") == indonesian


def test_the_users_setting_beats_the_header_and_unknown_means_english():
    header, user = i18n.header_locale.set("id"), i18n.user_locale.set(None)
    try:
        assert i18n.current() == "id" and i18n.chosen_by_header()
        i18n.user_locale.set("en")
        assert i18n.current() == "en" and not i18n.chosen_by_header()
        assert i18n.pick("id") == "id" and i18n.pick(None) == "en" and i18n.pick("xx", fallback="id") == "id"
    finally:
        i18n.header_locale.reset(header)
        i18n.user_locale.reset(user)
    assert i18n.current() == "en"  # outside a request
    assert i18n._("no such profile", "fr") == "no such profile"  # an unknown language is English
