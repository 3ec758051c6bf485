"""Terraform itself reads both synthesized stacks: its configuration loader needs no provider."""

import copy
import os
import json
import shutil
import subprocess

import pytest

pytestmark = pytest.mark.skipif(shutil.which("terraform") is None, reason="no terraform binary on PATH")


def load_config(stack: dict, workdir) -> subprocess.CompletedProcess:
    """`terraform providers` over a copy of the stack without its backend (state stays local)."""
    stack = copy.deepcopy(stack)
    stack["terraform"].pop("backend", None)
    (workdir / "main.tf.json").write_text(json.dumps(stack))
    return subprocess.run(["terraform", "providers", "-no-color"], cwd=workdir, capture_output=True, text=True,
                          timeout=60, env={"PATH": os.environ["PATH"], "TF_CLI_CONFIG_FILE": "/dev/null",
                                           "CHECKPOINT_DISABLE": "1"})


@pytest.mark.parametrize("name", ["staging", "production"])
def test_terraform_loads_the_stack(stacks, name, tmp_path):
    run = load_config(stacks[name], tmp_path)
    assert run.returncode == 0 and "Error" not in run.stderr, run.stderr[-2000:]


def test_a_templated_depends_on_is_refused(staging, tmp_path):
    stack = copy.deepcopy(staging)
    service = next(iter(stack["resource"]["google_cloud_run_v2_service"].values()))
    service["depends_on"].append("${google_project_service.apis_run_8855F8C0}")
    run = load_config(stack, tmp_path)
    assert run.returncode != 0 and "A single static variable reference is required" in run.stderr
