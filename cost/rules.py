"""One pricing rule per resource type: the monthly cost of one resource, idle and under load.

A rule returns a Cost, None when the resource has no charge of its own (an IAM grant, an
enabled API), or raises Unpriced with the reason the estimate cannot price it. Idle is what
the resource costs with no traffic; under load adds the environment's load profile.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Callable
from zoneinfo import ZoneInfo

from cronsim import CronSim

from cost.load_model import IDLE_KEEP_SECONDS, ROUNDING_SECONDS, occupancy
from cost import observability
from cost.context import Context, Cost, Unpriced
from cost.observability import DAYS_PER_MONTH
from cost.stack import Resource, block, find, gib, quantity, resources
from environments.config import DataNames


# --- Cloud Run services and Cloud Run functions ------------------------------------------


@dataclass(frozen=True)
class Serverless:
    runtime: str  # the `service` label: the key of load_profile.runtimes
    vcpu: float
    gib: float
    min_instances: int
    max_instances: int
    concurrency: int
    request_based: bool  # cpu_idle true: request-based billing


def _serverless(unit: Serverless, ctx: Context) -> Cost:
    """Request-based: min instances bill the idle rate while they serve nothing, busy instances the
    active rate plus a fee per request. Instance-based (cpu_idle false): every second an instance
    lives bills the instance rate, busy or not, and there is no request fee
    (cloud.google.com/run/pricing). How many instances are busy or alive: cost/load_model.py."""
    load = ctx.profile.runtime(unit.runtime)
    requests = ctx.profile.requests_per_month * load.calls_per_request
    rate = requests / ctx.seconds
    seen = occupancy(rate, load.mean_request_seconds, unit.concurrency, unit.min_instances, unit.max_instances)
    notes = [] if unit.runtime in ctx.profile.runtimes else [
        f"runtime {unit.runtime!r} is not one the environment file defines: no requests in the load profile"]
    if seen.saturated > 0.01:
        notes.append(f"all {unit.max_instances} instances full {seen.saturated:.0%} of the time: requests queue or fail")
    floor = unit.min_instances * ctx.seconds  # instance-seconds the min instances are up
    shape = f"{unit.vcpu:.3g} vCPU, {unit.gib:.3g} GiB"
    queue = (f"{requests:,.0f} requests, {seen.in_flight:.3g} in flight on average (Poisson), "
             f"up to {unit.concurrency} per instance")
    if unit.request_based:
        idle_rate = unit.vcpu * ctx.usd("run_idle_cpu") + unit.gib * ctx.usd("run_idle_memory")
        active_rate = unit.vcpu * ctx.usd("run_request_cpu") + unit.gib * ctx.usd("run_request_memory")
        busy = (seen.busy + seen.stretch_starts * ROUNDING_SECONDS) * ctx.seconds
        idle = floor * idle_rate
        # Busy time is served first by the min instances, which stop billing the idle rate meanwhile.
        under_load = busy * active_rate + requests * ctx.usd("run_requests") + seen.idle_min * ctx.seconds * idle_rate
        basis = (f"{unit.min_instances} min x ({shape}) at the idle rate; {queue}: {busy:,.0f} busy instance-s "
                 "(100 ms rounding included)")
    else:
        rate_per_s = unit.vcpu * ctx.usd("run_instance_cpu") + unit.gib * ctx.usd("run_instance_memory")
        idle = floor * rate_per_s
        alive = seen.alive * ctx.seconds if requests else floor
        under_load = alive * rate_per_s
        basis = (f"{unit.min_instances} min x ({shape}) always allocated; {queue}: {alive:,.0f} instance-s alive "
                 f"(an idle instance lives {IDLE_KEEP_SECONDS // 60} min after its last request)")
    return Cost(idle, under_load, basis, tuple(notes))


def cloud_run_service(r: Resource, ctx: Context) -> Cost:
    template = block(r.body, "template")
    containers = template.get("containers") or [{}]
    vcpu = memory = 0.0
    request_based = True
    # An instance bills the sum of its containers (sidecars included); Cloud Run's defaults
    # are 1 vCPU and 512Mi per container.
    for container in containers:
        res = block(container, "resources")
        limits = res.get("limits") or {}
        vcpu += quantity(limits.get("cpu", "1"))
        memory += gib(limits.get("memory", "512Mi"))
        # Once `resources` is set, cpu_idle must be set true to stay request-based (provider docs).
        request_based = request_based and bool(res.get("cpu_idle", not res))
    scaling, service_scaling = block(template, "scaling"), block(r.body, "scaling")
    low = max(scaling.get("min_instance_count", 0), service_scaling.get("min_instance_count", 0))
    high = scaling.get("max_instance_count", 100)
    if service_scaling.get("scaling_mode") == "MANUAL":
        low = high = service_scaling.get("manual_instance_count", 0)
    return _serverless(Serverless(
        runtime=r.labels.get("service", r.display_name), vcpu=vcpu, gib=memory, min_instances=low,
        max_instances=high, concurrency=template.get("max_instance_request_concurrency", 80 if vcpu >= 1 else 1),
        request_based=request_based,
    ), ctx)


# Cloud Functions (2nd gen) CPU by memory when available_cpu is unset (MiB -> vCPU),
# cloud.google.com/functions/docs/configuring/memory.
FUNCTION_CPU = ((128, 0.083), (256, 0.167), (512, 0.333), (1024, 0.583), (2048, 1.0), (4096, 2.0), (8192, 2.0),
                (16384, 4.0), (32768, 8.0))


def cloud_function(r: Resource, ctx: Context) -> Cost:
    """A 2nd gen function is a Cloud Run function: Cloud Run's request-based prices."""
    config = block(r.body, "service_config")
    memory = gib(config.get("available_memory", "256M"))
    if "available_cpu" in config:
        vcpu = quantity(config["available_cpu"])
    else:
        vcpu = next((cpu for mib, cpu in FUNCTION_CPU if memory * 1024 <= mib + 1e-9), FUNCTION_CPU[-1][1])
    return _serverless(Serverless(
        runtime=r.labels.get("service", r.display_name), vcpu=vcpu, gib=memory,
        min_instances=config.get("min_instance_count", 0), max_instances=config.get("max_instance_count", 100),
        concurrency=config.get("max_instance_request_concurrency", 1), request_based=True,
    ), ctx)


