"""The GitHub workflows: CI runs what .ci/run runs; deploy builds once, then dev, then an approved prod,
assuming a role through OIDC (no stored AWS keys), with the stage's whole samconfig plus AppVersion."""

from __future__ import annotations

import yaml

from local.template import ROOT

WORKFLOWS = ROOT / ".github" / "workflows"


def _load(name: str) -> dict:
    return yaml.safe_load((WORKFLOWS / name).read_text())


def _runs(job: dict) -> str:
    return "\n".join(step.get("run", "") for step in job["steps"])


def test_ci_runs_the_suite_and_the_pooler_suite():
    ci = _load("ci.yml")
    script = "\n".join(_runs(job) for job in ci["jobs"].values())
    assert "make test\n" in script + "\n" and "make test-pooler" in script
    assert "apt-get install" in script and "pgbouncer" in script
    assert ci["permissions"] == {"contents": "read"}


def test_deploy_is_build_then_dev_then_approved_prod_with_oidc_and_no_keys():
    deploy = _load("deploy.yml")
    jobs = deploy["jobs"]
    assert jobs["dev"]["needs"] == "build" and jobs["prod"]["needs"] == "dev"
    assert jobs["dev"]["environment"] == "dev" and jobs["prod"]["environment"] == "prod"
    assert deploy["permissions"]["id-token"] == "write"
    text = (WORKFLOWS / "deploy.yml").read_text()
    assert "aws-access-key-id" not in text and "AWS_SECRET_ACCESS_KEY" not in text
    for stage in ("dev", "prod"):
        steps = jobs[stage]["steps"]
        credentials = [s for s in steps if str(s.get("uses", "")).startswith("aws-actions/configure-aws-credentials")]
        assert credentials and "role-to-assume" in credentials[0]["with"]
        assert any(str(s.get("uses", "")).startswith("actions/download-artifact") for s in steps)  # the one build
        script = _runs(jobs[stage])
        assert "--config-env" in script and "local.deploy overrides" in script and "--no-confirm-changeset" in script
        assert "sam build" not in script and "make build" not in script
    assert "make build" in _runs(jobs["build"])
