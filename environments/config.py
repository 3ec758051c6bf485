"""Typed, frozen configuration objects built by the loader.

Resources read these, never the raw YAML. Names and labels are derived here so
every tier spells them the same way (DESIGN.md section 4).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping, Optional

APP = "hexproperty"
# Short prefix for names Google caps tightly (service account ids 6-30, connectors 25).
SHORT_APP = "hp"
MANAGED_BY = "cdktf"
# Every `tier` label value the constructs set: per-tier budgets filter on them.
TIERS = ("network", "frontend", "api", "microservices", "data", "events", "delivery", "monitoring", "operations")

# The two sites of an environment: project.region and project.dr_region.
PRIMARY_SITE, DR_SITE = "primary", "dr"
# Bucket names are global: the DR site's copy of a regional bucket carries this suffix.
DR_BUCKET_SUFFIX = "-dr"

# What a bucket holds, as a label beside the cost labels: `function-sources` buckets hold only
# archives the stack uploads again from the repository; every other bucket holds the application's
# data, which `make diff` and the policy pack protect (policies/protected.py).
BUCKET_CONTENT_LABEL = "content"
REBUILT_CONTENT = "function-sources"


@dataclass(frozen=True)
class ConnectorConfig:
    cidr: str
    machine_type: str
    min_instances: int
    max_instances: int


@dataclass(frozen=True)
class DrNetworkConfig:
    """The DR region's own ranges: its subnet and connector sit in the same VPC as the primary
    region's (which a failover leaves in place, forgotten), so they cannot reuse those ranges."""

    subnet_cidr: str
    connector_cidr: str


@dataclass(frozen=True)
class NetworkConfig:
    subnet_cidr: str
    private_services_cidr: str
    flow_logs_sampling: float
    connector: ConnectorConfig
    dr: Optional[DrNetworkConfig] = None

    def subnet_cidr_in(self, site: str) -> str:
        return self.dr.subnet_cidr if site == DR_SITE else self.subnet_cidr

    def connector_cidr_in(self, site: str) -> str:
        return self.dr.connector_cidr if site == DR_SITE else self.connector.cidr


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
    data: DataConfig
    events: EventsConfig
    delivery: DeliveryConfig
    load_profile: LoadProfileConfig
    monitoring: MonitoringConfig
    cost: CostConfig
    compliance: ComplianceConfig
    disaster_recovery: DisasterRecoveryConfig
    edge: EdgeConfig

    @property
    def is_production(self) -> bool:
        return self.name == "production"

    def resource_name(self, component: str) -> str:
        """`hexproperty-<env>-<component>`: the name of most resources."""
        return f"{APP}-{self.name}-{component}"

    @property
    def has_dr_site(self) -> bool:
        """A cross-region replica makes project.dr_region a site the environment can fail over to."""
        return self.data.postgres.replica is not None

    @property
    def sites(self) -> tuple[str, ...]:
        """The sites the environment has resources in: the primary, and the DR site if any."""
        return (PRIMARY_SITE, DR_SITE) if self.has_dr_site else (PRIMARY_SITE,)

    def region_of(self, site: str) -> str:
        return self.dr_region if site == DR_SITE else self.region

    @property
    def active_region(self) -> str:
        """Where the runtimes, their network, Redis and Kafka run, and where the database is written."""
        return self.region_of(self.disaster_recovery.active_site)

    def site_bucket_name(self, component: str, site: str) -> str:
        """A regional bucket of one site (function sources, the Kafka log)."""
        return self.resource_name(component) + (DR_BUCKET_SUFFIX if site == DR_SITE else "")

    def sql_instance_name(self, site: str) -> str:
        """The Cloud SQL instance a site holds (disaster_recovery.sql_instances)."""
        return self.resource_name(self.disaster_recovery.sql_instances[site])

    @property
    def sql_writer_name(self) -> str:
        """The Cloud SQL instance that takes writes: the active site's."""
        return self.sql_instance_name(self.disaster_recovery.active_site)

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


# --- the data tier (issue 4) -------------------------------------------------------

DAYS = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")


@dataclass(frozen=True)
class MaintenanceWindow:
    day: str
    hour: int
    update_track: Optional[str] = None

    @property
    def day_number(self) -> int:
        """Cloud SQL counts days 1 (Monday) to 7 (Sunday); Memorystore spells them out."""
        return DAYS.index(self.day) + 1


@dataclass(frozen=True)
class LockedCopyConfig:
    """The daily export into a retention-locked bucket in the DR region (docs/decisions/backup-copy.md)."""

    retention_days: int
    schedule: str
    image: str


@dataclass(frozen=True)
class BackupConfig:
    enabled: bool
    start_time: str
    retained: int
    point_in_time_recovery: bool
    log_retention_days: int
    locked_copy: Optional[LockedCopyConfig] = None


