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


def test_a_real_billing_account_passes(configs):
    config = configs["production"]
    real = dataclasses.replace(config, cost=dataclasses.replace(config.cost, billing_account="01A2B3-C4D5E6-F7A8B9"))
    assert deploy_problems(real) == []


@pytest.mark.parametrize("verb, cli", [("plan", "cdktf diff"), ("deploy", "cdktf deploy")])
def test_make_runs_the_preflight_before_the_cdktf_cli(verb, cli):
    run = subprocess.run(["make", "-n", verb, "ENV=staging"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    lines = run.stdout.splitlines()
    preflight = next(i for i, line in enumerate(lines) if "tools/deploy_preflight.py staging" in line)
    assert preflight < next(i for i, line in enumerate(lines) if line.startswith(cli))
