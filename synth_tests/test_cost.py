"""The offline cost estimate (cost/, tools/cost.py): every formula on a crafted stack with
round test prices and hand-worked figures, the price file, the CLI, the README block, and
the two environments pinned so a change that moves their cost shows up in review."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from types import MappingProxyType

import pytest

from cost.estimate import diff, estimate
from cost.prices import Price, PriceBook, load_prices
from cost.report import README_BEGIN, README_END, readme_block
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
}


def round_book() -> PriceBook:
    prices = {key: Price(key, "test", "test", "europe-west1", "unit", usd, "2026-11-26", "https://example.test", "confirmed")
              for key, usd in TEST_PRICES.items()}
    return PriceBook("USD", 1000.0, MappingProxyType(prices), MappingProxyType({}), logging_free_gib=50.0)


PROFILE = LoadProfileConfig(
    requests_per_month=1_000_000, mean_request_seconds=0.5, concurrency_fill=0.5, egress_gib_per_month=10,
    nat_gib_per_month=20, log_gib_per_month=60, image_storage_gib=5, bucket_storage_gib=50,
    runtimes=MappingProxyType({"web": RuntimeLoad(1.0, 0.5), "api": RuntimeLoad(2.0, 2.0)}),
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
            "data_replica_1": {"name": "pg-dr", "region": "europe-west4", "master_instance_name": "pg",
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
            "capacity_config": {"vcpu_count": "3", "memory_bytes": "3221225472"}}},
        "google_secret_manager_secret": {"api_secret_1": {"secret_id": "key", "labels": labels("api", "api"),
            "replication": {"user_managed": {"replicas": [{"location": "europe-west1"}, {"location": "europe-west4"}]}}}},
        "google_secret_manager_secret_version": {"api_version_1": {
            "secret": "${google_secret_manager_secret.api_secret_1.id}"}},
        "google_storage_bucket": {"api_bucket_1": {"name": "sources", "labels": labels("api", "sources")}},
        "google_artifact_registry_repository": {"images_repo_1": {"repository_id": "images",
                                                                  "labels": labels("delivery", "images")}},
        "google_project_iam_member": {"api_grant_1": {"role": "roles/logging.logWriter"}},
        "google_monitoring_alert_policy": {"monitoring_latency_1": {"display_name": "latency"}},
    }}


def lines_by_ref(result) -> dict:
    return {line.ref: line for line in result.lines}


def test_every_formula_on_a_crafted_stack():
    result = estimate(crafted_stack(), "test", PROFILE, round_book())
    got = {ref: (round(line.idle, 4), round(line.load, 4)) for ref, line in lines_by_ref(result).items() if line.priced}
    assert got == {
        # web, request-based, 2 vCPU 1 GiB, min 1: idle rate 2 x 0.000002 + 1 x 0.000001 = 0.000005/s;
        # idle 3,600,000 s x 0.000005 = 18.00. Load: 1,000,000 requests x 0.5 s / (10 x 0.5) = 100,000
        # busy s x (2 x 0.00002 + 0.000002 = 0.000042) = 4.20, + 1,000,000 x 0.000001 = 1.00,
        # + idle remainder (3,600,000 - 100,000) x 0.000005 = 17.50: 22.70.
        "google_cloud_run_v2_service.web_service_1": (18.0, 22.7),
        # broker, instance-based, 1 + 1 vCPU, 2 + 0.5 GiB: 2 x 0.00001 + 2.5 x 0.000001 = 0.0000225/s
        # x 3,600,000 s = 81.00, idle and under load (no calls, no request fee).
        "google_cloud_run_v2_service.events_broker_1": (81.0, 81.0),
        # api, 512Mi -> 0.5 GiB and 0.333 vCPU, min 1: idle 3,600,000 x (0.333 x 0.000002 +
        # 0.5 x 0.000001 = 0.000001166) = 4.1976. Load: 2,000,000 requests x 2 s / 1 = 4,000,000 busy
        # s, capped at max 1 instance = 3,600,000 s x (0.333 x 0.00002 + 0.5 x 0.000002 = 0.00000766)
        # = 27.576, + 2,000,000 x 0.000001 = 2.00, no idle remainder: 29.576.
        "google_cloudfunctions2_function.api_function_1": (4.1976, 29.576),
        # 2 x e2-micro x 1,000 h x 0.01 = 20.00.
        "google_vpc_access_connector.network_connector_1": (20.0, 20.0),
        # NAT clients: 2 connector VMs + the broker's 1 min instance (Direct VPC, ALL_TRAFFIC) = 3;
        # gateway 3 x 0.001 x 1,000 h = 3.00, one address 0.01 x 1,000 = 10.00: 13.00; + 20 GiB x 0.05 = 14.00.
        "google_compute_router_nat.network_nat_1": (13.0, 14.0),
        # db-custom-2-7680: 2 x 0.04 + 7.5 GiB x 0.005 = 0.1175/h, REGIONAL x 2 x 1,000 h = 235.00;
        # 20 GB SSD x 2 x 0.2 = 8.00: 243.00.
        "google_sql_database_instance.data_primary_1": (243.0, 243.0),
        # replica db-g1-small zonal: 0.03 x 1,000 = 30.00 + default 10 GB SSD x 0.2 = 2.00: 32.00.
        "google_sql_database_instance.data_replica_1": (32.0, 32.0),
        # stopped (NEVER): no compute; 10 GB HDD x 0.1 = 1.00.
        "google_sql_database_instance.data_paused_1": (1.0, 1.0),
        # BASIC 1 GB (M1): 1 x 0.05 x 1,000 = 50.00; STANDARD_HA 5 GB (M2): 5 x 0.04 x 1,000 = 200.00.
        "google_redis_instance.data_cache_1": (50.0, 50.0),
        "google_redis_instance.data_ha_cache_1": (200.0, 200.0),
        # 3 vCPU x 0.6 + 3 GiB x 0.1 = 2.1 DCU x 0.1 x 1,000 h = 210.00; 300 GiB local x 0.2 = 60.00.
        "google_managed_kafka_cluster.events_cluster_1": (270.0, 270.0),
        # one version x 2 replica locations x 0.06 = 0.12.
        "google_secret_manager_secret_version.api_version_1": (0.12, 0.12),
        # 50 GiB x 0.02 = 1.00; 5 GiB of images x 0.1 = 0.50.
        "google_storage_bucket.api_bucket_1": (1.0, 1.0),
        "google_artifact_registry_repository.images_repo_1": (0.5, 0.5),
        # 10 GiB x 0.1 = 1.00; (60 - 50 free) GiB x 0.5 = 5.00: load only.
        "(project).internet_egress": (0.0, 1.0),
        "(project).log_ingestion": (0.0, 5.0),
    }
    # idle: 18 + 81 + 4.1976 + 20 + 13 + 243 + 32 + 1 + 50 + 200 + 270 + 0.12 + 1 + 0.5 = 933.8176
    # load: 22.7 + 81 + 29.576 + 20 + 14 + 243 + 32 + 1 + 50 + 200 + 270 + 0.12 + 1 + 0.5 + 1 + 5 = 970.896
    assert result.idle == pytest.approx(933.8176)
    assert result.load == pytest.approx(970.896)
    assert result.tiers()["data"] == pytest.approx((526.0, 526.0))  # 243 + 32 + 1 + 50 + 200


def test_unpriced_resources_are_listed_with_a_reason_and_never_counted():
    result = estimate(crafted_stack(), "test", PROFILE, round_book())
    unpriced = {line.ref: line.basis for line in result.unpriced}
    assert set(unpriced) == {"google_compute_subnetwork.network_subnet_1", "google_monitoring_alert_policy.monitoring_latency_1"}
    assert "flow logs" in unpriced["google_compute_subnetwork.network_subnet_1"]
    assert "no pricing rule" in unpriced["google_monitoring_alert_policy.monitoring_latency_1"]
    assert set(result.no_charge) == {"google_compute_network.net_vpc_1", "google_project_iam_member.api_grant_1",
                                     "google_secret_manager_secret.api_secret_1"}


def test_lines_say_what_they_rest_on_and_where_they_stretch():
    lines = lines_by_ref(estimate(crafted_stack(), "test", PROFILE, round_book()))
    assert any("capped" in note for note in lines["google_cloudfunctions2_function.api_function_1"].notes)
    assert any("europe-west4" in note for note in lines["google_sql_database_instance.data_replica_1"].notes)
    assert lines["google_cloud_run_v2_service.events_broker_1"].prices == ("run_instance_cpu", "run_instance_memory")
    assert any("no requests" in note for note in lines["google_cloud_run_v2_service.events_broker_1"].notes)
    # The tier label wins; resources without labels take their construct (network_connector_1 -> network).
    assert lines["google_vpc_access_connector.network_connector_1"].tier == "network"
    assert lines["google_sql_database_instance.data_primary_1"].tier == "data"


def test_runtimes_the_file_does_not_list_serve_one_call_per_request(configs):
    profile = configs["staging"].load_profile
    assert "frontend" not in (ROOT / "environments" / "staging.yaml").read_text().split("load_profile:")[1]
    assert profile.runtimes["frontend"] == RuntimeLoad(1.0, profile.mean_request_seconds)
    assert set(profile.runtimes) == {"frontend", "api", "properties", "search", "bookings", "notifications"}


def test_quantities_follow_kubernetes_units():
    assert quantity("1000m") == 1 and quantity("2") == 2
    assert gib("512Mi") == 0.5 and gib("1Gi") == 1
    assert gib("256M") == pytest.approx(256e6 / 2**30)


def test_the_difference_of_two_stacks_names_the_resources_that_move_it():
    before = crafted_stack()
    after = crafted_stack()
    after["resource"]["google_cloud_run_v2_service"]["web_service_1"]["template"]["scaling"]["min_instance_count"] = 2
    del after["resource"]["google_redis_instance"]["data_cache_1"]
    after["resource"]["google_monitoring_uptime_check_config"] = {"monitoring_probe_1": {"display_name": "probe"}}
    book = round_book()
    change_set = diff(estimate(before, "test", PROFILE, book), estimate(after, "test", PROFILE, book))
    moved = {c.ref: (c.status, round(c.delta("idle"), 4), round(c.delta("load"), 4)) for c in change_set.changes}
    assert moved == {
        # min 2: idle 2 x 18.00 = 36.00 (+18.00); load 4.20 + 1.00 + (7,200,000 - 100,000) x 0.000005
        # = 40.70 (+18.00).
        "google_cloud_run_v2_service.web_service_1": ("changed", 18.0, 18.0),
        "google_redis_instance.data_cache_1": ("removed", -50.0, -50.0),
        # A new unpriced resource shows up, and moves no total.
        "google_monitoring_uptime_check_config.monitoring_probe_1": ("added", 0.0, 0.0),
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
        assert price.usd > 0 and price.unit and price.region == "europe-west1", price.key
    assert {p.confidence for p in book.prices.values()} <= {"confirmed", "secondary", "unverified"}
    # Only the free tier granted per project is applied; billing-account ones would double count.
    assert [key for key, free in book.free_tiers.items() if free.applied] == ["cloud_logging"]


def test_the_crafted_stack_prices_with_the_real_price_file():
    result = estimate(crafted_stack(), "test", PROFILE, load_prices())
    assert len(result.unpriced) == 2 and result.idle > 0


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
PINNED = {"staging": (82.57, 83.75), "production": (905.13, 1009.63)}
# Listed, never counted, each with its reason: usage-driven charges the load profile does not model
# (flow logs, alerting conditions, uptime probes, log-based metrics, retained logs past 30 days,
# Pub/Sub messages, Scheduler jobs). A resource type outside this list must get a pricing rule.
UNPRICED_TYPES = {
    "google_compute_subnetwork", "google_monitoring_alert_policy", "google_monitoring_uptime_check_config",
    "google_logging_metric", "google_logging_project_bucket_config", "google_pubsub_topic", "google_cloud_scheduler_job",
}


@pytest.mark.parametrize("env", sorted(PINNED))
def test_environment_estimates_are_pinned(stacks, configs, env):
    result = estimate(stacks[env], env, configs[env].load_profile, load_prices())
    assert (result.idle, result.load) == pytest.approx(PINNED[env], rel=0.01), (
        f"{env} now costs idle {result.idle:.2f}, under load {result.load:.2f}: update PINNED if intended")
    assert {line.ref.split(".")[0] for line in result.unpriced} <= UNPRICED_TYPES
    assert all(line.basis for line in result.unpriced)


def test_readme_estimate_is_current(stacks, configs):
    book = load_prices()
    block = readme_block([estimate(stacks[env], env, configs[env].load_profile, book) for env in sorted(stacks)], book)
    text = (ROOT / "README.md").read_text()
    current = text[text.index(README_BEGIN):text.index(README_END) + len(README_END)]
    assert current == block, "README.md cost estimate is stale: run `make cost-readme`"


def run_cost(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "tools/cost.py", *args], cwd=ROOT, capture_output=True, text=True)


def test_cli_prints_the_table_and_json(synth_dir):
    table = run_cost("staging", "--outdir", str(synth_dir))
    assert table.returncode == 0, table.stderr
    assert "subtotal network" in table.stdout and "TOTAL" in table.stdout and "unpriced" in table.stdout
    out = run_cost("estimate", "--json", "--outdir", str(synth_dir))
    document = json.loads(out.stdout)
    assert [e["env"] for e in document["environments"]] == ["production", "staging"]
    staging = document["environments"][1]
    assert staging["total"]["idle"] == pytest.approx(sum(line["idle"] for line in staging["lines"]))


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