# --- network -------------------------------------------------------------------------------

CONNECTOR_MACHINES = {"e2-micro": "vm_e2_micro_hour", "f1-micro": "vm_f1_micro_hour",
                      "e2-standard-4": "vm_e2_standard_4_hour"}


def vpc_connector(r: Resource, ctx: Context) -> Cost:
    machine = r.body.get("machine_type", "e2-micro")
    if machine not in CONNECTOR_MACHINES:
        raise Unpriced(f"no price for connector machine type {machine}")
    count = r.body.get("min_instances", 2)
    cost = count * ctx.hours * ctx.usd(CONNECTOR_MACHINES[machine])
    return Cost(cost, cost, f"{count} x {machine} x {ctx.hours:g} h",
                (f"scales out to max_instances {r.body.get('max_instances', 10)} with throughput: not modelled",))


def _nat_clients(stack: dict) -> int:
    """Instances that always send through Cloud NAT: connector VMs, and the min instances of
    Cloud Run services whose Direct VPC egress is ALL_TRAFFIC."""
    count = 0
    for r in resources(stack):
        if r.type == "google_vpc_access_connector":
            count += r.body.get("min_instances", 2)
        elif r.type == "google_cloud_run_v2_service":
            template = block(r.body, "template")
            access = block(template, "vpc_access")
            if access.get("network_interfaces") and access.get("egress") == "ALL_TRAFFIC":
                count += block(template, "scaling").get("min_instance_count", 0)
    return count


def cloud_nat(r: Resource, ctx: Context) -> Cost:
    manual = r.body.get("nat_ip_allocate_option") == "MANUAL_ONLY"
    addresses = len(r.body.get("nat_ips") or []) if manual else 1  # AUTO_ONLY: one while traffic flows
    clients = _nat_clients(ctx.stack)
    gateway = min(clients * ctx.usd("nat_gateway_vm_hour"), ctx.usd("nat_gateway_max_hour")) * ctx.hours
    idle = gateway + addresses * ctx.usd("nat_ip_hour") * ctx.hours
    data = ctx.profile.nat_gib_per_month
    return Cost(idle, idle + data * ctx.usd("nat_data"),
                f"{clients} always-on instances, {addresses} address(es) x {ctx.hours:g} h; {data:g} GiB processed",
                ("counting Cloud Run Direct VPC egress instances as NAT VMs is an assumption",))


