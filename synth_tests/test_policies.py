"""The policy pack: each rule with a compliant and a violating case, the Aspect on real
stacks, suppressions, the report, and a policy failure leaving cdktf.out untouched."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from policies.rules import RULES, RULES_BY_ID, Resource
from synth_tests.test_bad_input import tree_digest

ROOT = Path(__file__).resolve().parent.parent
LABELS = {"app": "hexproperty", "env": "x", "tier": "t", "service": "s", "managed-by": "cdktf"}


def run_body(**overrides):
    body = {"name": "hexproperty-production-search", "location": "europe-west1", "ingress": "INGRESS_TRAFFIC_INTERNAL_ONLY",
            "deletion_protection": True, "labels": LABELS,
            "template": {"scaling": {"min_instance_count": 0, "max_instance_count": 2}}}
    body.update(overrides)
    return body


def sql_body(**settings):
    base = {"availability_type": "REGIONAL", "deletion_protection_enabled": True, "user_labels": LABELS,
            "backup_configuration": {"enabled": True, "point_in_time_recovery_enabled": True},
            "ip_configuration": {"ipv4_enabled": False, "private_network": "${google_compute_network.vpc.id}",
                                 "ssl_mode": "ENCRYPTED_ONLY"}}
    base.update(settings)
    return {"region": "europe-west1", "deletion_protection": True, "settings": base}


def bucket_body(**overrides):
    body = {"name": "b", "location": "europe-west1", "uniform_bucket_level_access": True,
            "public_access_prevention": "enforced", "force_destroy": False, "labels": LABELS}
    body.update(overrides)
    return body


KEPT = {"prevent_destroy": True}

# (rule, environment, resource type, compliant body, violating body)
CASES = [
    ("HP-001", "production", "google_sql_database_instance", sql_body(), {**sql_body(), "deletion_protection": False}),
    ("HP-001", "production", "google_storage_bucket", bucket_body(lifecycle=KEPT),
     bucket_body(lifecycle=KEPT, force_destroy=True)),
    ("HP-001", "production", "google_storage_bucket", bucket_body(lifecycle=KEPT), bucket_body()),
    ("HP-001", "production", "google_secret_manager_secret", {"deletion_protection": True}, {"lifecycle": KEPT}),
    ("HP-001", "production", "google_service_account", {"lifecycle": KEPT}, {"account_id": "x"}),
    # A function-source bucket holds nothing the stack cannot upload again (policies/protected.py).
    ("HP-001", "production", "google_storage_bucket",
     bucket_body(force_destroy=True, labels={**LABELS, "content": "function-sources"}), bucket_body(force_destroy=True)),
    ("HP-001", "production", "google_redis_instance", {"lifecycle": {"prevent_destroy": True}}, {}),
    ("HP-002", "production", "google_sql_database_instance", sql_body(), sql_body(availability_type="ZONAL")),
    ("HP-003", "staging", "google_cloud_run_v2_service", run_body(), run_body(template={"scaling": {"min_instance_count": 1, "max_instance_count": 2}})),
    ("HP-003", "staging", "google_cloudfunctions2_function", {"service_config": {"min_instance_count": 0}}, {"service_config": {"min_instance_count": 1}}),
    ("HP-004", "staging", "google_cloud_run_v2_service", run_body(), run_body(template={"scaling": {"min_instance_count": 0}})),
    ("HP-004", "staging", "google_cloudfunctions2_function", {"service_config": {"max_instance_count": 3}}, {"service_config": {}}),
    ("HP-005", "production", "google_cloud_run_v2_service", run_body(), run_body(ingress="INGRESS_TRAFFIC_ALL")),
    # Staging's file gives its API ALLOW_ALL (production's sits behind the edge).
    ("HP-005", "staging", "google_cloudfunctions2_function",
     {"name": "hexproperty-staging-api", "service_config": {"ingress_settings": "ALLOW_ALL"}},
     {"name": "hexproperty-staging-sql-autopause", "service_config": {"ingress_settings": "ALLOW_ALL"}}),
    ("HP-006", "production", "google_cloud_run_v2_service_iam_member",
     {"role": "roles/run.invoker", "member": "serviceAccount:x@p.iam.gserviceaccount.com"},
     {"role": "roles/run.invoker", "member": "allUsers"}),
    ("HP-006", "production", "google_cloud_run_v2_service", run_body(), run_body(invoker_iam_disabled=True)),
    ("HP-007", "production", "google_project_iam_member", {"role": "roles/logging.logWriter"}, {"role": "roles/editor"}),
    ("HP-008", "production", "google_service_account_key", None, {"service_account_id": "x"}),
    ("HP-009", "production", "google_storage_bucket", bucket_body(), bucket_body(labels={"app": "hexproperty"})),
    ("HP-009", "production", "google_sql_database_instance", sql_body(), sql_body(user_labels={})),
    ("HP-009", "production", "google_monitoring_uptime_check_config", {"user_labels": LABELS}, {"user_labels": {}}),
    ("HP-010", "production", "google_storage_bucket", bucket_body(), bucket_body(location="US")),
    ("HP-010", "production", "google_secret_manager_secret",
     {"replication": {"user_managed": {"replicas": [{"location": "europe-west1"}]}}},
     {"replication": {"user_managed": {"replicas": [{"location": "us-central1"}]}}}),
    ("HP-010", "production", "google_redis_instance", {"location_id": "europe-west1-b"}, {"location_id": "us-east1-b"}),
    ("HP-011", "production", "google_redis_instance", {"auth_enabled": True}, {"auth_enabled": False}),
    ("HP-012", "production", "google_sql_database_instance", sql_body(),
     sql_body(ip_configuration={"ipv4_enabled": True, "ssl_mode": "ALLOW_UNENCRYPTED_AND_ENCRYPTED"})),
    ("HP-013", "production", "google_storage_bucket", bucket_body(), bucket_body(public_access_prevention="inherited")),
    ("HP-014", "production", "google_cloud_run_v2_service", run_body(), run_body(labels={**LABELS, "tier": "events"})),
    # Judged without the rest of the stack: no alert policy selects the SLO's burn rate.
    ("HP-016", "production", "google_monitoring_slo", None, {"display_name": "frontend availability"}),
    ("HP-015", "production", "google_cloud_run_v2_service", run_body(ingress="INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER"),
     run_body(name="hexproperty-production-frontend", ingress="INGRESS_TRAFFIC_ALL")),
    ("HP-015", "production", "google_cloudfunctions2_function",
     {"name": "hexproperty-production-api", "service_config": {"ingress_settings": "ALLOW_INTERNAL_ONLY"}},
     {"name": "hexproperty-production-api", "service_config": {"ingress_settings": "ALLOW_ALL"}}),
]


def judge(rule_id, config, type_, body):
    resource = Resource(type=type_, address=f"{type_}.x", path=f"{config.name}/x", body=body,
                        labelable="labels" in (body or {}), config=config)
    rule = RULES_BY_ID[rule_id]
    assert rule.applies_to(resource)
    return rule.check(resource)


def test_an_slo_passes_with_a_burn_rate_alert_in_its_stack(configs):
    slo = "${google_monitoring_slo.frontend_availability.name}"
    stack = {"google_monitoring_alert_policy": {"fast": {"conditions": [
        {"condition_threshold": {"filter": f'select_slo_burn_rate("{slo}", "3600s")'}}]}}}
    resource = Resource(type="google_monitoring_slo", address="google_monitoring_slo.frontend_availability",
                        path="production/x", body={}, labelable=False, config=configs["production"], stack=stack)
    assert RULES_BY_ID["HP-016"].check(resource) == []
    other = Resource(type="google_monitoring_slo", address="google_monitoring_slo.frontend_latency",
                     path="production/y", body={}, labelable=False, config=configs["production"], stack=stack)
    assert RULES_BY_ID["HP-016"].check(other) == ["no alert policy selects its burn rate"]


def test_every_rule_has_a_violating_case_here():
    assert {c[0] for c in CASES} == {rule.id for rule in RULES}


@pytest.mark.parametrize("rule_id,env,type_,good,bad", CASES, ids=[f"{c[0]}-{c[2]}" for c in CASES])
def test_rule(configs, rule_id, env, type_, good, bad):
    if good is not None:
        assert judge(rule_id, configs[env], type_, good) == []
    assert judge(rule_id, configs[env], type_, bad) != []


def test_every_rule_has_id_level_explanation_and_fix():
    assert [r.id for r in RULES] == [f"HP-{i:03d}" for i in range(1, len(RULES) + 1)]
    for rule in RULES:
        assert rule.level in ("error", "warning") and rule.title and rule.fix


@pytest.mark.parametrize("env", ["staging", "production"])
def test_shipped_stacks_pass_and_the_report_covers_every_rule_and_resource(synth_dir, stacks, env):
    report = json.loads((synth_dir / "stacks" / env / "policy-report.json").read_text())
    assert report["summary"]["fail"] == 0, [r for r in report["results"] if r["status"] == "fail"]
    assert {r["id"] for r in report["rules"]} == {rule.id for rule in RULES}
    addresses = {f"{t}.{a}" for t, bodies in stacks[env]["resource"].items() for a in bodies}
    assert {r["address"] for r in report["results"]} == addresses


def _violating_stack(config, suppression=None, app=None):
    from cdktf import Testing

    from constructs.google import storage_bucket
    from constructs.stack import HexPropertyStack
    from policies.pack import suppress

    stack = HexPropertyStack(app or Testing.app(), config)
    bucket = storage_bucket.StorageBucket(stack.network, "loose-bucket", name="hexproperty-x-loose", location="europe-west1",
                                          labels=config.labels("network", "loose"))
    if suppression is not None:
        suppress(stack.network, "HP-013", suppression)
    return stack, bucket


def test_a_violation_stops_synthesis_with_the_rule_and_fix(configs, tmp_path):
    from cdktf import App

    app = App(outdir=str(tmp_path))
    stack, _ = _violating_stack(configs["staging"], app=app)
    with pytest.raises(RuntimeError, match="HP-013 Buckets use uniform access"):
        app.synth()
    (failure,) = stack.policies.failures()
    assert failure.rule == "HP-013" and "uniform_bucket_level_access" in failure.detail


def test_a_suppression_with_a_reason_holds_for_the_subtree_and_is_reported(configs):
    from cdktf import Testing

    stack, _ = _violating_stack(configs["staging"], suppression="a scratch bucket for the network team's tests")
    Testing.synth(stack)
    report = stack.policies.report(stack)
    assert report["summary"]["fail"] == 0
    (entry,) = report["suppressions"]
    assert entry["rule"] == "HP-013" and entry["reason"].startswith("a scratch bucket")
    assert entry["path"].endswith("network/loose-bucket")


@pytest.mark.parametrize("reason", ["", "because", "         x"])
def test_a_suppression_needs_a_reason_of_ten_characters(configs, reason):
    from policies.pack import SuppressionError

    with pytest.raises(SuppressionError, match="at least 10 characters"):
        _violating_stack(configs["staging"], suppression=reason)


# `cdktf synth` runs main.py with CDKTF_CONTINUE_SYNTH_ON_ERROR_ANNOTATIONS=true: cdktf then writes
# the stacks despite error annotations, so main.py must stop on the pack's failures by itself.
@pytest.mark.parametrize("runner_env", [{}, {"CDKTF_CONTINUE_SYNTH_ON_ERROR_ANNOTATIONS": "true"}],
                         ids=["direct", "as-cdktf-cli-runs-it"])
def test_a_policy_failure_leaves_the_previous_output_byte_identical(tmp_path, runner_env):
    envdir = tmp_path / "environments"
    envdir.mkdir()
    data = yaml.safe_load((ROOT / "environments" / "staging.yaml").read_text())
    data["frontend"]["min_instances"] = 1  # HP-003: staging must scale to zero
    (envdir / "staging.yaml").write_text(yaml.safe_dump(data))
    out = tmp_path / "cdktf.out"
    (out / "stacks" / "staging").mkdir(parents=True)
    (out / "stacks" / "staging" / "cdk.tf.json").write_text('{"previous": true}\n')
    before = tree_digest(out)
    run = subprocess.run([sys.executable, str(ROOT / "main.py"), "--environments-dir", str(envdir), "--outdir", str(out)],
                         cwd=tmp_path, capture_output=True, text=True, timeout=300, env={**os.environ, **runner_env})
    assert run.returncode == 1, run.stderr
    assert "Traceback" not in run.stderr
    assert "HP-003" in run.stderr and "never scales to zero" in run.stderr
    assert tree_digest(out) == before
    assert not list(tmp_path.glob(".cdktf.out*"))


def test_every_checkov_skip_has_a_reason():
    entries = yaml.safe_load((ROOT / "policies" / "checkov-skips.yaml").read_text())
    assert entries, "an empty skip list is fine, but then delete the file"
    for entry in entries:
        assert set(entry) in ({"id", "reason"}, {"id", "reason", "resources"}), entry
        assert entry["id"].startswith(("CKV_GCP_", "CKV2_GCP_")), entry["id"]
        assert len(entry["reason"].strip()) >= 20, entry["id"]


def _checkov_report(passed=(), failed=(), parsing_errors=0):
    def check(resource, check_id="CKV_GCP_1"):
        return {"file_path": "/staging/cdk.tf.json", "resource": resource, "check_id": check_id, "check_name": "a check"}
    return {"check_type": "terraform_json", "summary": {"parsing_errors": parsing_errors},
            "results": {"passed_checks": [check(r) for r in passed], "failed_checks": [check(r) for r in failed]}}


GATE_EXPECTED = {"/staging/cdk.tf.json": {("google_storage_bucket", "b_1"), ("google_project_service", "api_1")}}
GATE_TYPES = {"google_storage_bucket"}  # checkov has no check for google_project_service


def test_checkov_gate_passes_when_every_checked_resource_was_judged_clean():
    from tools.checkov_gate import judge

    assert judge(GATE_EXPECTED, [_checkov_report(passed=["resource.b_1"])], GATE_TYPES) == ([], 1)


def test_checkov_gate_excepts_a_check_for_the_named_resource_only():
    from tools.checkov_gate import judge

    expected = {"/staging/cdk.tf.json": {("google_storage_bucket", "b_1"), ("google_storage_bucket", "b_2")}}
    report = _checkov_report(failed=["resource.b_1", "resource.b_2"])
    problems, _ = judge(expected, [report], GATE_TYPES, frozenset({("CKV_GCP_1", "b_1")}))
    assert problems == ["FAILED CKV_GCP_1 /staging/cdk.tf.json resource.b_2: a check"]


@pytest.mark.parametrize("reports,words", [
    ([_checkov_report(failed=["resource.b_1"])], "FAILED CKV_GCP_1"),
    ([_checkov_report(passed=["resource.b_1"], parsing_errors=1)], "could not parse 1 file"),
    ([_checkov_report()], "did not judge 1 resource(s) of /staging/cdk.tf.json: google_storage_bucket.b_1"),
    ([], "produced no terraform_json report"),
], ids=["failed-check", "parsing-error", "resource-silently-skipped", "no-report"])
def test_checkov_gate_fails_loudly(reports, words):
    from tools.checkov_gate import judge

    problems, _ = judge(GATE_EXPECTED, reports, GATE_TYPES)
    assert any(words in problem for problem in problems), problems
