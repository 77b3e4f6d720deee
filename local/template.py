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


def function_module(name: str) -> str:
    """The handler module of the function with logical id ``name`` (``functions.<folder>.app``)."""
    return _module(functions()[name]["Properties"])


def timeout_of(module: str) -> float:
    """The ``Timeout`` (seconds) of the function whose handler module is ``module`` (its own, else the
    Globals'), so a local invocation gets the time, and so the deadline, it would get in AWS."""
    default = float(load_template().get("Globals", {}).get("Function", {}).get("Timeout", 3))
    for res in functions().values():
        if _module(res["Properties"]) == module:
            return float(res["Properties"].get("Timeout", default))
    return default
def function_modules() -> dict[str, str]:
    """Every function's logical id → its handler module (``functions.ws_hello.app``)."""
    return {name: _module(res["Properties"]) for name, res in functions().items()}


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


def schedules() -> dict[str, str]:
    """Handler module → ``ScheduleExpression`` of every ``ScheduleV2`` event (the scheduled functions)."""
    found = {}
    for res in functions().values():
        props = res["Properties"]
        for event in (props.get("Events") or {}).values():
            if event["Type"] == "ScheduleV2":
                found[_module(props)] = str(event["Properties"]["ScheduleExpression"])
    return found


def _refs(value: Any) -> set[str]:
    """Logical ids a CloudFormation value refers to (Ref, GetAtt, ``${Name}``/``${Name.Attr}`` in Sub)."""
    if isinstance(value, dict):
        found: set[str] = set()
        for key, inner in value.items():
            if key == "Ref":
                found.add(str(inner).split(".")[0])  # SAM's `!Ref Function.Alias` names the function
            elif key == "Fn::GetAtt":
                found.add(str(inner).split(".")[0] if isinstance(inner, str) else str(inner[0]))
            else:
                found |= _refs(inner)
        return found
    if isinstance(value, list):
        return set().union(*(_refs(item) for item in value)) if value else set()
    if isinstance(value, str):
        return {name.split(".")[0] for name in re.findall(r"\$\{([\w.:]+)\}", value)}
    return set()


def websocket_routes() -> dict[str, str]:
    """Route key (``$connect``, ``ping`` …) → handler module, from the WebSocket API's integrations.

    Matched by exact logical id (Route ``Target`` → Integration → ``IntegrationUri`` → Function),
    so ``WsConnectFunction`` can never be mistaken for ``WsDisconnectFunction``.
    """
    resources = load_template()["Resources"]
    fn_modules = {name: _module(res["Properties"]) for name, res in functions().items()}
    integrations: dict[str, str] = {}
    for name, res in resources.items():
        if res["Type"] == "AWS::ApiGatewayV2::Integration":
            target = next((fn for fn in _refs(res["Properties"].get("IntegrationUri")) if fn in fn_modules), None)
            if target:
                integrations[name] = fn_modules[target]
    routes = {}
    for res in resources.values():
        if res["Type"] == "AWS::ApiGatewayV2::Route":
            module = next((integrations[i] for i in _refs(res["Properties"].get("Target")) if i in integrations), None)
            if module:
                routes[res["Properties"]["RouteKey"]] = module
    return routes


def function_layers(name: str) -> list[str]:
    """A function's layers (logical ids, in order) after SAM merges its Globals, by SAM's own merger.

    SAM concatenates list properties (Globals first, then the function's own) unless the resource
    sets ``IgnoreGlobals``: reading only the function's ``Layers`` would get this wrong.
    """
    from samtranslator.plugins.globals.globals import Globals

    res = functions()[name]
    merged = Globals(load_template()).merge("AWS::Serverless::Function", dict(res["Properties"]), name,
                                            res.get("IgnoreGlobals"))
    return [layer["Ref"] for layer in merged.get("Layers") or []]


def layers() -> dict[str, Path]:
    """Every ``AWS::Serverless::LayerVersion`` by logical id → its ContentUri folder."""
    resources = load_template()["Resources"]
    return {name: ROOT / res["Properties"]["ContentUri"] for name, res in resources.items()
            if res["Type"] == "AWS::Serverless::LayerVersion"}
