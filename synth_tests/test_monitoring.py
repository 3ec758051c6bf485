"""The monitoring tier in both environments: channels, alerts, uptime checks, dashboard, logs,
traces and Sentry, each number checked against the environment file."""

from __future__ import annotations

import json
import re

import pytest

from constructs.shared.secrets import PLACEHOLDER
from synth_tests.helpers import (
    ENVS,
    address_of,
    address_of_attr,
    api_function,
    api_function_address,
    member_of,
    only,
    ref,
    resources,
    run_service,
)

PER_RUNTIME = ["production"]  # monitoring.alerting: per-runtime; staging's is none


def policies(stack) -> dict[str, dict]:
    """Alert policies of the monitoring tier, by construct id (`latency-frontend`, `postgres`, ...)."""
    return {body["//"]["metadata"]["path"].split("/", 2)[2]: body
            for body in resources(stack, "google_monitoring_alert_policy").values()
            if body["//"]["metadata"]["path"].split("/")[1] == "monitoring"}


def threshold(policy: dict, index: int = 0) -> dict:
    return policy["conditions"][index]["condition_threshold"]


def runtimes(config) -> list[str]:
    names = ["frontend", "api", *(s.name for s in config.microservices)]
    return names + (["kafka"] if config.events.backend == "cloud-run" else [])


def caps(config) -> dict[str, int]:
    return {"frontend": config.frontend.max_instances, "api": config.api.max_instances,
            **{s.name: s.max_instances for s in config.microservices}}


def channel_refs(stack) -> list[str]:
    return [ref("google_monitoring_notification_channel", a, "name")
            for a in resources(stack, "google_monitoring_notification_channel")
            if a.startswith("monitoring_")]


@pytest.mark.parametrize("env", ENVS)
def test_one_email_channel_per_address_and_every_policy_notifies_them(stacks, configs, env):
    stack, monitoring = stacks[env], configs[env].monitoring
    channels = [b for a, b in resources(stack, "google_monitoring_notification_channel").items() if a.startswith("monitoring_")]
    assert sorted(c["labels"]["email_address"] for c in channels) == sorted(monitoring.notification_emails)
    assert {c["type"] for c in channels} == {"email"}
    assert all(c["user_labels"]["tier"] == "monitoring" for c in channels)
    for policy in policies(stack).values():
        assert sorted(policy["notification_channels"]) == sorted(channel_refs(stack))
        assert policy["user_labels"]["tier"] == "monitoring"


@pytest.mark.parametrize("env", PER_RUNTIME)
def test_latency_alert_on_every_runtime_with_the_files_percentile_threshold_and_duration(stacks, configs, env):
    config, found = configs[env], policies(stacks[env])
    latency = config.monitoring.latency
    for name in runtimes(config):
        condition = threshold(found[f"latency-{name}"])
        assert f'resource.labels.service_name = "hexproperty-{env}-{name}"' in condition["filter"]
        assert 'metric.type = "run.googleapis.com/request_latencies"' in condition["filter"]
        assert condition["aggregations"][0]["per_series_aligner"] == f"ALIGN_PERCENTILE_{latency.percentile}"
        assert condition["threshold_value"] == latency.threshold_ms
        assert condition["duration"] == f"{latency.duration_seconds}s"
        assert condition["comparison"] == "COMPARISON_GT"


@pytest.mark.parametrize("env", PER_RUNTIME)
def test_5xx_ratio_alert_on_every_runtime(stacks, configs, env):
    config, found = configs[env], policies(stacks[env])
    errors = config.monitoring.errors
    for name in runtimes(config):
        condition = threshold(found[f"errors-{name}"])
        assert condition["filter"].endswith('metric.labels.response_code_class = "5xx"')
        assert condition["denominator_filter"] == condition["filter"].rsplit(" AND ", 1)[0]
        assert f'"hexproperty-{env}-{name}"' in condition["denominator_filter"]
        assert condition["aggregations"][0]["per_series_aligner"] == "ALIGN_RATE"
        assert condition["denominator_aggregations"][0]["per_series_aligner"] == "ALIGN_RATE"
        assert condition["threshold_value"] == errors.ratio
        assert condition["duration"] == f"{errors.duration_seconds}s"


