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


def test_there_are_workflows_for_checks_plans_deploys_and_drift():
    assert [p.name for p in WORKFLOWS] == ["checks.yml", "deploy-drill.yml", "deploy-production.yml", "deploy-staging.yml",
                                           "deploy.yml", "drift.yml", "plan.yml", "pull-request.yml"]


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_hygiene_timeouts_no_persisted_token_and_least_permissions(path):
    document = load(path)
    assert document["permissions"] in ({}, {"contents": "read"}), "workflow-level permissions: none by default"
    for name, job in document["jobs"].items():
        if "uses" in job:
            continue
        assert 1 <= job["timeout-minutes"] <= 60, f"{path.name}:{name}"
        for step in job["steps"]:
            if step.get("uses", "").startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False, f"{path.name}:{name}"


def _auth_after_synth(steps: list[dict]) -> None:
    runs = [s.get("run", "") for s in steps]
    auth = [i for i, s in enumerate(steps) if s.get("uses", "").startswith("google-github-actions/auth@")]
    synth = [i for i, r in enumerate(runs) if re.search(r"^\s*(\{ )?make (synth|diff|install)\b", r, re.M)]
    assert auth and all(i < auth[0] for i in synth), "credentials are minted after every synth, diff and install"


def test_deploys_plan_with_the_planner_and_apply_the_uploaded_plan_in_the_environment():
    jobs = load(ROOT / ".github" / "workflows" / "deploy.yml")["jobs"]
    plan, apply, smoke = jobs["plan"], jobs["apply"], jobs["smoke"]
    auth = lambda job: [s["with"]["service_account"] for s in job["steps"] if "google-github-actions/auth@" in s.get("uses", "")]  # noqa: E731
    assert auth(plan) == ["${{ inputs.planner_service_account }}"] and "environment" not in plan
    assert auth(apply) == ["${{ inputs.deployer_service_account }}"] and apply["environment"] == "${{ inputs.stack }}"
    assert auth(smoke) == ["${{ inputs.smoke_service_account }}"] and "environment" not in smoke
    _auth_after_synth(plan["steps"])
    _auth_after_synth(apply["steps"])
    plan_runs = "\n".join(s.get("run", "") for s in plan["steps"])
    assert "plan -input=false -lock=false -out=tfplan" in plan_runs
    assert "sha256sum" in plan_runs and ".terraform.lock.hcl" in plan_runs
    upload = next(s for s in plan["steps"] if s.get("uses", "").startswith("actions/upload-artifact@"))
    download = next(s for s in apply["steps"] if s.get("uses", "").startswith("actions/download-artifact@"))
    assert upload["with"]["name"] == download["with"]["name"]
    apply_runs = [s.get("run", "") for s in apply["steps"]]
    check = next(i for i, r in enumerate(apply_runs) if "sha256sum --check" in r)
    applied = next(i for i, r in enumerate(apply_runs) if " apply " in r)
    assert check < applied
    assert apply_runs[applied].strip().endswith("apply -input=false tfplan"), "applies the uploaded plan, no new one"
    assert [r for r in apply_runs if re.search(r"terraform .* apply ", r)] == [apply_runs[applied]]
    assert "-lockfile=readonly" in "\n".join(apply_runs)
    after = "\n".join(apply_runs[applied + 1:])
    assert "-detailed-exitcode" in after and "exit 1" in after
    assert smoke["needs"] == "apply" and "tools/smoke.py" in "\n".join(s.get("run", "") for s in smoke["steps"])
    assert "make diff" in plan_runs and "tools/last_deployed.py" in plan_runs and 'exit "$status"' in plan_runs
    assert "HEAD^" not in (ROOT / ".github" / "workflows" / "deploy.yml").read_text()


@pytest.mark.parametrize("workflow,stack", [("deploy-staging.yml", "staging"), ("deploy-production.yml", "production"),
                                            ("deploy-drill.yml", "drill")])
def test_each_deploy_calls_the_shared_workflow_for_its_stack(workflow, stack):
    document = load(ROOT / ".github" / "workflows" / workflow)
    deploy = document["jobs"]["deploy"]
    assert deploy["uses"] == "./.github/workflows/deploy.yml" and deploy["needs"] == "checks"
    assert deploy["with"]["stack"] == stack
    prefix = stack.upper()
    for key in ("planner", "deployer", "smoke"):
        assert deploy["with"][f"{key}_service_account"] == f"${{{{ vars.{prefix}_{key.upper()}_SERVICE_ACCOUNT }}}}"
    assert document["concurrency"] == {"group": f"deploy-{stack}", "cancel-in-progress": False}


