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
PRODUCTION = ROOT / "environments" / "production.yaml"


def mutate(change, source: Path = STAGING):
    """A case built by editing the parsed staging (or production) file."""
    def build() -> str:
        data = yaml.safe_load(source.read_text())
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
    ("yaml-tag", raw("project: !vault project-id\n"), "(top level)", ["not valid YAML", "line 1", "tag '!vault'", "not supported"]),
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
    ("call-cycle", mutate(_set("microservices.services.notifications", {"calls": ["bookings"]})), "microservices.services.bookings.calls", ["round in a circle", "bookings -> notifications -> bookings"]),
    ("service-name-too-long", mutate(_set("microservices.services.listing-photo-resize", {})), "microservices.services.listing-photo-resize", ["service account id 'hp-staging-listing-photo-resize'", "30"]),
    ("traffic-not-100", mutate(_set("frontend.traffic", [{"percent": 60, "tag": "blue"}, {"percent": 30, "revision": "hexproperty-staging-frontend-green", "tag": "green"}])), "frontend.traffic", ["sum to 90", "exactly 100"]),
    ("traffic-duplicate-tag", mutate(_set("frontend.traffic", [{"percent": 100, "tag": "blue"}, {"percent": 0, "revision": "hexproperty-staging-frontend-green", "tag": "blue"}])), "frontend.traffic", ["tag 'blue' is used twice"]),
    ("traffic-foreign-revision", mutate(_set("frontend.traffic", [{"percent": 100, "revision": "hexproperty-staging-search-00001"}])), "frontend.traffic[0].revision", ["not a revision of hexproperty-staging-frontend"]),
    ("override-unknown-key", mutate(_set("microservices.services.search", {"memroy": "1Gi"})), "microservices.services.search.memroy", ["unknown key", "did you mean 'memory'"]),
    ("no-repository", mutate(_delete("delivery.repository")), "delivery.repository", ["required key is missing"]),
    ("full-ref-branch", mutate(_set("delivery.deploy_branches", ["refs/heads/staging"])), "delivery.deploy_branches[0]", ["full ref", "write 'staging'"]),
    ("bad-branch-pattern", mutate(_set("delivery.deploy_branches", ["release/*/x"])), "delivery.deploy_branches[0]", ["not in the expected form", "<prefix>/*"]),
    ("repository-id-not-a-number", mutate(_set("delivery.repository_id", "hexproperty/infrastructure")), "delivery.repository_id", ["expected", "gh api repos/<owner>/<name> --jq .id"]),
    ("repository-owner-id-negative", mutate(_set("delivery.repository_owner_id", -4)), "delivery.repository_owner_id", ["below the minimum", "--jq .owner.id"]),
    ("full-ref-plan-branch", mutate(_set("delivery.plan_branches", ["refs/heads/develop"])), "delivery.plan_branches[0]", ["full ref", "write 'develop'"]),
    ("bad-label-value", mutate(_set("labels", {"team": "Platform Team"})), "labels.team", ["not in the expected form", "A label value"]),
    # the data tier
    ("data-unknown-key", mutate(_set("data.postgres.tierr", "db-g1-small")), "data.postgres.tierr", ["unknown key", "did you mean 'tier'"]),
    ("redis-tier-typo", mutate(_set("data.redis.tier", "STANDARD")), "data.redis.tier", ["not an allowed value", "BASIC, STANDARD_HA"]),
    ("clients-not-a-list", mutate(_set("data.postgres.clients", "api")), "data.postgres.clients", ["expected a list"]),
    ("client-name-form", mutate(_set("data.redis.clients", ["Bookings Service"])), "data.redis.clients[0]", ["not in the expected form"]),
    ("idle-too-short", mutate(_set("data.postgres.auto_pause.idle_minutes", 1)), "data.postgres.auto_pause.idle_minutes", ["below the minimum 5"]),
    ("pitr-too-long", mutate(_set("data.postgres.backups.log_retention_days", 10)), "data.postgres.backups.log_retention_days", ["above ENTERPRISE's limit of 7"]),
    ("plus-refuses-small-tier", mutate(_set("data.postgres.edition", "ENTERPRISE_PLUS")), "data.postgres.tier", ["not an ENTERPRISE_PLUS tier"]),
    ("custom-tier-shape", mutate(_set("data.postgres.tier", "db-custom-3-7680")), "data.postgres.tier", ["not a Cloud SQL shape", "even number"]),
    ("custom-tier-memory", mutate(_set("data.postgres.tier", "db-custom-2-1024")), "data.postgres.tier", ["not valid memory", "3840"]),
    ("reserved-database", mutate(_set("data.postgres.databases", ["postgres"])), "data.postgres.databases[0]", ["reserves"]),
    ("bad-time-zone", mutate(_set("data.postgres.auto_pause.time_zone", "Europe/Brusels")), "data.postgres.auto_pause.time_zone", ["not an IANA time zone", "Europe/Brussels"]),
    ("pause-with-replica", mutate(_set("data.postgres.replica", {"tier": "db-g1-small"})), "data.postgres.auto_pause", ["cannot stop a primary"]),
    ("bad-cron", mutate(_set("data.postgres.auto_pause.wake_schedule", "weekdays at 7")), "data.postgres.auto_pause.wake_schedule", ["not in the expected form", "cron"]),
    # the events tier
    ("broker-replicas", mutate(_set("events.cloud_run.max_instances", 3)), "events.cloud_run.max_instances", ["3 is above the maximum 1", "Identical replicas", "no file locking"]),
    ("unknown-events-backend", mutate(_set("events.backend", "kafka-on-vm")), "events.backend", ["not an allowed value", "cloud-run, managed"]),
    ("unknown-producer", mutate(_set("events.producers", ["api", "serach"])), "events.producers[1]", ["'serach' is not a runtime", "did you mean 'search'"]),
    ("unpinned-broker-image", mutate(_set("events.cloud_run.broker_image", "apache/kafka")), "events.cloud_run.broker_image", ["not in the expected form", "pinned tag"]),
    ("latest-proxy-image", mutate(_set("events.cloud_run.proxy_image", "confluentinc/cp-kafka-rest:latest")), "events.cloud_run.proxy_image", [":latest", "pin a version"]),
    ("kafka-cluster-too-small", mutate(_set("events.managed", {"vcpu": 2, "memory_gib": 4})), "events.managed.vcpu", ["2 is below the minimum 3"]),
    ("kafka-memory-per-vcpu", mutate(_set("events.managed", {"vcpu": 3, "memory_gib": 30})), "events.managed.memory_gib", ["outside Managed Kafka's 1-8 GiB per vCPU", "3-24"]),
    ("broker-memory-needs-cpu", mutate(lambda d: d["events"]["cloud_run"].update(broker_memory="6Gi", broker_cpu=1)), "events.cloud_run.broker_memory", ["needs at least 2 CPU", "broker_cpu is 1", "set broker_cpu to 2"]),
    ("microservice-named-kafka", mutate(_set("microservices.services.kafka", {})), "microservices.services.kafka", ["events tier"]),
    # monitoring
    ("utilization-above-one", mutate(_set("monitoring.postgres.cpu_utilization", 1.5)), "monitoring.postgres.cpu_utilization", ["1.5 is above the maximum 1", "fraction"]),
    ("zero-error-ratio", mutate(_set("monitoring.errors.ratio", 0)), "monitoring.errors.ratio", ["0 is not above 0"]),
    ("bad-email", mutate(_set("monitoring.notification_emails", ["platform-alerts at hexproperty"])), "monitoring.notification_emails[0]", ["not in the expected form", "An email address"]),
    ("no-notification-emails", mutate(_set("monitoring.notification_emails", [])), "monitoring.notification_emails", ["[] should be non-empty"]),
    ("duration-not-whole-minutes", mutate(_set("monitoring.latency.duration_seconds", 90)), "monitoring.latency.duration_seconds", ["90 s is not a whole number of minutes", "multiple of 60"]),
    ("latency-percentile", mutate(_set("monitoring.latency.percentile", 90)), "monitoring.latency.percentile", ["not an allowed value", "95, 99"]),
    ("no-monitoring-section", mutate(_delete("monitoring")), "monitoring", ["required key is missing", "add `monitoring`"]),
    # cost and compliance
    ("no-cost-section", mutate(_delete("cost")), "cost", ["required key is missing", "Billing budgets"]),
    ("billing-account-form", mutate(_set("cost.billing_account", "0000-0000-0000")), "cost.billing_account", ["not a billing account id", "XXXXXX-XXXXXX-XXXXXX"]),
    ("billing-account-lowercase", mutate(_set("cost.billing_account", "01abcd-000000-000000")), "cost.billing_account", ["not a billing account id"]),
    ("budget-currency", mutate(_set("cost.currency", "euro")), "cost.currency", ["not in the expected form", "ISO 4217"]),
    ("budget-not-a-number", mutate(_set("cost.monthly_amount", "300 EUR")), "cost.monthly_amount", ["expected an integer"]),
    ("budget-zero", mutate(_set("cost.monthly_amount", 0)), "cost.monthly_amount", ["below the minimum 1"]),
    ("unknown-budget-tier", mutate(_set("cost.tier_amounts", {"databse": 10})), "cost.tier_amounts.databse", ["not a tier label", "did you mean 'data'"]),
    ("tier-budgets-above-total", mutate(_set("cost.tier_amounts", {"data": 200, "events": 200})), "cost.tier_amounts", ["add up to 400", "above monthly_amount 300"]),
    ("too-many-budget-emails", mutate(_set("cost.notification_emails", [f"a{i}@hexproperty.example" for i in range(6)])), "cost.notification_emails", ["5 channels"]),
    ("budget-email-form", mutate(_set("cost.notification_emails", ["platform team"])), "cost.notification_emails[0]", ["not in the expected form", "email"]),
    ("audit-log-type", mutate(_set("compliance.data_access_log_types", ["ADMIN_READ"])), "compliance.data_access_log_types[0]", ["not an allowed value", "DATA_READ, DATA_WRITE"]),
    ("audit-all-and-one", mutate(_set("compliance.data_access_services", ["allServices", "storage.googleapis.com"])), "compliance.data_access_services", ["allServices and single services"]),
    ("audit-service-form", mutate(_set("compliance.data_access_services", ["cloudsql"])), "compliance.data_access_services[0]", ["not in the expected form", "sqladmin.googleapis.com"]),
    ("audit-retention", mutate(_set("compliance.audit_log_retention_days", 5000)), "compliance.audit_log_retention_days", ["above the maximum 3650"]),
    ("organization-form", mutate(_set("compliance.organization_id", "organizations/123456789012")), "compliance.organization_id", ["not in the expected form", "Numeric id"]),
    ("rotation-days-zero", mutate(_set("compliance.secret_rotation_days", 0)), "compliance.secret_rotation_days", ["below the minimum 1"]),
    ("no-compliance-recipients", mutate(_delete("compliance.notification_emails")), "compliance.notification_emails", ["required key is missing", "operations notices"]),
    ("compliance-unknown-key", mutate(_set("compliance.lock_bucket", True)), "compliance.lock_bucket", ["unknown key", "did you mean 'lock_audit_bucket'"]),
    ("slo-in-staging", mutate(lambda data: data["monitoring"].update(slo={})), "monitoring.slo", ["too thin for an SLO", "remove monitoring.slo"]),
]

