"""A deploy rehearsal, offline: SAM's own translator turns template.yaml into the CloudFormation a
deploy would submit, and these invariants are checked on the result.

* every function has a log group with retention (the name Lambda writes to) and JSON platform logs;
* schedules carry no fixed names (they are unique per account and region: a second stage would clash);
* each function's IAM grants and environment cover what its code reaches, derived from the code:
  the import closure of its handler (which of ``shared.clients``, the key set and the unsubscribe
  keys it can touch) and, for ``shared.clients.aws``, the AWS services its reachable code names;
* the migrations run before every function that uses the database is updated;
* every reference in the result points at something that exists (alarms, policies, log groups);
* cfn-lint with the serverless rules is clean on the source template.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
from fnmatch import fnmatch
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from local.template import ROOT, functions

TEMPLATE = ROOT / "template.yaml"
PARAMETERS = {
    "Stage": "prod", "BucketName": "atribuo-prod-avatars", "AvatarPublicBaseUrl": "https://cdn.atribuo.app",
    "AWS::Region": "eu-west-1", "AWS::AccountId": "123456789012", "AWS::Partition": "aws",
    "AWS::StackName": "atribuo-prod", "AWS::URLSuffix": "amazonaws.com",
}
SECRET_READ = "secretsmanager:GetSecretValue"
# What reaching a module requires: (IAM action, a fragment of the granted resource) and environment.
GRANTS: dict[str, list[tuple[str, str]]] = {
    "shared.clients.db": [(SECRET_READ, "atribuo/${Stage}/database-")],
    "shared.clients.redis": [(SECRET_READ, "atribuo/${Stage}/upstash-")],
    "shared.clients.s3": [("s3:GetObject", "${BucketName}/avatars/*"), ("s3:PutObject", "${BucketName}/avatars/*"),
                          ("s3:DeleteObject", "${BucketName}/avatars/*")],
    "shared.clients.websocket": [("execute-api:ManageConnections", "/POST/@connections/*")],
    # The edge (issue 11): every request through EdgeMiddleware may carry the origin secret to check.
    "shared.http.viewer": [(SECRET_READ, "atribuo/${Stage}/edge-")],
}
ENVIRONMENT: dict[str, list[str]] = {
    "shared.clients.db": ["DATABASE_URL_SECRET"],
    "shared.clients.redis": ["UPSTASH_SECRET"],
    "shared.clients.s3": ["AVATAR_BUCKET"],
    "shared.clients.websocket": ["WEBSOCKET_MANAGEMENT_URL"],
    "shared.http.viewer": ["EDGE_ORIGIN_SECRET_NAME"],
}
# Secrets that are not a client's: needed when code the handler can reach calls the settings method.
SETTINGS_SECRETS: dict[str, tuple[list[tuple[str, str]], list[str]]] = {
    "jwt_key_set": ([(SECRET_READ, "atribuo/${Stage}/jwt-keys-")], ["JWT_KEYS_SECRET"]),
    "digest_signing_keys": ([(SECRET_READ, "atribuo/${Stage}/digest-signing-")], ["DIGEST_SIGNING_SECRET_ARN"]),
    "storage_credentials": ([(SECRET_READ, "atribuo/${Stage}/storage-")], ["STORAGE_CREDENTIALS_SECRET"]),
}
# Issue 15: code that writes or reads outside avatars/ (the bucket hand-off of exports and imports).
REACHED_GRANTS: dict[str, list[tuple[str, str]]] = {
    "store_export": [("s3:PutObject", "${BucketName}/exports/*"), ("s3:GetObject", "${BucketName}/exports/*"),
                     ("s3:AbortMultipartUpload", "${BucketName}/exports/*")],
    "read_import": [("s3:GetObject", "${BucketName}/imports/*")],
    "discard_import": [("s3:DeleteObject", "${BucketName}/imports/*")],
    "delete_files": [("s3:DeleteObject", "${BucketName}/exports/*"), ("s3:DeleteObject", "${BucketName}/imports/*")],
}
AWS_SERVICES: dict[str, tuple[list[tuple[str, str]], list[str]]] = {
    "sqs": ([("sqs:SendMessage", "Queue")], []),  # the digest queue, or the mail queue (issue 15)
    "ses": ([("ses:SendEmail", ":identity/*")], ["DIGEST_FROM_EMAIL"]),
    "sesv2": ([("ses:SendEmail", ":identity/*")], []),  # shared.mail (issue 15): SES v2, raw MIME
    "lambda": ([("lambda:InvokeFunction", "WsHelloFunction")], ["WS_HELLO_FUNCTION"]),  # $connect → hello
}


class _NoManagedPolicies:
    """The translator asks IAM for AWS managed policy names; the template uses none by name."""

    def load(self) -> dict[str, str]:
        return {}


@cache
def transformed() -> dict[str, Any]:
    from samtranslator.translator.transform import transform
    from samtranslator.yaml_helper import yaml_parse

    os.environ.setdefault("AWS_DEFAULT_REGION", PARAMETERS["AWS::Region"])  # the translator asks boto3
    template = yaml_parse(TEMPLATE.read_text())
    for name, resource in template["Resources"].items():  # what `sam package` does to local folders
        properties = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri"):
            if isinstance(properties.get(key), str):
                properties[key] = f"s3://rehearsal-bucket/{name}.zip"
    return transform(template, dict(PARAMETERS), _NoManagedPolicies())


def lambda_functions() -> dict[str, dict[str, Any]]:
    return {name: res for name, res in transformed()["Resources"].items() if res["Type"] == "AWS::Lambda::Function"}


def test_the_transform_yields_every_function():
    assert set(lambda_functions()) == set(functions())


# --- the code's reach --------------------------------------------------------------------------------

def _module_path(module: str) -> Path | None:
    base = ROOT.joinpath(*module.split("."))
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def _imports(path: Path, module: str) -> set[str]:
    """Every module ``path`` imports anywhere (lazy imports inside functions included)."""
    found: set[str] = set()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return {name for name in found if name.split(".")[0] in ("shared", "functions") and _module_path(name)}


@cache
def closure(handler_module: str) -> frozenset[str]:
    seen: set[str] = set()
    todo = [handler_module]
    while todo:
        module = todo.pop()
        if module in seen or (path := _module_path(module)) is None:
            continue
        seen.add(module)
        todo.extend(_imports(path, module) - seen)
    return frozenset(seen)


def _from_imports(tree: ast.AST, module: str, is_package: bool) -> dict[str, str]:
    """``name → module`` for each ``from <module> import <name>`` (any depth) of a shared/functions module."""
    package = module if is_package else module.rpartition(".")[0]
    names = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            for alias in node.names:
                names[alias.asname or alias.name] = base
    return names


@cache
def reachable(handler_module: str) -> tuple[frozenset[str], frozenset[str]]:
    """(functions and methods, AWS services): what the handler can reach within its import closure,
    and the service of every ``aws.client("<service>")`` call among them. A bare name resolves to the
    module's own definition or the one it imports under that name; ``x.name`` to a definition of that
    name in any module this one imports. It over-approximates (``x`` is not typed), never under-."""
    modules = {m: p for m in closure(handler_module) if (p := _module_path(m))}
    trees = {m: ast.parse(p.read_text()) for m, p in modules.items()}
    defs: dict[tuple[str, str], list[ast.AST]] = {}
    for module, tree in trees.items():
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                defs.setdefault((module, node.name), []).append(node)
        for node in tree.body:  # module-level names (CurrentUser = Annotated[..., Depends(...)]) lead on
            if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
                for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                    if isinstance(target, ast.Name):
                        defs.setdefault((module, target.id), []).append(node.value)
    imported = {m: _imports(modules[m], m) & set(trees) for m in trees}
    from_names = {m: _from_imports(trees[m], m, modules[m].name == "__init__.py") for m in trees}

    def targets(module: str, node: ast.AST) -> set[tuple[str, str]]:
        found = set()
        for sub in ast.walk(node):
            if isinstance(sub, ast.Name):
                if (module, sub.id) in defs:
                    found.add((module, sub.id))
                elif (origin := from_names[module].get(sub.id)) and (origin, sub.id) in defs:
                    found.add((origin, sub.id))
            elif isinstance(sub, ast.Attribute):
                found |= {(other, sub.attr) for other in imported[module] | {module} if (other, sub.attr) in defs}
        return found

    seen: set[tuple[str, str]] = set()
    todo = list(targets(handler_module, trees[handler_module]))
    while todo:
        key = todo.pop()
        if key in seen:
            continue
        seen.add(key)
        for body in defs[key]:
            todo.extend(targets(key[0], body) - seen)
    services = set()
    for key in seen:
        for body in defs[key]:
            for call in (n for n in ast.walk(body) if isinstance(n, ast.Call)):
                func = call.func
                if (isinstance(func, ast.Attribute) and func.attr == "client" and isinstance(func.value, ast.Name)
                        and func.value.id == "aws" and call.args and isinstance(call.args[0], ast.Constant)):
                    services.add(call.args[0].value)
    return frozenset(name for _, name in seen), frozenset(services)


def handler_module(function: str) -> str:
    return "functions." + functions()[function]["Properties"]["CodeUri"].strip("/").split("/")[-1] + ".app"


def test_the_reach_analysis_sees_what_the_code_does():
    """Guards the analysis itself: known facts about the code come out of it."""
    assert "shared.clients.s3" in closure(handler_module("UploadsFunction"))
    assert "shared.clients.db" not in closure(handler_module("NotFoundFunction"))
    assert reachable(handler_module("DigestPlannerFunction"))[1] == {"sqs"}
    assert reachable(handler_module("DigestWorkerFunction"))[1] == {"sesv2"}  # through shared.mail
    assert "digest_signing_keys" in reachable(handler_module("DigestWorkerFunction"))[0]
    assert "digest_signing_keys" not in reachable(handler_module("DigestPlannerFunction"))[0]
    assert "jwt_key_set" in reachable(handler_module("SkillsFunction"))[0]
    assert "jwt_key_set" not in reachable(handler_module("HealthFunction"))[0]
    assert "storage_credentials" in reachable(handler_module("UploadsFunction"))[0]
    assert {"store_export", "read_import", "delete_files"} <= reachable(handler_module("AuthFunction"))[0]
    assert "shared.http.viewer" in closure(handler_module("HealthFunction"))  # EdgeMiddleware's
    assert "shared.http.viewer" not in closure(handler_module("NotFoundFunction"))


def _grants(function: dict[str, Any]) -> list[tuple[str, str]]:
    """(action, resource as JSON text) for every Allow statement of the function's role."""
    resources = transformed()["Resources"]
    role = resources[function["Properties"]["Role"]["Fn::GetAtt"][0]]["Properties"]
    documents = [policy["PolicyDocument"] for policy in role.get("Policies", [])]
    for arn in role.get("ManagedPolicyArns", []):
        branches = arn["Fn::If"][1:] if isinstance(arn, dict) and "Fn::If" in arn else [arn]  # both, conditional
        for branch in branches:
            if isinstance(branch, dict) and branch.get("Ref") in resources:
                documents.append(resources[branch["Ref"]]["Properties"]["PolicyDocument"])
    pairs = []
    for document in documents:
        for statement in document["Statement"]:
            if statement.get("Effect") != "Allow":
                continue
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            for action in actions:
                pairs.append((action, json.dumps(statement.get("Resource"))))
    return pairs