@pytest.mark.parametrize("env", PER_RUNTIME)
def test_runaway_scaling_alert_at_each_runtimes_cap(stacks, configs, env):
    config, found = configs[env], policies(stacks[env])
    for name, cap in caps(config).items():
        condition = threshold(found[f"scaling-{name}"])
        assert 'metric.type = "run.googleapis.com/container/instance_count"' in condition["filter"]
        assert f'"hexproperty-{env}-{name}"' in condition["filter"]
        assert condition["threshold_value"] == cap - 1  # above cap - 1 of a whole number: at the cap
        assert condition["duration"] == f"{config.monitoring.scaling_duration_seconds}s"
    # The Cloud Run broker always runs exactly one instance: its cap is no scaling signal.
    assert "scaling-kafka" not in found


@pytest.fixture(scope="module")
def staging_broad(tmp_path_factory, configs):
    """Staging synthesized with `monitoring.alerting: broad`, the file's other choice (one extra synth)."""
    import dataclasses

    from main import synthesize

    config = configs["staging"]
    broad = dataclasses.replace(config, monitoring=dataclasses.replace(config.monitoring, alerting="broad"))
    outdir = tmp_path_factory.mktemp("broad") / "cdktf.out"
    synthesize([broad], outdir)
    return broad, json.loads((outdir / "stacks" / "staging" / "cdk.tf.json").read_text())


def test_staging_notifies_no_one(staging, configs):
    """`alerting: none`: every alert condition left is the auto-pause's, which notifies its function
    through Pub/Sub; no email channel is attached to any policy."""
    assert configs["staging"].monitoring.alerting == "none"
    emails = {ref("google_monitoring_notification_channel", a, "name")
              for a, c in resources(staging, "google_monitoring_notification_channel").items() if c["type"] == "email"}
    attached = [(a, p) for a, p in resources(staging, "google_monitoring_alert_policy").items() if p.get("notification_channels")]
    assert len(attached) == 1 and "auto-pause" in attached[0][1]["display_name"]
    assert not emails & set(attached[0][1]["notification_channels"])


def test_broad_alerting_has_one_condition_per_signal_grouped_by_service(staging_broad):
    config, staging = staging_broad
    found = policies(staging)
    assert config.monitoring.broad
    # Two runtime conditions, one uptime condition, Kafka down: nothing per runtime, no cap, no utilization.
    assert set(found) == {"latency", "errors", "uptime", "kafka"}
    services = ", ".join(f'"hexproperty-staging-{name}"' for name in sorted(runtimes(config)))
    latency, errors = threshold(found["latency"]), threshold(found["errors"])
    for condition in (latency, errors):
        assert f"resource.labels.service_name = one_of({services})" in condition["filter"]
        assert condition["aggregations"][0]["group_by_fields"] == ["resource.label.service_name"]
    assert latency["threshold_value"] == config.monitoring.latency.threshold_ms
    assert errors["threshold_value"] == config.monitoring.errors.ratio
    # A ratio per service: numerator and denominator grouped alike.
    assert errors["denominator_aggregations"][0]["group_by_fields"] == ["resource.label.service_name"]
    uptime = threshold(found["uptime"])
    for name in ("frontend", "api"):
        check = address_of_attr(staging, "google_monitoring_uptime_check_config", "display_name",
                                f"hexproperty-staging-{name} is up")
        assert ref("google_monitoring_uptime_check_config", check, "uptime_check_id") in uptime["filter"]
    assert uptime["aggregations"][0]["group_by_fields"] == ["resource.label.host"]


