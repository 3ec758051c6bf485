"""Typed, frozen configuration objects built by the loader.

Resources read these, never the raw YAML. Names and labels are derived here so
every tier spells them the same way (DESIGN.md section 4).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping

APP = "hexproperty"
# Short prefix for names Google caps tightly (service account ids 6-30, connectors 25).
SHORT_APP = "hp"
MANAGED_BY = "cdktf"


@dataclass(frozen=True)
class ConnectorConfig:
    cidr: str
    machine_type: str
    min_instances: int
    max_instances: int


@dataclass(frozen=True)
class NetworkConfig:
    subnet_cidr: str
    private_services_cidr: str
    flow_logs_sampling: float
    connector: ConnectorConfig


@dataclass(frozen=True)
class EnvironmentConfig:
    name: str
    source: str
    project_id: str
    region: str
    dr_region: str
    state_bucket: str
    extra_labels: Mapping[str, str]
    network: NetworkConfig
    delivery: DeliveryConfig

    def resource_name(self, component: str) -> str:
        """`hexproperty-<env>-<component>`: the name of most resources."""
        return f"{APP}-{self.name}-{component}"

    def short_name(self, component: str) -> str:
        """`hp-<env>-<component>`: for service accounts and connectors."""
        return f"{SHORT_APP}-{self.name}-{component}"

    @property
    def base_labels(self) -> Mapping[str, str]:
        """Labels every resource carries whatever its tier (also the provider's default labels)."""
        return MappingProxyType({**self.extra_labels, "app": APP, "env": self.name, "managed-by": MANAGED_BY})

    def labels(self, tier: str, service: str) -> dict[str, str]:
        """The full cost-attribution label set of one resource (DESIGN.md section 4)."""
        return {**self.base_labels, "tier": tier, "service": service}


@dataclass(frozen=True)
class DeliveryConfig:
    """Who may deploy: the trusted GitHub repository and this environment's deploy branches."""

    repository: str
    deploy_branches: tuple[str, ...]

    @property
    def exact_branches(self) -> tuple[str, ...]:
        """Deploy branches named exactly (`main`)."""
        return tuple(b for b in self.deploy_branches if not b.endswith("/*"))

    @property
    def branch_families(self) -> tuple[str, ...]:
        """Prefixes of the `<prefix>/*` deploy branches (`release/*` gives `release`)."""
        return tuple(b[: -len("/*")] for b in self.deploy_branches if b.endswith("/*"))