def global_address(r: Resource, ctx: Context) -> Cost | None:
    if r.body.get("address_type", "EXTERNAL") == "INTERNAL":
        return None  # a reserved internal range (private services access) has no charge
    target = f"${{{r.type}.{r.address}.id}}"
    if any(rule.type == "google_compute_global_forwarding_rule" and rule.body.get("ip_address") == target
           for rule in resources(ctx.stack)):
        return None  # an address in use by a forwarding rule bills through the rule
    raise Unpriced("an external global address no forwarding rule uses bills as reserved: no price in pricing/prices.yaml")


# --- the edge: load balancer, Cloud Armor, Cloud CDN ---------------------------------------

FREE_FORWARDING_RULES = 5  # the first five of a project bill one hourly price together


def forwarding_rule(r: Resource, ctx: Context) -> Cost:
    """The project's forwarding rules share the price of the first five; each one carries its share."""
    count = sum(1 for other in resources(ctx.stack) if other.type == r.type)
    total = ctx.hours * (ctx.usd("lb_forwarding_rules_hour") + max(0, count - FREE_FORWARDING_RULES)
                         * ctx.usd("lb_extra_forwarding_rule_hour"))
    return Cost(total / count, total / count, f"1 of the project's {count} forwarding rule(s), sharing their hourly price")


def edge_backend(r: Resource, ctx: Context) -> Cost:
    """Under load: the data the load balancer processes (the load profile's egress; inbound not
    counted) and, with Cloud CDN on, a cache lookup per request."""
    egress, requests = ctx.profile.egress_gib_per_month, ctx.profile.requests_per_month
    load = egress * ctx.usd("lb_data_processed_gib")
    what = f"{egress:g} GiB processed"
    if r.body.get("enable_cdn"):
        load += requests / 10_000 * ctx.usd("cdn_lookup_ten_thousand")
        what += f"; {requests:,} CDN lookups"
    return Cost(0.0, load, what, ("CDN cache egress replaces internet egress for cached assets: not modelled apart",))


def security_policy(r: Resource, ctx: Context) -> Cost:
    rules = len(r.body.get("rule") or [])
    idle = ctx.usd("armor_policy_month") + rules * ctx.usd("armor_rule_month")
    requests = ctx.profile.requests_per_month
    load = idle + requests / 1e6 * ctx.usd("armor_requests_million")
    return Cost(idle, load, f"1 policy, {rules} rules; {requests:,} requests evaluated")


# --- data ------------------------------------------------------------------------------

SQL_CUSTOM = re.compile(r"^db-custom-([0-9]+)-([0-9]+)$")
SQL_SHARED = {"db-f1-micro": "sql_db_f1_micro_hour", "db-g1-small": "sql_db_g1_small_hour"}
SQL_DISKS = {"PD_SSD": "sql_ssd_gib_month", "PD_HDD": "sql_hdd_gib_month"}


