"""The environment files and their loader; nothing here imports cdktf or the provider."""

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from environments.loader import environment_files, load_all, load_schema
from environments.schema import SCHEMA_PATH

ROOT = Path(__file__).resolve().parent.parent


def test_loading_the_environments_imports_neither_cdktf_nor_the_provider():
    code = (
        "import sys\n"
        "from environments.loader import load_all\n"
        "load_all()\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('cdktf', 'cdktf_cdktf_provider_google', 'jsii')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_schema_is_valid_draft_2020_12():
    jsonschema.Draft202012Validator.check_schema(load_schema())


def test_every_object_in_the_schema_refuses_unknown_keys():
    schema = load_schema()

    def closed(node):
        if node.get("additionalProperties") is False:
            return True
        # A section that extends a definition (allOf) is closed when the definition is.
        refs = [part["$ref"].split("/")[-1] for part in node.get("allOf", []) if "$ref" in part]
        return bool(refs) and all(closed(schema["$defs"][ref]) for ref in refs)

    def walk(node, path):
        if isinstance(node, dict):
            if node.get("type") == "object" and "properties" in node:
                assert closed(node), path
            for key, value in node.items():
                walk(value, f"{path}/{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{path}/{i}")

    walk(schema, "#")


@pytest.mark.parametrize("path", environment_files(), ids=lambda p: p.stem)
def test_each_file_starts_with_the_schema_modeline(path):
    first = path.read_text().splitlines()[0]
    assert first == f"# yaml-language-server: $schema=./{SCHEMA_PATH.name}"


def test_the_three_environments_are_shipped():
    assert [p.stem for p in environment_files()] == ["drill", "production", "staging"]


def test_config_objects_are_frozen(configs):
    staging = configs["staging"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        staging.region = "us-central1"
    with pytest.raises(TypeError):
        staging.extra_labels["team"] = "x"


def test_foundation_values(configs):
    staging, production = configs["staging"], configs["production"]
    assert staging.project_id == "hexproperty-staging"
    assert production.project_id == "hexproperty-production"
    for config in (staging, production):
        assert config.region != config.dr_region
        assert config.state_bucket == f"hexproperty-{config.name}-tfstate"


def test_schema_defaults_fill_omitted_keys(tmp_path):
    data = yaml.safe_load((ROOT / "environments" / "staging.yaml").read_text())
    del data["network"]["connector"]["machine_type"]
    del data["network"]["flow_logs_sampling"]
    (tmp_path / "staging.yaml").write_text(yaml.safe_dump(data))
    (config,) = load_all(tmp_path)
    schema = json.loads(SCHEMA_PATH.read_text())["properties"]["network"]
    assert config.network.connector.machine_type == schema["properties"]["connector"]["properties"]["machine_type"]["default"]
    assert config.network.flow_logs_sampling == schema["properties"]["flow_logs_sampling"]["default"]


def test_names_and_labels_follow_the_convention(configs):
    staging = configs["staging"]
    assert staging.resource_name("vpc") == "hexproperty-staging-vpc"
    assert staging.short_name("conn") == "hp-staging-conn"
    labels = staging.labels("network", "nat")
    assert {k: labels[k] for k in ("app", "env", "tier", "service", "managed-by")} == {
        "app": "hexproperty", "env": "staging", "tier": "network", "service": "nat", "managed-by": "cdktf"}


def test_environment_reference_matches_the_schema():
    run = subprocess.run([sys.executable, "tools/schema_reference.py", "--check"], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr


def test_data_defaults_come_from_the_schema(tmp_path):
    data = yaml.safe_load((ROOT / "environments" / "staging.yaml").read_text())
    del data["data"]["redis"]["redis_version"]
    del data["data"]["postgres"]["maintenance"]
    (tmp_path / "staging.yaml").write_text(yaml.safe_dump(data))
    (config,) = load_all(tmp_path)
    schema = json.loads(SCHEMA_PATH.read_text())["properties"]["data"]["properties"]
    assert config.data.redis.redis_version == schema["redis"]["properties"]["redis_version"]["default"]
    window = schema["postgres"]["properties"]["maintenance"]["properties"]
    assert (config.data.postgres.maintenance.day, config.data.postgres.maintenance.update_track) == (
        window["day"]["default"], window["update_track"]["default"])


def test_data_values_from_the_seed(configs):
    staging, production = configs["staging"].data, configs["production"].data
    assert staging.postgres.auto_pause.idle_minutes == 15
    assert (staging.redis.tier, staging.redis.memory_size_gb) == ("BASIC", 1)
    assert (production.redis.tier, production.redis.memory_size_gb) == ("STANDARD_HA", 5)
    assert production.postgres.availability == "REGIONAL" and production.postgres.auto_pause is None
    assert isinstance(staging.postgres.clients, tuple)
    with pytest.raises(dataclasses.FrozenInstanceError):
        staging.postgres.tier = "db-custom-2-7680"


def test_every_schema_key_is_described():
    schema = load_schema()

    def inherited(node, key):
        # A section extending a definition (allOf) may only set defaults; the definition describes.
        for part in node.get("allOf", []):
            definition = schema["$defs"][part["$ref"].split("/")[-1]]
            prop = definition.get("properties", {}).get(key, {})
            if "$ref" in prop and "description" not in prop:
                prop = schema["$defs"][prop["$ref"].split("/")[-1]]
            if prop.get("description"):
                return True
        return False

    def walk(node, path):
        for key, sub in node.get("properties", {}).items():
            referenced = schema["$defs"][sub["$ref"].split("/")[-1]] if "$ref" in sub else {}
            assert sub.get("description") or referenced.get("description") or inherited(node, key), f"{path}.{key}"
            walk(sub, f"{path}.{key}")
            if "items" in sub:
                assert sub["items"].get("description"), f"{path}.{key}[]"

    walk(load_schema(), "")
def test_delivery_branches_per_environment(configs):
    staging, production = configs["staging"].delivery, configs["production"].delivery
    assert staging.repository == production.repository
    assert (staging.deploy_branches, staging.plan_branches) == (("staging", "release/*"), ("develop", "staging"))
    assert (production.deploy_branches, production.plan_branches) == (("main",), ("main", "release/*"))
    assert isinstance(staging.repository_id, int) and isinstance(production.repository_owner_id, int)
