"""The Powertools Logger and Metrics every function shares (structured JSON logs, EMF metrics).

Created once here so no function copies the boilerplate. The service name comes from
POWERTOOLS_SERVICE_NAME, set per function in ``template.yaml``.
"""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger, Metrics

os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "Atribuo")

logger = Logger()
metrics = Metrics()
