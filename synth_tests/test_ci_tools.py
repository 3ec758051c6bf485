"""The delivery tools the workflows run: reviewed exceptions, the last deployed commit, the
plan comment, drift classification, smoke tests and the GitHub settings check."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tools import allow_replace, drift, github_settings, last_deployed, plan_comment, smoke

ROOT = Path(__file__).resolve().parent.parent
ADDRESS = "google_sql_database_instance.data_postgres_instance_0A2B"


def pr(body, labels=("allow-replace",), number=7):
    return {"number": number, "body": body, "labels": [{"name": n} for n in labels]}


def test_a_pull_request_allows_a_replacement_only_with_label_and_line():
    assert allow_replace.allowed(pr(f"Move the database.\nALLOW_REPLACE: {ADDRESS}, google_redis_instance.r\n")) == [
        ADDRESS, "google_redis_instance.r"]
    assert allow_replace.allowed(pr("nothing to allow", labels=())) == []
    with pytest.raises(allow_replace.NotReviewed, match="without the `allow-replace` label"):
        allow_replace.allowed(pr(f"ALLOW_REPLACE: {ADDRESS}", labels=()))
    with pytest.raises(allow_replace.NotReviewed, match="not a resource address"):
        allow_replace.allowed(pr("ALLOW_REPLACE: $(curl evil)"))
    with pytest.raises(allow_replace.NotReviewed, match="2 ALLOW_REPLACE lines"):
        allow_replace.allowed(pr(f"ALLOW_REPLACE: {ADDRESS}\nALLOW_REPLACE: {ADDRESS}"))


def test_a_deploy_reads_the_merged_pull_request_of_its_commit(tmp_path):
    pulls = [{"number": 3, "merged_at": None, "merge_commit_sha": "abc", **pr(f"ALLOW_REPLACE: {ADDRESS}")},
             {"number": 4, "merged_at": "2026-01-01", "merge_commit_sha": "def", **pr(f"ALLOW_REPLACE: {ADDRESS}")}]
    (tmp_path / "pulls.json").write_text(json.dumps(pulls))
    run = lambda sha: subprocess.run([sys.executable, "tools/allow_replace.py", "--merged-into", sha, "--pulls",  # noqa: E731
                                      str(tmp_path / "pulls.json")], cwd=ROOT, capture_output=True, text=True)
    assert run("def").stdout.strip() == ADDRESS
    assert run("abc").stdout.strip() == "", "an unmerged pull request allows nothing"
    (tmp_path / "pulls.json").write_text("not json")
    bad = run("def")
    assert bad.returncode == 2 and "cannot read the pull request" in bad.stderr and "Traceback" not in bad.stderr


def test_last_deployed_is_the_newest_successful_deployment():
    answers = {
        "repos/o/r/deployments?environment=staging&per_page=100&page=1": [{"id": 3, "sha": "c3"}, {"id": 2, "sha": "c2"}],
        "repos/o/r/deployments/3/statuses?per_page=1": [{"state": "failure"}],
        "repos/o/r/deployments/2/statuses?per_page=1": [{"state": "success"}],
    }
    assert last_deployed.last_deployed("o/r", "staging", fetch=answers.__getitem__) == "c2"
    never = {"repos/o/r/deployments?environment=staging&per_page=100&page=1": []}
    assert last_deployed.last_deployed("o/r", "staging", fetch=never.__getitem__) is None


def test_the_comment_always_fits():
    short = plan_comment.comment("staging", "no changes", 0, "Plan: 1 to add, 0 to change, 0 to destroy.", 2, "https://run")
    assert short.startswith("<!-- terraform-plan:staging -->") and "Plan: 1 to add" in short and "terraform plan" in short
    huge = plan_comment.comment("production", "x" * 70_000, 3, "y\n" * 40_000, 2, "https://run")
    assert len(huge) <= plan_comment.LIMIT and "do not fit" in huge and "protected resource" in huge
    failed = plan_comment.comment("staging", "", 0, "Error: 403 Permission denied\n", 1, "https://run")
    assert "plan failed: Error: 403 Permission denied" in failed


def _drift_plan(before, after, actions=("update",), address="google_cloud_run_v2_service.frontend_service_A"):
    return {"resource_drift": [{"address": address, "mode": "managed", "type": address.split(".")[0],
                                "name": address.split(".")[1], "change": {"actions": list(actions), "before": before, "after": after}}]}


STACK = {"resource": {"google_cloud_run_v2_service": {"frontend_service_A": {
    "lifecycle": {"ignore_changes": ["template[0].containers[0].image", "template[0].revision"]}}}}}


def test_drift_in_ignored_fields_is_expected_and_the_rest_is_not():
    before = {"template": [{"containers": [{"image": "placeholder", "env": []}], "revision": None}], "ingress": "INTERNAL"}
    image = {"template": [{"containers": [{"image": "eu.gcr/app:2", "env": []}], "revision": "r2"}], "ingress": "INTERNAL"}
    expected, unexpected = drift.classify(_drift_plan(before, image), STACK)
    assert unexpected == [] and "template[0].containers[0].image" in expected[0]
    opened = dict(image, ingress="ALL")
    expected, unexpected = drift.classify(_drift_plan(before, opened), STACK)
    assert unexpected == ["google_cloud_run_v2_service.frontend_service_A: ingress"]
    _, unexpected = drift.classify(_drift_plan(before, None, actions=("delete",)), STACK)
    assert unexpected == ["google_cloud_run_v2_service.frontend_service_A: deleted outside Terraform"]


def test_drift_command_exit_status(tmp_path):
    before = {"ingress": "INTERNAL"}
    (tmp_path / "plan.json").write_text(json.dumps(_drift_plan(before, {"ingress": "ALL"})))
    (tmp_path / "cdk.tf.json").write_text(json.dumps(STACK))
    assert drift.main([str(tmp_path / "plan.json"), str(tmp_path / "cdk.tf.json"), "--report", str(tmp_path / "r.md")]) == 3
    assert "ingress" in (tmp_path / "r.md").read_text()
    (tmp_path / "plan.json").write_text(json.dumps({"resource_drift": []}))
    assert drift.main([str(tmp_path / "plan.json"), str(tmp_path / "cdk.tf.json")]) == 0
    assert drift.main([str(tmp_path / "missing.json"), str(tmp_path / "cdk.tf.json")]) == 2


def test_smoke_waits_until_the_deadline_and_names_what_did_not_answer():
    now = [0.0]
    statuses = {"frontend": iter([(False, "HTTP 404"), (True, "HTTP 200")]), "api": iter([(False, "HTTP 403")] * 10)}
    probe = lambda url, token, timeout: next(statuses[url])  # noqa: E731
    failed = smoke.wait_for({"frontend": "frontend", "api": "api"}, "t", deadline=25, interval=10, probe=probe,
                            clock=lambda: now[0], sleep=lambda s: now.__setitem__(0, now[0] + s))
    assert failed == {"api": "HTTP 403"}
    assert smoke.main(["api=http://insecure"]) == 2


def _settings():
    return yaml.safe_load((ROOT / ".github" / "repository-settings.yaml").read_text())


def _github(settings: dict) -> dict:
    """What gh api answers for a repository set up exactly as the settings file says."""
    repo = settings["repository"]
    answers = {f"repos/{repo}": {"default_branch": settings["default_branch"]}, f"repos/{repo}/rulesets": []}
    for name, env in settings["environments"].items():
        reviewers = [{"type": "Team", "reviewer": {"slug": r.split("/")[1]}} for r in env["reviewers"]]
        answers[f"repos/{repo}/environments/{name}"] = {
            "protection_rules": [{"type": "required_reviewers", "reviewers": reviewers,
                                  "prevent_self_review": env.get("prevent_self_review", False)}],
            "deployment_branch_policy": {"protected_branches": False, "custom_branch_policies": True}}
        answers[f"repos/{repo}/environments/{name}/deployment-branch-policies"] = {
            "branch_policies": [{"name": b} for b in env["branches"]]}
    for index, (name, rules) in enumerate(settings["rulesets"].items()):
        answers[f"repos/{repo}/rulesets"].append({"name": name, "id": index})
        answers[f"repos/{repo}/rulesets/{index}"] = {
            "enforcement": "active", "conditions": {"ref_name": {"include": [f"refs/heads/{b}" for b in rules["branches"]]}},
            "rules": [{"type": "pull_request", "parameters": {k: rules[k] for k in (
                "required_approving_review_count", "require_code_owner_review", "dismiss_stale_reviews_on_push")}},
                {"type": "required_status_checks", "parameters": {"required_status_checks": [
                    {"context": c} for c in rules["required_status_checks"]]}},
                {"type": "non_fast_forward"}, {"type": "deletion"}]}
    return answers


def test_github_settings_match_and_each_difference_is_named(capsys):
    settings = _settings()
    answers = _github(settings)
    assert github_settings.main([], fetch=answers.__getitem__) == 0
    repo = settings["repository"]
    answers[f"repos/{repo}/environments/production"]["protection_rules"] = []
    answers[f"repos/{repo}/environments/staging/deployment-branch-policies"] = {"branch_policies": [{"name": "*"}]}
    assert github_settings.main([], fetch=answers.__getitem__) == 1
    out = capsys.readouterr().out
    assert "environment production: required reviewers []" in out
    assert "environment staging: deployment branches ['*']" in out


def test_github_settings_without_credentials_says_so(capsys):
    def refuse(path):
        raise github_settings.CannotRead("gh api repos/x: HTTP 401 (log in with `gh auth login` as a repository admin)")
    assert github_settings.main([], fetch=refuse) == 2
    assert "cannot check" in capsys.readouterr().err