def sql_instance(r: Resource, ctx: Context) -> Cost:
    settings = block(r.body, "settings")
    tier = settings.get("tier", "")
    region = r.body.get("region") or ctx.book["sql_vcpu_hour"].region
    if settings.get("edition") == "ENTERPRISE_PLUS":
        raise Unpriced("no Enterprise Plus prices in pricing/prices.yaml")
    # REGIONAL (HA) bills a standby as large as the primary: twice compute and storage.
    copies = 2 if settings.get("availability_type", "ZONAL") == "REGIONAL" else 1
    if tier in SQL_SHARED:
        hourly = ctx.usd_in(SQL_SHARED[tier], region)
    elif SQL_CUSTOM.match(tier):
        vcpus, megabytes = map(int, SQL_CUSTOM.match(tier).groups())
        hourly = vcpus * ctx.usd_in("sql_vcpu_hour", region) + megabytes / 1024 * ctx.usd_in("sql_memory_gib_hour", region)
    else:
        raise Unpriced(f"no price for Cloud SQL tier {tier or '(unset)'}")
    disk_type = settings.get("disk_type", "PD_SSD")
    if disk_type not in SQL_DISKS:
        raise Unpriced(f"no price for Cloud SQL disk type {disk_type}")
    size = settings.get("disk_size", 10)
    storage = size * copies * ctx.usd_in(SQL_DISKS[disk_type], region)
    hours_idle, hours_load, notes = _sql_hours(r, settings, ctx)
    compute = hourly * copies
    backups = _sql_backups(settings, ctx)
    replication = _sql_replication(r, ctx)
    role = "read replica, " if r.body.get("master_instance_name") else ""
    layout = "REGIONAL (x2)" if copies == 2 else "ZONAL"
    basis = (f"{role}{tier} {layout} in {region}: {hours_idle:,.1f} h idle, {hours_load:,.1f} h under load; "
             f"{size} GB {disk_type}{backups.basis}{replication.basis}")
    return Cost(compute * hours_idle + storage + backups.idle + replication.idle,
                compute * hours_load + storage + backups.load + replication.load,
                basis, notes + backups.notes + replication.notes)


SQL_STOP_MINUTES = 5  # alert to Pub/Sub to the pause function to a stopped instance (an assumption)


def _autopause(r: Resource, ctx: Context) -> tuple[float, str | None, str | None] | None:
    """(minutes without connections before the stop, wake schedule, its time zone) when an alert
    on zero connections stops this instance; None when nothing does."""
    name = r.body.get("name", "")
    for policy in resources(ctx.stack):
        if policy.type != "google_monitoring_alert_policy":
            continue
        for condition in policy.body.get("conditions") or []:
            threshold = condition.get("condition_threshold") or {}
            filter_ = threshold.get("filter", "")
            if ("postgresql/num_backends" in filter_ and f':{name}"' in filter_
                    and threshold.get("comparison") == "COMPARISON_LT"):
                seconds = int(threshold["duration"].rstrip("s"))
                window = int((threshold.get("aggregations") or [{}])[0].get("alignment_period", "60s").rstrip("s"))
                wake = next((job for job in resources(ctx.stack) if job.type == "google_cloud_scheduler_job"
                             and block(job.body, "http_target").get("uri", "").endswith(f"/instances/{name}")), None)
                return ((seconds + window) / 60 + SQL_STOP_MINUTES,
                        wake.body.get("schedule") if wake else None, wake.body.get("time_zone") if wake else None)
    return None


def _sql_hours(r: Resource, settings: dict, ctx: Context) -> tuple[float, float, tuple[str, ...]]:
    """Hours of compute billed in a month, idle and under load. activation_policy NEVER stops compute
    billing (storage bills regardless); the auto-pause sets it after the idle alert fires."""
    if settings.get("activation_policy", "ALWAYS") == "NEVER":
        return 0.0, 0.0, ("stopped (activation policy NEVER)",)
    pause = _autopause(r, ctx)
    if pause is None:
        return ctx.hours, ctx.hours, ()
    awake_minutes, schedule, zone = pause
    wakes = wakes_per_month(schedule, zone, ctx.hours) if schedule else 0.0
    idle = min(ctx.hours, wakes * awake_minutes / 60)
    # Under load requests reach it far more often than the idle window: it never pauses.
    load = ctx.hours if ctx.profile.requests_per_month else idle
    return idle, load, (
        f"auto-pause: idle, {wakes:.1f} wakes a month ({schedule or 'no wake schedule'}) x {awake_minutes:g} min "
        f"(the idle alert's window, its alignment period, {SQL_STOP_MINUTES} min to stop); under load it never idles",
        "the pause breaks if anything holds a connection open: a client's connection pool with a minimum size, "
        "a probe or a health check that touches the database; then it bills every hour",
    )


def wakes_per_month(schedule: str, zone: str | None, hours_per_month: float) -> float:
    """How often a cron schedule fires in a month: its firings over a whole reference year, scaled."""
    start = datetime(REFERENCE_YEAR, 1, 1, tzinfo=ZoneInfo(zone or "Etc/UTC"))
    end = start.replace(year=REFERENCE_YEAR + 1)
    fired = 0
    for moment in CronSim(schedule, start):
        if moment >= end:
            break
        fired += 1
    return fired * hours_per_month / ((end - start).total_seconds() / 3600)


