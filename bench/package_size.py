"""Deployed size of each function: its code + the shared layer + the deps layer, zipped, without boto3.

The deps layer is installed for the Lambda platform (arm64, CPython 3.12) from the pinned
requirements, once, into .local/bench/ (cached by the requirements' content).
"""

from __future__ import annotations

import hashlib
import io
import subprocess
import sys
import zipfile
from pathlib import Path

from local.template import ROOT, functions

TARGET_MB = 10.0
REQUIREMENTS = ROOT / "layers" / "deps" / "requirements.txt"


def zipped_size(folder: Path, skip: tuple[str, ...] = ("__pycache__",)) -> int:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and not any(part in skip for part in path.parts):
                archive.write(path, path.relative_to(folder))
    return buffer.tell()


LAMBDA_PLATFORM = ["--platform", "manylinux_2_28_aarch64", "--platform", "manylinux2014_aarch64",
                   "--implementation", "cp", "--python-version", "3.12", "--only-binary=:all:"]


def deps_dir(for_lambda: bool = True) -> Path:
    """The deps layer's content, built by the same Makefile target ``sam build`` uses.

    ``for_lambda=False`` builds it for this machine instead, so cold starts can be measured with
    exactly the packages a function has in Lambda (and none of the dev tools).
    """
    digest = hashlib.sha256(REQUIREMENTS.read_bytes() + (REQUIREMENTS.parent / "Makefile").read_bytes()
                            + sys.version.encode())
    target = ROOT / ".local" / "bench" / f"deps-{'lambda' if for_lambda else 'host'}-{digest.hexdigest()[:12]}"
    if not target.exists():
        pip_args = " ".join(LAMBDA_PLATFORM) if for_lambda else ""
        python = [] if for_lambda else [f"PYTHON={sys.executable}"]  # Lambda's layer: compiled by 3.12
        subprocess.run(["make", "--no-print-directory", "-C", str(REQUIREMENTS.parent), "build-DepsLayer",
                        f"ARTIFACTS_DIR={target}", f"PIP_PLATFORM_ARGS={pip_args}", *python],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return target / "python"


def measure() -> list[tuple[str, str]]:
    deps = zipped_size(deps_dir(), skip=())
    shared = zipped_size(ROOT / "shared")
    rows = [("layer deps (zipped)", f"{deps / 1e6:6.2f} MB"), ("layer shared (zipped)", f"{shared / 1e6:6.2f} MB")]
    for name, res in sorted(functions().items()):
        code = zipped_size(ROOT / res["Properties"]["CodeUri"])
        layers = res["Properties"].get("Layers")
        total = code + (0 if layers == [] else deps + shared)
        verdict = "within target" if total / 1e6 <= TARGET_MB else "OVER TARGET"
        rows.append((f"deployed size {name}", f"{total / 1e6:6.2f} MB  (target ≤ {TARGET_MB:.0f} MB: {verdict})"))
    return rows