@pytest.mark.parametrize("env", PER_RUNTIME)
def test_cloud_sql_cpu_memory_disk_and_connections(stacks, configs, env):
    pg = configs[env].monitoring.postgres
    policy = policies(stacks[env])["postgres"]
    by_metric = {c["condition_threshold"]["filter"].rsplit("/database/", 1)[1].rstrip('"'): c["condition_threshold"]
                 for c in policy["conditions"]}
    assert {k: v["threshold_value"] for k, v in by_metric.items()} == {
        "cpu/utilization": pg.cpu_utilization, "memory/utilization": pg.memory_utilization,
        "disk/utilization": pg.disk_utilization, "postgresql/num_backends": pg.connections}
    for condition in by_metric.values():
        assert condition["duration"] == f"{pg.duration_seconds}s"
        assert f'resource.labels.database_id = "hexproperty-{env}:hexproperty-{env}-pg"' in condition["filter"]


@pytest.mark.parametrize("env", PER_RUNTIME)
def test_redis_memory_usage(stacks, configs, env):
    redis = configs[env].monitoring.redis
    condition = threshold(policies(stacks[env])["redis"])
    assert 'metric.type = "redis.googleapis.com/stats/memory/usage_ratio"' in condition["filter"]
    assert f'ends_with("/hexproperty-{env}-redis")' in condition["filter"]
    assert condition["threshold_value"] == redis.memory_usage_ratio
    assert condition["duration"] == f"{redis.duration_seconds}s"


def test_kafka_on_cloud_run_alerts_on_start_failures_within_the_window(staging_broad):
    config, staging = staging_broad
    assert config.events.backend == "cloud-run"
    seconds = config.monitoring.kafka_duration_seconds
    address = address_of(staging, "google_logging_metric", "hexproperty-staging-kafka-start-failures")
    metric = resources(staging, "google_logging_metric")[address]
    assert 'resource.labels.service_name = "hexproperty-staging-kafka"' in metric["filter"]
    assert "varlog%2Fsystem" in metric["filter"] and "severity >= ERROR" in metric["filter"]
    condition = threshold(policies(staging)["kafka"])
    # By reference: the policy is created after the metric it reads.
    assert f'logging.googleapis.com/user/{ref("google_logging_metric", address, "name")}' in condition["filter"]
    assert condition["threshold_value"] == 0
    assert condition["aggregations"][0]["alignment_period"] == f"{seconds}s"


def test_managed_kafka_alerts_when_the_cluster_stops_serving(production, configs):
    assert configs["production"].events.backend == "managed"
    condition = policies(production)["kafka"]["conditions"][0]["condition_absent"]
    assert 'resource.labels.cluster_id = "hexproperty-production-kafka"' in condition["filter"]
    assert condition["duration"] == f"{configs['production'].monitoring.kafka_duration_seconds}s"


@pytest.mark.parametrize("env", ENVS)
def test_uptime_checks_probe_the_frontend_and_the_api_hosts(stacks, configs, env):
    stack, settings = stacks[env], configs[env].monitoring.uptime
    checks = {b["display_name"]: b for b in resources(stack, "google_monitoring_uptime_check_config").values()}
    frontend = checks.pop(f"hexproperty-{env}-frontend is up")
    frontend_address = address_of(stack, "google_cloud_run_v2_service", f"hexproperty-{env}-frontend")
    # Where users go: the edge's first domain when it is on, else the service's own URL.
    users_host = (f'"https://{configs[env].edge.domains[0]}"' if configs[env].edge.enabled
                  else f"google_cloud_run_v2_service.{frontend_address}.uri")
    assert frontend["monitored_resource"]["labels"]["host"] == '${trimprefix(' + users_host + ', "https://")}'
    if configs[env].edge.enabled:
        # The API answers the VPC only: nothing outside can probe it, and users never reach it.
        assert checks == {}
        return
    api = checks.pop(f"hexproperty-{env}-api is up")
    assert api["monitored_resource"]["labels"]["host"] == \
        '${trimprefix(google_cloudfunctions2_function.' + api_function_address(stack) + '.service_config[0].uri, "https://")}'
    for check, path in ((frontend, settings.frontend_path), (api, settings.api_path)):
        assert check["monitored_resource"]["type"] == "uptime_url"
        assert check["http_check"]["path"] == path
        assert check["http_check"]["use_ssl"] is True and check["http_check"]["port"] == 443
        assert check["period"] == f"{settings.period_seconds}s" and check["timeout"] == f"{settings.timeout_seconds}s"
    # The frontend is public; the API needs roles/run.invoker, so its checks carry an OIDC token.
    assert "service_agent_authentication" not in frontend["http_check"]
    assert api["http_check"]["service_agent_authentication"] == {"type": "OIDC_TOKEN"}


