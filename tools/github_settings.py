"""Compare the GitHub settings the delivery design relies on with the repository's.

    make github-settings      # tools/github_settings.py [.github/repository-settings.yaml]

Reads .github/repository-settings.yaml (default branch, environments with their reviewers and
branch rules, rulesets) and asks `gh api` for the same. Exit 0 when they match; 1 with one line
per difference; 2 when they cannot be read (no `gh`, no credentials, no admin rights on the
repository: environments and rulesets need them), saying what to do.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Callable, Iterator

import yaml

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = ROOT / ".github" / "repository-settings.yaml"


class CannotRead(Exception):
    pass


def gh_api(path: str) -> dict | list:
    if shutil.which("gh") is None:
        raise CannotRead("`gh` is not installed (https://cli.github.com), so nothing was checked")
    run = subprocess.run(["gh", "api", path], capture_output=True, text=True, check=False)
    if run.returncode:
        raise CannotRead(f"gh api {path}: {(run.stderr or run.stdout).strip()} "
                         "(log in with `gh auth login` as a repository admin)")
    return json.loads(run.stdout)


def _branch_rule(patterns: list[str]) -> list[str]:
    return sorted(patterns)


def differences(wanted: dict, fetch: Callable[[str], dict | list]) -> Iterator[str]:
    repo = wanted["repository"]
    actual = fetch(f"repos/{repo}")
    if actual.get("default_branch") != wanted["default_branch"]:
        yield f"default branch: {actual.get('default_branch')!r}, want {wanted['default_branch']!r}"
    for name, environment in wanted["environments"].items():
        where = f"environment {name}"
        try:
            found = fetch(f"repos/{repo}/environments/{name}")
        except CannotRead as error:
            if "Not Found" in str(error):
                yield f"{where}: missing (Settings, Environments, New environment)"
                continue
            raise
        rules = {r["type"]: r for r in found.get("protection_rules", [])}
        reviewers = sorted(
            f"{repo.split('/')[0]}/{r['reviewer']['slug']}" if r["type"] == "Team" else r["reviewer"]["login"]
            for r in rules.get("required_reviewers", {}).get("reviewers", []))
        if reviewers != sorted(environment["reviewers"]):
            yield f"{where}: required reviewers {reviewers}, want {sorted(environment['reviewers'])}"
        if environment.get("prevent_self_review") and not rules.get("required_reviewers", {}).get("prevent_self_review"):
            yield f"{where}: reviewers may approve their own deploys; want prevent self-review"
        policy = found.get("deployment_branch_policy") or {}
        if not policy.get("custom_branch_policies"):
            yield f"{where}: deployments allowed from {'protected branches' if policy else 'every branch'}; " \
                  f"want selected branches {environment['branches']}"
            continue
        names = sorted(p["name"] for p in fetch(f"repos/{repo}/environments/{name}/deployment-branch-policies")
                       .get("branch_policies", []))
        if names != _branch_rule(environment["branches"]):
            yield f"{where}: deployment branches {names}, want {_branch_rule(environment['branches'])}"
    rulesets = {r["name"]: r for r in fetch(f"repos/{repo}/rulesets")}
    for name, ruleset in wanted["rulesets"].items():
        where = f"ruleset {name}"
        if name not in rulesets:
            yield f"{where}: missing (Settings, Rules, Rulesets, New branch ruleset)"
            continue
        found = fetch(f"repos/{repo}/rulesets/{rulesets[name]['id']}")
        if found.get("enforcement") != "active":
            yield f"{where}: enforcement {found.get('enforcement')!r}, want 'active'"
        include = sorted(found.get("conditions", {}).get("ref_name", {}).get("include", []))
        want = sorted(f"refs/heads/{b}" for b in ruleset["branches"])
        if include != want:
            yield f"{where}: applies to {include}, want {want}"
        rules = {r["type"]: r.get("parameters", {}) for r in found.get("rules", [])}
        review = rules.get("pull_request")
        if review is None:
            yield f"{where}: pull requests are not required"
        else:
            for key in ("required_approving_review_count", "require_code_owner_review", "dismiss_stale_reviews_on_push"):
                if review.get(key) != ruleset[key]:
                    yield f"{where}: {key} is {review.get(key)!r}, want {ruleset[key]!r}"
        checks = sorted(c["context"] for c in rules.get("required_status_checks", {}).get("required_status_checks", []))
        if checks != sorted(ruleset["required_status_checks"]):
            yield f"{where}: required status checks {checks}, want {sorted(ruleset['required_status_checks'])}"
        for rule, key in (("non_fast_forward", "no_force_pushes"), ("deletion", "no_deletions")):
            if ruleset[key] and rule not in rules:
                yield f"{where}: no {rule} rule; want {key}"


def main(argv: list[str], fetch: Callable[[str], dict | list] = gh_api) -> int:
    path = Path(argv[0]) if argv else SETTINGS
    wanted = yaml.safe_load(path.read_text())
    try:
        found = list(differences(wanted, fetch))
    except CannotRead as error:
        print(f"github-settings: cannot check: {error}", file=sys.stderr)
        return 2
    for line in found:
        print(f"github-settings: {line}")
    if not found:
        print(f"github-settings: {wanted['repository']} matches {path.name}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
