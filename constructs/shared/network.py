"""The network tier: VPC, Direct VPC egress subnet, private services access, connector, Cloud NAT.

The VPC, its firewall and private services access are global. The subnet, the connector, the
router and NAT live in the active region (constructs/shared/sites.py): a failover builds them in
the DR region from network.dr's ranges."""

from __future__ import annotations

import ipaddress
from functools import cached_property
from typing import TYPE_CHECKING

from cdktf import TerraformOutput
from constructs import Construct

from constructs.google import (
    compute_firewall,
    compute_global_address,
    compute_network,
    compute_router,
    compute_router_nat,
    compute_subnetwork,
    service_networking_connection,
    vpc_access_connector,
)
from constructs.shared.protection import keep
from constructs.shared.sites import place
from environments.config import EnvironmentConfig

if TYPE_CHECKING:
    from constructs.shared.apis import Apis

TIER = "network"


class Network(Construct):
    """Owns the VPC every private resource lives in and hands consumers its ids.

    - `vpc_id`, `subnet_id`: Cloud Run's Direct VPC egress interface.
    - `connector_id`: the Serverless VPC Access connector (Cloud Functions on provider 6.50
      has no Direct VPC egress).
    - `private_services`: depend on it before creating Cloud SQL or Memorystore.
    """

    def __init__(self, scope: Construct, id_: str, *, config: EnvironmentConfig, apis: "Apis"):
        super().__init__(scope, id_)
        net, site = config.network, config.disaster_recovery.active_site
        compute = apis.enable("compute.googleapis.com")

        self.vpc = compute_network.ComputeNetwork(
            self,
            "vpc",
            name=config.resource_name("vpc"),
            auto_create_subnetworks=False,
            routing_mode="REGIONAL",
            depends_on=[compute],
        )
        self.subnet = compute_subnetwork.ComputeSubnetwork(
            self,
            "run-subnet",
            name=config.resource_name("run"),
            region=config.active_region,
            network=self.vpc.id,
            ip_cidr_range=net.subnet_cidr_in(site),
            # Lets Cloud Run reach Google APIs, and makes *.run.app calls through the VPC count as internal.
            private_ip_google_access=True,
            log_config=compute_subnetwork.ComputeSubnetworkLogConfig(
                aggregation_interval="INTERVAL_5_MIN",
                flow_sampling=net.flow_logs_sampling,
                metadata="INCLUDE_ALL_METADATA",
            ),
        )
        place(self.subnet, config)

        # Nothing in this VPC accepts connections from outside it: serverless runtimes reach
        # private services by egress only. An explicit, logged deny replaces the implied one.
        compute_firewall.ComputeFirewall(
            self,
            "deny-ingress",
            name=config.resource_name("deny-ingress"),
            network=self.vpc.id,
            direction="INGRESS",
            priority=65534,
            source_ranges=["0.0.0.0/0"],
            deny=[compute_firewall.ComputeFirewallDeny(protocol="all")],
            log_config=compute_firewall.ComputeFirewallLogConfig(metadata="INCLUDE_ALL_METADATA"),
        )

        psa_range = ipaddress.IPv4Network(net.private_services_cidr)
        self.private_services_range = compute_global_address.ComputeGlobalAddress(
            self,
            "private-services-range",
            name=config.resource_name("psa"),
            purpose="VPC_PEERING",
            address_type="INTERNAL",
            address=str(psa_range.network_address),
            prefix_length=psa_range.prefixlen,
            network=self.vpc.id,
            labels=config.labels(TIER, "private-services-access"),
        )
        keep(self.private_services_range, config, "private_services_range")
        self.private_services = service_networking_connection.ServiceNetworkingConnection(
            self,
            "private-services",
            network=self.vpc.id,
            service="servicenetworking.googleapis.com",
            reserved_peering_ranges=[self.private_services_range.name],
            # Removing the peering while Cloud SQL still holds addresses fails the destroy;
            # Google tears it down with the network instead.
            deletion_policy="ABANDON",
            depends_on=[apis.enable("servicenetworking.googleapis.com")],
        )
        keep(self.private_services, config, "private_services_peering")

        self.connector = vpc_access_connector.VpcAccessConnector(
            self,
            "connector",
            name=config.short_name("conn"),
            region=config.active_region,
            network=self.vpc.name,
            ip_cidr_range=net.connector_cidr_in(site),
            machine_type=net.connector.machine_type,
            min_instances=net.connector.min_instances,
            max_instances=net.connector.max_instances,
            depends_on=[apis.enable("vpcaccess.googleapis.com")],
        )
        place(self.connector, config)

        router = compute_router.ComputeRouter(
            self, "router", name=config.resource_name("router"), region=config.active_region, network=self.vpc.id
        )
        place(router, config)
        nat = compute_router_nat.ComputeRouterNat(
            self,
            "nat",
            name=config.resource_name("nat"),
            router=router.name,
            region=config.active_region,
            # Runtimes send all egress through the VPC (so calls to internal services count as
            # internal); NAT is their way out to the internet.
            nat_ip_allocate_option="AUTO_ONLY",
            source_subnetwork_ip_ranges_to_nat="ALL_SUBNETWORKS_ALL_IP_RANGES",
            log_config=compute_router_nat.ComputeRouterNatLogConfig(enable=True, filter="ERRORS_ONLY"),
        )
        place(nat, config)

        TerraformOutput(self, "vpc-id", value=self.vpc_id)
        TerraformOutput(self, "subnet-id", value=self.subnet_id)
        TerraformOutput(self, "connector-id", value=self.connector_id)

    # Cached: every runtime's egress settings read them, and each read is a round trip into jsii.
    @cached_property
    def vpc_id(self) -> str:
        return self.vpc.id

    @cached_property
    def subnet_id(self) -> str:
        return self.subnet.id

    @cached_property
    def connector_id(self) -> str:
        return self.connector.id
