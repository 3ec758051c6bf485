"""Least privilege across both stacks: no primitive roles, no keys, telemetry-only runtimes."""

import json
import re

import pytest

from constructs.shared.runtime import TELEMETRY_ROLES
from synth_tests.helpers import member_of, resources

PRIMITIVE = {"roles/owner", "roles/editor", "roles/viewer"}
PRIMITIVE_IN_TEXT = re.compile(r"roles/(?:owner|editor|viewer)\b")


def _roles(stack):
    for type_, bodies in stack.get("resource", {}).items():
        for address, body in bodies.items():
            if "role" in body:
                yield type_, address, body["role"]
            for binding in body.get("binding", []) if isinstance(body.get("binding"), list) else []:
                yield type_, address, binding.get("role")


@pytest.mark.parametrize("env", ["staging", "production"])
def test_no_primitive_roles_anywhere(stacks, env):
    assert [(t, a, r) for t, a, r in _roles(stacks[env]) if r in PRIMITIVE] == []


@pytest.mark.parametrize("env", ["staging", "production"])
def test_no_service_account_keys(stacks, env):
    assert "google_service_account_key" not in stacks[env].get("resource", {})


@pytest.mark.parametrize("env", ["staging", "production"])
def test_runtimes_get_only_telemetry_roles_on_the_project(stacks, configs, env):
    """Besides telemetry, only Managed Kafka clients get one declared project role (provider 6.50
    has no IAM resource on a cluster)."""
    stack, config = stacks[env], configs[env]
    runtimes = ["frontend", "api"] + [s.name for s in config.microservices]
    project_roles = resources(stack, "google_project_iam_member").values()
    database_roles = ["roles/cloudsql.client", "roles/cloudsql.instanceUser"]  # declared in data.postgres.clients
    for runtime in runtimes:
        member = member_of(stack, f"hp-{env}-{runtime}")
        kafka = ["roles/managedkafka.client"] if config.events.backend == "managed" and runtime in config.events.clients else []
        expected = [*TELEMETRY_ROLES, *kafka] + (database_roles if runtime in config.data.postgres.clients else [])
        assert sorted(b["role"] for b in project_roles if b["member"] == member) == sorted(expected), runtime


@pytest.mark.parametrize("env", ["staging", "production"])
def test_every_function_builds_as_its_own_identity_after_its_grants(stacks, env):
    stack = stacks[env]
    grants = {**resources(stack, "google_project_iam_member"), **resources(stack, "google_storage_bucket_iam_member")}
    for address, function in resources(stack, "google_cloudfunctions2_function").items():
        builder = function["build_config"]["service_account"]
        assert builder.startswith("${google_service_account.") and builder.endswith(".name}"), address
        member = builder.replace(".name}", ".member}")
        mine = {f"google_{'project' if a in resources(stack, 'google_project_iam_member') else 'storage_bucket'}_iam_member.{a}": b
                for a, b in grants.items() if b["member"] == member}
        assert sorted(b["role"] for b in mine.values()) == [
            "roles/artifactregistry.writer", "roles/logging.logWriter", "roles/storage.objectViewer"], address
        assert set(mine) <= set(function["depends_on"]), address
def _strings(value):
    if isinstance(value, dict):
        for child in value.values():
            yield from _strings(child)
    elif isinstance(value, list):
        for child in value:
            yield from _strings(child)
    elif isinstance(value, str):
        yield value


@pytest.mark.parametrize("env", ["staging", "production"])
def test_no_primitive_role_in_any_value(stacks, env):
    """Beyond `role` attributes: policy documents (`policy_data`), bindings, conditions, outputs.
    Log-based metrics are left out: the change metric watches for roles/owner grants (CIS 2.4)."""
    stack = {key: value for key, value in stacks[env].items() if key != "resource"}
    stack["resource"] = {type_: bodies for type_, bodies in stacks[env].get("resource", {}).items()
                         if type_ != "google_logging_metric"}
    found = [match for value in _strings(stack) for match in PRIMITIVE_IN_TEXT.findall(value)]
    assert found == []


@pytest.mark.parametrize("env", ["staging", "production"])
def test_no_key_is_created_or_read_anywhere(stacks, env):
    stack = stacks[env]
    types = [*stack.get("resource", {}), *stack.get("data", {})]
    assert [t for t in types if "service_account_key" in t or t.endswith("_hmac_key")] == []
    assert "private_key" not in json.dumps(stack)