@dataclass(frozen=True)
class ReplicaConfig:
    tier: str


@dataclass(frozen=True)
class AutoPauseConfig:
    idle_minutes: int
    wake_schedule: Optional[str]
    time_zone: str


@dataclass(frozen=True)
class PostgresConfig:
    database_version: str
    edition: str
    tier: str
    availability: str
    disk_size_gb: int
    disk_autoresize_limit_gb: int
    deletion_protection: bool
    databases: tuple[str, ...]
    clients: tuple[str, ...]
    query_insights: bool
    backups: BackupConfig
    maintenance: MaintenanceWindow
    replica: Optional[ReplicaConfig]
    auto_pause: Optional[AutoPauseConfig]


@dataclass(frozen=True)
class RedisConfig:
    tier: str
    memory_size_gb: int
    redis_version: str
    transit_encryption: bool
    rdb_snapshot_period: str
    maintenance: MaintenanceWindow
    clients: tuple[str, ...]


@dataclass(frozen=True)
class DataConfig:
    postgres: PostgresConfig
    redis: RedisConfig


class DataNames:
    """Name components of the data tier: the constructs use them, the loader checks their lengths."""

    SQL = "pg"
    SQL_REPLICA = "pg-dr"
    SQL_COPY = "sql-copy"  # the locked copy: its bucket, job, identity and custom role
    REDIS = "redis"
    REDIS_AUTH = "redis-auth"
    # auto-pause (staging): the function's source bucket, its identity, the identity Eventarc pushes with
    PAUSE_SOURCE = "sql-power-src"
    PAUSE_ACCOUNT = "sql-power"
    PAUSE_PUSH_ACCOUNT = "sql-idle-push"
    PAUSE_FUNCTION = "sql-autopause"
    PAUSE_TOPIC = "sql-idle"
    WAKE_JOB = "sql-wake"

    @staticmethod
    def custom_role_id(resource_name: str) -> str:
        """Custom role ids allow letters, digits, `_` and `.`, no hyphens."""
        return resource_name.replace("-", "_")


@dataclass(frozen=True)
class DeliveryConfig:
    """Who may plan and deploy: the trusted GitHub repository (by name and numeric id), the
    branches whose pushes deploy this environment, and the base branches of the pull requests
    planned against it."""

    repository: str
    repository_id: int
    repository_owner_id: int
    deploy_branches: tuple[str, ...]
    plan_branches: tuple[str, ...]


@dataclass(frozen=True)
class TopicConfig:
    name: str
    partitions: int
    retention_hours: int


@dataclass(frozen=True)
class KafkaOnCloudRunConfig:
    """The seed's design: one Cloud Run instance, a REST proxy in front of a KRaft broker.
    There is no max_instances: a broker is always exactly one instance (the loader refuses more)."""

    proxy_image: str
    broker_image: str
    min_instances: int
    proxy_cpu: int
    proxy_memory: str
    broker_cpu: int
    broker_memory: str
    noncurrent_versions_kept: int
    noncurrent_days: int


@dataclass(frozen=True)
class ManagedKafkaConfig:
    vcpu: int
    memory_gib: int


@dataclass(frozen=True)
class EventsConfig:
    """The events tier; `backend` is `cloud-run` or `managed`."""

    backend: str
    topics: tuple[TopicConfig, ...]
    producers: tuple[str, ...]
    consumers: tuple[str, ...]
    cloud_run: KafkaOnCloudRunConfig
    managed: ManagedKafkaConfig

    @property
    def clients(self) -> tuple[str, ...]:
        """Every runtime that produces or consumes, once each, sorted."""
        return tuple(sorted({*self.producers, *self.consumers}))
@dataclass(frozen=True)
class RuntimeLoad:
    """The share of the environment's traffic one runtime serves (cost estimate only)."""

    calls_per_request: float
    mean_request_seconds: float


@dataclass(frozen=True)
class LoadProfileConfig:
    """Monthly traffic the cost estimate prices on top of idle (cost/, `make cost`).

    `runtimes` holds the frontend, the API and every microservice of the file, each with the
    file's values or the default: one call per request at the profile's mean duration; and, when
    Kafka runs on Cloud Run, `kafka`: one call per producer call (each producer call is taken to
    publish one event through the broker's REST ingress).
    """

    requests_per_month: int
    mean_request_seconds: float
    egress_gib_per_month: float
    nat_gib_per_month: float
    log_gib_per_month: float
    image_storage_gib: float
    bucket_storage_gib: float
    runtimes: Mapping[str, RuntimeLoad]
    audit_log_gib_per_month: float = 0.0
    network_log_gib_per_month: float = 0.0
    database_gib: float = 0.0
    database_change_gib_per_month: float = 0.0

    def runtime(self, name: str) -> RuntimeLoad:
        """The load of runtime `name`. A runtime the file does not define (an infrastructure
        function, the Kafka broker) serves no user requests: zero calls, its idle cost only."""
        return self.runtimes.get(name, RuntimeLoad(0.0, self.mean_request_seconds))


