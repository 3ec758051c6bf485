"""The checkov gate over the synthesized stacks (`make check`), run with .venv-checkov's Python.

Passes only when checkov (a) reports zero failed checks, (b) reports zero parsing errors,
and (c) judged every resource of every stack that it has checks for: checkov silently
skips what it cannot parse, so a file it dropped would otherwise pass as clean.
Skips come from policies/checkov-skips.yaml, each with its reason.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
SKIPS = ROOT / "policies" / "checkov-skips.yaml"
MIN_REASON = 20


def load_skips() -> tuple[dict[str, str], frozenset[tuple[str, str]]]:
    """(checks skipped everywhere, (check, resource name) pairs excepted one resource at a time).

    checkov has no per-resource skip comment for cdktf's JSON (its `//` key is cdktf's metadata),
    so an entry with `resources:` is judged here instead: that check still runs on every other
    resource."""
    skips, excepted = {}, set()
    for entry in yaml.safe_load(SKIPS.read_text()) or []:
        reason = (entry.get("reason") or "").strip()
        if len(reason) < MIN_REASON:
            raise SystemExit(f"{SKIPS.relative_to(ROOT)}: {entry.get('id')}: a skip needs a reason of at least "
                             f"{MIN_REASON} characters")
        if entry.get("resources"):
            excepted.update((entry["id"], name) for name in entry["resources"])
        else:
            skips[entry["id"]] = reason
    return skips, frozenset(excepted)


def stack_resources(stacks_dir: Path) -> dict[str, set[tuple[str, str]]]:
    """stack file -> {(type, logical id)} as synthesized."""
    found = {}
    for path in sorted(stacks_dir.glob("*/cdk.tf.json")):
        resources = json.loads(path.read_text()).get("resource", {})
        found[f"/{path.parent.name}/{path.name}"] = {(t, name) for t, bodies in resources.items() for name in bodies}
    return found


def checked_types(skips: dict[str, str]) -> set[str]:
    """Resource types checkov has at least one check for that the gate does not skip."""
    from checkov.terraform.checks.resource.registry import resource_registry
    import checkov.terraform.checks.resource.gcp  # noqa: F401  (registers the GCP checks)

    return {t for t, checks in resource_registry.checks.items() if any(c.id not in skips for c in checks)}


def run_checkov(stacks_dir: Path, skips: dict[str, str]) -> list[dict]:
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false"}
    command = [sys.executable, "-m", "checkov.main", "-d", str(stacks_dir), "--framework", "terraform_json",
               "-o", "json", "--compact", "--skip-download"]
    if skips:
        command += ["--skip-check", ",".join(sorted(skips))]
    run = subprocess.run(command, capture_output=True, text=True, env=env)
    try:
        reports = json.loads(run.stdout)
    except json.JSONDecodeError:
        raise SystemExit(f"checkov printed no JSON report (exit {run.returncode}):\n{run.stderr[-2000:]}") from None
    return reports if isinstance(reports, list) else [reports]


def judge(expected: dict[str, set[tuple[str, str]]], reports: list[dict], types: set[str],
          excepted: frozenset[tuple[str, str]] = frozenset()) -> tuple[list[str], int]:
    """(problems, resources judged): failed checks (but those `excepted` for one resource), parsing
    errors, and every resource of a type checkov has checks for that its results do not mention."""
    problems = [] if reports else ["checkov produced no terraform_json report"]
    seen, parsing_errors = set(), 0
    for report in reports:
        parsing_errors += report["summary"].get("parsing_errors", 0)
        results = report.get("results", {})
        for status in ("passed_checks", "failed_checks", "skipped_checks"):
            for check in results.get(status, []):
                seen.add((check["file_path"], check["resource"].split(".", 1)[-1]))
        for check in results.get("failed_checks", []):
            if (check["check_id"], check["resource"].split(".", 1)[-1]) not in excepted:
                problems.append(f"FAILED {check['check_id']} {check['file_path']} {check['resource']}: {check['check_name']}")
    if parsing_errors:
        problems.append(f"checkov could not parse {parsing_errors} file(s)")
    for file_path, resources in expected.items():
        missing = sorted(f"{t}.{n}" for t, n in resources if t in types and (file_path, n) not in seen)
        if missing:
            problems.append(f"checkov did not judge {len(missing)} resource(s) of {file_path}: {', '.join(missing[:5])}")
    judged = sum(1 for f, resources in expected.items() for _, n in resources if (f, n) in seen)
    return problems, judged


def main() -> int:
    stacks_dir = ROOT / (sys.argv[1] if len(sys.argv) > 1 else "cdktf.out/stacks")
    expected = stack_resources(stacks_dir)
    if not expected:
        raise SystemExit(f"no stacks under {stacks_dir}: run `make synth` first")
    skips, excepted = load_skips()
    reports = [r for r in run_checkov(stacks_dir, skips) if r.get("check_type") == "terraform_json"]
    problems, judged = judge(expected, reports, checked_types(skips), excepted)
    total = sum(len(r) for r in expected.values())
    forgiven = sum((c["check_id"], c["resource"].split(".", 1)[-1]) in excepted
                   for r in reports for c in r.get("results", {}).get("failed_checks", []))
    print(f"checkov: {sum(r['summary']['passed'] for r in reports)} passed, "
          f"{sum(r['summary']['failed'] for r in reports)} failed ({forgiven} of them excepted), "
          f"{sum(r['summary']['skipped'] for r in reports)} skipped ({len(skips)} checks skipped and "
          f"{len(excepted)} excepted for one resource by policies/checkov-skips.yaml); {judged} of {total} resources "
          "judged, the rest have no checkov checks")
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