REFERENCE_YEAR = 2026


def _sql_backups(settings: dict, ctx: Context) -> Cost:
    """Automated backups hold the data once plus the changes they keep; PITR keeps the write-ahead
    log for its retention days. Both bill as backup storage."""
    backup = block(settings, "backup_configuration")
    if not backup.get("enabled"):
        return Cost(0.0, 0.0, "")
    retained = block(backup, "backup_retention_settings").get("retained_backups", 7)
    data, changes = ctx.profile.database_gib, ctx.profile.database_change_gib_per_month
    price = ctx.usd("sql_backup_gib_month")
    held = data + changes * retained / DAYS_PER_MONTH
    logs = changes * backup.get("transaction_log_retention_days", 7) / DAYS_PER_MONTH \
        if backup.get("point_in_time_recovery_enabled") else 0.0
    return Cost(data * price, (held + logs) * price,
                f"; backups: {data:g} GiB idle, {held + logs:,.1f} GiB under load ({retained} daily"
                f"{', PITR logs' if logs else ''})",
                ("backups: incremental, the data once plus the changes kept (load_profile.database_gib, "
                 "database_change_gib_per_month)",))


def _sql_replication(r: Resource, ctx: Context) -> Cost:
    """A replica in another region receives the primary's write-ahead log as inter-region transfer."""
    primary = find(ctx.stack, r.body.get("master_instance_name"))
    if primary is None or primary.body.get("region") == r.body.get("region"):
        return Cost(0.0, 0.0, "")
    gib_sent = ctx.profile.database_change_gib_per_month
    cost = gib_sent * ctx.usd("inter_region_transfer_europe")
    return Cost(cost, cost, f"; replication {gib_sent:g} GiB from {primary.body.get('region')}")


REDIS_CAPACITY = ((4, "m1"), (10, "m2"), (35, "m3"), (100, "m4"))  # GB ceiling of each capacity tier; above: m5
REDIS_TIERS = {"BASIC": "basic", "STANDARD_HA": "standard"}


def redis_instance(r: Resource, ctx: Context) -> Cost:
    tier = r.body.get("tier", "BASIC")
    if tier not in REDIS_TIERS:
        raise Unpriced(f"no price for Memorystore tier {tier}")
    size = r.body["memory_size_gb"]
    capacity = next((name for ceiling, name in REDIS_CAPACITY if size <= ceiling), "m5")
    cost = size * ctx.usd(f"redis_{REDIS_TIERS[tier]}_{capacity}_gib_hour") * ctx.hours
    notes = ()
    if r.body.get("read_replicas_mode") == "READ_REPLICAS_ENABLED":
        notes = ("read replicas bill as extra nodes: not modelled",)
    return Cost(cost, cost, f"{tier} {size} GB ({capacity.upper()}) x {ctx.hours:g} h", notes)


# --- events ------------------------------------------------------------------------------


def kafka_cluster(r: Resource, ctx: Context) -> Cost:
    """Data Compute Units: 0.6 per vCPU plus 0.1 per GiB of RAM; local storage of about
    100 GiB per vCPU (cloud.google.com/managed-service-for-apache-kafka/pricing). Clients reach
    it through Private Service Connect: an endpoint per address in each subnet it serves (the
    bootstrap address and one per broker; brokers: one per 15 vCPU or 120 GiB, at least one in
    each of its 3 zones)."""
    capacity = block(r.body, "capacity_config")
    vcpus = int(capacity["vcpu_count"])
    memory = int(capacity["memory_bytes"]) / 2**30
    dcu = 0.6 * vcpus + 0.1 * memory
    compute = dcu * ctx.usd("kafka_dcu_hour") * ctx.hours
    storage = 100 * vcpus * ctx.usd("kafka_local_storage_gib_month")
    brokers = max(3, math.ceil(vcpus / 15), math.ceil(memory / 120))
    subnets = len(block(block(r.body, "gcp_config"), "access_config").get("network_configs") or [])
    endpoints = subnets * (brokers + 1)
    psc = endpoints * ctx.usd("psc_endpoint_hour") * ctx.hours
    cost = compute + storage + psc
    return Cost(cost, cost,
                f"{vcpus} vCPU + {memory:g} GiB = {dcu:g} DCU x {ctx.hours:g} h; {100 * vcpus} GiB local storage; "
                f"{endpoints} PSC endpoints ({subnets} subnet(s) x ({brokers} brokers + bootstrap))",
                ("long-term storage, inter-zone replication and PSC data follow the volume produced, which the load "
                 "profile does not give: not modelled",))


