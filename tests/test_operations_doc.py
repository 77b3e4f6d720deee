"""docs/operations.md: every command in it exists — a make target, a ``local.deploy`` command, an AWS
CLI operation with its options (from botocore's service models), or a SAM CLI command and options."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

from local.template import ROOT

DOC = ROOT / "docs" / "operations.md"
AWS_CLI_CUSTOMIZATIONS = {("logs", "tail"): {"--follow"},  # commands the AWS CLI adds to the API's
                          ("cloudfront", "create-invalidation"): {"--distribution-id", "--paths"}}
AWS_CLI_SERVICE_NAMES = {"deploy": "codedeploy"}  # the AWS CLI's name → botocore's
AWS_CLI_GLOBAL_OPTIONS = {"--max-items", "--output", "--query", "--region", "--profile", "--page-size"}


def commands() -> list[list[str]]:
    """Each shell command of the document's bash blocks, split into words, environment assignments off."""
    found = []
    for block in re.findall(r"```bash\n(.*?)```", DOC.read_text(), flags=re.S):
        for line in block.replace("\\\n", " ").splitlines():
            words = shlex.split(line, comments=True)
            while words and re.fullmatch(r"[A-Z_]+=.*", words[0]):
                words.pop(0)
            if words:
                found.append(words)
    return found


def test_the_document_has_commands_of_every_kind():
    kinds = {words[0] for words in commands()}
    assert {"make", "aws", "sam", ".venv/bin/python"} <= kinds


def test_every_command_is_one_we_know():
    assert {words[0] for words in commands()} <= {"make", "aws", "sam", ".venv/bin/python", "git"}


def test_make_targets_exist():
    targets = set(re.findall(r"^([\w-]+):", (ROOT / "Makefile").read_text(), flags=re.M))
    for words in commands():
        if words[0] == "make":
            assert words[1] in targets, words


def test_local_deploy_commands_exist():
    from local import deploy

    known = {"overrides", "bootstrap", "add-key", "promote-key", "retire-keys"}
    source = Path(deploy.__file__).read_text()
    for words in commands():
        if words[0] == ".venv/bin/python":
            assert words[1:3] == ["-m", "local.deploy"], words
            assert words[3] in known and f'"{words[3]}"' in source, words
            assert words[4] in deploy.STAGES, words
            if len(words) > 5:
                assert words[5] in deploy.ROTATABLE, words


@cache
def _service(name: str):
    import botocore.session

    return botocore.session.get_session().get_service_model(name)


def _pascal(kebab: str) -> str:
    return "".join(part.capitalize() for part in kebab.split("-"))


@pytest.mark.parametrize("words", [w for w in commands() if w[0] == "aws"], ids=lambda w: " ".join(w[:3]))
def test_aws_cli_operations_and_options_exist(words):
    service, command = words[1], words[2]
    options = {word for word in words[3:] if word.startswith("--")}
    if (service, command) in AWS_CLI_CUSTOMIZATIONS:
        assert options <= AWS_CLI_CUSTOMIZATIONS[(service, command)], words
        return
    model = _service(AWS_CLI_SERVICE_NAMES.get(service, service))
    operations = {name.lower(): name for name in model.operation_names}
    operation = operations.get(_pascal(command).lower())
    assert operation, f"aws {service} has no {command}"
    members = {name.lower() for name in model.operation_model(operation).input_shape.members}
    for option in options - AWS_CLI_GLOBAL_OPTIONS:
        assert _pascal(option[2:]).lower() in members, f"aws {service} {command} has no {option}"


@pytest.mark.parametrize("words", [w for w in commands() if w[0] == "sam"], ids=lambda w: " ".join(w[:2]))
def test_sam_cli_commands_and_options_exist(words):
    sam = shutil.which("sam", path=str(Path(sys.executable).parent)) or shutil.which("sam")
    assert sam, "aws-sam-cli is a dev dependency; `make install` provides it"
    result = subprocess.run([sam, words[1], "--help"], capture_output=True, text=True, timeout=120,
                            env={**os.environ, "SAM_CLI_TELEMETRY": "0"})
    assert result.returncode == 0, result.stderr
    for option in (word for word in words[2:] if word.startswith("--")):
        assert option in result.stdout, f"sam {words[1]} has no {option}"