def _environment(function: dict[str, Any]) -> set[str]:
    return set(function["Properties"].get("Environment", {}).get("Variables", {}))


@pytest.mark.parametrize("name", sorted(functions()))
def test_each_function_may_do_what_its_code_reaches(name):
    function = lambda_functions()[name]
    module = handler_module(name)
    reach = closure(module)
    needed: list[tuple[str, str]] = []
    env: list[str] = []
    for client, grants in GRANTS.items():
        if client in reach:
            needed += grants
            env += ENVIRONMENT[client]
    names, services = reachable(module)
    for method, (grants, variables) in SETTINGS_SECRETS.items():
        if method in names:
            needed += grants
            env += variables
    for method, grants in REACHED_GRANTS.items():
        if method in names:
            needed += grants
    for service in services:
        needed += AWS_SERVICES[service][0]
        env += AWS_SERVICES[service][1]
    granted = _grants(function)
    missing = [(action, fragment) for action, fragment in needed
               if not any(fnmatch(action, a) and fragment in resource for a, resource in granted)]
    assert not missing, f"{name} reaches code that needs {missing}"
    assert set(env) <= _environment(function), f"{name} lacks {set(env) - _environment(function)}"


# --- logs, schedules, ordering, references ---------------------------------------------------------

def test_every_function_has_a_log_group_with_retention_and_json_logs():
    groups = {json.dumps(res["Properties"].get("LogGroupName")): res["Properties"]
              for res in transformed()["Resources"].values() if res["Type"] == "AWS::Logs::LogGroup"}
    for name, function in lambda_functions().items():
        group = groups.get(json.dumps({"Fn::Sub": f"/aws/lambda/${{{name}}}"}))
        assert group is not None and group.get("RetentionInDays"), f"{name} has no log group with retention"
        assert function["Properties"].get("LoggingConfig", {}).get("LogFormat") == "JSON", name


