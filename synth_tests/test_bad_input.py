"""A broken environment file stops synthesis: one line per problem, exit 2, no traceback,
the previous cdktf.out byte-identical (DESIGN.md section 7)."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
STAGING = ROOT / "environments" / "staging.yaml"


def mutate(change):
    """A case built by editing the parsed staging file."""
    def build() -> str:
        data = yaml.safe_load(STAGING.read_text())
        change(data)
        return yaml.safe_dump(data, sort_keys=False)
    return build


def raw(text: str):
    return lambda: text


def replace(old: str, new: str):
    def build() -> str:
        text = STAGING.read_text()
        assert old in text, old
        return text.replace(old, new, 1)
    return build


def _set(path: str, value):
    def change(data):
        *parents, last = path.split(".")
        for part in parents:
            data = data[part]
        data[last] = value
    return change


def _delete(path: str):
    def change(data):
        *parents, last = path.split(".")
        for part in parents:
            data = data[part]
        del data[last]
    return change


# (id, file text builder, key path expected in the message, words expected in the message)
CASES = [
    ("unknown-key", mutate(_set("network.subnet_cdir", "10.0.0.0/24")), "network.subnet_cdir", ["unknown key", "did you mean 'subnet_cidr'"]),
    ("wrong-type", mutate(_set("network.connector.max_instances", "many")), "network.connector.max_instances", ["expected an integer", "string 'many'"]),
    ("negative-count", mutate(_set("network.connector.min_instances", -1)), "network.connector.min_instances", ["-1 is below the minimum 2"]),
    ("min-above-max", mutate(lambda d: d["network"]["connector"].update(min_instances=5, max_instances=4)), "network.connector.min_instances", ["min_instances 5 is above max_instances 4"]),
    ("unknown-region", mutate(_set("project.region", "europe-west11")), "project.region", ["not a Google Cloud region", "did you mean"]),
    ("missing-key", mutate(_delete("state")), "state", ["required key is missing", "add `state`"]),
    ("not-yaml", raw("project: [unclosed\n  id: x\n"), "(top level)", ["not valid YAML", "line"]),
    ("empty-file", raw(""), "(top level)", ["is empty"]),
    ("list-not-mapping", raw("- project\n- network\n"), "(top level)", ["top level is a list, not a mapping"]),
    ("duplicated-key", replace("  region: europe-west1\n", "  region: europe-west1\n  region: europe-west2\n"), "project.region", ["defined twice", "lines"]),
    ("name-too-long", mutate(_set("state.bucket", "hexproperty-" + "x" * 60)), "state.bucket", ["not in the expected form", "3-63 characters"]),
    ("subnet-too-small", mutate(_set("network.subnet_cidr", "10.10.0.0/28")), "network.subnet_cidr", ["smaller than /26"]),
    ("overlapping-ranges", mutate(_set("network.connector.cidr", "10.10.0.16/28")), "network.subnet_cidr", ["overlaps"]),
    ("not-a-cidr", mutate(_set("network.subnet_cidr", "10.10.0.1/24")), "network.subnet_cidr", ["not an IPv4 range", "no host bits"]),
    ("same-dr-region", mutate(_set("project.dr_region", "europe-west1")), "project.dr_region", ["same region"]),
    ("yaml-alias", replace("labels:\n  cost-center: platform\n", "labels: &l\n  cost-center: platform\nextra: *l\n"), "extra", ["alias"]),
    ("bad-label", mutate(_set("labels", {"Cost Center": "x"})), "labels", ["'Cost Center' is not in the expected form", "A label key"]),
    ("bad-unit", mutate(_set("frontend.memory", "512MB")), "frontend.memory", ["'512MB' is not in the expected form", "in Mi or Gi"]),
    ("decommissioned-runtime", mutate(_set("api.runtime", "nodejs18")), "api.runtime", ["nodejs18 was decommissioned", "2025-10-30", "nodejs24"]),
    ("memory-needs-cpu", mutate(lambda d: d["frontend"].update(memory="6Gi", cpu=1)), "frontend.memory", ["needs at least 2 CPU"]),
    ("unknown-callee", mutate(_set("api.calls", ["propertys"])), "api.calls[0]", ["not a runtime api can call", "did you mean 'properties'"]),
    ("call-cycle", mutate(_set("microservices.services.notifications", {"calls": ["bookings"]})), "microservices.services", ["round in a circle", "bookings -> notifications -> bookings"]),
    ("service-name-too-long", mutate(_set("microservices.services.listing-photo-resize", {})), "microservices.services.listing-photo-resize", ["service account id 'hp-staging-listing-photo-resize'", "30"]),
    ("traffic-not-100", mutate(_set("frontend.traffic", [{"percent": 60, "tag": "blue"}, {"percent": 30, "revision": "hexproperty-staging-frontend-green", "tag": "green"}])), "frontend.traffic", ["sum to 90", "exactly 100"]),
    ("traffic-duplicate-tag", mutate(_set("frontend.traffic", [{"percent": 100, "tag": "blue"}, {"percent": 0, "revision": "hexproperty-staging-frontend-green", "tag": "blue"}])), "frontend.traffic", ["tag 'blue' is used twice"]),
    ("traffic-foreign-revision", mutate(_set("frontend.traffic", [{"percent": 100, "revision": "hexproperty-staging-search-00001"}])), "frontend.traffic[0].revision", ["not a revision of hexproperty-staging-frontend"]),
    ("override-unknown-key", mutate(_set("microservices.services.search", {"memroy": "1Gi"})), "microservices.services.search.memroy", ["unknown key", "did you mean 'memory'"]),
    ("bad-label-value", mutate(_set("labels", {"team": "Platform Team"})), "labels.team", ["not in the expected form", "A label value"]),
    ("load-unknown-runtime", mutate(_set("load_profile.runtimes", {"serach": {"calls_per_request": 1}})), "load_profile.runtimes.serach", ["not a runtime of this file", "did you mean 'search'"]),
    ("load-negative-traffic", mutate(_set("load_profile.egress_gib_per_month", -5)), "load_profile.egress_gib_per_month", ["-5 is below the minimum 0"]),
]


def tree_digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def previous_output(tmp_path) -> Path:
    out = tmp_path / "cdktf.out"
    (out / "stacks" / "staging").mkdir(parents=True)
    (out / "stacks" / "staging" / "cdk.tf.json").write_text('{"previous": true}\n')
    (out / "manifest.json").write_text("{}\n")
    return out


@pytest.mark.parametrize("case_id,build,key,words", CASES, ids=[c[0] for c in CASES])
def test_broken_file_is_refused_clearly(tmp_path, previous_output, case_id, build, key, words):
    envdir = tmp_path / "environments"
    envdir.mkdir()
    bad = envdir / "staging.yaml"
    bad.write_text(build())
    before = tree_digest(previous_output)

    run = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "--environments-dir", str(envdir), "--outdir", str(previous_output)],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )

    assert run.returncode == 2, run.stderr
    assert "Traceback" not in run.stderr
    problem_lines = [line for line in run.stderr.splitlines() if line.startswith("environments/staging.yaml: ")]
    assert problem_lines, run.stderr
    matching = [line for line in problem_lines if line.startswith(f"environments/staging.yaml: {key}")]
    assert matching, f"no problem at {key}:\n{run.stderr}"
    line = matching[0]
    for word in words:
        assert word in line, f"{word!r} missing from: {line}"
    assert "Fix: " in line
    assert tree_digest(previous_output) == before
    assert not list(tmp_path.glob(".cdktf.out*")), "a half-written output folder was left behind"


def test_every_problem_in_a_file_is_reported_at_once(tmp_path):
    envdir = tmp_path / "environments"
    envdir.mkdir()
    data = yaml.safe_load(STAGING.read_text())
    data["project"]["region"] = "moon-east1"
    data["network"]["connector"].update(min_instances=5, max_instances=4)
    data["network"]["subnet_cidr"] = "10.10.0.0/27"
    (envdir / "staging.yaml").write_text(yaml.safe_dump(data))
    run = subprocess.run([sys.executable, str(ROOT / "main.py"), "--environments-dir", str(envdir), "--outdir", str(tmp_path / "out")],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert run.returncode == 2
    assert len([l for l in run.stderr.splitlines() if l.startswith("environments/staging.yaml: ")]) == 3
    assert not (tmp_path / "out").exists()


def test_unknown_environment_name_on_the_command_line(tmp_path):
    run = subprocess.run([sys.executable, str(ROOT / "main.py"), "qa", "--outdir", str(tmp_path / "out")],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 2
    assert "no such environment file" in run.stderr and "production, staging" in run.stderr
