"""compose.yaml follows the environment files (tools/compose_file.py), on crafted environments."""

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tools.compose_file import FALLBACK, KAFKA_KEY, POSTGRES_KEY, REDIS_KEY, ComposeError, document, render

ROOT = Path(__file__).resolve().parent.parent
NO_SCHEMA = {"type": "object", "properties": {}}


def env(postgres=None, redis=None, kafka=None) -> dict:
    data: dict = {"project": {"id": "x"}}
    if postgres or redis:
        data["data"] = {}
        if postgres:
            data["data"]["postgres"] = {"database_version": postgres}
        if redis:
            data["data"]["redis"] = {"redis_version": redis}
    if kafka:
        data["events"] = {"cloud_run": {"broker_image": kafka}}
    return data


def images(environments, schema=NO_SCHEMA) -> dict[str, str]:
    doc, _ = document(environments, schema)
    return {name: service["image"] for name, service in doc["services"].items()}


def test_versions_come_from_the_environment_files():
    assert images({"production": env("POSTGRES_15", "REDIS_6_X", "apache/kafka:3.8.0"), "staging": env()}) == {
        "postgres": "postgres:15", "redis": "redis:6", "kafka": "apache/kafka:3.8.0"}


def test_production_wins_when_the_files_disagree_and_the_others_fill_gaps():
    environments = {"staging": env("POSTGRES_17", "REDIS_7_2", "apache/kafka:3.9.1"), "production": env("POSTGRES_16")}
    assert images(environments) == {"postgres": "postgres:16", "redis": "redis:7.2", "kafka": "apache/kafka:3.9.1"}
    text = render(environments, NO_SCHEMA)
    assert f"#   {POSTGRES_KEY} = POSTGRES_16 (environments/production.yaml)" in text
    assert f"#   {REDIS_KEY} = REDIS_7_2 (environments/staging.yaml)" in text


def test_schema_defaults_then_fallbacks_fill_missing_keys():
    schema = {"properties": {"data": {"properties": {"redis": {"properties": {"redis_version": {"default": "REDIS_7_0"}}}}}}}
    assert images({"staging": env()}, schema)["redis"] == "redis:7.0"
    assert images({"staging": env()}, NO_SCHEMA)["postgres"] == f"postgres:{FALLBACK[POSTGRES_KEY].split('_')[1]}"
    assert images({"staging": env()}, NO_SCHEMA)["kafka"] == FALLBACK[KAFKA_KEY]


def test_postgres_18_mounts_the_new_data_folder():
    doc, _ = document({"production": env("POSTGRES_18")}, NO_SCHEMA)
    assert doc["services"]["postgres"]["volumes"] == ["postgres-data:/var/lib/postgresql"]


@pytest.mark.parametrize("bad", [env(postgres="postgres-16"), env(redis="7.2"), env(kafka="apache/kafka:latest"),
                                 env(kafka="apache/kafka")])
def test_unusable_versions_are_refused(bad):
    with pytest.raises(ComposeError, match="environments/production.yaml"):
        document({"production": bad}, NO_SCHEMA)


def test_kafka_runs_kraft_without_zookeeper_and_ports_stay_local():
    doc, _ = document({"production": env()}, NO_SCHEMA)
    kafka = doc["services"]["kafka"]["environment"]
    assert kafka["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert not any("ZOOKEEPER" in key for key in kafka)
    ports = [p for service in doc["services"].values() for p in service["ports"]]
    assert ports and all(p.startswith("127.0.0.1:") for p in ports)


def test_committed_compose_file_matches_the_environment_files():
    run = subprocess.run([sys.executable, "tools/compose_file.py", "--check"], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert yaml.safe_load((ROOT / "compose.yaml").read_text())["services"].keys() == {"postgres", "redis", "kafka"}
