"""Checks of DataConfig (PostgresConfig, RedisConfig): Cloud SQL tiers against their edition,
backups and point-in-time recovery, reserved database names, auto-pause, and production's rules."""

from __future__ import annotations

import re
from typing import Iterator

from environments.checks.shared import PRODUCTION, time_zone_problems
from environments.problems import Problem

# Cloud SQL editions and what they accept (gcp-facts.md section 3).
SHARED_CORE_TIERS = {"db-f1-micro", "db-g1-small"}
PERF_OPTIMIZED_CPUS = {2, 4, 8, 16, 32, 48, 64, 80, 96, 128}
PITR_MAX_DAYS = {"ENTERPRISE": 7, "ENTERPRISE_PLUS": 35}
RESERVED_DATABASES = {"postgres", "cloudsqladmin", "template0", "template1"}


def data_problems(shown: str, data: dict, name: str) -> Iterator[Problem]:
    pg, redis = data["postgres"], data["redis"]
    edition, backups = pg["edition"], pg["backups"]
    yield from _tier_problems(shown, "data.postgres.tier", pg["tier"], edition)
    if "replica" in pg:
        yield from _tier_problems(shown, "data.postgres.replica.tier", pg["replica"]["tier"], edition)
    if backups["log_retention_days"] > PITR_MAX_DAYS[edition]:
        yield Problem(shown, "data.postgres.backups.log_retention_days",
                      f"{backups['log_retention_days']} days is above {edition}'s limit of {PITR_MAX_DAYS[edition]}",
                      f"keep 1-{PITR_MAX_DAYS[edition]} days of transaction logs")
    if backups["point_in_time_recovery"] and not backups["enabled"]:
        yield Problem(shown, "data.postgres.backups.point_in_time_recovery", "needs automated backups",
                      "set backups.enabled: true, or point_in_time_recovery: false")
    limit = pg["disk_autoresize_limit_gb"]
    if limit and limit < pg["disk_size_gb"]:
        yield Problem(shown, "data.postgres.disk_autoresize_limit_gb",
                      f"{limit} GB is below disk_size_gb {pg['disk_size_gb']}", "raise the limit, or set 0 for none")
    for index, database in enumerate(pg["databases"]):
        if database in RESERVED_DATABASES:
            yield Problem(shown, f"data.postgres.databases[{index}]", f"{database!r} is a name Cloud SQL reserves",
                          "choose another database name")
    if "auto_pause" in pg:
        yield from _auto_pause_problems(shown, pg)
    if name == PRODUCTION:
        yield from _production_problems(shown, pg, redis)


def _tier_problems(shown: str, path: str, tier: str, edition: str) -> Iterator[Problem]:
    perf = re.fullmatch(r"db-perf-optimized-N-([0-9]+)", tier)
    if edition == "ENTERPRISE_PLUS":
        if not perf or int(perf.group(1)) not in PERF_OPTIMIZED_CPUS:
            yield Problem(shown, path, f"{tier!r} is not an ENTERPRISE_PLUS tier (the API refuses it)",
                          "use db-perf-optimized-N-<2|4|8|16|32|...|128>, or edition: ENTERPRISE")
        return
    if perf:
        yield Problem(shown, path, f"{tier!r} is an ENTERPRISE_PLUS tier",
                      "use db-custom-<vCPUs>-<MB>, or edition: ENTERPRISE_PLUS")
    custom = re.fullmatch(r"db-custom-([0-9]+)-([0-9]+)", tier)
    if custom:
        cpus, mb = int(custom.group(1)), int(custom.group(2))
        if cpus != 1 and (cpus % 2 or not 2 <= cpus <= 96):
            yield Problem(shown, path, f"{cpus} vCPUs is not a Cloud SQL shape", "use 1 or an even number of vCPUs up to 96")
        elif mb % 256 or mb < 3840 or not 0.9 * 1024 * cpus <= mb <= 6.5 * 1024 * cpus:
            yield Problem(shown, path, f"{mb} MB is not valid memory for {cpus} vCPU(s)",
                          "use a multiple of 256 MB, at least 3840, between 0.9 and 6.5 GB per vCPU "
                          "(db-custom-1-3840, db-custom-2-7680)")


def _auto_pause_problems(shown: str, pg: dict) -> Iterator[Problem]:
    if "replica" in pg:
        yield Problem(shown, "data.postgres.auto_pause", "cannot stop a primary that feeds a cross-region replica",
                      "remove auto_pause or replica")
    yield from time_zone_problems(shown, "data.postgres.auto_pause.time_zone", pg["auto_pause"]["time_zone"])


def _production_problems(shown: str, pg: dict, redis: dict) -> Iterator[Problem]:
    rules = (
        ("data.postgres.availability", pg["availability"] == "REGIONAL", "production without HA: the database is ZONAL",
         "set availability: REGIONAL (a standby in a second zone with automatic failover)"),
        ("data.postgres.tier", pg["tier"] not in SHARED_CORE_TIERS,
         f"production on shared-core tier {pg['tier']}, which has no SLA",
         "use a dedicated-core tier such as db-custom-2-7680"),
        ("data.postgres.backups.enabled", pg["backups"]["enabled"], "production without automated backups",
         "set backups.enabled: true"),
        ("data.postgres.backups.point_in_time_recovery", pg["backups"]["point_in_time_recovery"],
         "production without point-in-time recovery", "set backups.point_in_time_recovery: true"),
        ("data.postgres.replica", "replica" in pg, "production without a cross-region replica",
         "add replica: {tier: ...}; it runs in project.dr_region"),
        ("data.postgres.deletion_protection", pg["deletion_protection"], "production without deletion protection",
         "set deletion_protection: true"),
        ("data.postgres.auto_pause", "auto_pause" not in pg, "production must not stop its database when idle",
         "remove auto_pause"),
        ("data.redis.tier", redis["tier"] == "STANDARD_HA", "production without HA: Redis is BASIC",
         "set tier: STANDARD_HA (a replica in a second zone with automatic failover)"),
        ("data.redis.transit_encryption", redis["transit_encryption"], "production without TLS to Redis",
         "set transit_encryption: true"),
        ("data.redis.rdb_snapshot_period", redis["rdb_snapshot_period"] != "DISABLED",
         "production without Redis persistence",
         "set rdb_snapshot_period, for example TWELVE_HOURS"),
    )
    for path, ok, message, fix in rules:
        if not ok:
            yield Problem(shown, path, message, fix)
