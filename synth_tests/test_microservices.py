"""The microservices tier: internal Cloud Run services from the environment file."""

import dataclasses
import json

import pytest

from environments.config import TrafficSplit
from synth_tests.helpers import api_function, api_function_address, address_of, member_of, only_address, ref, resources, run_service, service_account_address



def test_at_least_three_property_platform_services_are_shipped(configs):
    for config in configs.values():
        assert len(config.microservices) >= 3
        assert {"properties", "search", "bookings"} <= {s.name for s in config.microservices}


@pytest.mark.parametrize("env", ["staging", "production"])
def test_each_service_is_internal_with_direct_vpc_egress_and_its_own_identity(stacks, configs, env):
    stack = stacks[env]
    subnet = ref("google_compute_subnetwork", only_address(stack, "google_compute_subnetwork"))
    identities = set()
    for service in configs[env].microservices:
        body = run_service(stack, f"hexproperty-{env}-{service.name}")
        assert body["ingress"] == "INGRESS_TRAFFIC_INTERNAL_ONLY"
        assert body["invoker_iam_disabled"] is False
        (interface,) = body["template"]["vpc_access"]["network_interfaces"]
        assert interface["subnetwork"] == subnet
        account = service_account_address(stack, f"hp-{env}-{service.name}")
        assert body["template"]["service_account"] == ref("google_service_account", account, "email")
        identities.add(account)
        assert body["labels"]["tier"] == "microservices" and body["labels"]["service"] == service.name
    assert len(identities) == len(configs[env].microservices)


def test_per_service_overrides_win_over_defaults(tmp_path):
    import yaml

    from environments.loader import ENVIRONMENTS_DIR, load_all

    data = yaml.safe_load((ENVIRONMENTS_DIR / "staging.yaml").read_text())
    data["microservices"]["services"]["search"] = {"memory": "2Gi", "max_instances": 4}
    (tmp_path / "staging.yaml").write_text(yaml.safe_dump(data))
    (config,) = load_all(tmp_path)
    services = {s.name: s for s in config.microservices}
    assert (services["search"].memory, services["search"].max_instances) == ("2Gi", 4)
    assert services["search"].concurrency == services["properties"].concurrency == 80
    assert (services["properties"].memory, services["properties"].max_instances) == ("512Mi", 2)


@pytest.mark.parametrize("env", ["staging", "production"])
def test_scaling_comes_from_defaults_and_overrides(stacks, configs, env):
    for service in configs[env].microservices:
        template = run_service(stacks[env], f"hexproperty-{env}-{service.name}")["template"]
        assert template["scaling"] == {"min_instance_count": service.min_instances, "max_instance_count": service.max_instances}
        assert template["containers"][0]["resources"]["limits"]["memory"] == service.memory
        assert template["max_instance_request_concurrency"] == service.concurrency


def _expected_invocations(stack, config):
    """(callee resource name reference, caller member reference) for every declared call."""
    def callee_ref(callee):
        if callee == "api":
            return ref("google_cloudfunctions2_function", api_function_address(stack), "name")
        return ref("google_cloud_run_v2_service", address_of(stack, "google_cloud_run_v2_service", f"hexproperty-{config.name}-{callee}"), "name")

    callers = [("frontend", config.frontend.calls), ("api", config.api.calls)]
    callers += [(s.name, s.calls) for s in config.microservices]
    # Kafka producers and consumers invoke the events tier's REST proxy (cloud-run backend).
    if config.events.backend == "cloud-run":
        callers += [(client, ["kafka"]) for client in config.events.clients]
    return sorted((callee_ref(callee), member_of(stack, f"hp-{config.name}-{caller}"))
                  for caller, calls in callers for callee in calls)


@pytest.mark.parametrize("env", ["staging", "production"])
def test_run_invoker_is_granted_for_exactly_the_declared_calls(stacks, configs, env):
    stack = stacks[env]
    bindings = {a: b for a, b in resources(stack, "google_cloud_run_v2_service_iam_member").items()
                # Not runtime calls: the data tier's auto-pause push identity, the API uptime check's
                # agent, the CI smoke tests (synth_tests/test_delivery.py).
                if not a.startswith(("data_", "monitoring_", "api_invoker-smoke-tests"))}
    granted = sorted((b["name"], b["member"]) for b in bindings.values())
    assert all(b["role"] == "roles/run.invoker" for b in resources(stack, "google_cloud_run_v2_service_iam_member").values())
    assert granted == _expected_invocations(stack, configs[env])


def test_callers_receive_callee_urls(staging):
    (container,) = run_service(staging, "hexproperty-staging-bookings")["template"]["containers"]
    notifications = address_of(staging, "google_cloud_run_v2_service", "hexproperty-staging-notifications")
    assert {"name": "NOTIFICATIONS_URL", "value": ref("google_cloud_run_v2_service", notifications, "uri")} in container["env"]


def test_pinned_traffic_becomes_revision_targets_with_tags(configs):
    from cdktf import Testing

    from constructs.stack import HexPropertyStack

    config = configs["production"]
    frontend = dataclasses.replace(config.frontend, traffic=(
        TrafficSplit(percent=100, revision="hexproperty-production-frontend-blue", tag="blue"),
        TrafficSplit(percent=0, revision="hexproperty-production-frontend-green", tag="green"),
    ))
    stack = json.loads(Testing.synth(HexPropertyStack(Testing.app(), dataclasses.replace(config, frontend=frontend))))
    assert run_service(stack, "hexproperty-production-frontend")["traffic"] == [
        {"percent": 100, "revision": "hexproperty-production-frontend-blue", "tag": "blue",
         "type": "TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION"},
        {"percent": 0, "revision": "hexproperty-production-frontend-green", "tag": "green",
         "type": "TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION"},
    ]
