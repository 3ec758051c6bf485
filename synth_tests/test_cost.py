"""The offline cost estimate (cost/, tools/cost.py): every formula on a crafted stack with
round test prices and hand-worked figures, the price file, the CLI, the README block, and
the two environments pinned so a change that moves their cost shows up in review."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from pathlib import Path
from types import MappingProxyType

import pytest

from cost.budget import BudgetLine, budget_delta, budget_lines, warnings
from cost.load_model import occupancy
from cost.estimate import diff, estimate
from cost.rules import RULES
from cost.prices import Price, PriceBook, PriceFileError, load_prices
from cost.rules import wakes_per_month
from cost.report import BLOCK_BEGIN, BLOCK_END, estimate_block
from cost.stack import gib, quantity
from environments.config import TIERS, LoadProfileConfig, RuntimeLoad
from synth_tests.helpers import without_metadata

ROOT = Path(__file__).resolve().parent.parent
SNAPSHOTS = ROOT / "synth_tests" / "__snapshots__" / "test_snapshots"

# Round prices so the figures below can be worked by hand. A month is 1,000 h = 3,600,000 s.
TEST_PRICES = {
    "run_request_cpu": 0.00002, "run_request_memory": 0.000002, "run_requests": 0.000001,
    "run_idle_cpu": 0.000002, "run_idle_memory": 0.000001,
    "run_instance_cpu": 0.00001, "run_instance_memory": 0.000001,
    "internet_egress": 0.1, "nat_gateway_vm_hour": 0.001, "nat_gateway_max_hour": 0.05, "nat_data": 0.05,
    "nat_ip_hour": 0.01, "vm_e2_micro_hour": 0.01,
    "sql_vcpu_hour": 0.04, "sql_memory_gib_hour": 0.005, "sql_db_g1_small_hour": 0.03, "sql_db_f1_micro_hour": 0.01,
    "sql_ssd_gib_month": 0.2, "sql_hdd_gib_month": 0.1,
    "redis_basic_m1_gib_hour": 0.05, "redis_standard_m2_gib_hour": 0.04,
    "kafka_dcu_hour": 0.1, "kafka_local_storage_gib_month": 0.2,
    "gcs_standard_gib_month": 0.02, "artifact_storage_gib_month": 0.1, "secret_version_month": 0.06,
    "logging_ingestion": 0.5,
    "sql_db_g1_small_hour_europe_west4": 0.033, "sql_ssd_gib_month_europe_west4": 0.22, "sql_backup_gib_month": 0.08,
    "inter_region_transfer_europe": 0.02, "psc_endpoint_hour": 0.01, "alert_condition_month": 1.5,
    "alert_time_series_million": 0.35, "uptime_execution_thousand": 0.3, "monitoring_data_mib": 0.25,
    "logging_retention_gib_month": 0.01, "vended_network_logs_gib": 0.25, "pubsub_throughput_tib": 40.0,
    "scheduler_job_month": 0.1,
}


def round_book() -> PriceBook:
    prices = {key: Price(key, "test", "test", "europe-west1", "unit", usd, "2026-11-26", "https://example.test", "confirmed")
              for key, usd in TEST_PRICES.items()}
    return PriceBook("USD", 1000.0, MappingProxyType(prices), MappingProxyType({}), logging_free_gib=50.0)


PROFILE = LoadProfileConfig(
    requests_per_month=1_000_000, mean_request_seconds=0.5, egress_gib_per_month=10,
    nat_gib_per_month=20, log_gib_per_month=60, image_storage_gib=5, bucket_storage_gib=50,
    runtimes=MappingProxyType({"web": RuntimeLoad(1.0, 0.5), "api": RuntimeLoad(2.0, 2.0)}),
    network_log_gib_per_month=4, database_gib=10, database_change_gib_per_month=30,
)  # the broker ("kafka") is not a runtime of the file: it serves no requests


def labels(tier: str, service: str) -> dict:
    return {"tier": tier, "service": service}


def crafted_stack() -> dict:
    network_interface = [{"network": "${google_compute_network.net_vpc_1.id}"}]
    return {"resource": {
        "google_cloud_run_v2_service": {
            "web_service_1": {"name": "web", "labels": labels("frontend", "web"), "template": {
                "containers": [{"resources": {"cpu_idle": True, "limits": {"cpu": "2", "memory": "1Gi"}}}],
                "max_instance_request_concurrency": 10, "scaling": {"min_instance_count": 1, "max_instance_count": 3}}},
            # The Kafka broker shape: two containers, CPU always allocated, Direct VPC egress.
            "events_broker_1": {"name": "broker", "labels": labels("events", "kafka"), "template": {
                "containers": [{"resources": {"cpu_idle": False, "limits": {"cpu": "1", "memory": "2Gi"}}},
                               {"resources": {"cpu_idle": False, "limits": {"cpu": "1000m", "memory": "512Mi"}}}],
                "scaling": {"min_instance_count": 1, "max_instance_count": 1},
                "vpc_access": {"egress": "ALL_TRAFFIC", "network_interfaces": network_interface}}},
        },
        "google_cloudfunctions2_function": {"api_function_1": {"name": "api", "labels": labels("api", "api"),
            "service_config": {"available_memory": "512Mi", "min_instance_count": 1, "max_instance_count": 1}}},
        "google_vpc_access_connector": {"network_connector_1": {"name": "conn", "machine_type": "e2-micro",
                                                                "min_instances": 2, "max_instances": 3}},
        "google_compute_router_nat": {"network_nat_1": {"name": "nat", "nat_ip_allocate_option": "AUTO_ONLY"}},
        "google_compute_subnetwork": {"network_subnet_1": {"name": "run", "log_config": {"flow_sampling": 0.5}}},
        "google_compute_network": {"net_vpc_1": {"name": "vpc"}},
        "google_sql_database_instance": {
            "data_primary_1": {"name": "pg", "region": "europe-west1", "settings": {
                "tier": "db-custom-2-7680", "availability_type": "REGIONAL", "disk_size": 20, "disk_type": "PD_SSD",
                "user_labels": labels("data", "postgres")}},
            "data_replica_1": {"name": "pg-dr", "region": "europe-west4",
                               "master_instance_name": "${google_sql_database_instance.data_primary_1.name}",
                               "settings": {"tier": "db-g1-small", "user_labels": labels("data", "postgres")}},
            "data_paused_1": {"name": "pg-paused", "settings": {
                "tier": "db-f1-micro", "activation_policy": "NEVER", "disk_type": "PD_HDD",
                "user_labels": labels("data", "postgres")}},
        },
        "google_redis_instance": {
            "data_cache_1": {"name": "cache", "tier": "BASIC", "memory_size_gb": 1, "labels": labels("data", "redis")},
            "data_ha_cache_1": {"name": "ha-cache", "tier": "STANDARD_HA", "memory_size_gb": 5,
                                "labels": labels("data", "redis")},
        },
        "google_managed_kafka_cluster": {"events_cluster_1": {"cluster_id": "kafka", "labels": labels("events", "kafka"),
            "capacity_config": {"vcpu_count": "3", "memory_bytes": "3221225472"},
            "gcp_config": {"access_config": {"network_configs": [{"subnet": "${google_compute_subnetwork.network_subnet_1.id}"}]}}}},
        "google_secret_manager_secret": {"api_secret_1": {"secret_id": "key", "labels": labels("api", "api"),
            "replication": {"user_managed": {"replicas": [{"location": "europe-west1"}, {"location": "europe-west4"}]}}}},
        "google_secret_manager_secret_version": {"api_version_1": {
            "secret": "${google_secret_manager_secret.api_secret_1.id}"}},
        "google_storage_bucket": {"api_bucket_1": {"name": "sources", "labels": labels("api", "sources")}},
        "google_artifact_registry_repository": {"images_repo_1": {"repository_id": "images",
                                                                  "labels": labels("delivery", "images")}},
        "google_project_iam_member": {"api_grant_1": {"role": "roles/logging.logWriter"}},
        "google_monitoring_alert_policy": {"monitoring_latency_1": {"display_name": "latency", "conditions": [
            {"condition_threshold": {"filter": 'metric.type = "x"', "aggregations": [
                {"alignment_period": "60s", "per_series_aligner": "ALIGN_MAX", "cross_series_reducer": "REDUCE_MAX"}]}}]}},
    }}


def lines_by_ref(result) -> dict:
    return {line.ref: line for line in result.lines}


def test_every_formula_on_a_crafted_stack():
    result = estimate(crafted_stack(), "test", PROFILE, round_book())
    got = {ref: (round(line.idle, 4), round(line.load, 4)) for ref, line in lines_by_ref(result).items() if line.priced}
    month = 3_600_000  # seconds in the test book's 1,000 h
    # web, request-based, 2 vCPU 1 GiB, min 1, max 3, concurrency 10: 1,000,000 requests of 0.5 s, so
    # a = 0.13889 in flight, Poisson. Busy instances ~ P(N >= 1) (N > 10 is negligible); a busy
    # stretch starts at each arrival to an empty service (rate x P(0)), rounded up by 0.05 s on average;
    # the min instance idles while nothing is in flight.
    a = 1_000_000 * 0.5 / month
    empty = math.exp(-a)
    web_busy = ((1 - empty) + 1_000_000 / month * empty * 0.05) * month
    web_load = web_busy * 0.000042 + 1_000_000 * 0.000001 + empty * month * 0.000005
    # api, concurrency 1, min 1, max 1: 2,000,000 requests of 2 s, a = 1.1111; one instance is busy
    # whenever any request is in flight; each arrival to an empty instance starts a stretch.
    b = 2_000_000 * 2 / month
    api_empty = math.exp(-b)
    api_busy = ((1 - api_empty) + 2_000_000 / month * api_empty * 0.05) * month
    api_rate_busy, api_rate_idle = 0.333 * 0.00002 + 0.5 * 0.000002, 0.333 * 0.000002 + 0.5 * 0.000001
    api_load = api_busy * api_rate_busy + 2_000_000 * 0.000001 + api_empty * month * api_rate_idle
    expected = {
        # idle: the min instance at the idle rate, 2 x 0.000002 + 1 x 0.000001 = 0.000005/s x 3,600,000 s.
        "google_cloud_run_v2_service.web_service_1": (18.0, round(web_load, 4)),
        # broker, instance-based, 1 + 1 vCPU, 2 + 0.5 GiB: 2 x 0.00001 + 2.5 x 0.000001 = 0.0000225/s
        # x 3,600,000 s = 81.00, idle and under load (no calls: its min instance's lifetime).
        "google_cloud_run_v2_service.events_broker_1": (81.0, 81.0),
        "google_cloudfunctions2_function.api_function_1": (round(month * api_rate_idle, 4), round(api_load, 4)),
        # 2 x e2-micro x 1,000 h x 0.01 = 20.00.
        "google_vpc_access_connector.network_connector_1": (20.0, 20.0),
        # NAT clients: 2 connector VMs + the broker's 1 min instance (Direct VPC, ALL_TRAFFIC) = 3;
        # gateway 3 x 0.001 x 1,000 h = 3.00, one address 0.01 x 1,000 = 10.00: 13.00; + 20 GiB x 0.05 = 14.00.
        "google_compute_router_nat.network_nat_1": (13.0, 14.0),
        # db-custom-2-7680: 2 x 0.04 + 7.5 GiB x 0.005 = 0.1175/h, REGIONAL x 2 x 1,000 h = 235.00;
        # 20 GB SSD x 2 x 0.2 = 8.00: 243.00 (no backups configured).
        "google_sql_database_instance.data_primary_1": (243.0, 243.0),
        # replica in europe-west4, at that region's prices: db-g1-small 0.033 x 1,000 = 33.00 + 10 GB SSD
        # x 0.22 = 2.20; the primary's 30 GiB of changes cross regions: 30 x 0.02 = 0.60. 35.80.
        "google_sql_database_instance.data_replica_1": (35.8, 35.8),
        # stopped (NEVER): no compute; 10 GB HDD x 0.1 = 1.00.
        "google_sql_database_instance.data_paused_1": (1.0, 1.0),
        # BASIC 1 GB (M1): 1 x 0.05 x 1,000 = 50.00; STANDARD_HA 5 GB (M2): 5 x 0.04 x 1,000 = 200.00.
        "google_redis_instance.data_cache_1": (50.0, 50.0),
        "google_redis_instance.data_ha_cache_1": (200.0, 200.0),
        # 3 vCPU x 0.6 + 3 GiB x 0.1 = 2.1 DCU x 0.1 x 1,000 h = 210.00; 300 GiB local x 0.2 = 60.00;
        # 1 subnet x (3 brokers, one per zone, + bootstrap) = 4 PSC endpoints x 0.01 x 1,000 h = 40.00.
        "google_managed_kafka_cluster.events_cluster_1": (310.0, 310.0),
        # one version x 2 replica locations x 0.06 = 0.12.
        "google_secret_manager_secret_version.api_version_1": (0.12, 0.12),
        # 50 GiB x 0.02 = 1.00; 5 GiB of images x 0.1 = 0.50.
        "google_storage_bucket.api_bucket_1": (1.0, 1.0),
        "google_artifact_registry_repository.images_repo_1": (0.5, 0.5),
        # 1 condition x 1.50 + 1 series x 120,000 evaluations (every 30 s) x 0.35 per million = 1.542.
        "google_monitoring_alert_policy.monitoring_latency_1": (1.542, 1.542),
        # 10 GiB x 0.1 = 1.00; (60 - 50 free) GiB x 0.5 = 5.00; 4 GiB of network logs x 0.25 = 1.00: load only.
        "(project).internet_egress": (0.0, 1.0),
        "(project).log_ingestion": (0.0, 5.0),
        "(project).vended_network_logs": (0.0, 1.0),
    }
    assert got.keys() == expected.keys()
    for ref, figures in expected.items():
        assert got[ref] == pytest.approx(figures, abs=1e-3), ref
    assert result.tiers()["data"] == pytest.approx((529.8, 529.8))  # 243 + 35.8 + 1 + 50 + 200


def test_alert_conditions_bill_per_condition_and_per_series_their_grouping_returns():
    stack = crafted_stack()
    grouped = {"condition_threshold": {
        "filter": 'resource.labels.service_name = one_of("web", "api", "broker") AND metric.type = "x"',
        "aggregations": [{"alignment_period": "60s", "per_series_aligner": "ALIGN_MAX", "cross_series_reducer":
                          "REDUCE_MAX", "group_by_fields": ["resource.label.service_name"]}]}}
    pinned = {"condition_threshold": {"filter": 'resource.labels.database_id = "p:pg" AND metric.type = "y"',
                                      "aggregations": [{"alignment_period": "60s", "per_series_aligner": "ALIGN_MEAN"}]}}
    stack["resource"]["google_monitoring_alert_policy"]["monitoring_latency_1"]["conditions"] = [grouped, pinned]
    line = lines_by_ref(estimate(stack, "test", PROFILE, round_book()))["google_monitoring_alert_policy.monitoring_latency_1"]
    # 2 conditions x 1.50; 3 services + 1 database = 4 series x 120,000 evaluations x 0.35 per million = 0.168.
    assert line.idle == pytest.approx(3.168) and line.load == line.idle
    grouped["condition_threshold"]["aggregations"][0]["group_by_fields"] = ["metric.label.zone"]
    unpriced = {l.ref: l.basis for l in estimate(stack, "test", PROFILE, round_book()).unpriced}
    assert "metric.label.zone" in unpriced["google_monitoring_alert_policy.monitoring_latency_1"]


def test_lines_say_what_they_rest_on_and_where_they_stretch():
    lines = lines_by_ref(estimate(crafted_stack(), "test", PROFILE, round_book()))
    assert any("requests queue" in note for note in lines["google_cloudfunctions2_function.api_function_1"].notes)
    assert lines["google_sql_database_instance.data_replica_1"].prices[:2] == (
        "sql_db_g1_small_hour_europe_west4", "sql_ssd_gib_month_europe_west4")
    assert lines["google_cloud_run_v2_service.events_broker_1"].prices == ("run_instance_cpu", "run_instance_memory")
    assert any("no requests" in note for note in lines["google_cloud_run_v2_service.events_broker_1"].notes)
    # The tier label wins; resources without labels take their construct (network_connector_1 -> network).
    assert lines["google_vpc_access_connector.network_connector_1"].tier == "network"
    assert lines["google_sql_database_instance.data_primary_1"].tier == "data"


def test_runtimes_the_file_does_not_list_serve_one_call_per_request(configs):
    profile = configs["staging"].load_profile
    assert "frontend" not in (ROOT / "environments" / "staging.yaml").read_text().split("load_profile:")[1]
    assert profile.runtimes["frontend"] == RuntimeLoad(1.0, profile.mean_request_seconds)
    assert set(profile.runtimes) == {"frontend", "api", "properties", "search", "bookings", "notifications", "kafka"}
    # The broker on Cloud Run takes one call per producer call: api 0.6 + properties 0.5 + bookings 0.05.
    assert profile.runtimes["kafka"].calls_per_request == pytest.approx(1.15)


def test_quantities_follow_kubernetes_units():
    assert quantity("1000m") == 1 and quantity("2") == 2
    assert gib("512Mi") == 0.5 and gib("1Gi") == 1
    assert gib("256M") == pytest.approx(256e6 / 2**30)


def test_the_difference_of_two_stacks_names_the_resources_that_move_it():
    before = crafted_stack()
    after = crafted_stack()
    after["resource"]["google_cloud_run_v2_service"]["web_service_1"]["template"]["scaling"]["min_instance_count"] = 2
    del after["resource"]["google_redis_instance"]["data_cache_1"]
    after["resource"]["google_compute_instance"] = {"vm_1": {"name": "vm"}}
    book = round_book()
    change_set = diff(estimate(before, "test", PROFILE, book), estimate(after, "test", PROFILE, book))
    moved = {c.ref: (c.status, round(c.delta("idle"), 4), round(c.delta("load"), 4)) for c in change_set.changes}
    assert moved == {
        # min 2: idle 2 x 18.00 = 36.00 (+18.00); under load the second min instance idles all month: +18.00.
        "google_cloud_run_v2_service.web_service_1": ("changed", 18.0, 18.0),
        "google_redis_instance.data_cache_1": ("removed", -50.0, -50.0),
        # A new unpriced resource shows up, and moves no total.
        "google_compute_instance.vm_1": ("added", 0.0, 0.0),
    }
    assert change_set.delta("idle") == pytest.approx(-32.0)
    assert [c.ref for c in change_set.changes][:2] == ["google_redis_instance.data_cache_1",
                                                       "google_cloud_run_v2_service.web_service_1"]


def test_the_price_file_gives_source_date_unit_and_confidence_for_every_price():
    book = load_prices()
    assert set(TEST_PRICES) <= set(book.prices), "a rule uses a price the file lacks"
    for price in book.prices.values():
        assert price.source.startswith("https://cloud.google.com/"), price.key
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", price.read_on), price.key
        assert price.usd > 0 and price.unit and price.region in ("europe-west1", "europe-west4", "global"), price.key
        assert price.key.endswith("_europe_west4") == (price.region == "europe-west4"), price.key
    euro = book.rate("EUR")
    assert euro.usd_per_unit > 0 and re.fullmatch(r"\d{4}-\d{2}-\d{2}", euro.rate_date) and euro.source.startswith("https://")
    assert {p.confidence for p in book.prices.values()} <= {"confirmed", "secondary", "unverified"}
    # Only the free tier granted per project is applied; billing-account ones would double count.
    assert [key for key, free in book.free_tiers.items() if free.applied] == ["cloud_logging", "uptime_checks"]


def test_the_crafted_stack_prices_with_the_real_price_file():
    result = estimate(crafted_stack(), "test", PROFILE, load_prices())
    assert not result.unpriced and result.idle > 0


def test_the_estimator_reads_snapshots_without_cdktf_metadata(stacks, configs):
    book = load_prices()
    for env, stack in stacks.items():
        profile = configs[env].load_profile
        assert estimate(without_metadata(stack), env, profile, book) == estimate(stack, env, profile, book)


def test_the_estimator_imports_neither_cdktf_nor_the_provider():
    code = ("import sys\nimport cost.estimate, cost.report\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('cdktf', 'cdktf_cdktf_provider_google', 'jsii')))\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# Pinned: staging and production, idle and under their load profiles, in USD per month. A change
# of configuration, load profile or prices that moves them more than 1 % fails here; update the
# figures (and `make cost-readme`) in the same change, so review sees the cost move.
PINNED = {"staging": (59.06, 202.00), "production": (1051.08, 1387.63), "drill": (483.16, 484.74)}


@pytest.mark.parametrize("env", sorted(PINNED))
def test_every_resource_type_deployed_has_a_pricing_rule(stacks, env):
    missing = sorted({type_ for type_ in stacks[env].get("resource", {}) if type_ not in RULES})
    assert not missing, f"{env} deploys resource types without a pricing rule in cost/rules.py: {', '.join(missing)}"


@pytest.mark.parametrize("env", sorted(PINNED))
def test_environment_estimates_are_pinned(stacks, configs, env):
    result = estimate(stacks[env], env, configs[env].load_profile, load_prices())
    assert (result.idle, result.load) == pytest.approx(PINNED[env], rel=0.01), (
        f"{env} now costs idle {result.idle:.2f}, under load {result.load:.2f}: update PINNED if intended")
    assert [line.ref for line in result.unpriced] == []


def test_staging_idles_at_60_usd_a_month_at_most(staging, configs):
    """The cost-optimized staging of the seed: what it requires and nothing that pages no one."""
    result = estimate(staging, "staging", configs["staging"].load_profile, load_prices())
    assert result.idle <= 60, f"staging idles at {result.idle:.2f} USD a month: docs/cost.md, Staging's floor, says what may"


def test_a_drill_is_priced_and_budgeted_per_run(stacks, configs, synth_dir):
    """The drill environment exists only for runs of cost.run_hours: the report says what one run
    costs, and its budget is judged against one run, so a run left standing passes it within days."""
    book, config = load_prices(), configs["drill"]
    result = estimate(stacks["drill"], "drill", config.load_profile, book)
    share = config.cost.run_hours / book.hours_per_month
    (whole,) = budget_lines(result, config.cost, book)
    assert whole.load_usd == pytest.approx(result.load * share) and not whole.over
    month = BudgetLine(whole.scope, whole.amount, whole.currency, whole.usd_per_unit, result.load)
    assert month.over, "the budget should be passed by a month of the drill: it catches a forgotten teardown"
    assert config.cost.monthly_amount * whole.usd_per_unit < result.load * 2 * 24 / book.hours_per_month
    table = run_cost("drill", "--outdir", str(synth_dir))
    assert table.returncode == 0 and "warning" not in table.stderr, table.stderr
    assert f"ONE RUN OF {config.cost.run_hours} h" in table.stdout
    assert f"budgets, for one run of {config.cost.run_hours} h under load, in EUR" in table.stdout
    (document,) = json.loads(run_cost("drill", "--json", "--outdir", str(synth_dir)).stdout)["environments"]
    assert document["run"] == {"hours": config.cost.run_hours, "idle": pytest.approx(result.idle * share, abs=1e-3),
                               "load": pytest.approx(result.load * share, abs=1e-3)}
    assert "run" not in json.loads(run_cost("staging", "--json", "--outdir", str(synth_dir)).stdout)["environments"][0]


def test_cost_page_estimate_is_current(stacks, configs):
    book = load_prices()
    results = [estimate(stacks[env], env, configs[env].load_profile, book) for env in sorted(stacks)]
    block = estimate_block([(r, budget_lines(r, configs[r.env].cost, book)) for r in results], book)
    text = (ROOT / "docs" / "cost.md").read_text()
    current = text[text.index(BLOCK_BEGIN):text.index(BLOCK_END) + len(BLOCK_END)]
    assert current == block, "docs/cost.md cost estimate is stale: run `make cost-readme`"


def run_cost(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "tools/cost.py", *args], cwd=ROOT, capture_output=True, text=True)


def test_cli_prints_the_table_and_json(synth_dir):
    table = run_cost("staging", "--outdir", str(synth_dir))
    assert table.returncode == 0, table.stderr
    assert "subtotal network" in table.stdout and "TOTAL" in table.stdout and "unpriced" not in table.stdout
    # Staging's broker under load is past the events budget: a warning, not a failure.
    assert "budgets, under load, in EUR" in table.stdout and "tier events" in table.stderr
    out = run_cost("estimate", "--json", "--outdir", str(synth_dir))
    document = json.loads(out.stdout)
    assert [e["env"] for e in document["environments"]] == ["drill", "production", "staging"]
    staging = document["environments"][2]
    assert staging["total"]["idle"] == pytest.approx(sum(line["idle"] for line in staging["lines"]), abs=1e-3)


def test_cli_diff_of_a_snapshot_and_a_fresh_synth(synth_dir):
    snapshot = SNAPSHOTS / "test_stack_matches_snapshot[staging].json"
    out = run_cost("diff", str(snapshot), str(synth_dir / "stacks" / "staging" / "cdk.tf.json"), "--json")
    assert out.returncode == 0, out.stderr
    (change_set,) = json.loads(out.stdout)["diffs"]
    assert change_set["env"] == "staging" and change_set["delta"] == {"idle": 0.0, "load": 0.0}


def test_cli_bad_input_says_what_to_do(tmp_path):
    out = run_cost("staging", "--outdir", str(tmp_path))
    assert out.returncode == 2 and "make synth" in out.stderr and "Traceback" not in out.stderr


def test_a_secret_version_bills_to_its_secrets_tier(stacks, configs):
    result = estimate(stacks["production"], "production", configs["production"].load_profile, load_prices())
    versions = [line for line in result.lines if line.ref.startswith("google_secret_manager_secret_version.")]
    assert versions and {line.tier for line in versions} <= set(TIERS)


def test_the_pause_bills_the_hours_its_wake_schedule_and_idle_window_imply(staging, configs):
    line = lines_by_ref(estimate(staging, "staging", configs["staging"].load_profile, load_prices()))[
        "google_sql_database_instance.postgres_primary"]
    pause = configs["staging"].data.postgres.auto_pause
    wakes = wakes_per_month(pause.wake_schedule, pause.time_zone, 730)
    assert wakes == pytest.approx(261 * 730 / 8760)  # weekday mornings of 2026
    # awake per wake: the 15-minute idle window, its 1-minute alignment, 5 minutes to stop; db-g1-small,
    # 10 GB SSD, 1 GiB of backups idle.
    book = load_prices()
    compute = wakes * (pause.idle_minutes + 1 + 5) / 60 * book["sql_db_g1_small_hour"].usd
    assert line.idle == pytest.approx(compute + 10 * book["sql_ssd_gib_month"].usd + 1 * book["sql_backup_gib_month"].usd)
    assert line.load > line.idle + 25  # traffic keeps it awake the whole month
    assert any("connection pool" in note for note in line.notes)
    no_wake = json.loads(json.dumps(staging))
    del no_wake["resource"]["google_cloud_scheduler_job"]["data_postgres_auto-pause_wake_8849840A"]
    paused = lines_by_ref(estimate(no_wake, "staging", configs["staging"].load_profile, book))[line.ref]
    assert paused.idle == pytest.approx(line.idle - compute)


def test_load_model_on_a_known_profile():
    # 1 request a second of 1 s, one per instance: the in-flight count is Poisson(1), each request its
    # own instance: busy instances average 1; every arrival opens a stretch.
    one = occupancy(rate=1.0, seconds=1.0, concurrency=1, min_instances=0, max_instances=1000)
    assert one.busy == pytest.approx(1.0) and one.stretch_starts == pytest.approx(1.0)
    # Concurrency 80 at 1.5 in flight (production's frontend): one instance whenever anything is in
    # flight, 1 - e^-1.5 of the time, 20x what packing 40 requests per instance-second gave.
    shared = occupancy(rate=7.5, seconds=0.2, concurrency=80, min_instances=0, max_instances=10)
    assert shared.busy == pytest.approx(1 - math.exp(-1.5))
    assert shared.busy / (1.5 / 40) > 20
    # Min 2 serve the busy time first: idle min instances are 2 minus the busy ones.
    warm = occupancy(rate=7.5, seconds=0.2, concurrency=80, min_instances=2, max_instances=10)
    assert warm.idle_min == pytest.approx(2 - shared.busy)
    # At the cap requests queue, and the model says how often.
    capped = occupancy(rate=10.0, seconds=1.0, concurrency=1, min_instances=0, max_instances=5)
    assert capped.busy < 5 and capped.saturated > 0.9
    # Instance-based, min 0: alive while busy, and 15 minutes past the last request.
    broker = occupancy(rate=0.01, seconds=0.1, concurrency=80, min_instances=0, max_instances=1)
    assert broker.alive == pytest.approx((1 - math.exp(-0.001)) + math.exp(-0.001) * (1 - math.exp(-9)))


def test_budget_warning_and_a_change_that_passes_a_budget(stacks, configs):
    book, config = load_prices(), configs["staging"]
    base = stacks["staging"]
    lines = {line.scope: line for line in budget_lines(estimate(base, "staging", config.load_profile, book), config.cost, book)}
    euro = book.rate("EUR").usd_per_unit
    assert lines["data"].amount == 80 and lines["data"].load == pytest.approx(lines["data"].load_usd / euro)
    assert lines["events"].over and not lines["data"].over  # the broker under load passes events' 40 EUR
    assert warnings("staging", tuple(lines.values())) == [
        f"warning: staging tier events is estimated at {lines['events'].load:,.2f} EUR a month under load, past "
        "its budget of 40 EUR"]
    unchanged = budget_delta("staging", base, base, config.load_profile, book, config.cost)
    assert unchanged.newly_exceeded == () and "no resource changes cost" in unchanged.text
    # A second Redis of 1 GB (35.77 USD) takes data past its 80 EUR.
    head = json.loads(json.dumps(base))
    redis = head["resource"]["google_redis_instance"]
    redis["data_redis_copy"] = dict(next(iter(redis.values())), name="copy")
    pushed = budget_delta("staging", base, head, config.load_profile, book, config.cost)
    assert pushed.newly_exceeded == ("data",) and "data: this change takes it past its budget" in pushed.text


def test_cli_diff_exits_4_when_a_change_passes_a_budget(tmp_path, staging):
    head = json.loads(json.dumps(staging))
    redis = head["resource"]["google_redis_instance"]
    redis["data_redis_copy"] = dict(next(iter(redis.values())), name="copy")
    before, after = tmp_path / "before.json", tmp_path / "after.json"
    before.write_text(json.dumps(staging))
    after.write_text(json.dumps(head))
    out = run_cost("diff", str(before), str(after), "--env", "staging")
    assert out.returncode == 4 and "past its budget" in out.stdout


def test_cli_bad_price_file_names_the_key(tmp_path, monkeypatch):
    broken = tmp_path / "prices.yaml"
    broken.write_text((ROOT / "pricing" / "prices.yaml").read_text().replace("    usd_per_unit: 1.1172\n", ""))
    with pytest.raises(PriceFileError, match="exchange_rates.EUR lacks usd_per_unit"):
        load_prices(broken)


def test_the_standby_regions_log_bucket_costs_nothing_until_a_failover(production, configs):
    result = estimate(production, "production", configs["production"].load_profile, load_prices())
    (line,) = [line for line in result.lines if line.ref.endswith("application_log_bucket_dr")]
    assert (line.idle, line.load) == (0.0, 0.0) and "receives nothing until a failover" in line.basis
