"""Deployed size of each function: its code + exactly the layers template.yaml gives it, zipped, without boto3.

Dependency layers (a folder with requirements.txt) are built by their own Makefile target, the one
``sam build`` runs, once per content hash into .local/bench/; the shared layer is our shared/ package.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from local.template import ROOT, function_layers, functions, layers

TARGET_MB = 10.0
LAYERS_DIR = ROOT / "layers"


def zipped_size(folder: Path, skip: tuple[str, ...] = ("__pycache__",)) -> int:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and not any(part in skip for part in path.parts):
                archive.write(path, path.relative_to(folder))
    return buffer.tell()


def _build(layer: str, source: Path, target: Path, for_lambda: bool) -> None:
    """``make build-<Layer>`` into a scratch folder renamed into place, so a failed build never caches."""
    host = [] if for_lambda else [f"PYTHON={sys.executable}", "PIP_PLATFORM_ARGS=",
                                  f"TARGET_PYTHON={sys.version_info.major}.{sys.version_info.minor}"]
    scratch = target.with_name(f"{target.name}.tmp{os.getpid()}")
    shutil.rmtree(scratch, ignore_errors=True)
    done = subprocess.run(["make", "--no-print-directory", "-C", str(source), f"build-{layer}",
                           f"ARTIFACTS_DIR={scratch}", *host], capture_output=True, text=True)
    if done.returncode:
        shutil.rmtree(scratch, ignore_errors=True)
        raise RuntimeError(f"make build-{layer} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    for line in done.stderr.splitlines():  # our Makefiles' own notes (pip's noise stays quiet)
        if line.startswith("warning:"):
            print(f"{layer}: {line}", file=sys.stderr)
    scratch.rename(target)


def layer_dir(layer: str, for_lambda: bool = True) -> Path:
    """A dependency layer's ``python/`` folder as ``sam build`` makes it, built once per content hash.

    ``for_lambda=False`` builds it for this machine (its Python, its platform), so tests and cold
    starts run with exactly the packages a function has in Lambda, and none of the dev tools.
    """
    source = layers()[layer]
    # every file of the layer's folder (a layer's build may read more than its requirements and Makefile:
    # the CardLayer's font list and subsetter, issue 17)
    inputs = [*sorted(p for p in source.rglob("*") if p.is_file() and "__pycache__" not in p.parts),
              LAYERS_DIR / "python-layer.mk"]
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in inputs) + sys.version.encode()).hexdigest()[:12]
    target = ROOT / ".local" / "bench" / f"{layer}-{'lambda' if for_lambda else 'host'}-{digest}"
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        _build(layer, source, target, for_lambda)
    return target / "python"


def host_pythonpath(function: str) -> str:
    """PYTHONPATH of a Lambda-like interpreter for ``function``: the repo (our code, and the shared
    layer's package) plus the host builds of exactly the dependency layers template.yaml gives it."""
    deps = [str(layer_dir(name, for_lambda=False)) for name in function_layers(function)
            if (layers()[name] / "requirements.txt").is_file()]
    return os.pathsep.join([str(ROOT), *deps])


def _layer_size(layer: str) -> int:
    source = layers()[layer]
    return zipped_size(layer_dir(layer), skip=()) if (source / "requirements.txt").is_file() else zipped_size(source)


def measure() -> list[tuple[str, str]]:
    sizes = {name: _layer_size(name) for name in layers()}
    rows = [(f"layer {name} (zipped)", f"{size / 1e6:6.2f} MB") for name, size in sizes.items()]
    for name in sorted(functions()):
        attached = function_layers(name)
        total = zipped_size(ROOT / functions()[name]["Properties"]["CodeUri"]) + sum(sizes[n] for n in attached)
        verdict = "within target" if total / 1e6 <= TARGET_MB else "OVER TARGET"
        rows.append((f"deployed size {name}", f"{total / 1e6:6.2f} MB  (target ≤ {TARGET_MB:.0f} MB: {verdict}; "
                                              f"code + {' + '.join(attached) or 'no layers'})"))
    return rows