def test_pull_requests_plan_the_stack_of_their_base_branch(configs):
    jobs = load(ROOT / ".github" / "workflows" / "pull-request.yml")["jobs"]
    assert set(jobs) == {"checks", "plan-staging", "plan-production", "plan-drill"}
    staging, production, drill = jobs["plan-staging"], jobs["plan-production"], jobs["plan-drill"]
    assert configs["staging"].delivery.plan_branches == ("develop", "staging")
    assert 'contains(fromJSON(\'["develop", "staging"]\'), github.base_ref)' in staging["if"]
    assert configs["production"].delivery.plan_branches == ("main", "release/*")
    assert "github.base_ref == 'main' || startsWith(github.base_ref, 'release/')" in production["if"]
    assert configs["drill"].delivery.plan_branches == ("drill/*",)
    assert "startsWith(github.base_ref, 'drill/')" in drill["if"]
    triggers = load(ROOT / ".github" / "workflows" / "pull-request.yml")["on"]["pull_request"]["branches"]
    assert {b.replace("/*", "/**") for c in configs.values() for b in c.delivery.plan_branches} <= set(triggers)
    for job, stack in ((staging, "staging"), (production, "production"), (drill, "drill")):
        assert job["uses"] == "./.github/workflows/plan.yml" and job["with"]["stack"] == stack
        assert "PLANNER" in job["with"]["service_account"]
    plan = load(ROOT / ".github" / "workflows" / "plan.yml")["jobs"]["plan"]
    _auth_after_synth(plan["steps"])
    runs = "\n".join(s.get("run", "") for s in plan["steps"])
    assert "-refresh=false" in runs and "-lock=false" in runs and " apply " not in runs
    assert "tools/plan_comment.py" in runs and "tools/allow_replace.py --pull-request" in runs
    diff = next(s for s in plan["steps"] if "make diff" in s.get("run", ""))
    assert diff["env"]["ALLOW_REPLACE"] == "${{ steps.exception.outputs.allow }}"
    assert 'if [ "$DIFF_STATUS" != 0 ]' in runs


def test_drift_is_scheduled_per_stack_with_the_planner_and_opens_one_issue_per_stack():
    document = load(ROOT / ".github" / "workflows" / "drift.yml")
    assert document["on"]["schedule"] and "workflow_dispatch" in document["on"]
    job = document["jobs"]["drift"]
    assert job["environment"] == "drift"
    assert [m["stack"] for m in job["strategy"]["matrix"]["include"]] == ["staging", "production"]
    assert all(m["service_account"].endswith("_PLANNER_SERVICE_ACCOUNT") for m in job["strategy"]["matrix"]["include"])
    runs = "\n".join(s.get("run", "") for s in job["steps"])
    assert "plan -refresh-only" in runs and "-detailed-exitcode" in runs and "drift.py" in runs
    script = next(s for s in job["steps"] if "github-script" in s.get("uses", ""))["with"]["script"]
    assert "Drift: ${stack}" in script and "issues.create" in script and "issues.update" in script


def test_github_environments_allow_exactly_the_branches_the_identities_trust(configs):
    settings = yaml.safe_load((ROOT / ".github" / "repository-settings.yaml").read_text())
    for name in configs:
        assert sorted(settings["environments"][name]["branches"]) == sorted(configs[name].delivery.deploy_branches)
        assert settings["repository"] == configs[name].delivery.repository
    assert settings["environments"]["production"]["reviewers"], "production needs an approval"
    assert settings["environments"]["drift"]["branches"] == [settings["default_branch"]]
    protected = set(settings["rulesets"]["protected-branches"]["branches"])
    every = {b.replace("/*", "/**") for c in configs.values() for b in c.delivery.deploy_branches + c.delivery.plan_branches}
    assert every <= protected


def test_dependabot_and_codeowners_cover_delivery():
    dependabot = yaml.safe_load((ROOT / ".github" / "dependabot.yml").read_text())
    assert {u["package-ecosystem"] for u in dependabot["updates"]} == {"github-actions", "pip", "npm"}
    owners = (ROOT / ".github" / "CODEOWNERS").read_text()
    for path in ("/environments/", "/constructs/concerns/delivery.py", "/constructs/concerns/ci_access.py", "/.github/", "/bootstrap/",
                 "/constructs/tiers/data.py"):
        assert re.search(rf"^{re.escape(path)}\s+@", owners, re.M), path


def test_ci_lints_every_workflow():
    assert "make lint-workflows" in (ROOT / ".ci" / "run").read_text()
    assert "--hash=sha256:" in (ROOT / "requirements-lint.txt").read_text()


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


def _as_patterns(branches: list[str]) -> list[str]:
    """Workflow globs (`release/**`) in the environment files' form (`release/*`)."""
    return sorted(b.replace("/**", "/*") for b in branches)


@pytest.mark.parametrize("workflow,env", [("deploy-staging.yml", "staging"), ("deploy-production.yml", "production")])
def test_deploy_triggers_match_the_federation_bindings(configs, workflow, env):
    assert _as_patterns(trigger_branches(workflow)) == sorted(configs[env].delivery.deploy_branches)


def test_the_drill_deploys_only_by_hand_from_a_drill_branch(configs):
    """A drill stack is deployed for a drill and torn down after it: never on a push, and only
    from the drill/* branches its GitHub environment and deployer trust."""
    document = load(ROOT / ".github" / "workflows" / "deploy-drill.yml")
    assert document["on"] == {"workflow_dispatch": {}}
    assert configs["drill"].delivery.deploy_branches == ("drill/*",)
    assert document["jobs"]["checks"]["if"] == "startsWith(github.ref, 'refs/heads/drill/')"
    assert document["jobs"]["deploy"]["needs"] == "checks"


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


def test_every_described_make_target_is_in_the_make_targets_table():
    described = set(re.findall(r"^([a-z][a-z-]*):.*## ", (ROOT / "Makefile").read_text(), re.M)) - {"help"}
    listed = set(re.findall(r"^\| `make ([a-z-]+)", (ROOT / "docs" / "make-targets.md").read_text(), re.M))
    assert described == listed
