"""Read the routes out of ``template.yaml`` so the local gateways serve exactly what AWS would."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"


class _CfnLoader(yaml.SafeLoader):
    """A YAML loader that accepts CloudFormation's short-form tags (!Ref, !Sub, …) as plain data."""


def _tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {f"Fn::{suffix}" if suffix != "Ref" else "Ref": value}


_CfnLoader.add_multi_constructor("!", _tag)


@lru_cache(maxsize=1)
def load_template() -> dict[str, Any]:
    return yaml.load(TEMPLATE.read_text(), Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass


@dataclass(frozen=True)
class HttpRoute:
    """One HTTP API route: ``GET /api/v1/skills/{id}`` → ``functions.skills.app``."""

    method: str
    path: str
    function: str
    module: str

    @property
    def route_key(self) -> str:
        return "$default" if self.path == "$default" else f"{self.method} {self.path}"

    def match(self, path: str) -> dict[str, str] | None:
        """Path parameters when ``path`` fits this route's template, else None."""
        if self.path == "$default":
            return None
        pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(self.path))
        found = re.fullmatch(pattern, path)
        return found.groupdict() if found else None


def _module(props: dict[str, Any]) -> str:
    code_uri = str(props["CodeUri"]).strip("/")
    handler_module = str(props.get("Handler", "app.handler")).split(".")[0]
    return ".".join([*Path(code_uri).parts, handler_module])


def functions() -> dict[str, dict[str, Any]]:
    """Every ``AWS::Serverless::Function`` by logical id."""
    resources = load_template()["Resources"]
    return {name: res for name, res in resources.items() if res["Type"] == "AWS::Serverless::Function"}


def http_routes() -> list[HttpRoute]:
    routes = []
    for name, res in functions().items():
        props = res["Properties"]
        for event in (props.get("Events") or {}).values():
            if event["Type"] != "HttpApi":
                continue
            ev = event.get("Properties") or {}
            path, method = ev.get("Path", "$default"), str(ev.get("Method", "ANY")).upper()
            routes.append(HttpRoute(method, path, name, _module(props)))
    return routes


def websocket_routes() -> dict[str, str]:
    """Route key (``$connect``, ``ping`` …) → handler module, from the WebSocket API's integrations."""
    resources = load_template()["Resources"]
    fn_modules = {name: _module(res["Properties"]) for name, res in functions().items()}
    integrations = {}
    for name, res in resources.items():
        if res["Type"] == "AWS::ApiGatewayV2::Integration":
            uri = res["Properties"]["IntegrationUri"]
            target = next((fn for fn in fn_modules if fn in str(uri)), None)
            if target:
                integrations[name] = fn_modules[target]
    routes = {}
    for res in resources.values():
        if res["Type"] == "AWS::ApiGatewayV2::Route":
            target = str(res["Properties"].get("Target", ""))
            module = next((m for i, m in integrations.items() if i in target), None)
            if module:
                routes[res["Properties"]["RouteKey"]] = module
    return routes
