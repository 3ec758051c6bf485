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
class TrafficSplit:
    percent: int
    revision: str | None = None  # None: the latest revision
    tag: str | None = None


@dataclass(frozen=True)
class RunServiceConfig:
    """A Cloud Run v2 service: the frontend or one microservice."""

    name: str
    image: str
    min_instances: int
    max_instances: int
    cpu: int
    memory: str
    concurrency: int
    timeout_seconds: int
    cpu_idle: bool
    port: int
    startup_probe_path: str
    env: Mapping[str, str]
    calls: tuple[str, ...]
    traffic: tuple[TrafficSplit, ...]


@dataclass(frozen=True)
class ApiConfig:
    """The Cloud Functions (2nd gen) API layer."""

    runtime: str
    entry_point: str
    memory: str
    timeout_seconds: int
    min_instances: int
    max_instances: int
    ingress: str
    public: bool
    source_object: str | None
    secrets: Mapping[str, str]
    env: Mapping[str, str]
    calls: tuple[str, ...]


@dataclass(frozen=True)
class ImagesConfig:
    keep_recent_versions: int
    delete_untagged_after_days: int


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
    images: ImagesConfig
    frontend: RunServiceConfig
    api: ApiConfig
    microservices: tuple[RunServiceConfig, ...]
    load_profile: LoadProfileConfig

    @property
    def is_production(self) -> bool:
        return self.name == "production"

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
class RuntimeLoad:
    """The share of the environment's traffic one runtime serves (cost estimate only)."""

    calls_per_request: float
    mean_request_seconds: float


@dataclass(frozen=True)
class LoadProfileConfig:
    """Monthly traffic the cost estimate prices on top of idle (cost/, `make cost`).

    `runtimes` holds the frontend, the API and every microservice of the file, each with the
    file's values or the default: one call per request at the profile's mean duration.
    """

    requests_per_month: int
    mean_request_seconds: float
    concurrency_fill: float
    egress_gib_per_month: float
    nat_gib_per_month: float
    log_gib_per_month: float
    image_storage_gib: float
    bucket_storage_gib: float
    runtimes: Mapping[str, RuntimeLoad]

    def runtime(self, name: str) -> RuntimeLoad:
        """The load of runtime `name`. A runtime the file does not define (an infrastructure
        function, the Kafka broker) serves no user requests: zero calls, its idle cost only."""
        return self.runtimes.get(name, RuntimeLoad(0.0, self.mean_request_seconds))
