"""``make lock``: pin the DepsLayer's whole dependency closure, for the platform it runs on.

``layers/deps/requirements.in`` lists what our code imports (top-level pins); ``requirements.txt`` beside
it is generated from it: every package the layer installs, pinned, for Lambda's CPython 3.12 on arm64
(pip resolves for that platform: ``pip install --dry-run --report``, nothing installed). The layer is
then built with ``--no-deps`` from the lock, so two builds a month apart ship the same packages.

The packages the Lambda runtime already carries (boto3, botocore, s3transfer) are left out, with
everything reachable only through them: the layer would shadow the runtime's copies. Re-locking keeps each pin
that still satisfies the top-level list (the current lock is passed as constraints), so only what
changed moves. ``tests/layers/test_lock.py`` fails, offline, when the lock and the list drift apart.

``python -m local.lock`` writes the lock; ``python -m local.lock --check`` only says whether it is current.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAYER = ROOT / "layers" / "deps"
TOP_LEVEL = LAYER / "requirements.in"
LOCK = LAYER / "requirements.txt"
# In the Lambda Python runtime (and so left out of the layer, with what only they need: python-dateutil,
# six, urllib3). jmespath is in the runtime too, but Powertools needs it and tests and `make bench` run the
# layer without the runtime, so the layer keeps it, as it always did.
RUNTIME_PROVIDED = {"boto3", "botocore", "s3transfer"}
# pip's marker environment of the layer's target: CPython 3.12 on Amazon Linux, arm64.
TARGET = {"python_version": "3.12", "python_full_version": "3.12.0", "sys_platform": "linux",
          "platform_system": "Linux", "platform_machine": "aarch64", "implementation_name": "cpython",
          "platform_python_implementation": "CPython", "os_name": "posix", "platform_release": "",
          "platform_version": "", "implementation_version": "3.12.0"}
PLATFORM_ARGS = ["--platform", "manylinux_2_28_aarch64", "--platform", "manylinux2014_aarch64",
                 "--implementation", "cp", "--python-version", "3.12", "--only-binary=:all:"]
HASH_LINE = re.compile(r"^# requirements\.in sha256: ([0-9a-f]{64})$", re.MULTILINE)


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def top_level_hash() -> str:
    return hashlib.sha256(TOP_LEVEL.read_bytes()).hexdigest()


def requirement_lines(path: Path) -> list[str]:
    """The requirement lines of a requirements file (comments and blank lines dropped)."""
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return [line for line in lines if line and not line.startswith("-")]


def pins(path: Path) -> dict[str, str]:
    """``{canonical name: version}`` of a file of ``name[extras]==version`` lines."""
    from packaging.requirements import Requirement

    found = {}
    for line in requirement_lines(path):
        requirement = Requirement(line)
        [spec] = requirement.specifier
        found[canonical(requirement.name)] = spec.version
    return found


def closure(roots: Iterable[str], requires: Callable[[str], list[str]]) -> set[str]:
    """Canonical names of every package ``roots`` need on the target, through ``requires(name)`` (a
    package's Requires-Dist lines); the runtime's own packages end a branch."""
    from packaging.requirements import Requirement

    wanted: dict[str, set[str]] = {}  # name -> extras asked for
    pending = [Requirement(line) for line in roots]
    while pending:
        requirement = pending.pop()
        name = canonical(requirement.name)
        if name in RUNTIME_PROVIDED:
            continue
        extras = wanted.get(name)
        if extras is not None and set(requirement.extras) <= extras:
            continue
        extras = wanted[name] = (extras or set()) | set(requirement.extras)
        for line in requires(name):
            dependency = Requirement(line)
            marker = dependency.marker
            if marker is None or any(marker.evaluate({**TARGET, "extra": extra}) for extra in extras | {""}):
                pending.append(dependency)
    return set(wanted)


def resolve() -> dict[str, tuple[str, list[str]]]:
    """pip's resolution of requirements.in for the target: ``{name: (version, requires_dist)}``."""
    with tempfile.TemporaryDirectory() as tmp:
        report, constraints = Path(tmp) / "report.json", Path(tmp) / "constraints.txt"
        current = pins(LOCK) if LOCK.exists() and HASH_LINE.search(LOCK.read_text()) else {}
        constraints.write_text("".join(f"{name}=={version}\n" for name, version in current.items()))
        base = [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet",
                "--disable-pip-version-check", "--report", str(report), *PLATFORM_ARGS, "-r", str(TOP_LEVEL)]
        kept = subprocess.run([*base, "-c", str(constraints)], capture_output=True, text=True)  # noqa: S603 - pip
        if kept.returncode != 0:  # a top-level change needs another version of a locked package
            subprocess.run(base, check=True)  # noqa: S603 - pip
        data = json.loads(report.read_text())
    return {canonical(item["metadata"]["name"]): (item["metadata"]["version"],
                                                   item["metadata"].get("requires_dist") or [])
            for item in data["install"]}


def render(resolved: dict[str, tuple[str, list[str]]]) -> str:
    needed = closure(requirement_lines(TOP_LEVEL), lambda name: resolved[name][1])
    lines = [
        "# GENERATED by `make lock` (python -m local.lock) from requirements.in: do not edit; edit requirements.in.",
        "# The DepsLayer's whole closure for Lambda (CPython 3.12, arm64), installed with --no-deps. Left out,",
        f"# because the Lambda runtime carries them: {', '.join(sorted(RUNTIME_PROVIDED))} (and what only they need).",
        f"# requirements.in sha256: {top_level_hash()}",
    ]
    return "\n".join([*lines, *(f"{name}=={resolved[name][0]}" for name in sorted(needed))]) + "\n"


def recorded_hash() -> str | None:
    match = HASH_LINE.search(LOCK.read_text()) if LOCK.exists() else None
    return match.group(1) if match else None


def main(argv: list[str]) -> int:
    if "--check" in argv:
        if recorded_hash() != top_level_hash():
            print("layers/deps/requirements.txt is stale: run `make lock`", file=sys.stderr)
            return 1
        return 0
    LOCK.write_text(render(resolve()))
    print(f"wrote {LOCK.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
