"""Terraform itself judges both synthesized stacks: its configuration loader, then `make validate`
(validate and plan with the google provider stand-in), then apply and plan again."""

import copy
import json
import os
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from provider_standin.terraform import json_messages, run_terraform
from synth_tests.helpers import ENVS, modified_stack
from tools.validate import check_stack

pytestmark = pytest.mark.skipif(shutil.which("terraform") is None, reason="no terraform binary on PATH")

RUN_SERVICE = "google_cloud_run_v2_service"


def load_config(stack: dict, workdir: Path) -> subprocess.CompletedProcess:
    """`terraform providers` (the configuration loader alone, no provider) over a copy of the stack."""
    stack = copy.deepcopy(stack)
    stack["terraform"].pop("backend", None)
    (workdir / "main.tf.json").write_text(json.dumps(stack))
    return subprocess.run(["terraform", "providers", "-no-color"], cwd=workdir, capture_output=True, text=True,
                          timeout=60, env={"PATH": os.environ["PATH"], "TF_CLI_CONFIG_FILE": "/dev/null",
                                           "CHECKPOINT_DISABLE": "1"})


@pytest.mark.parametrize("name", ENVS)
def test_terraform_loads_the_stack(stacks, name, tmp_path):
    run = load_config(stacks[name], tmp_path)
    assert run.returncode == 0 and "Error" not in run.stderr, run.stderr[-2000:]


def first(resources: dict, type_: str) -> tuple[str, dict]:
    name = sorted(resources[type_])[0]
    return f"{type_}.{name}", resources[type_][name]


def test_validate_accepts_every_stack(synth_dir, terraform_env, tmp_path):
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = dict(zip(ENVS, pool.map(
            lambda name: check_stack(name, synth_dir / "stacks" / name, terraform_env, tmp_path), ENVS)))
    for name, (lines, verdict) in results.items():
        assert [line for line in lines if not line.startswith("warning: ")] == [], name
        assert verdict.startswith(f"{name}: valid; the plan creates "), verdict


def test_validate_names_each_problem_on_its_own_line(synth_dir, terraform_env, tmp_path, staging):
    resources = staging["resource"]
    redis, _ = first(resources, "google_redis_instance")
    sql, _ = first(resources, "google_sql_database_instance")
    service, _ = first(resources, RUN_SERVICE)
    account, _ = first(resources, "google_service_account")
    topic, _ = first(resources, "google_pubsub_topic")

    def breaks(r):
        r["google_redis_instance"][redis.split(".")[1]]["tierr"] = "BASIC"  # a typo'd attribute
        del r["google_service_account"][account.split(".")[1]]["account_id"]  # a missing required argument
        r["google_pubsub_topic"][topic.split(".")[1]]["message_retention_duration"] = {"days": 7}  # a wrong type
        r[RUN_SERVICE][service.split(".")[1]]["ingress"] = "INGRESS_TRAFFIC_SOMETIMES"  # a bad enum value
        settings = r["google_sql_database_instance"][sql.split(".")[1]]["settings"]
        r["google_sql_database_instance"][sql.split(".")[1]]["settings"] = [settings, settings]  # a second block

    folder = modified_stack(synth_dir, tmp_path, "staging", breaks)
    lines, verdict = check_stack("staging", folder, terraform_env, tmp_path / "work")
    assert verdict == "staging: terraform validate refused the stack"
    text = "\n".join(lines)
    assert f'staging: {redis}: Extraneous JSON object property: No argument or block type is named "tierr".' in text
    assert f'staging: {account}: Missing required argument: The argument "account_id" is required' in text
    assert f"staging: {topic}: Incorrect attribute value type" in text and "message_retention_duration" in text
    assert f"staging: {service}: expected ingress to be one of" in text and "got INGRESS_TRAFFIC_SOMETIMES" in text
    assert f"staging: {sql}: settings[1]: Too many settings blocks" in text


def test_validate_refuses_a_templated_depends_on(synth_dir, terraform_env, tmp_path, staging):
    service, _ = first(staging["resource"], RUN_SERVICE)
    folder = modified_stack(synth_dir, tmp_path, "staging", lambda r: r[RUN_SERVICE][service.split(".")[1]][
        "depends_on"].append("${google_project_service.apis_run_8855F8C0}"))
    lines, _ = check_stack("staging", folder, terraform_env, tmp_path / "work")
    assert lines == [f"staging: {service}: depends_on: Invalid expression: A single static variable reference is "
                     "required: only attribute access and indexing with constant keys. No calculations, function "
                     "calls, template expressions, etc are allowed here."]


def plan_summary(workdir: Path, env) -> dict:
    run = run_terraform(["plan", "-json", "-input=false", "-lock=false", "-detailed-exitcode"], workdir, env)
    summary = next(m["changes"] for m in json_messages(run.stdout) if m.get("type") == "change_summary")
    return {"exit": run.returncode, **summary}


@pytest.mark.parametrize("name", ENVS)
def test_plan_apply_plan_again_shows_no_changes(applied, terraform_env, stacks, name):
    state = json.loads(applied[name].read_text())
    managed = [r for r in state["resources"] if r["mode"] == "managed"]
    assert len(managed) == sum(len(group) for group in stacks[name]["resource"].values())
    assert plan_summary(applied[name].parent, terraform_env) == {"exit": 0, "add": 0, "change": 0, "import": 0,
                                                          "remove": 0, "operation": "plan"}