@pytest.mark.parametrize("env", ENVS)
def test_the_monitoring_agent_may_invoke_the_api_and_nothing_else(stacks, configs, env):
    stack = stacks[env]
    grants = [b for b in resources(stack, "google_cloud_run_v2_service_iam_member").values()
              if "gcp-sa-monitoring-notification" in b["member"]]
    if configs[env].edge.enabled:
        assert grants == []  # no check probes the API
        return
    assert len(grants) == 1
    assert grants[0]["name"] == ref("google_cloudfunctions2_function", api_function_address(stack), "name")
    assert grants[0]["role"] == "roles/run.invoker"
    assert re.fullmatch(r"serviceAccount:service-\$\{data\.google_project\.[^}]+\.number\}"
                        r"@gcp-sa-monitoring-notification\.iam\.gserviceaccount\.com", grants[0]["member"])


@pytest.mark.parametrize("env", PER_RUNTIME)
def test_uptime_failure_alerts_follow_their_checks(stacks, configs, env):
    stack, settings = stacks[env], configs[env].monitoring.uptime
    for name in ("frontend",) if configs[env].edge.enabled else ("frontend", "api"):
        check = address_of_attr(stack, "google_monitoring_uptime_check_config", "display_name",
                                f"hexproperty-{env}-{name} is up")
        condition = threshold(policies(stack)[f"uptime-{name}"])
        assert ref("google_monitoring_uptime_check_config", check, "uptime_check_id") in condition["filter"]
        assert condition["aggregations"][0]["cross_series_reducer"] == "REDUCE_COUNT_FALSE"
        assert condition["duration"] == f"{settings.duration_seconds}s"


@pytest.mark.parametrize("env", ENVS)
def test_dashboard_json_parses_and_covers_every_tier_and_runtime(stacks, configs, env):
    config = configs[env]
    dashboard = json.loads(only(stacks[env], "google_monitoring_dashboard")["dashboard_json"])
    widgets = [tile["widget"] for tile in dashboard["mosaicLayout"]["tiles"]]
    headers = [w["title"] for w in widgets if "sectionHeader" in w]
    assert headers == ["frontend", "api", "microservices", "data", "events"]
    text = json.dumps(dashboard)
    for name in runtimes(config):
        assert f'\\"hexproperty-{env}-{name}\\"' in text
    for metric in ("request_latencies", "request_count", "instance_count", "cpu/utilization", "num_backends",
                   "redis.googleapis.com/stats/memory/usage_ratio"):
        assert metric in text
    if config.events.backend == "managed":
        assert "managedkafka.googleapis.com/request_count" in text
    assert "${" not in text  # plain names only, readable in review
    for tile in dashboard["mosaicLayout"]["tiles"]:
        assert tile["xPos"] + tile["width"] <= dashboard["mosaicLayout"]["columns"]


@pytest.mark.parametrize("env", ENVS)
def test_application_logs_go_to_a_regional_bucket_with_the_files_retention(stacks, configs, env):
    stack, config = stacks[env], configs[env]
    # Protected: pinned address, and production refuses to destroy it with its logs.
    bucket_address = "application_log_bucket"
    bucket = resources(stack, "google_logging_project_bucket_config")[bucket_address]
    assert bucket.get("lifecycle", {}).get("prevent_destroy", False) is config.is_production
    assert bucket["location"] == config.region
    assert bucket["retention_days"] == config.monitoring.log_retention_days
    assert bucket["bucket_id"] == f"hexproperty-{env}-app-logs"
    (sink,) = [b for a, b in resources(stack, "google_logging_project_sink").items() if a.startswith("monitoring_")]
    assert sink["destination"] == "logging.googleapis.com/" + ref("google_logging_project_bucket_config", bucket_address)
    assert only(stack, "google_logging_project_exclusion")["filter"] == sink["filter"]
    # Audit logs keep the compliance tier's routing and retention.
    assert 'NOT logName:"cloudaudit.googleapis.com"' in sink["filter"]
    errors = next(b for b in resources(stack, "google_logging_metric").values() if b["name"].endswith("app-errors"))
    assert errors["bucket_name"] == ref("google_logging_project_bucket_config", bucket_address)
    assert "severity >= ERROR" in errors["filter"] and 'resource.type = "cloud_run_revision"' in errors["filter"]


