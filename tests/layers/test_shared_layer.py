"""The SharedLayer build (``make build-SharedLayer``, what ``sam build`` runs): the whole package tree.

The old build copied a hand-kept list of folders; a new concern package would have been missing in
Lambda while every local test passed. Built here into a temporary folder from the real Makefile.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from local.template import ROOT, load_template

SHARED = ROOT / "shared"
MAGIC_3_12 = (3531).to_bytes(2, "little") + b"\r\n"  # importlib.util.MAGIC_NUMBER of CPython 3.12


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("shared-layer")
    subprocess.run(["make", "--no-print-directory", "-f", str(SHARED / "Makefile"), "build-SharedLayer",
                    f"ARTIFACTS_DIR={out}"], check=True, capture_output=True, cwd=out)
    return out / "python" / "shared"


def _packages(root: Path) -> set[str]:
    return {str(p.parent.relative_to(root)) for p in root.rglob("__init__.py*") if "__pycache__" not in p.parts}


def test_every_package_and_migration_ships(built: Path):
    assert _packages(built) == _packages(SHARED)
    assert sorted(p.name for p in (built / "ops" / "migrations").glob("*.sql")) == \
        sorted(p.name for p in (SHARED / "ops" / "migrations").glob("*.sql"))
    assert not (built / "Makefile").exists()
    assert not list(built.rglob("__pycache__"))


def test_the_layer_is_python_3_12_bytecode_or_its_sources(built: Path):
    """Lambda ignores a .pyc another minor version wrote: sourceless 3.12 bytecode, or sources only."""
    pycs, sources = list(built.rglob("*.pyc")), list(built.rglob("*.py"))
    if sources:  # the builder had no Python 3.12 (python-layer.mk warns): sources, and nothing else
        assert not pycs
        return
    assert {pyc.read_bytes()[:4] for pyc in pycs} == {MAGIC_3_12}


def test_the_template_builds_it_for_arm64():
    layer = load_template()["Resources"]["SharedLayer"]
    assert layer["Metadata"] == {"BuildMethod": "makefile", "BuildArchitecture": "arm64"}
    assert layer["Properties"]["CompatibleArchitectures"] == ["arm64"]