# production's rules: the file is written as production.yaml
PRODUCTION_CASES = [
    ("production-zonal", mutate(_set("data.postgres.availability", "ZONAL"), PRODUCTION), "data.postgres.availability", ["production without HA", "REGIONAL"]),
    ("production-no-backups", mutate(_set("data.postgres.backups.enabled", False), PRODUCTION), "data.postgres.backups.enabled", ["production without automated backups"]),
    ("production-no-pitr", mutate(_set("data.postgres.backups.point_in_time_recovery", False), PRODUCTION), "data.postgres.backups.point_in_time_recovery", ["without point-in-time recovery"]),
    ("production-no-replica", mutate(_delete("data.postgres.replica"), PRODUCTION), "data.postgres.replica", ["without a cross-region replica"]),
    ("production-unprotected", mutate(_set("data.postgres.deletion_protection", False), PRODUCTION), "data.postgres.deletion_protection", ["without deletion protection"]),
    ("production-shared-core", mutate(_set("data.postgres.tier", "db-g1-small"), PRODUCTION), "data.postgres.tier", ["no SLA"]),
    ("production-redis-basic", mutate(_set("data.redis.tier", "BASIC"), PRODUCTION), "data.redis.tier", ["production without HA"]),
    ("production-broad-alerting", mutate(_set("monitoring.alerting", "broad"), PRODUCTION), "monitoring.alerting", ["production with broad alerting", "per-runtime"]),
    ("production-no-alerting", mutate(_set("monitoring.alerting", "none"), PRODUCTION), "monitoring.alerting", ["production with none alerting", "per-runtime"]),
    # The drill reminder is production's (staging's file has no disaster_recovery section).
    ("drill-time-zone", mutate(_set("disaster_recovery.time_zone", "Europe/Amsterdamm"), PRODUCTION), "disaster_recovery.time_zone", ["not an IANA time zone", "Europe/Amsterdam"]),
    ("failover-without-replica", mutate(_set("disaster_recovery", {"active_region": "dr"})), "disaster_recovery.active_region", ["dr promotes data.postgres.replica, and this file has none", "active_region: primary"]),
    ("failover-region-name", mutate(_set("disaster_recovery.active_region", "europe-west4"), PRODUCTION), "disaster_recovery.active_region", ["primary", "dr"]),
    ("replica-without-dr-network", mutate(_delete("network.dr"), PRODUCTION), "network.dr", ["no ranges for the DR region", "add network.dr"]),
    ("dr-subnet-overlaps", mutate(_set("network.dr.subnet_cidr", "10.110.0.0/24"), PRODUCTION), "network.subnet_cidr", ["overlaps network.dr.subnet_cidr"]),
    ("dr-connector-size", mutate(_set("network.dr.connector_cidr", "10.108.0.32/27"), PRODUCTION), "network.dr.connector_cidr", ["has prefix /27", "/28"]),
    ("standby-without-replica", mutate(_set("disaster_recovery", {"standby": "replica"})), "disaster_recovery.standby", ["needs data.postgres.replica", "remove standby"]),
    ("standby-unknown", mutate(_set("disaster_recovery.standby", "cold"), PRODUCTION), "disaster_recovery.standby", ["replica", "forgotten"]),
    ("same-instance-names", mutate(_set("disaster_recovery.sql_instances", {"primary": "pg", "dr": "pg"}), PRODUCTION), "disaster_recovery.sql_instances.dr", ["both sites", "its own name"]),
    ("instance-name-too-long", mutate(_set("disaster_recovery.sql_instances", {"primary": "p" * 50}), PRODUCTION), "disaster_recovery.sql_instances.primary", ["outside Google's limit"]),
    ("drill-schedule-form", mutate(_set("disaster_recovery.drill_schedule", "quarterly"), PRODUCTION), "disaster_recovery.drill_schedule", ["not in the expected form", "Cron"]),
    ("production-redis-plaintext", mutate(_set("data.redis.transit_encryption", False), PRODUCTION), "data.redis.transit_encryption", ["without TLS"]),
    ("production-audit-unlocked", mutate(_set("compliance.lock_audit_bucket", False), PRODUCTION), "compliance.lock_audit_bucket", ["audit logs could be deleted", "lock_audit_bucket: true"]),
    ("production-change-alerts-off", mutate(_set("compliance.change_alerts", False), PRODUCTION), "compliance.change_alerts", ["nobody would hear", "change_alerts: true"]),
    ("edge-domain-form", mutate(_set("edge.domains", ["https://hexproperty.example/"]), PRODUCTION), "edge.domains[0]", ["is not a hostname", "no scheme"]),
    ("edge-domain-case", mutate(_set("edge.domains", ["WWW.HexProperty.example"]), PRODUCTION), "edge.domains[0]", ["is not a hostname", "'www.hexproperty.example'"]),
    ("edge-domain-wildcard", mutate(_set("edge.domains", ["*.hexproperty.example"]), PRODUCTION), "edge.domains[0]", ["wildcard", "list each host"]),
    ("edge-without-domains", mutate(lambda data: data.update(edge={"enabled": True})), "edge.domains", ["certificate needs a domain"]),
    ("edge-denied-range", mutate(_set("edge.denied_ips", ["203.0.113.0/33"]), PRODUCTION), "edge.denied_ips[0]", ["not an address range", "CIDR"]),
    ("edge-api-wide-open", mutate(_set("api.ingress", "ALLOW_ALL"), PRODUCTION), "api.ingress", ["wider than the frontend needs", "ALLOW_INTERNAL_ONLY"]),
    ("slo-target-above-100", mutate(_set("monitoring.slo.availability_target", 1.2), PRODUCTION), "monitoring.slo.availability_target", ["1.2", "availability_target"]),
    ("slo-window-zero", mutate(_set("monitoring.slo.window_days", 0), PRODUCTION), "monitoring.slo.window_days", ["below the minimum 1"]),
    ("production-redis-volatile", mutate(_set("data.redis.rdb_snapshot_period", "DISABLED"), PRODUCTION), "data.redis.rdb_snapshot_period", ["without Redis persistence"]),
    ("unknown-database-client", mutate(_set("data.postgres.clients", ["api", "bookngs"])), "data.postgres.clients[1]", ["'bookngs' is not a runtime of this file", "did you mean 'bookings'"]),
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


ALL_CASES = [(*case, "staging") for case in CASES] + [(*case, "production") for case in PRODUCTION_CASES]


@pytest.mark.parametrize("case_id,build,key,words,env", ALL_CASES, ids=[c[0] for c in ALL_CASES])
def test_broken_file_is_refused_clearly(tmp_path, monkeypatch, capsys, previous_output, case_id, build, key, words, env):
    """In-process for speed; the end-to-end runs below prove the same through a real process."""
    import main
    from constructs import google

    envdir = tmp_path / "environments"
    envdir.mkdir()
    (envdir / f"{env}.yaml").write_text(build())
    before = tree_digest(previous_output)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(main, "synthesize", lambda *a, **k: pytest.fail("a broken file reached synthesis"))
    monkeypatch.setattr(google, "skip_runtime_type_checks", lambda: None)

    status = main.main(["--environments-dir", str(envdir), "--outdir", str(previous_output)])

    stderr = capsys.readouterr().err
    assert status == 2, stderr
    problem_lines = [line for line in stderr.splitlines() if line.startswith(f"environments/{env}.yaml: ")]
    assert problem_lines, stderr
    matching = [line for line in problem_lines if line.startswith(f"environments/{env}.yaml: {key}:")]
    assert matching, f"no problem at {key}:\n{stderr}"
    line = matching[0]
    for word in words:
        assert word in line, f"{word!r} missing from: {line}"
    assert "Fix: " in line
    assert tree_digest(previous_output) == before
    assert not list(tmp_path.glob(".cdktf.out*")), "a half-written output folder was left behind"


@pytest.mark.parametrize("case_id", ["not-yaml", "min-above-max", "decommissioned-runtime"])
def test_a_broken_file_through_the_real_command(tmp_path, previous_output, case_id):
    build = next(case[1] for case in ALL_CASES if case[0] == case_id)
    envdir = tmp_path / "environments"
    envdir.mkdir()
    (envdir / "staging.yaml").write_text(build())
    before = tree_digest(previous_output)
    run = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "--environments-dir", str(envdir), "--outdir", str(previous_output)],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    assert run.returncode == 2, run.stderr
    assert "Traceback" not in run.stderr
    assert run.stderr.startswith("environments/staging.yaml: ") and "Fix: " in run.stderr
    assert tree_digest(previous_output) == before


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


