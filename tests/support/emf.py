"""Read the CloudWatch EMF lines (Powertools Metrics) a handler printed, as captured by ``capsys``.

Powertools documents testing metrics this way: it ``print``s one JSON object per flush, with the
metric definitions under ``_aws`` and each metric's value (a number, or a list when added twice) and
each dimension's value as top-level keys.
"""

from __future__ import annotations

import json
from typing import Any


def blobs(output: str) -> list[dict[str, Any]]:
    """Every EMF object in ``output`` (other lines, the JSON logs among them, are skipped)."""
    found = []
    for line in output.splitlines():
        if not line.startswith("{"):
            continue
        try:
            data = json.loads(line)
        except ValueError:
            continue
        if isinstance(data, dict) and "_aws" in data:
            found.append(data)
    return found


def names(blob: dict[str, Any]) -> set[str]:
    return {m["Name"] for d in blob["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]}


def dimensions(blob: dict[str, Any]) -> set[str]:
    return {name for d in blob["_aws"]["CloudWatchMetrics"] for dims in d["Dimensions"] for name in dims}


def total(found: list[dict[str, Any]], name: str) -> float:
    """The sum of metric ``name`` over every blob (0 when never emitted)."""
    result = 0.0
    for blob in found:
        if name in names(blob):
            value = blob[name]
            result += sum(value) if isinstance(value, list) else value
    return result