# --- monitoring (issue 6) -------------------------------------------------------------


@dataclass(frozen=True)
class LatencyAlert:
    percentile: int  # 95 or 99
    threshold_ms: int
    duration_seconds: int


@dataclass(frozen=True)
class ErrorAlert:
    ratio: float  # 5xx responses over all responses
    duration_seconds: int


@dataclass(frozen=True)
class PostgresAlerts:
    cpu_utilization: float
    memory_utilization: float
    disk_utilization: float
    connections: int
    duration_seconds: int


@dataclass(frozen=True)
class RedisAlerts:
    memory_usage_ratio: float
    duration_seconds: int


@dataclass(frozen=True)
class UptimeConfig:
    period_seconds: int
    timeout_seconds: int
    frontend_path: str
    api_path: str
    duration_seconds: int


@dataclass(frozen=True)
class SloConfig:
    """The frontend's availability and latency objectives over a rolling window."""

    availability_target: float
    latency_target: float
    latency_threshold_ms: int
    window_days: int


@dataclass(frozen=True)
class MonitoringConfig:
    """Notification channels, alert thresholds and durations, uptime checks, log retention."""

    notification_emails: tuple[str, ...]
    log_retention_days: int
    latency: LatencyAlert
    errors: ErrorAlert
    scaling_duration_seconds: int
    postgres: PostgresAlerts
    redis: RedisAlerts
    kafka_duration_seconds: int
    uptime: UptimeConfig
    # "per-runtime"; "broad": one condition per signal over all runtimes; "none": no condition that
    # notifies a person (the dashboard, uptime checks, Sentry and the deploy's smoke tests remain).
    alerting: str = "per-runtime"
    slo: Optional["SloConfig"] = None

    @property
    def broad(self) -> bool:
        return self.alerting == "broad"

    @property
    def notifies(self) -> bool:
        return self.alerting != "none"


# --- cost and compliance (issue 6) ---------------------------------------------------


@dataclass(frozen=True)
class CostConfig:
    """Billing budgets: one for the environment's project, one per tier label."""

    billing_account: str
    currency: str
    monthly_amount: int
    tier_amounts: Mapping[str, int]
    notification_emails: tuple[str, ...]
    # Hours one run lasts, for an environment that exists only while used (the drill); None: always up.
    run_hours: Optional[int] = None


@dataclass(frozen=True)
class ComplianceConfig:
    """Audit logging, the audit-log bucket, secret rotation and (with an organization) location policy."""

    organization_id: Optional[str]
    data_access_services: tuple[str, ...]
    data_access_log_types: tuple[str, ...]
    audit_log_retention_days: int
    lock_audit_bucket: bool
    secret_rotation_days: Optional[int]
    notification_emails: tuple[str, ...]
    change_alerts: bool

    @property
    def data_access_everywhere(self) -> bool:
        return self.data_access_services == ("allServices",)


@dataclass(frozen=True)
class EdgeConfig:
    """The load balancer in front of the frontend, its certificate, Cloud Armor policy and CDN."""

    enabled: bool
    domains: tuple[str, ...]
    waf_sensitivity: int
    rate_limit_requests: int
    rate_limit_interval_seconds: int
    ban_seconds: int
    allowed_ips: tuple[str, ...]
    denied_ips: tuple[str, ...]
    cdn_default_ttl_seconds: int
    log_sample_rate: float


@dataclass(frozen=True)
class DisasterRecoveryConfig:
    """When the drill reminder fires, which site is active, and what the other one holds
    (docs/runbooks/disaster-recovery.md, Region failover and failback).

    - `active_region`: the site (`primary` or `dr`) where the runtimes run and the database is written.
    - `standby`: the other site's Cloud SQL instance is a `replica` of the writer, or `forgotten`
      (taken out of Terraform's state with everything else of that site, left in Google Cloud).
    - `sql_instances`: each site's Cloud SQL instance name component; a rebuilt one needs a new name.
    """

    drill_schedule: str
    time_zone: str
    active_region: str = PRIMARY_SITE
    standby: str = "replica"
    sql_instances: Mapping[str, str] = field(
        default_factory=lambda: MappingProxyType({PRIMARY_SITE: DataNames.SQL, DR_SITE: DataNames.SQL_REPLICA}))

    @property
    def active_site(self) -> str:
        return self.active_region

    @property
    def standby_site(self) -> str:
        return PRIMARY_SITE if self.active_region == DR_SITE else DR_SITE

    @property
    def forgets_standby(self) -> bool:
        """The standby site was given up (its region lost, or the old writer after a failback): every
        resource of it is forgotten, and the databases and users are adopted from the new writer."""
        return self.standby == "forgotten"