# --- storage, registry, secrets ------------------------------------------------------------


def bucket(r: Resource, ctx: Context) -> Cost:
    if r.body.get("storage_class", "STANDARD") != "STANDARD":
        raise Unpriced(f"no price for storage class {r.body['storage_class']}")
    if r.labels.get("service") == DataNames.SQL_COPY:
        return _locked_copy_bucket(r, ctx)
    stored = ctx.profile.bucket_storage_gib
    cost = stored * ctx.usd("gcs_standard_gib_month")
    return Cost(cost, cost, f"{stored:g} GiB Standard (load_profile.bucket_storage_gib)",
                ("operations and retrieval: not modelled",))


def _locked_copy_bucket(r: Resource, ctx: Context) -> Cost:
    """One full export of the database a day, each kept for the locked retention. Exports are
    gzip-compressed; priced uncompressed, an upper bound (how well a dump compresses is the data's)."""
    days = block(r.body, "retention_policy").get("retention_period", 0) / 86_400
    stored = ctx.profile.database_gib * days
    cost = stored * ctx.usd("gcs_standard_gib_month")
    return Cost(cost, cost, f"{stored:g} GiB Standard: {days:g} daily exports of load_profile.database_gib "
                f"({ctx.profile.database_gib:g} GiB, uncompressed)", ("operations: not modelled",))


# An export's run time: a fixed start (pulling the image, gcloud's own checks) plus the dump,
# at an assumed 2 GiB a minute. An assumption: measure it in the drill.
EXPORT_START_SECONDS = 60
EXPORT_SECONDS_PER_GIB = 30


def run_job(r: Resource, ctx: Context) -> Cost:
    """A Cloud Run job bills its tasks' CPU and memory at the instance-based rates while they run;
    it runs as often as the Cloud Scheduler job that starts it."""
    name = r.body.get("name", "")
    starters = [job for job in resources(ctx.stack) if job.type == "google_cloud_scheduler_job"
                and block(job.body, "http_target").get("uri", "").endswith(f"/jobs/{name}:run")]
    runs = sum(wakes_per_month(job.body["schedule"], job.body.get("time_zone"), ctx.hours) for job in starters)
    container = block(block(block(r.body, "template"), "template"), "containers")
    limits = block(container, "resources").get("limits") or {}
    vcpu, memory = quantity(limits.get("cpu", "1")), gib(limits.get("memory", "512Mi"))
    seconds = EXPORT_START_SECONDS + EXPORT_SECONDS_PER_GIB * ctx.profile.database_gib
    cost = runs * seconds * (vcpu * ctx.usd("run_instance_cpu") + memory * ctx.usd("run_instance_memory"))
    return Cost(cost, cost, f"{runs:.1f} runs a month x {seconds:g} s (assumed: {EXPORT_START_SECONDS} s + "
                f"{EXPORT_SECONDS_PER_GIB} s per GiB of load_profile.database_gib), {vcpu:g} vCPU, {memory:g} GiB")


def registry(r: Resource, ctx: Context) -> Cost:
    stored = ctx.profile.image_storage_gib
    cost = stored * ctx.usd("artifact_storage_gib_month")
    return Cost(cost, cost, f"{stored:g} GiB of images (load_profile.image_storage_gib)")


def secret_version(r: Resource, ctx: Context) -> Cost:
    """An active (enabled or disabled) version bills once per replica location; automatic
    replication bills as one location."""
    secret = find(ctx.stack, r.body.get("secret"))
    if secret is None:
        raise Unpriced("its secret is not in this stack, so its replica locations are unknown")
    replicas = block(block(secret.body, "replication"), "user_managed").get("replicas") or [{}]
    locations = len(replicas) if isinstance(replicas, list) else 1
    cost = locations * ctx.usd("secret_version_month")
    return Cost(cost, cost, f"1 active version x {locations} location(s)",
                ("access operations (read at instance start): not modelled",))