def test_schedules_carry_no_fixed_names():
    schedules = [res for res in transformed()["Resources"].values() if res["Type"] == "AWS::Scheduler::Schedule"]
    assert len(schedules) == 2
    assert all("Name" not in schedule["Properties"] for schedule in schedules)


def test_migrations_run_before_the_functions_that_use_the_database():
    resources = transformed()["Resources"]
    migrations = resources["Migrations"]
    assert "MigrateFunctionLogs" in _depends_on(migrations)
    assert migrations["Properties"]["ServiceTimeout"] <= 900
    assert "SharedLayer" in json.dumps(migrations["Properties"])  # a new shared layer re-runs them
    users = [name for name in functions() if "shared.clients.db" in closure(handler_module(name))
             and name != "MigrateFunction"]
    assert len(users) >= 10
    for name in users:
        assert "Migrations" in _depends_on(lambda_functions()[name]), name


def _depends_on(resource: dict[str, Any]) -> list[str]:
    value = resource.get("DependsOn", [])
    return [value] if isinstance(value, str) else list(value)


def test_every_reference_points_at_something_that_exists():
    """Alarms' dimensions and actions, policies, log groups, integrations: a Ref, GetAtt or ${} that
    names nothing fails the deploy only at the end of a long rollout."""
    output = transformed()
    known = set(output["Resources"]) | set(output.get("Parameters", {})) | {
        "AWS::Region", "AWS::AccountId", "AWS::Partition", "AWS::StackName", "AWS::URLSuffix", "AWS::NoValue",
        "AWS::StackId"}
    dangling = []

    def visit(node: Any, where: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "Ref" and isinstance(value, str) and value not in known:
                    dangling.append((where, value))
                elif key == "Fn::GetAtt":
                    target = value[0] if isinstance(value, list) else value.split(".")[0]
                    if target not in output["Resources"]:
                        dangling.append((where, target))
                elif key == "Fn::Sub":
                    text, local = (value, {}) if isinstance(value, str) else (value[0], value[1])
                    for name in re.findall(r"\$\{([^}!]+)\}", text):
                        if name.split(".")[0] not in known and name not in local:
                            dangling.append((where, name))
                visit(value, where)
        elif isinstance(node, list):
            for item in node:
                visit(item, where)

    for name, resource in output["Resources"].items():
        visit(resource, name)
        for dependency in _depends_on(resource):
            if dependency not in output["Resources"]:
                dangling.append((name, dependency))
    visit(output.get("Outputs", {}), "Outputs")
    assert not dangling


def test_cfn_lint_with_the_serverless_rules_is_clean():
    cfn_lint = shutil.which("cfn-lint", path=str(Path(sys.executable).parent)) or shutil.which("cfn-lint")
    assert cfn_lint, "cfn-lint is a dev dependency; `make install` provides it"
    env = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1"}
    result = subprocess.run([cfn_lint, str(TEMPLATE), "--append-rules", "cfn_lint_serverless.rules"],
                            capture_output=True, text=True, env=env, timeout=300, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_function_and_queue_is_watched_and_every_alarm_notifies_the_topic():
    resources = transformed()["Resources"]
    alarms = [res["Properties"] for res in resources.values() if res["Type"] == "AWS::CloudWatch::Alarm"]
    watched = {(alarm.get("MetricName"), json.dumps(alarm.get("Dimensions"))) for alarm in alarms}
    for name in lambda_functions():
        for metric in ("Errors", "Throttles"):
            assert (metric, json.dumps([{"Name": "FunctionName", "Value": {"Ref": name}}])) in watched, (name, metric)
    for queue, metric in (("DigestDeadLetterQueue", "ApproximateNumberOfMessagesVisible"),
                          ("DigestQueue", "ApproximateAgeOfOldestMessage")):
        dimension = [{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue, "QueueName"]}}]
        assert (metric, json.dumps(dimension)) in watched, queue
    assert {"Latency", None} <= {alarm.get("MetricName") for alarm in alarms}  # p95 latency; the 5xx rate (math)
    for alarm in alarms:
        assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}] == alarm["OKActions"]
    assert resources["AlarmTopic"]["Type"] == "AWS::SNS::Topic"


