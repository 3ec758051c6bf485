"""The GitHub Actions workflows: they parse, pin every action, call only make targets that
exist, and deploy from the branches the environment files and the runbook name."""

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
ACTIONS = sorted((ROOT / ".github" / "actions").glob("*/action.yml"))
MAKE_CALL = re.compile(r"\bmake\s+(?:-n\s+)?([a-z][a-z-]*)")
GUARD = re.compile(r"\bmake\s+-n\s+([a-z][a-z-]*)")
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")


def load(path: Path) -> dict:
    data = yaml.safe_load(path.read_text())
    # YAML 1.1 reads the key `on` as True.
    if True in data:
        data["on"] = data.pop(True)
    return data


def steps(document: dict) -> list[dict]:
    if "runs" in document:
        return document["runs"]["steps"]
    return [step for job in document["jobs"].values() for step in job.get("steps", [])]


def make_targets() -> set[str]:
    return set(re.findall(r"^([a-z][a-z-]*):", (ROOT / "Makefile").read_text(), re.M))


def trigger_branches(name: str) -> list[str]:
    return load(ROOT / ".github" / "workflows" / name)["on"]["push"]["branches"]


def test_there_are_workflows_for_checks_pull_requests_and_both_deploys():
    assert [p.name for p in WORKFLOWS] == ["checks.yml", "deploy-production.yml", "deploy-staging.yml", "pull-request.yml"]


@pytest.mark.parametrize("path", WORKFLOWS + ACTIONS, ids=lambda p: str(p.relative_to(ROOT)))
def test_actions_are_pinned_to_commits_and_make_targets_exist(path):
    document = load(path)
    targets = make_targets()
    for step in steps(document):
        uses = step.get("uses", "")
        if uses and not uses.startswith("./"):
            assert PINNED.match(uses), f"{path.name}: {uses} is not pinned to a full commit SHA"
        script = step.get("run", "")
        guarded = set(GUARD.findall(script))
        for target in MAKE_CALL.findall(script):
            assert target in targets or target in guarded, f"{path.name}: `make {target}` is not a Makefile target"
    for job in document.get("jobs", {}).values():
        uses = job.get("uses", "")
        assert not uses or (ROOT / uses.removeprefix("./")).exists(), uses


def test_checks_run_on_develop_and_are_reused():
    assert trigger_branches("checks.yml") == ["develop"]
    for name in ("pull-request.yml", "deploy-staging.yml", "deploy-production.yml"):
        assert load(ROOT / ".github" / "workflows" / name)["jobs"]["checks"]["uses"] == "./.github/workflows/checks.yml"


def _as_patterns(branches: list[str]) -> list[str]:
    """Workflow globs (`release/**`) in the environment files' form (`release/*`)."""
    return sorted(b.replace("/**", "/*") for b in branches)


@pytest.mark.parametrize("workflow,env", [("deploy-staging.yml", "staging"), ("deploy-production.yml", "production")])
def test_deploy_triggers_match_the_federation_bindings(configs, workflow, env):
    assert _as_patterns(trigger_branches(workflow)) == sorted(configs[env].delivery.deploy_branches)


def test_production_applies_behind_the_environment_approval():
    jobs = load(ROOT / ".github" / "workflows" / "deploy-production.yml")["jobs"]
    applying = [name for name, job in jobs.items() if any("apply" in s.get("run", "") for s in job.get("steps", []))]
    assert applying == ["apply"]
    assert jobs["apply"]["environment"] == "production" and jobs["apply"]["needs"] == "plan"


def test_pull_requests_plan_every_stack_with_federated_read_only_credentials():
    plan = load(ROOT / ".github" / "workflows" / "pull-request.yml")["jobs"]["plan"]
    assert plan["permissions"]["id-token"] == "write"
    assert [m["stack"] for m in plan["strategy"]["matrix"]["include"]] == ["staging", "production"]
    assert all("PLANNER" in m["service_account"] for m in plan["strategy"]["matrix"]["include"])
    runs = [s.get("run", "") for s in plan["steps"]]
    uses = [s.get("uses", "") for s in plan["steps"]]
    diff = next(i for i, r in enumerate(runs) if "make diff" in r)
    auth = next(i for i, u in enumerate(uses) if u.startswith("google-github-actions/auth@"))
    plan_step = next(i for i, r in enumerate(runs) if "terraform" in r and " plan " in r)
    comment = next(i for i, u in enumerate(uses) if u.startswith("actions/github-script@"))
    assert diff < auth < plan_step < comment, "offline diff first, then credentials, plan, comment"
    assert "-refresh=false" in runs[plan_step] and "-lock=false" in runs[plan_step]
    assert not any("apply" in r for r in runs)


def test_no_workflow_uses_a_key():
    text = "\n".join(p.read_text() for p in WORKFLOWS + ACTIONS)
    assert "credentials_json" not in text and "secrets." not in text


def test_runbook_branch_table_matches_the_workflows(configs):
    runbook = (ROOT / "docs" / "runbooks" / "deploy.md").read_text()
    rows = {m.group(1): m.group(2) for m in re.finditer(r"^\| `([^`]+)` \|([^\n]*)$", runbook, re.M)}
    assert {"main", "staging", "develop", "feature/*", "fix/*", "release/*"} <= set(rows)
    for branch in configs["staging"].delivery.deploy_branches:
        assert "deploys staging" in rows[branch]
    for branch in configs["production"].delivery.deploy_branches:
        assert "deploys production" in rows[branch]
    for branch in ("develop", "feature/*", "fix/*"):
        assert "deploys" not in rows[branch].replace("never deploys", "")


def test_every_described_make_target_is_in_the_readme_table():
    described = set(re.findall(r"^([a-z][a-z-]*):.*## ", (ROOT / "Makefile").read_text(), re.M)) - {"help"}
    listed = set(re.findall(r"^\| `make ([a-z-]+)", (ROOT / "README.md").read_text(), re.M))
    assert described == listed
