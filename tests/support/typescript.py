"""The TypeScript SDK (clients/typescript) for tests: its pinned npm packages installed from the
committed package-lock.json (``npm ci``), and its compiled ES modules (``dist/``)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.support.events import ROOT

SDK = ROOT / "clients" / "typescript"


def npm(*args: str, cwd: Path = SDK, timeout: float = 300) -> str:
    done = subprocess.run(["npm", *args], cwd=cwd, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"npm {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def node(script: str, cwd: Path = SDK, timeout: float = 300) -> str:
    done = subprocess.run(["node", "--input-type=module", "-e", script], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout)
    assert done.returncode == 0, f"node failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def installed() -> Path:
    """``npm ci`` once per checkout (exact versions from package-lock.json); returns the package folder."""
    lock = SDK / "package-lock.json"
    stamp = SDK / "node_modules" / ".package-lock.json"
    if not stamp.exists() or stamp.stat().st_mtime < lock.stat().st_mtime:
        npm("ci", "--no-audit", "--no-fund", "--loglevel=error")
    return SDK


def built() -> Path:
    """The SDK compiled to plain ES modules in ``dist/`` (tsc, from the committed sources)."""
    npm("run", "--silent", "build", cwd=installed())
    return SDK / "dist"