@pytest.mark.parametrize("env", ENVS)
def test_trace_api_on_and_every_runtime_identity_writes_traces(stacks, configs, env):
    stack, config = stacks[env], configs[env]
    assert "cloudtrace.googleapis.com" in {b["service"] for b in resources(stack, "google_project_service").values()}
    for name in runtimes(config):
        member = member_of(stack, f"hp-{env}-{name}")
        roles = {b["role"] for b in resources(stack, "google_project_iam_member").values() if b["member"] == member}
        assert "roles/cloudtrace.agent" in roles, name


def _sentry_secret(stack, env) -> str:
    return address_of_attr(stack, "google_secret_manager_secret", "secret_id", f"hexproperty-{env}-sentry-dsn")


@pytest.mark.parametrize("env", ENVS)
def test_every_runtime_gets_the_sentry_dsn_secret_and_its_environment(stacks, configs, env):
    stack, config = stacks[env], configs[env]
    secret = ref("google_secret_manager_secret", _sentry_secret(stack, env), "secret_id")
    for name in ["frontend", *(s.name for s in config.microservices)]:
        env_vars = {e["name"]: e for e in run_service(stack, f"hexproperty-{env}-{name}")["template"]["containers"][0]["env"]}
        assert env_vars["SENTRY_ENVIRONMENT"]["value"] == env
        assert env_vars["SENTRY_DSN"]["value_source"]["secret_key_ref"] == {"secret": secret, "version": "latest"}
        assert "value" not in env_vars["SENTRY_DSN"]
    service = api_function(stack)["service_config"]
    assert service["environment_variables"]["SENTRY_ENVIRONMENT"] == env
    (dsn,) = [s for s in service["secret_environment_variables"] if s["key"] == "SENTRY_DSN"]
    assert dsn["secret"] == secret and dsn["version"] == "latest"


@pytest.mark.parametrize("env", ENVS)
def test_each_runtime_reads_the_dsn_and_deploys_after_its_grant_and_the_version(stacks, configs, env):
    stack, config = stacks[env], configs[env]
    secret_address = _sentry_secret(stack, env)
    grants = {b["member"]: a for a, b in resources(stack, "google_secret_manager_secret_iam_member").items()
              if b["secret_id"] == ref("google_secret_manager_secret", secret_address)}
    (version,) = [a for a, b in resources(stack, "google_secret_manager_secret_version").items()
                  if b["secret"] == ref("google_secret_manager_secret", secret_address)]
    bodies = {name: run_service(stack, f"hexproperty-{env}-{name}") for name in
              ["frontend", *(s.name for s in config.microservices)]}
    bodies["api"] = api_function(stack)
    assert len(grants) == len(bodies)
    for name, body in bodies.items():
        grant = grants[member_of(stack, f"hp-{env}-{name}")]
        # Bare addresses: Terraform refuses expressions (`${...}`) in depends_on.
        assert f"google_secret_manager_secret_iam_member.{grant}" in body["depends_on"], name
        assert f"google_secret_manager_secret_version.{version}" in body["depends_on"], name


@pytest.mark.parametrize("env", ENVS)
def test_no_sentry_dsn_value_in_the_json(stacks, env):
    stack = stacks[env]
    secret = ref("google_secret_manager_secret", _sentry_secret(stack, env))
    (version,) = [b for b in resources(stack, "google_secret_manager_secret_version").values() if b["secret"] == secret]
    assert version["secret_data"] == PLACEHOLDER
    assert "secret_data" in version["lifecycle"]["ignore_changes"]
    assert not re.search(r"https://[0-9a-f]+@[a-z0-9.]*sentry\.io", json.dumps(stack))
