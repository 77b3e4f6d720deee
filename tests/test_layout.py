"""The repository's shape, as the README promises it: concern packages, each saying its concern."""

from __future__ import annotations

import ast
import re
import subprocess

from local.template import ROOT

SHARED = ROOT / "shared"


def _packages() -> list[str]:
    return sorted(p.parent.name for p in SHARED.glob("*/__init__.py"))


def test_shared_top_level_holds_only_packages():
    loose = sorted(p.name for p in SHARED.iterdir() if p.is_file() and p.name not in ("__init__.py", "Makefile"))
    assert loose == [], f"shared/ holds modules outside a concern package: {loose}"


def test_every_package_says_its_concern():
    for name in _packages():
        doc = ast.get_docstring(ast.parse((SHARED / name / "__init__.py").read_text()))
        assert doc and len(doc.split()) >= 8, f"shared/{name}/__init__.py must state its concern in a sentence"


def test_the_readme_lists_every_package():
    readme = (ROOT / "README.md").read_text()
    listed = set(re.findall(r"^\| `shared/([a-z_]+)/` \|", readme, flags=re.M))
    assert listed == set(_packages())


def test_nothing_imports_conftest():
    offenders = [str(p.relative_to(ROOT)) for p in (ROOT / "tests").rglob("*.py")
                 if re.search(r"^\s*(from|import) tests\.conftest\b|^\s*from \.?conftest import", p.read_text(), re.M)]
    assert offenders == []


def test_nothing_reads_outside_the_repository():
    pattern = re.compile(r"\.\./shared|reference-" + "events")  # (split: this file would match itself)
    offenders = [str(p.relative_to(ROOT)) for folder in ("tests", "shared", "functions", "local", "bench")
                 for p in (ROOT / folder).rglob("*.py") if pattern.search(p.read_text())]
    assert offenders == []


def test_no_tracked_symlink_points_outside_the_repository():
    """A committed link into a developer's machine (a merge once committed `.venv` → a worktree's venv)
    dangles in every clone: `make install` then fails with "File exists"."""
    listed = subprocess.run(["git", "ls-files", "-s"], cwd=ROOT, capture_output=True, text=True, check=True)
    links = [line.split("\t", 1)[1] for line in listed.stdout.splitlines() if line.startswith("120000")]
    outside = [link for link in links if not (ROOT / link).resolve().is_relative_to(ROOT.resolve())]
    assert outside == []
