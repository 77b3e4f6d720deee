"""``make messages``: every sentence a person reads, extracted from the code into the Indonesian catalogue.

Extraction reads the syntax tree (``ast``), not Babel's token extractor, because an error's message is
the first argument of any ``AppError`` subclass (``NotFoundError("no such profile")``) and the tree
tells a positional literal from ``code="…"``; it also finds messages that are not literals (an
f-string cannot be translated: use a template and ``params=``). Babel (pinned, dev only) does the
catalogue work: the ``.pot`` template, merging it into ``id.po`` (new sentences get an empty
``msgstr``: the line to fill in) and compiling the ``.mo`` the runtime reads with stdlib ``gettext``.

    python -m local.messages          # extract, merge, compile
    python -m local.messages --check  # exit 1 if anything is untranslated or the .mo is stale
"""

from __future__ import annotations

import ast
import io
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("shared", "functions")
LOCALE_DIR = ROOT / "shared" / "locale"
POT = LOCALE_DIR / "atribuo.pot"
TRANSLATED = ("id",)
MARKERS = {"_", "N_", "joined"}
NOT_A_MESSAGE = {"WeakPasswordError"}  # its first argument is a reason (N_-marked), its message a template
PLURAL_MARKERS = {"ngettext"}
# Fixed header dates and no line numbers: the files change only when a sentence does (cheap merges).
FIXED_DATE = datetime(2026, 12, 2, tzinfo=UTC)


@dataclass
class Extracted:
    messages: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))  # msgid → places
    plurals: dict[str, str] = field(default_factory=dict)  # singular → plural
    codes: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))  # error code → msgids
    problems: list[str] = field(default_factory=list)  # non-literal error messages


def _name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _files() -> list[Path]:
    return sorted(path for source in SOURCES for path in (ROOT / source).rglob("*.py"))


def error_classes(trees: dict[Path, ast.Module]) -> dict[str, str]:
    """Every AppError subclass in the code, by name, with its default code."""
    codes = {"AppError": "internal_error"}
    changed = True
    while changed:
        changed = False
        for tree in trees.values():
            for node in ast.walk(tree):
                if isinstance(node, ast.ClassDef) and node.name not in codes:
                    parent = next((codes[b] for b in (_name(b) for b in node.bases) if b in codes), None)
                    if parent is None:
                        continue
                    own = parent
                    for stmt in node.body:
                        if isinstance(stmt, ast.Assign):
                            names = [t.id for t in stmt.targets if isinstance(t, ast.Name)]
                            names += [e.id for t in stmt.targets if isinstance(t, ast.Tuple) for e in t.elts
                                      if isinstance(e, ast.Name)]
                            values = stmt.value.elts if isinstance(stmt.value, ast.Tuple) else [stmt.value]
                            for name, value in zip(names, values, strict=False):
                                if name == "code" and isinstance(value, ast.Constant):
                                    own = str(value.value)
                    codes[node.name] = own
                    changed = True
    return codes


def _literal(node: ast.expr) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def extract_file(path: Path, tree: ast.Module, classes: dict[str, str], found: Extracted, *,
                 markers: set[str] = MARKERS) -> None:
    where = str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else path.name
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = _name(node.func)
        place = f"{where}:{node.lineno}"
        if name in markers:
            for arg in node.args:
                if (text := _literal(arg)) is not None:
                    found.messages[text].append(place)
        elif name in PLURAL_MARKERS and len(node.args) >= 2:
            singular, plural = _literal(node.args[0]), _literal(node.args[1])
            if singular is not None and plural is not None:
                found.messages[singular].append(place)
                found.plurals[singular] = plural
        elif name == "__init__" and isinstance(node.func, ast.Attribute) and node.args:
            if (text := _literal(node.args[0])) is not None and "{" in text:  # a subclass's own template
                code = next((_literal(k.value) for k in node.keywords if k.arg == "code"), None)
                found.messages[text].append(place)
                if code:
                    found.codes[code].add(text)
        elif name in classes and name not in NOT_A_MESSAGE:
            message = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == "message"), None)
            if message is None:
                continue
            text = _literal(message)
            if text is None:
                found.problems.append(f"{place}: {name}(...) needs a literal English message (a template "
                                      "with params=) so it can be translated")
                continue
            code = next((_literal(k.value) for k in node.keywords if k.arg == "code"), None) or classes[name]
            found.messages[text].append(place)
            found.codes[code].add(text)


