"""The network tier and the stack's foundation, in both environments."""

import ipaddress

import pytest

from synth_tests.helpers import ENVS, only, ref, resources



@pytest.fixture(params=ENVS)
def env(request, stacks, configs):
    return stacks[request.param], configs[request.param]


def test_provider_and_backend(env):
    stack, config = env
    (google,) = stack["provider"]["google"]
    assert google["project"] == config.project_id
    assert google["region"] == config.region
    assert google["default_labels"] == {"app": "hexproperty", "env": config.name, "managed-by": "cdktf",
                                        "cost-center": "platform"}
    assert stack["terraform"]["backend"] == {"gcs": {"bucket": config.state_bucket, "prefix": config.name}}
    assert stack["terraform"]["required_providers"]["google"]["version"] == "6.50.0"


def test_apis_stay_enabled_on_destroy(env):
    stack, _ = env
    apis = resources(stack, "google_project_service")
    services = {body["service"] for body in apis.values()}
    assert {"compute.googleapis.com", "servicenetworking.googleapis.com", "vpcaccess.googleapis.com"} <= services
    assert all(body["disable_on_destroy"] is False for body in apis.values())


def test_custom_mode_vpc(env):
    stack, config = env
    vpc = only(stack, "google_compute_network")
    assert vpc["auto_create_subnetworks"] is False
    assert vpc["name"] == f"hexproperty-{config.name}-vpc"


def test_direct_vpc_subnet_is_26_or_larger_with_private_google_access(env):
    stack, config = env
    subnet = only(stack, "google_compute_subnetwork")
    assert ipaddress.IPv4Network(subnet["ip_cidr_range"]).prefixlen <= 26
    assert subnet["ip_cidr_range"] == config.network.subnet_cidr
    assert subnet["private_ip_google_access"] is True
    assert subnet["region"] == config.region
    assert subnet["log_config"]["flow_sampling"] == config.network.flow_logs_sampling


def test_private_services_access(env):
    stack, config = env
    # The one internal global address (production's edge has an external one of its own).
    (address_id, address), = [(a, b) for a, b in resources(stack, "google_compute_global_address").items()
                              if b["address_type"] == "INTERNAL"]
    psa = ipaddress.IPv4Network(config.network.private_services_cidr)
    assert (address["purpose"], address["address_type"]) == ("VPC_PEERING", "INTERNAL")
    assert (address["address"], address["prefix_length"]) == (str(psa.network_address), psa.prefixlen)
    connection = only(stack, "google_service_networking_connection")
    assert connection["service"] == "servicenetworking.googleapis.com"
    assert connection["reserved_peering_ranges"] == [ref("google_compute_global_address", address_id, "name")]
    assert connection["deletion_policy"] == "ABANDON"


def test_connector_for_the_function(env):
    stack, config = env
    connector = only(stack, "google_vpc_access_connector")
    assert len(connector["name"]) <= 25
    assert connector["ip_cidr_range"] == config.network.connector.cidr
    assert (connector["min_instances"], connector["max_instances"]) == (
        config.network.connector.min_instances, config.network.connector.max_instances)
    assert connector["region"] == config.region


def test_cloud_nat_covers_every_subnet(env):
    stack, config = env
    (router_id,) = resources(stack, "google_compute_router")
    nat = only(stack, "google_compute_router_nat")
    assert nat["router"] == ref("google_compute_router", router_id, "name")
    assert nat["source_subnetwork_ip_ranges_to_nat"] == "ALL_SUBNETWORKS_ALL_IP_RANGES"
    assert nat["region"] == config.region


def test_vpc_accepts_no_ingress_from_outside(env):
    stack, config = env
    firewall = only(stack, "google_compute_firewall")
    assert (firewall["direction"], firewall["source_ranges"], firewall["deny"]) == ("INGRESS", ["0.0.0.0/0"], [{"protocol": "all"}])
    assert "allow" not in firewall and firewall["log_config"]["metadata"] == "INCLUDE_ALL_METADATA"