# --- what each resource type costs ----------------------------------------------------------


def _free(r: Resource, ctx: Context) -> None:
    return None


RULES: dict[str, Callable[[Resource, Context], Cost | None]] = {
    "google_cloud_run_v2_service": cloud_run_service,
    "google_cloud_run_v2_job": run_job,
    "google_cloudfunctions2_function": cloud_function,
    "google_vpc_access_connector": vpc_connector,
    "google_compute_router_nat": cloud_nat,
    "google_compute_subnetwork": observability.subnetwork,
    "google_compute_global_address": global_address,
    "google_compute_global_forwarding_rule": forwarding_rule,
    "google_compute_backend_service": edge_backend,
    "google_compute_security_policy": security_policy,
    "google_sql_database_instance": sql_instance,
    "google_redis_instance": redis_instance,
    "google_managed_kafka_cluster": kafka_cluster,
    "google_storage_bucket": bucket,
    "google_artifact_registry_repository": registry,
    "google_secret_manager_secret_version": secret_version,
    "google_monitoring_alert_policy": observability.alert_policy,
    "google_monitoring_uptime_check_config": observability.uptime_check,
    "google_logging_project_bucket_config": observability.log_bucket,
    "google_logging_metric": observability.log_metric,
    "google_pubsub_topic": observability.pubsub_topic,
    "google_cloud_scheduler_job": observability.scheduler_job,
    # No charge of their own: grants, identities, switches, containers whose contents bill
    # elsewhere (a secret through its versions, an object through its bucket's stored GiB).
    **{type_: _free for type_ in (
        "google_project_service", "google_service_account", "google_project_iam_member",
        "google_cloud_run_v2_service_iam_member", "google_secret_manager_secret_iam_member",
        "google_storage_bucket_iam_member", "google_compute_network", "google_compute_router",
        "google_service_networking_connection", "google_storage_bucket_object", "google_secret_manager_secret",
        "google_sql_database", "google_sql_user", "google_managed_kafka_topic", "google_managed_kafka_acl",
        "google_billing_budget", "google_monitoring_notification_channel", "google_logging_project_sink",
        # Firewall rules cost nothing; their logs bill as logs (load_profile.log_gib_per_month).
        "google_compute_firewall", "google_iam_workload_identity_pool", "google_iam_workload_identity_pool_provider",
        "google_service_account_iam_member", "google_project_iam_custom_role", "google_pubsub_topic_iam_member",
        # Dashboards and exclusions cost nothing; an exclusion lowers ingestion, which the load profile sets.
        "google_monitoring_dashboard", "google_logging_project_exclusion",
        # Audit settings bill as the logs they write, which the load profile's log volume prices.
        "google_project_iam_audit_config", "google_org_policy_policy",
        # The edge's parts besides its forwarding rules, backend service and policy bill nothing
        # of their own (Google-managed certificates are free).
        "google_compute_region_network_endpoint_group", "google_compute_url_map", "google_compute_target_http_proxy",
        "google_compute_target_https_proxy", "google_compute_managed_ssl_certificate",
        # Services and SLOs cost nothing; their burn-rate alerts bill as alert conditions.
        "google_monitoring_custom_service", "google_monitoring_slo",
    )},
}


def internet_egress(ctx: Context) -> Cost:
    egress = ctx.profile.egress_gib_per_month
    return Cost(0.0, egress * ctx.usd("internet_egress"), f"{egress:g} GiB Premium Tier")


def log_ingestion(ctx: Context) -> Cost:
    logs, free = ctx.profile.log_gib_per_month, ctx.book.logging_free_gib
    return Cost(0.0, max(0.0, logs - free) * ctx.usd("logging_ingestion"),
                f"{logs:g} GiB, first {free:g} GiB per project free")


# Charges of the project as a whole, driven by the load profile: (name, tier, rule).
PROJECT_COSTS: tuple[tuple[str, str, Callable[[Context], Cost]], ...] = (
    ("internet egress", "network", internet_egress),
    ("log ingestion", "monitoring", log_ingestion),
    ("vended network logs", "network", observability.network_logs),
)