def _default_messages(trees: dict[Path, ast.Module], classes: dict[str, str], found: Extracted) -> None:
    """Defaults of ``message`` in an error's ``__init__`` (SessionRevokedError's)."""
    for tree in trees.values():
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and node.name in classes:
                for item in node.body:
                    if isinstance(item, ast.FunctionDef) and item.name == "__init__":
                        for arg, default in zip(item.args.args[-len(item.args.defaults):] if item.args.defaults
                                                else [], item.args.defaults, strict=False):
                            if arg.arg == "message" and (text := _literal(default)) is not None:
                                found.messages[text].append(f"{node.name}.__init__")
                                found.codes[classes[node.name]].add(text)


def third_party() -> list[Path]:
    """Libraries whose gettext-marked sentences we show: zxcvbn's password feedback."""
    import zxcvbn.feedback

    return [Path(zxcvbn.feedback.__file__)]


def extract() -> Extracted:
    trees = {path: ast.parse(path.read_text(), str(path)) for path in _files()}
    classes = error_classes(trees)
    found = Extracted()
    for path, tree in trees.items():
        extract_file(path, tree, classes, found)
    _default_messages(trees, classes, found)
    for path in third_party():
        extract_file(path, ast.parse(path.read_text()), {}, found, markers={"_"})
    return found


def template(found: Extracted) -> Any:  # a babel.messages.catalog.Catalog
    from babel.messages.catalog import Catalog

    catalog = Catalog(project="atribuo", version="1", copyright_holder="Atribuo", charset="utf-8",
                      creation_date=FIXED_DATE, revision_date=FIXED_DATE)
    for msgid, places in sorted(found.messages.items()):
        key = (msgid, found.plurals[msgid]) if msgid in found.plurals else msgid
        catalog.add(key, locations=[(p.rsplit(":", 1)[0], int(p.rsplit(":", 1)[1]) if ":" in p else 0)
                                    for p in sorted(set(places))])
    return catalog


def po_path(locale: str) -> Path:
    return LOCALE_DIR / locale / "LC_MESSAGES" / "atribuo.po"


def read(locale: str) -> Any:
    from babel.messages.pofile import read_po

    with po_path(locale).open("rb") as handle:
        return read_po(handle, locale=locale)


def compiled(catalog: Any) -> bytes:
    from babel.messages.mofile import write_mo

    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    return buffer.getvalue()


def untranslated(catalog: Any, found: Extracted) -> list[str]:
    missing = []
    for msgid in found.messages:
        message = catalog.get(msgid)
        text = message.string if message is not None else ""
        if message is None or message.fuzzy or not (all(text) if isinstance(text, tuple) else text):
            missing.append(msgid)
    return sorted(missing)


def main(argv: list[str]) -> int:
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import write_po

    found = extract()
    pot = template(found)
    check = "--check" in argv
    failures = list(found.problems)
    for locale in TRANSLATED:
        path = po_path(locale)
        catalog = read(locale) if path.exists() else Catalog(locale=locale)
        if not check:
            catalog.update(pot, no_fuzzy_matching=True)
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("wb") as handle:
                write_po(handle, catalog, width=100, ignore_obsolete=True, include_lineno=False)
            path.with_suffix(".mo").write_bytes(compiled(catalog))
        elif path.with_suffix(".mo").read_bytes() != compiled(catalog):
            failures.append(f"{path.with_suffix('.mo')} is stale: run make messages")
        failures += [f"{locale}: no translation for {msgid!r}" for msgid in untranslated(catalog, found)]
    if not check:
        with POT.open("wb") as handle:
            write_po(handle, pot, width=100, include_lineno=False)
    for line in failures:
        print(line, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
