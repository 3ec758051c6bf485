"""The last step: a file that passed every gate becomes its frozen EnvironmentConfig."""

from __future__ import annotations

from types import MappingProxyType

from environments.checks.shared import run_services, runtime_names
from environments.config import (
    ApiConfig,
    AutoPauseConfig,
    BackupConfig,
    ComplianceConfig,
    ConnectorConfig,
    CostConfig,
    DataConfig,
    DeliveryConfig,
    DR_SITE,
    DisasterRecoveryConfig,
    DrNetworkConfig,
    EdgeConfig,
    EnvironmentConfig,
    ErrorAlert,
    EventsConfig,
    ImagesConfig,
    KafkaOnCloudRunConfig,
    LatencyAlert,
    LoadProfileConfig,
    LockedCopyConfig,
    MaintenanceWindow,
    ManagedKafkaConfig,
    MonitoringConfig,
    NetworkConfig,
    PostgresAlerts,
    PostgresConfig,
    RedisAlerts,
    RedisConfig,
    ReplicaConfig,
    RunServiceConfig,
    RuntimeLoad,
    SloConfig,
    TopicConfig,
    TrafficSplit,
    UptimeConfig,
)


def build_config(data: dict, name: str, shown: str) -> EnvironmentConfig:
    project, network = data["project"], data["network"]
    return EnvironmentConfig(
        name=name,
        source=shown,
        project_id=project["id"],
        region=project["region"],
        dr_region=project["dr_region"],
        state_bucket=data["state"]["bucket"],
        extra_labels=MappingProxyType(dict(data["labels"])),
        network=NetworkConfig(
            subnet_cidr=network["subnet_cidr"],
            private_services_cidr=network["private_services_cidr"],
            flow_logs_sampling=float(network["flow_logs_sampling"]),
            connector=ConnectorConfig(**network["connector"]),
            dr=DrNetworkConfig(**network["dr"]) if "dr" in network else None,
        ),
        images=ImagesConfig(**data["images"]),
        frontend=_run_service("frontend", data["frontend"]),
        api=_api(data["api"]),
        microservices=tuple(
            _run_service(service_name, merged)
            for service_name, _, merged in run_services(data) if service_name != "frontend"
        ),
        data=_build_data(data["data"]),
        events=_events(data["events"]),
        delivery=DeliveryConfig(
            repository=data["delivery"]["repository"],
            repository_id=data["delivery"]["repository_id"],
            repository_owner_id=data["delivery"]["repository_owner_id"],
            deploy_branches=tuple(data["delivery"]["deploy_branches"]),
            plan_branches=tuple(data["delivery"]["plan_branches"]),
        ),
        load_profile=_load_profile(data),
        monitoring=_monitoring(data["monitoring"]),
        cost=_cost(data["cost"]),
        compliance=_compliance(data["compliance"]),
        disaster_recovery=_disaster_recovery(data["disaster_recovery"]),
        edge=_edge(data["edge"]),
    )


def _disaster_recovery(settings: dict) -> DisasterRecoveryConfig:
    active = settings["active_region"]
    return DisasterRecoveryConfig(
        drill_schedule=settings["drill_schedule"],
        time_zone=settings["time_zone"],
        active_region=active,
        # A failover gives up the old primary's site unless the file says it is rebuilt.
        standby=settings.get("standby", "forgotten" if active == DR_SITE else "replica"),
        sql_instances=MappingProxyType(dict(settings["sql_instances"])),
    )


def _monitoring(settings: dict) -> MonitoringConfig:
    return MonitoringConfig(
        notification_emails=tuple(settings["notification_emails"]),
        log_retention_days=settings["log_retention_days"],
        latency=LatencyAlert(**settings["latency"]),
        errors=ErrorAlert(ratio=float(settings["errors"]["ratio"]), duration_seconds=settings["errors"]["duration_seconds"]),
        scaling_duration_seconds=settings["scaling"]["duration_seconds"],
        postgres=PostgresAlerts(**{k: float(v) if k.endswith("utilization") else v for k, v in settings["postgres"].items()}),
        redis=RedisAlerts(memory_usage_ratio=float(settings["redis"]["memory_usage_ratio"]),
                          duration_seconds=settings["redis"]["duration_seconds"]),
        kafka_duration_seconds=settings["kafka"]["duration_seconds"],
        uptime=UptimeConfig(**settings["uptime"]),
        alerting=settings["alerting"],
        slo=SloConfig(**settings["slo"]) if "slo" in settings else None,
    )


def _cost(cost: dict) -> CostConfig:
    return CostConfig(
        billing_account=cost["billing_account"],
        currency=cost["currency"],
        monthly_amount=cost["monthly_amount"],
        tier_amounts=MappingProxyType(dict(sorted(cost["tier_amounts"].items()))),
        notification_emails=tuple(cost["notification_emails"]),
        run_hours=cost.get("run_hours"),
    )


