"""The API layer: Cloud Functions 2nd gen."""

import dataclasses
import json

import pytest

from synth_tests.helpers import (
    address_of,
    api_function,
    api_function_address,
    address_of_attr,
    member_of,
    only,
    only_address,
    ref,
    resources,
    service_account_address,
)

@pytest.mark.parametrize("env", ["staging", "production"])
def test_runtime_memory_timeout_instances_come_from_the_file(stacks, configs, env):
    api = configs[env].api
    function = api_function(stacks[env])
    service = function["service_config"]
    assert (function["build_config"]["runtime"], function["build_config"]["entry_point"]) == (api.runtime, api.entry_point)
    assert service["available_memory"] == api.memory
    assert service["timeout_seconds"] == api.timeout_seconds
    assert (service["min_instance_count"], service["max_instance_count"]) == (api.min_instances, api.max_instances)


@pytest.mark.parametrize("env", ["staging", "production"])
def test_private_egress_through_the_connector_with_its_own_identity(stacks, configs, env):
    stack = stacks[env]
    service = api_function(stack)["service_config"]
    assert service["vpc_connector"] == ref("google_vpc_access_connector", only_address(stack, "google_vpc_access_connector"))
    assert service["vpc_connector_egress_settings"] == "ALL_TRAFFIC"
    assert service["service_account_email"] == ref("google_service_account", service_account_address(stack, f"hp-{env}-api"), "email")
    assert service["ingress_settings"] == configs[env].api.ingress


@pytest.mark.parametrize("env", ["staging", "production"])
def test_placeholder_source_is_uploaded_to_a_private_bucket(stacks, env):
    stack = stacks[env]
    function = api_function(stack)
    bucket_address = address_of(stack, "google_storage_bucket", f"hexproperty-{env}-function-sources")
    bucket = resources(stack, "google_storage_bucket")[bucket_address]
    object_address = next(a for a in resources(stack, "google_storage_bucket_object") if a.startswith("api_"))
    obj = resources(stack, "google_storage_bucket_object")[object_address]
    source = function["build_config"]["source"]["storage_source"]
    assert source["bucket"] == ref("google_storage_bucket", bucket_address, "name")
    assert source["object"] == ref("google_storage_bucket_object", object_address, "name")
    assert obj["source"].startswith("assets/") and obj["source"].endswith(".zip")
    assert obj["name"].startswith("api-placeholder/api-placeholder-")
    assert bucket["uniform_bucket_level_access"] is True
    assert bucket["public_access_prevention"] == "enforced"


@pytest.mark.parametrize("env", ["staging", "production"])
def test_secrets_arrive_as_secret_environment_variables_readable_only_by_the_api(stacks, configs, env):
    stack = stacks[env]
    service = api_function(stack)["service_config"]
    declared = configs[env].api.secrets
    by_key = {s["key"]: s for s in service["secret_environment_variables"]}
    redis_auth = {"REDIS_AUTH"} if "api" in configs[env].data.redis.clients else set()
    # Every runtime reads the Sentry DSN (test_monitoring.py).
    assert set(by_key) == set(declared) | redis_auth | {"SENTRY_DSN"}
    for variable, secret_id in declared.items():
        secret_address = address_of_attr(stack, "google_secret_manager_secret", "secret_id", secret_id)
        assert by_key[variable]["secret"] == ref("google_secret_manager_secret", secret_address, "secret_id")
        accessors = [b["member"] for b in resources(stack, "google_secret_manager_secret_iam_member").values()
                     if b["secret_id"] == ref("google_secret_manager_secret", secret_address)]
        assert accessors == [member_of(stack, f"hp-{env}-api")]
        secret = resources(stack, "google_secret_manager_secret")[secret_address]
        regions = [configs[env].region] + ([configs[env].dr_region] if configs[env].is_production else [])
        assert [r["location"] for r in secret["replication"]["user_managed"]["replicas"]] == regions
    assert declared and not any(secret_id in json.dumps(service.get("environment_variables", {})) for secret_id in declared)


@pytest.mark.parametrize("env", ["staging", "production"])
def test_build_runs_as_its_own_identity_after_its_grants(stacks, env):
    stack = stacks[env]
    function = api_function(stack)
    build_account = service_account_address(stack, f"hp-{env}-api-build")
    assert function["build_config"]["service_account"] == ref("google_service_account", build_account, "name")
    build_member = ref("google_service_account", build_account, "member")
    grants = [a for a, b in resources(stack, "google_project_iam_member").items() if b["member"] == build_member]
    assert {resources(stack, "google_project_iam_member")[a]["role"] for a in grants} == {
        "roles/logging.logWriter", "roles/artifactregistry.writer"}
    assert {f"google_project_iam_member.{a}" for a in grants} <= set(function["depends_on"])


def test_a_published_source_object_replaces_the_placeholder(configs):
    from cdktf import App, Testing

    from constructs.stack import HexPropertyStack

    config = configs["staging"]
    config = dataclasses.replace(config, api=dataclasses.replace(config.api, source_object="api/api-0123abcd.zip"))
    stack = json.loads(Testing.synth(HexPropertyStack(Testing.app(), config)))
    assert api_function(stack)["build_config"]["source"]["storage_source"]["object"] == "api/api-0123abcd.zip"
    assert not [a for a in resources(stack, "google_storage_bucket_object") if a.startswith("api_")]