def test_every_function_that_pushes_to_devices_counts_its_failed_pushes_into_the_alarmed_metric():
    resources = transformed()["Resources"]
    publishers = {name for name in functions() if "shared.sync.fanout" in closure(handler_module(name))}
    assert len(publishers) >= 4
    counted = {}
    for resource in resources.values():
        if resource["Type"] == "AWS::Logs::MetricFilter":
            group = resource["Properties"]["LogGroupName"]["Ref"].removesuffix("Logs")
            metrics = {(t["MetricNamespace"], t["MetricName"]) for t in resource["Properties"]["MetricTransformations"]}
            counted.setdefault(group, []).append((resource["Properties"]["FilterPattern"], metrics))
    for name in publishers:
        patterns = " ".join(pattern for pattern, metrics in counted.get(name, [])
                            if ("Atribuo", "FanOutFailures") in metrics)
        assert '"published"' in patterns and '"publish_change failed"' in patterns, name
    source = (ROOT / "shared" / "sync" / "fanout.py").read_text()
    assert 'logger.info("published", extra={"sent": result.sent, "gone": len(result.gone), "failed"' in source
    assert 'logger.warning("publish_change failed"' in source
    alarms = [res["Properties"] for res in resources.values() if res["Type"] == "AWS::CloudWatch::Alarm"]
    assert any(a.get("Namespace") == "Atribuo" and a.get("MetricName") == "FanOutFailures" for a in alarms)


