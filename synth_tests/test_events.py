"""The events tier: Kafka on Cloud Run (staging's file) or Managed Kafka (production's file),
and each environment with the other backend, built from a replaced config."""

import base64
import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from synth_tests.helpers import api_function, address_of, member_of, only, ref, resources, run_service

ROOT = Path(__file__).resolve().parent.parent
OTHER = {"cloud-run": "managed", "managed": "cloud-run"}
CLOUD_RUN_WARNING = "production uses the cloud-run Kafka backend"


def _with_backend(config, backend):
    return dataclasses.replace(config, events=dataclasses.replace(config.events, backend=backend))


@pytest.fixture(scope="module")
def swapped(configs):
    """env -> (stack construct, synthesized JSON) with the backend the shipped file does not use."""
    from cdktf import Testing

    from constructs.stack import HexPropertyStack

    built = {}
    for env, config in configs.items():
        stack = HexPropertyStack(Testing.app(), _with_backend(config, OTHER[config.events.backend]))
        built[env] = (stack, json.loads(Testing.synth(stack)))
    return built


@pytest.fixture(scope="module")
def by_backend(stacks, swapped, configs):
    """(env, backend) -> synthesized JSON, for all four combinations."""
    out = {}
    for env, config in configs.items():
        out[(env, config.events.backend)] = stacks[env]
        out[(env, OTHER[config.events.backend])] = swapped[env][1]
    return out


COMBINATIONS = [(env, backend) for env in ("staging", "production") for backend in ("cloud-run", "managed")]


def test_shipped_files_choose_cloud_run_for_staging_and_managed_for_production(configs):
    assert (configs["staging"].events.backend, configs["production"].events.backend) == ("cloud-run", "managed")


@pytest.mark.parametrize("env,backend", COMBINATIONS)
def test_each_backend_builds_only_its_own_resources(by_backend, env, backend):
    stack = by_backend[(env, backend)]
    kafka_services = [b for b in resources(stack, "google_cloud_run_v2_service").values() if b["labels"]["tier"] == "events"]
    clusters = resources(stack, "google_managed_kafka_cluster")
    if backend == "cloud-run":
        assert len(kafka_services) == 1 and not clusters
    else:
        assert len(clusters) == 1 and not kafka_services
        assert not [b for b in resources(stack, "google_storage_bucket").values() if b["labels"]["tier"] == "events"]


