"""The Powertools Logger and Metrics every function shares (structured JSON logs, EMF metrics).

Created once here so no function copies the boilerplate. The service name comes from
POWERTOOLS_SERVICE_NAME, set per function in ``template.yaml``.

Metrics are CloudWatch embedded-metric-format (EMF) lines on stdout: ``count()`` adds to the
invocation's set and ``observed`` (every handler's outer wrapper) prints them as ONE line when the
invocation ends, plus a ``ColdStart`` line on a container's first invocation (Powertools'
``capture_cold_start_metric``). Dimensions stay low-cardinality: the service (and ``function_name``
on ColdStart) only; never a user, skill or connection id. The names below are the ones
``template.yaml``'s alarms refer to.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "Atribuo")

logger = Logger()
metrics = Metrics()

# Business metrics (issue 11), counted where they happen.
SIGN_UPS = "SignUps"  # shared.identity.accounts.register, shared.identity.identities (OAuth)
LEVEL_UPS = "LevelUps"  # a skill's level went up: PATCH /skills/{id} and POST /sync (shared.sync.notify)
CONFLICTS = "Conflicts"  # an edit lost or won against a newer one (shared.sync.notify.after_conflict)
FAN_OUT_FAILURES = "FanOutFailures"  # a WebSocket post that failed, not gone (shared.sync.fanout.publish)
COLD_START = "ColdStart"  # Powertools' own name (capture_cold_start_metric)

# An invocation that counted nothing flushes nothing; Powertools would warn about it every time.
warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)

H = TypeVar("H", bound=Callable[..., Any])


def count(name: str, value: int = 1) -> None:
    """Add ``value`` to the metric ``name`` for this invocation (printed once, when it ends)."""
    if value:
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


def observed(handler: H) -> H:
    """Wrap a Lambda handler (a plain one, or Mangum's): the container's first invocation emits the
    ``ColdStart`` metric, and each invocation's metrics are flushed once, at its end, even when it raises."""
    wrapped = metrics.log_metrics(handler, capture_cold_start_metric=True)
    wrapped.__observed__ = True  # type: ignore[attr-defined]  # tests/test_observability.py checks every handler
    return wrapped  # type: ignore[return-value]