def test_a_deploy_branch_belongs_to_one_environment(tmp_path):
    envdir = tmp_path / "environments"
    envdir.mkdir()
    for name in ("staging", "production"):
        data = yaml.safe_load((ROOT / "environments" / f"{name}.yaml").read_text())
        data["delivery"]["deploy_branches"] = ["main"]
        (envdir / f"{name}.yaml").write_text(yaml.safe_dump(data))
    run = subprocess.run([sys.executable, str(ROOT / "main.py"), "--environments-dir", str(envdir), "--outdir", str(tmp_path / "out")],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert run.returncode == 2
    assert "environments/staging.yaml: delivery.deploy_branches: 'main' already deploys production" in run.stderr


def test_a_pull_request_base_branch_belongs_to_one_environment(tmp_path):
    envdir = tmp_path / "environments"
    envdir.mkdir()
    for name in ("staging", "production"):
        data = yaml.safe_load((ROOT / "environments" / f"{name}.yaml").read_text())
        data["delivery"]["plan_branches"] = ["develop"]
        (envdir / f"{name}.yaml").write_text(yaml.safe_dump(data))
    run = subprocess.run([sys.executable, str(ROOT / "main.py"), "--environments-dir", str(envdir), "--outdir", str(tmp_path / "out")],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert ("environments/staging.yaml: delivery.plan_branches: 'develop' already plans pull requests against production"
            in run.stderr)
