"""`make plan` / `make deploy` refuse an environment whose file still holds the placeholder billing account."""

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

from tools.deploy_preflight import deploy_problems

ROOT = Path(__file__).resolve().parent.parent


def test_the_committed_placeholder_stops_plan_and_deploy_with_file_key_and_fix():
    run = subprocess.run([sys.executable, "tools/deploy_preflight.py", "staging"], cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 2
    assert run.stderr.startswith("environments/staging.yaml: cost.billing_account: 000000-000000-000000 is the placeholder")
    assert "Fix: write the real id (gcloud billing projects describe hexproperty-staging)" in run.stderr
    assert "Traceback" not in run.stderr and run.stdout == ""


def real(config, domain="hexproperty.com"):
    """The file's placeholders replaced by values a team would write."""
    return dataclasses.replace(
        config,
        cost=dataclasses.replace(config.cost, billing_account="01A2B3-C4D5E6-F7A8B9",
                                 notification_emails=(f"finance@{domain}",)),
        monitoring=dataclasses.replace(config.monitoring, notification_emails=(f"oncall@{domain}",)),
        compliance=dataclasses.replace(config.compliance, notification_emails=(f"security@{domain}",)),
        edge=dataclasses.replace(config.edge, domains=(domain,)))


def test_real_values_pass(configs):
    assert deploy_problems(real(configs["production"])) == []
    assert deploy_problems(real(configs["staging"])) == []


def test_placeholder_emails_and_domains_are_refused_by_key(configs):
    problems = deploy_problems(real(configs["production"], domain="hexproperty.example"))
    assert [p.path for p in problems] == ["monitoring.notification_emails[0]", "cost.notification_emails[0]",
                                         "compliance.notification_emails[0]", "edge.domains[0]"]
    assert "hexproperty.example is a placeholder" in str(problems[-1])


@pytest.mark.parametrize("verb, cli", [("plan", "cdktf diff"), ("deploy", "cdktf deploy")])
def test_make_runs_the_preflight_before_the_cdktf_cli(verb, cli):
    run = subprocess.run(["make", "-n", verb, "ENV=staging"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    lines = run.stdout.splitlines()
    preflight = next(i for i, line in enumerate(lines) if "tools/deploy_preflight.py staging" in line)
    assert preflight < next(i for i, line in enumerate(lines) if line.startswith(cli))