@pytest.mark.parametrize("env", ["staging", "production"])
def test_broker_service_is_a_proxy_in_front_of_a_kraft_sidecar(by_backend, configs, env):
    stack, kafka = by_backend[(env, "cloud-run")], configs[env].events.cloud_run
    service = run_service(stack, f"hexproperty-{env}-kafka")
    template = service["template"]
    proxy, broker = template["containers"]
    assert (proxy["name"], proxy["image"], proxy["ports"]["container_port"]) == ("proxy", kafka.proxy_image, 8082)
    assert (broker["name"], broker["image"]) == ("broker", kafka.broker_image)
    assert proxy["depends_on"] == ["broker"] and "ports" not in broker
    assert broker["startup_probe"]["tcp_socket"] == {"port": 9092}
    env_vars = {e["name"]: e["value"] for e in broker["env"]}
    assert env_vars["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert env_vars["KAFKA_LOG_DIRS"] == "/var/lib/kafka/data"
    assert {e["name"]: e["value"] for e in proxy["env"]}["KAFKA_REST_BOOTSTRAP_SERVERS"] == "localhost:9092"
    assert all(c["resources"]["cpu_idle"] is False for c in (proxy, broker))
    assert template["execution_environment"] == "EXECUTION_ENVIRONMENT_GEN2"
    assert service["ingress"] == "INGRESS_TRAFFIC_INTERNAL_ONLY"
    subnet = ref("google_compute_subnetwork", only_subnet(stack))
    assert template["vpc_access"]["network_interfaces"][0]["subnetwork"] == subnet


def only_subnet(stack):
    (address,) = resources(stack, "google_compute_subnetwork")
    return address


@pytest.mark.parametrize("env", ["staging", "production"])
def test_exactly_one_broker_instance_and_min_from_the_file(by_backend, configs, env):
    scaling = run_service(by_backend[(env, "cloud-run")], f"hexproperty-{env}-kafka")["template"]["scaling"]
    assert scaling == {"min_instance_count": configs[env].events.cloud_run.min_instances, "max_instance_count": 1}
    # The config carries no maximum at all: nothing in the file can reach the service's.
    assert "max_instances" not in {f.name for f in dataclasses.fields(configs[env].events.cloud_run)}


@pytest.mark.parametrize("env", ["staging", "production"])
def test_log_directory_is_a_private_versioned_bucket_in_the_region(by_backend, configs, env):
    stack, config = by_backend[(env, "cloud-run")], configs[env]
    bucket_address = address_of(stack, "google_storage_bucket", f"hexproperty-{env}-kafka-log")
    # Stateful: a renamed construct would destroy the log, so the address is pinned.
    assert bucket_address == "kafka_log_bucket"
    bucket = resources(stack, "google_storage_bucket")[bucket_address]
    assert bucket["location"] == config.region
    assert bucket["uniform_bucket_level_access"] is True and bucket["public_access_prevention"] == "enforced"
    assert bucket["versioning"] == {"enabled": True}
    assert [rule["condition"] for rule in bucket["lifecycle_rule"]] == [
        {"num_newer_versions": config.events.cloud_run.noncurrent_versions_kept, "with_state": "ARCHIVED"},
        {"days_since_noncurrent_time": config.events.cloud_run.noncurrent_days},
    ]
    assert (bucket["labels"]["tier"], bucket["labels"]["service"]) == ("events", "kafka-log")
    template = run_service(stack, f"hexproperty-{env}-kafka")["template"]
    assert template["volumes"] == [{"name": "log", "gcs": {"bucket": ref("google_storage_bucket", bucket_address, "name"), "read_only": False}}]
    assert template["containers"][1]["volume_mounts"] == [{"name": "log", "mount_path": "/var/lib/kafka/data"}]
    (access,) = [b for b in resources(stack, "google_storage_bucket_iam_member").values()
                 if b["bucket"] == ref("google_storage_bucket", bucket_address, "name")]
    assert (access["role"], access["member"]) == ("roles/storage.objectUser", member_of(stack, f"hp-{env}-kafka"))


@pytest.mark.parametrize("env", ["staging", "production"])
def test_broker_creates_exactly_the_declared_topics_at_start(by_backend, configs, env):
    broker = run_service(by_backend[(env, "cloud-run")], f"hexproperty-{env}-kafka")["template"]["containers"][1]
    variables = {e["name"]: e["value"] for e in broker["env"]}
    declared = {(t.name, str(t.partitions), str(t.retention_hours * 3_600_000)) for t in configs[env].events.topics}
    assert {tuple(topic.split(":")) for topic in variables["BROKER_TOPICS"].split()} == declared
    assert variables["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    command = broker["command"]
    assert command[:2] == ["/bin/sh", "-c"] and "$BROKER_TOPICS" in command[2] and "--if-not-exists" in command[2]
    # Terraform reads "${" in any string as interpolation: the script must not contain one.
    assert "${" not in command[2]


def test_kraft_cluster_id_is_a_stable_16_byte_id(staging):
    broker = run_service(staging, "hexproperty-staging-kafka")["template"]["containers"][1]
    cluster_id = {e["name"]: e["value"] for e in broker["env"]}["CLUSTER_ID"]
    assert len(base64.urlsafe_b64decode(cluster_id + "==")) == 16
    assert cluster_id == "UkV3d0vqU5inoW6nNDjeKQ"


@pytest.mark.parametrize("env", ["staging", "production"])
def test_managed_cluster_and_topics_exactly_as_declared(by_backend, configs, env):
    stack, config = by_backend[(env, "managed")], configs[env]
    (cluster_address,) = resources(stack, "google_managed_kafka_cluster")
    assert cluster_address == "kafka_cluster"  # stateful: the address is pinned
    cluster = only(stack, "google_managed_kafka_cluster")
    assert cluster["capacity_config"] == {"vcpu_count": str(config.events.managed.vcpu),
                                          "memory_bytes": str(config.events.managed.memory_gib * 1024**3)}
    assert cluster["gcp_config"]["access_config"]["network_configs"] == [{"subnet": ref("google_compute_subnetwork", only_subnet(stack))}]
    assert cluster["location"] == config.region
    assert ("lifecycle" in cluster) is config.is_production  # staging can be torn down
    assert cluster.get("lifecycle", {}).get("prevent_destroy", False) is config.is_production
    topics = {(t["topic_id"], t["partition_count"], t["replication_factor"], t["configs"]["retention.ms"])
              for t in resources(stack, "google_managed_kafka_topic").values()}
    assert all(t["cluster"] == ref("google_managed_kafka_cluster", cluster_address, "cluster_id")
               for t in resources(stack, "google_managed_kafka_topic").values())
    assert topics == {(t.name, t.partitions, 3, str(t.retention_hours * 3_600_000)) for t in config.events.topics}


@pytest.mark.parametrize("env,backend", COMBINATIONS)
def test_only_declared_producers_and_consumers_get_access(by_backend, configs, env, backend):
    stack, events = by_backend[(env, backend)], configs[env].events
    expected = sorted(member_of(stack, f"hp-{env}-{client}") for client in events.clients)
    if backend == "cloud-run":
        service_name = ref("google_cloud_run_v2_service", address_of(stack, "google_cloud_run_v2_service", f"hexproperty-{env}-kafka"), "name")
        granted = [b for b in resources(stack, "google_cloud_run_v2_service_iam_member").values() if b["name"] == service_name]
        assert {b["role"] for b in granted} == {"roles/run.invoker"}
    else:
        granted = [b for b in resources(stack, "google_project_iam_member").values() if b["role"] == "roles/managedkafka.client"]
    assert sorted(b["member"] for b in granted) == expected


@pytest.mark.parametrize("env,backend", COMBINATIONS)
def test_only_producers_and_consumers_receive_the_address(by_backend, configs, env, backend):
    stack, config = by_backend[(env, backend)], configs[env]
    variable = "KAFKA_REST_URL" if backend == "cloud-run" else "KAFKA_BOOTSTRAP_SERVERS"
    received = set()
    for body in resources(stack, "google_cloud_run_v2_service").values():
        if variable in {e["name"] for e in body["template"]["containers"][0].get("env", [])}:
            received.add(body["labels"]["service"])
    function = api_function(stack)["service_config"]
    if variable in function.get("environment_variables", {}):
        received.add("api")
    assert received == set(config.events.clients)
    assert "frontend" not in config.events.clients  # so the check above also proves a runtime left out


def test_rest_url_and_bootstrap_address_values(by_backend):
    search = run_service(by_backend[("staging", "cloud-run")], "hexproperty-staging-search")["template"]["containers"][0]
    kafka = address_of(by_backend[("staging", "cloud-run")], "google_cloud_run_v2_service", "hexproperty-staging-kafka")
    assert {"name": "KAFKA_REST_URL", "value": ref("google_cloud_run_v2_service", kafka, "uri")} in search["env"]
    search = run_service(by_backend[("production", "managed")], "hexproperty-production-search")["template"]["containers"][0]
    bootstrap = ("bootstrap.${google_managed_kafka_cluster.kafka_cluster.cluster_id}.europe-west1"
                 ".managedkafka.hexproperty-production.cloud.goog:9092")
    assert {"name": "KAFKA_BOOTSTRAP_SERVERS", "value": bootstrap} in search["env"]


def _warnings(construct):
    return [m.data for m in construct.node.metadata if m.type == "@cdktf/warn"]


def test_production_on_cloud_run_is_warned_about(swapped):
    stack, _ = swapped["production"]
    (warning,) = _warnings(stack.events)
    assert CLOUD_RUN_WARNING in warning and "events.backend: managed" in warning


def test_staging_on_cloud_run_and_production_on_managed_are_not(swapped, synth_dir):
    assert _warnings(swapped["staging"][0].events) == []
    manifest = json.loads((synth_dir / "manifest.json").read_text())
    assert all(not stack.get("annotations") for stack in manifest["stacks"].values())


def _production_on_cloud_run(tmp_path):
    envdir = tmp_path / "environments"
    envdir.mkdir()
    data = yaml.safe_load((ROOT / "environments" / "production.yaml").read_text())
    data["events"]["backend"] = "cloud-run"
    (envdir / "production.yaml").write_text(yaml.safe_dump(data))
    return envdir


def test_synthesis_prints_the_production_warning(tmp_path):
    envdir = _production_on_cloud_run(tmp_path)
    env = {name: value for name, value in os.environ.items() if name != "CDKTF_OUTDIR"}
    run = subprocess.run([sys.executable, str(ROOT / "main.py"), "--environments-dir", str(envdir), "--outdir", str(tmp_path / "out")],
                         cwd=tmp_path, capture_output=True, text=True, timeout=180, env=env)
    assert run.returncode == 0, run.stderr
    assert f"warning: production/events: {CLOUD_RUN_WARNING}" in run.stderr


def test_under_cdktf_synth_the_warning_is_left_to_the_cli(tmp_path, monkeypatch, capsys):
    """`cdktf synth` runs main.py with CDKTF_OUTDIR set and prints the manifest's warnings itself:
    printing them too would show each twice, ours tagged [ERROR] by the CLI's log."""
    import main
    from constructs import google

    monkeypatch.setattr(google, "skip_runtime_type_checks", lambda: None)  # the rest of the session keeps them
    out = tmp_path / "out"
    monkeypatch.setenv("CDKTF_OUTDIR", str(out))
    assert main.main(["production", "--environments-dir", str(_production_on_cloud_run(tmp_path))]) == 0
    assert CLOUD_RUN_WARNING not in capsys.readouterr().err
    manifest = json.loads((out / "manifest.json").read_text())
    assert any(CLOUD_RUN_WARNING in note["message"] for note in manifest["stacks"]["production"]["annotations"])