def test_every_event_invokes_the_published_alias_and_http_functions_roll_out_guarded_by_their_alarm():
    """AutoPublishAlias `live`: events, integrations and permissions name the alias (so SnapStart's
    published versions serve); each HTTP function's traffic shift is rolled back by its error alarm."""
    resources = transformed()["Resources"]
    aliases = {name.removesuffix("Aliaslive") for name, res in resources.items() if res["Type"] == "AWS::Lambda::Alias"}
    assert aliases == set(lambda_functions())
    for name, res in resources.items():
        if res["Type"] == "AWS::Lambda::Permission":
            assert res["Properties"]["FunctionName"]["Ref"].endswith("Aliaslive"), name
        if res["Type"] == "AWS::ApiGatewayV2::Integration" and name.startswith("Ws"):
            assert "Aliaslive" in json.dumps(res["Properties"]["IntegrationUri"]), name
    http = {name for name, res in functions().items()
            if any(e["Type"] == "HttpApi" for e in (res["Properties"].get("Events") or {}).values())}
    assert len(http) >= 8
    for name in http:
        group = resources[f"{name}DeploymentGroup"]["Properties"]
        assert {"Ref": f"{name}ErrorsAlarm"} in [a["Name"] for a in group["AlarmConfiguration"]["Alarms"]]
        update = resources[f"{name}Aliaslive"]["UpdatePolicy"]["CodeDeployLambdaAliasUpdate"]
        assert update["DeploymentGroupName"] == {"Ref": f"{name}DeploymentGroup"}
    snap = lambda_functions()["SkillsFunction"]["Properties"]["SnapStart"]["ApplyOn"]
    assert snap == {"Fn::If": ["UseSnapStart", "PublishedVersions", "None"]}


def test_route_changes_deploy_themselves_and_replaced_layer_versions_are_deleted():
    """Defect 7: no WebSocket Deployment to rename by hand (the stage auto-deploys), and layer
    versions are not kept forever."""
    resources = transformed()["Resources"]
    stages = [res["Properties"] for res in resources.values() if res["Type"] == "AWS::ApiGatewayV2::Stage"]
    websocket = [stage for stage in stages if stage.get("ApiId") == {"Ref": "WebSocketApi"}]
    assert websocket and all(stage.get("AutoDeploy") is True and "DeploymentId" not in stage for stage in websocket)
    assert not [name for name, res in resources.items()
                if res["Type"] == "AWS::ApiGatewayV2::Deployment" and "WebSocketApi" in json.dumps(res)]
    layers = [res for res in resources.values() if res["Type"] == "AWS::Lambda::LayerVersion"]
    assert layers and all(layer.get("DeletionPolicy") == "Delete" for layer in layers)


def test_functions_join_a_vpc_only_when_subnets_are_given_and_may_then_attach_to_it():
    """Defect 7: RDS Proxy is only reachable inside a VPC; the template offers one, off by default."""
    output = transformed()
    assert "InVpc" in output["Conditions"]
    vpc_access = "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"
    for name, function in lambda_functions().items():
        assert function["Properties"]["VpcConfig"]["Fn::If"][0] == "InVpc", name
        role = output["Resources"][function["Properties"]["Role"]["Fn::GetAtt"][0]]["Properties"]
        assert vpc_access in role["ManagedPolicyArns"], name


# --- the edge (issue 11) ---------------------------------------------------------------------------
# CloudFront in front of the HTTP API and the avatar bucket, behind WAF. The public routes are derived
# from the published contract: GET operations with a Cache-Control header (shared.http.openapi
# ``etag``/``conditional``) that are not per-user data (no ``X-Sync-Version``, which every per-user answer
# carries); everything else must reach the uncached default. A public route that also takes a token
# (``security`` in its operation: GET /leaderboard?around=me) needs Authorization in its cache key,
# the only way CloudFront forwards it; the others must not have it there.

CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"  # AWS managed cache policy ids (fixed by AWS)
ALL_VIEWER_EXCEPT_HOST = "b689b0a8-53d0-40ab-baf2-68738e2966ac"


def _edge() -> dict[str, Any]:
    return transformed()["Resources"]["EdgeDistribution"]["Properties"]["DistributionConfig"]


def _unless(value: Any, condition: str) -> Any:
    """The value of a ``Fn::If [condition, value, AWS::NoValue]`` (asserting that shape), else ``value``."""
    if isinstance(value, dict) and "Fn::If" in value:
        name, present, absent = value["Fn::If"]
        assert name == condition and absent == {"Ref": "AWS::NoValue"}, value
        return present
    return value


@cache
def _openapi() -> dict[str, Any]:
    return json.loads((ROOT / "openapi.json").read_text())


def _public_operations() -> dict[str, dict[str, Any]]:
    found = {}
    for path, ops in _openapi()["paths"].items():
        headers = ops.get("get", {}).get("responses", {}).get("200", {}).get("headers", {})
        if "Cache-Control" in headers and "X-Sync-Version" not in headers:
            found[path] = ops["get"]
    return found