def _edge(edge: dict) -> EdgeConfig:
    rate = edge["rate_limit"]
    return EdgeConfig(
        enabled=edge["enabled"],
        domains=tuple(edge["domains"]),
        waf_sensitivity=edge["waf_sensitivity"],
        rate_limit_requests=rate["requests"],
        rate_limit_interval_seconds=rate["interval_seconds"],
        ban_seconds=rate["ban_seconds"],
        allowed_ips=tuple(edge["allowed_ips"]),
        denied_ips=tuple(edge["denied_ips"]),
        cdn_default_ttl_seconds=edge["cdn_default_ttl_seconds"],
        log_sample_rate=edge["log_sample_rate"],
    )


def _compliance(compliance: dict) -> ComplianceConfig:
    return ComplianceConfig(
        organization_id=compliance.get("organization_id"),
        data_access_services=tuple(compliance["data_access_services"]),
        data_access_log_types=tuple(compliance["data_access_log_types"]),
        audit_log_retention_days=compliance["audit_log_retention_days"],
        lock_audit_bucket=compliance["lock_audit_bucket"],
        secret_rotation_days=compliance.get("secret_rotation_days"),
        notification_emails=tuple(compliance["notification_emails"]),
        change_alerts=compliance["change_alerts"],
    )


def _build_data(data: dict) -> DataConfig:
    pg, redis = data["postgres"], data["redis"]
    pause = pg.get("auto_pause")
    return DataConfig(
        postgres=PostgresConfig(
            database_version=pg["database_version"],
            edition=pg["edition"],
            tier=pg["tier"],
            availability=pg["availability"],
            disk_size_gb=pg["disk_size_gb"],
            disk_autoresize_limit_gb=pg["disk_autoresize_limit_gb"],
            deletion_protection=pg["deletion_protection"],
            databases=tuple(pg["databases"]),
            clients=tuple(pg["clients"]),
            query_insights=pg["query_insights"],
            backups=_backups(pg["backups"]),
            maintenance=MaintenanceWindow(**pg["maintenance"]),
            replica=ReplicaConfig(**pg["replica"]) if "replica" in pg else None,
            auto_pause=AutoPauseConfig(idle_minutes=pause["idle_minutes"], wake_schedule=pause.get("wake_schedule"),
                                       time_zone=pause["time_zone"]) if pause is not None else None,
        ),
        redis=RedisConfig(
            tier=redis["tier"],
            memory_size_gb=redis["memory_size_gb"],
            redis_version=redis["redis_version"],
            transit_encryption=redis["transit_encryption"],
            rdb_snapshot_period=redis["rdb_snapshot_period"],
            maintenance=MaintenanceWindow(**redis["maintenance"]),
            clients=tuple(redis["clients"]),
        ),
    )


def _backups(settings: dict) -> BackupConfig:
    values = dict(settings)
    copy_ = values.pop("locked_copy", None)
    return BackupConfig(**values, locked_copy=LockedCopyConfig(**copy_) if copy_ else None)


def _events(settings: dict) -> EventsConfig:
    # max_instances is not carried: the schema admits only 1 and the broker is always one instance.
    kafka = {key: value for key, value in settings["cloud_run"].items() if key != "max_instances"}
    return EventsConfig(
        backend=settings["backend"],
        topics=tuple(TopicConfig(name=name, **topic) for name, topic in sorted(settings["topics"].items())),
        producers=tuple(settings["producers"]),
        consumers=tuple(settings["consumers"]),
        cloud_run=KafkaOnCloudRunConfig(**kafka),
        managed=ManagedKafkaConfig(**settings["managed"]),
    )


def _run_service(name: str, settings: dict) -> RunServiceConfig:
    values = dict(settings)
    values["env"] = MappingProxyType(dict(values["env"]))
    values["calls"] = tuple(values["calls"])
    values["traffic"] = tuple(TrafficSplit(**split) for split in values.get("traffic", ()))
    return RunServiceConfig(name=name, **values)


def _api(settings: dict) -> ApiConfig:
    values = dict(settings)
    values["source_object"] = values.get("source_object")
    values["secrets"] = MappingProxyType(dict(values["secrets"]))
    values["env"] = MappingProxyType(dict(values["env"]))
    values["calls"] = tuple(values["calls"])
    return ApiConfig(**values)


KAFKA_RUNTIME = "kafka"  # the `service` label of the Kafka service on Cloud Run


def _load_profile(data: dict) -> LoadProfileConfig:
    profile = dict(data["load_profile"])
    listed = profile.pop("runtimes")
    mean = profile["mean_request_seconds"]
    runtimes = {}
    for runtime in runtime_names(data):
        load = listed.get(runtime, {"calls_per_request": 1})
        runtimes[runtime] = RuntimeLoad(float(load["calls_per_request"]), float(load.get("mean_request_seconds", mean)))
    events = data["events"]
    if events["backend"] == "cloud-run":
        # The broker's REST ingress takes one call per event published: each producer call, at most.
        published = sum(runtimes[name].calls_per_request for name in events["producers"])
        runtimes[KAFKA_RUNTIME] = RuntimeLoad(published, mean)
    numbers = {key: value if key == "requests_per_month" else float(value) for key, value in profile.items()}
    return LoadProfileConfig(runtimes=MappingProxyType(runtimes), **numbers)