def _policy_for(path: str) -> str:
    """The cache policy a public route must have: with Authorization in the key when it takes a token."""
    return "EdgeOptionalAuthCachePolicy" if _public_operations()[path].get("security") else "EdgePublicCachePolicy"


def _template_routes() -> list[tuple[str, str]]:
    return [(event["Properties"]["Method"].upper(), event["Properties"]["Path"])
            for resource in functions().values() for event in (resource["Properties"].get("Events") or {}).values()
            if event["Type"] == "HttpApi" and "Method" in event["Properties"]]  # $default: the default behaviour


def _cloudfront_matches(pattern: str, path: str) -> bool:
    """CloudFront's path pattern: ``*`` any characters (``/`` too), ``?`` one, case-sensitive."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, path) is not None


def _behaviour_for(path: str) -> dict[str, Any]:
    """What CloudFront applies to ``path``: the first cache behaviour whose pattern matches, else the default."""
    behaviours = [_unless(b, "EdgeServesAvatars") for b in _edge()["CacheBehaviors"]]
    sample = re.sub(r"\{[^}]+\}", "someone", path)
    matching = (b for b in behaviours if _cloudfront_matches(b["PathPattern"], sample))
    return next(matching, _edge()["DefaultCacheBehavior"])


def test_the_public_route_list_is_what_the_contract_says():
    """Guards the derivation: the card, the public profile, the leaderboard (and the key set) and
    nothing authenticated."""
    public = set(_public_operations())
    assert {"/api/v1/users/{username}", "/api/v1/users/{username}/card.svg", "/api/v1/users/{username}/card.png",
            "/api/v1/leaderboard"} <= public
    assert not [path for path in public if path.startswith(("/api/v1/me", "/api/v1/auth", "/api/v1/sync"))]
    assert "/api/v1/leaderboard/me" not in public and "/api/v1/users" not in public  # per-user; never cached
    assert _policy_for("/api/v1/leaderboard") == "EdgeOptionalAuthCachePolicy"  # ?around=me takes a token
    assert _policy_for("/api/v1/users/{username}/card.svg") == "EdgePublicCachePolicy"


def test_only_the_public_routes_are_cached_and_every_other_route_passes_through_uncached():
    public = set(_public_operations())
    default = _edge()["DefaultCacheBehavior"]
    assert default["CachePolicyId"] == CACHING_DISABLED and default["OriginRequestPolicyId"] == ALL_VIEWER_EXCEPT_HOST
    assert set(default["AllowedMethods"]) == {"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"}
    routes = _template_routes()
    assert len(routes) >= 40
    for method, path in routes:
        behaviour = _behaviour_for(path)
        if method == "GET" and path in public:
            assert behaviour["CachePolicyId"] == {"Ref": _policy_for(path)}, (
                f"{path} is public and cacheable (openapi.json): give it a cache behaviour in EdgeDistribution "
                f"with {_policy_for(path)}")
            assert behaviour["OriginRequestPolicyId"] == {"Ref": "EdgePublicOriginRequestPolicy"}, path
        else:  # authenticated, /auth/*, /me/*, /sync, /realtime, writes, public but uncacheable (search)
            assert behaviour is default, (
                f"{method} {path} is not a public cacheable GET, but {behaviour.get('PathPattern')} serves it cached")
    api_behaviours = [b for b in _edge()["CacheBehaviors"] if isinstance(b, dict) and b.get("TargetOriginId") == "api"]
    for behaviour in api_behaviours:  # each public behaviour serves a public route, and only GETs of it
        assert any(_cloudfront_matches(behaviour["PathPattern"], re.sub(r"\{[^}]+\}", "someone", path))
                   for path in public), behaviour["PathPattern"]
        assert set(behaviour["AllowedMethods"]) == {"GET", "HEAD", "OPTIONS"}


@pytest.mark.parametrize("name", ["EdgePublicCachePolicy", "EdgeOptionalAuthCachePolicy"])
def test_the_public_cache_policies_honour_the_origin_and_key_only_what_their_routes_read(name):
    policy = transformed()["Resources"][name]["Properties"]["CachePolicyConfig"]
    assert policy["MinTTL"] == 0 and policy["DefaultTTL"] == 0  # no Cache-Control max-age: no edge copy
    key = policy["ParametersInCacheKeyAndForwardedToOrigin"]
    assert key["EnableAcceptEncodingGzip"] is True and key["EnableAcceptEncodingBrotli"] is True
    assert key["CookiesConfig"] == {"CookieBehavior": "none"}
    headers = {h.lower() for h in key["HeadersConfig"].get("Headers", [])}
    assert key["HeadersConfig"]["HeaderBehavior"] == "whitelist" and "origin" in headers
    assert ("authorization" in headers) == (name == "EdgeOptionalAuthCachePolicy")
    assert "accept-language" not in headers  # public bodies are language-neutral: one copy for everyone
    paths = [path for path in _public_operations() if _policy_for(path) == name]
    assert paths, name
    queries = {p["name"] for path in paths for p in _public_operations()[path].get("parameters", [])
               if p["in"] == "query"}
    config = key["QueryStringsConfig"]
    keyed = set(config.get("QueryStrings", [])) if config["QueryStringBehavior"] == "whitelist" else set()
    assert config["QueryStringBehavior"] in ("whitelist", "none") and keyed == queries, (
        f"{paths} read the query strings {sorted(queries)}: {name}'s key must list exactly them")


def test_the_public_routes_receive_the_viewer_address_and_no_error_is_kept():
    forwarded = transformed()["Resources"]["EdgePublicOriginRequestPolicy"]["Properties"]["OriginRequestPolicyConfig"]
    assert "CloudFront-Viewer-Address" in forwarded["HeadersConfig"]["Headers"]  # shared.http.viewer
    assert "Accept-Language" in forwarded["HeadersConfig"]["Headers"]  # their errors speak it (shared.core.i18n)
    assert forwarded["CookiesConfig"] == {"CookieBehavior": "none"}
    errors = {e["ErrorCode"]: e for e in _edge()["CustomErrorResponses"]}  # no error outlives its cause
    assert set(errors) == {400, 403, 404, 405, 414, 416, 500, 501, 502, 503, 504}
    assert all(e["ErrorCachingMinTTL"] == 0 and "ResponsePagePath" not in e for e in errors.values())


def test_every_behaviour_compresses_and_redirects_to_https_and_tls_is_1_2_or_newer():
    behaviours = [_edge()["DefaultCacheBehavior"],
                  *(_unless(b, "EdgeServesAvatars") for b in _edge()["CacheBehaviors"])]
    assert len(behaviours) >= 6
    for behaviour in behaviours:
        assert behaviour["Compress"] is True and behaviour["ViewerProtocolPolicy"] == "redirect-to-https", behaviour
    condition, custom, _default = _edge()["ViewerCertificate"]["Fn::If"]
    assert condition == "HasEdgeDomain" and custom["MinimumProtocolVersion"] == "TLSv1.2_2021"
    assert custom["SslSupportMethod"] == "sni-only" and custom["AcmCertificateArn"] == {"Ref": "EdgeCertificateArn"}
    assert _edge()["Aliases"] == {"Fn::If": ["HasEdgeDomain", {"Ref": "EdgeDomainNames"}, {"Ref": "AWS::NoValue"}]}
    api = next(o for o in _edge()["Origins"] if isinstance(o, dict) and o.get("Id") == "api")
    assert api["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    assert api["CustomOriginConfig"]["OriginSSLProtocols"] == ["TLSv1.2"]


def test_the_avatar_bucket_stays_private_behind_origin_access_control_scoped_to_the_distribution():
    resources = transformed()["Resources"]
    origin = next(_unless(o, "EdgeServesAvatars") for o in _edge()["Origins"] if isinstance(o, dict) and "Fn::If" in o)
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": ["EdgeAvatarAccess", "Id"]}
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}  # no legacy OAI
    access = resources["EdgeAvatarAccess"]
    assert access["Type"] == "AWS::CloudFront::OriginAccessControl"
    config = access["Properties"]["OriginAccessControlConfig"]
    assert (config["OriginAccessControlOriginType"], config["SigningBehavior"], config["SigningProtocol"]) == (
        "s3", "always", "sigv4")
    policy = resources["EdgeAvatarBucketPolicy"]["Properties"]
    assert policy["Bucket"] == {"Ref": "BucketName"}
    allows = [s for s in policy["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"]
    assert len(allows) == 1
    allow = allows[0]
    assert allow["Principal"] == {"Service": "cloudfront.amazonaws.com"} and allow["Action"] == "s3:GetObject"
    assert "/avatars/*/served/*" in json.dumps(allow["Resource"])  # served keys only; uploads stay unreadable
    source = json.dumps(allow["Condition"]["StringEquals"]["AWS:SourceArn"])
    assert ":distribution/${EdgeDistribution}" in source
    avatars = next(_unless(b, "EdgeServesAvatars") for b in _edge()["CacheBehaviors"] if "Fn::If" in b)
    assert avatars["TargetOriginId"] == "avatars" and avatars["PathPattern"] == "/avatars/*/served/*"
    assert set(avatars["AllowedMethods"]) == {"GET", "HEAD"}


def test_the_api_trusts_the_viewer_address_only_with_the_stages_origin_secret():
    api = next(o for o in _edge()["Origins"] if isinstance(o, dict) and o.get("Id") == "api")
    headers = {h["HeaderName"]: h["HeaderValue"] for h in api["OriginCustomHeaders"]}
    from shared.http.viewer import ORIGIN_VERIFY

    assert set(headers) == {"X-Origin-Verify"} and ORIGIN_VERIFY == b"x-origin-verify"
    secret = "{{resolve:secretsmanager:atribuo/${Stage}/edge:SecretString:current}}"
    assert headers["X-Origin-Verify"] == {"Fn::Sub": secret}
    comment = json.dumps(_edge()["Comment"])
    assert "${EdgeOriginSecretGeneration}" in comment  # bumping it re-reads the secret (docs/operations.md)


def test_the_waf_is_associated_and_carries_the_managed_rule_groups_and_a_rate_rule():
    resources = transformed()["Resources"]
    assert _edge()["WebACLId"] == {"Fn::If": ["CreateEdgeWebAcl", {"Fn::GetAtt": ["EdgeWaf", "Outputs.WebAclArn"]},
                                              {"Fn::If": ["HasEdgeWebAclArn", {"Ref": "EdgeWebAclArn"},
                                                          {"Ref": "AWS::NoValue"}]}]}
    assert resources["EdgeWaf"]["Type"] == "AWS::CloudFormation::Stack"
    assert resources["EdgeWaf"]["Properties"]["TemplateURL"] == "edge/waf.yaml"
    rules = transformed()["Rules"]["EdgeNeedsAWafOutsideUsEast1"]  # no region is left without its WAF
    assert rules["Assertions"][0]["Assert"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "EdgeWebAclArn"}, ""]}]}
    assert transformed()["Rules"]["ProdHasTheEdge"]["Assertions"][0]["Assert"] == {
        "Fn::Equals": [{"Ref": "Edge"}, "enabled"]}
    from samtranslator.yaml_helper import yaml_parse

    waf = yaml_parse((ROOT / "edge" / "waf.yaml").read_text())["Resources"]
    acl = waf["WebAcl"]["Properties"]
    assert acl["Scope"] == "CLOUDFRONT"
    groups = {r["Statement"]["ManagedRuleGroupStatement"]["Name"] for r in acl["Rules"]
              if "ManagedRuleGroupStatement" in r["Statement"]}
    assert groups == {"AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet",
                      "AWSManagedRulesAmazonIpReputationList"}
    rate = [r for r in acl["Rules"] if "RateBasedStatement" in r["Statement"]]
    assert rate and rate[0]["Action"] == {"Block": {}}
    assert rate[0]["Statement"]["RateBasedStatement"]["AggregateKeyType"] == "IP"
    logging = waf["WebAclLogging"]["Properties"]
    assert {"SingleHeader": {"Name": "authorization"}} in logging["RedactedFields"]
    cfn_lint = shutil.which("cfn-lint", path=str(Path(sys.executable).parent)) or shutil.which("cfn-lint")
    assert cfn_lint
    result = subprocess.run([cfn_lint, str(ROOT / "edge" / "waf.yaml"), "--append-rules", "cfn_lint_serverless.rules"],
                            capture_output=True, text=True, env={**os.environ, "AWS_DEFAULT_REGION": "us-east-1"},
                            timeout=300, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_sam_validate_lint_passes_offline():
    """`sam validate --lint` (the SAM CLI's own check, cfn-lint inside): it needs a region, no
    credentials and no network."""
    sam = shutil.which("sam", path=str(Path(sys.executable).parent)) or shutil.which("sam")
    assert sam, "aws-sam-cli is a dev dependency; `make install` provides it"
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_") or key == "AWS_CA_BUNDLE"}
    env.update(AWS_DEFAULT_REGION="eu-west-1", SAM_CLI_TELEMETRY="0")  # no credentials at all
    result = subprocess.run([sam, "validate", "--lint", "--template-file", str(TEMPLATE)], capture_output=True,
                            text=True, env=env, timeout=300, cwd=ROOT)
    assert result.returncode == 0 and "is a valid SAM Template" in result.stdout + result.stderr, (
        result.stdout + result.stderr)


def test_the_api_refuses_requests_around_the_edge_exactly_where_its_links_name_the_edge():
    """EDGE_REQUIRED (shared.http.edge: 403 without the origin secret) follows the custom domain, as
    PUBLIC_API_URL does: where links name the edge, nothing may reach the API around its WAF; where
    they name the execute-api URL, that URL must keep answering."""
    lambdas = {name: r for name, r in transformed()["Resources"].items() if r["Type"] == "AWS::Lambda::Function"}
    assert lambdas
    for name, resource in lambdas.items():
        variables = resource["Properties"].get("Environment", {}).get("Variables", {})
        assert variables.get("EDGE_REQUIRED") == {"Fn::If": ["HasEdgeDomain", "true", "false"]}, name
