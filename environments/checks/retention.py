"""Production's retention floors (BackupConfig, LockedCopyConfig, ComplianceConfig,
MonitoringConfig, TopicConfig): what the environment must keep, whatever the file says."""

from __future__ import annotations

from typing import Iterator

from environments.checks.data import PITR_MAX_DAYS
from environments.problems import Problem

# Each is named with its reason in docs/runbooks/cost-and-compliance.md (Retention floors).
RETENTION_FLOOR_DOC = "docs/runbooks/cost-and-compliance.md#retention-floors"
BACKUPS_FLOOR = 14  # daily automated backups, and days of the locked copy
AUDIT_LOG_FLOOR_DAYS = 365
APPLICATION_LOG_FLOOR_DAYS = 30
TOPIC_RETENTION_FLOOR_HOURS = 7 * 24


def retention_floor_problems(shown: str, data: dict) -> Iterator[Problem]:
    pg = data["data"]["postgres"]
    backups, edition = pg["backups"], pg["edition"]
    floors = [
        ("data.postgres.backups.retained", backups["retained"], BACKUPS_FLOOR, "daily backups",
         f"set retained: {BACKUPS_FLOOR} or more"),
        ("compliance.audit_log_retention_days", data["compliance"]["audit_log_retention_days"], AUDIT_LOG_FLOOR_DAYS,
         "days", f"set audit_log_retention_days: {AUDIT_LOG_FLOOR_DAYS} or more"),
        ("monitoring.log_retention_days", data["monitoring"]["log_retention_days"], APPLICATION_LOG_FLOOR_DAYS, "days",
         f"set log_retention_days: {APPLICATION_LOG_FLOOR_DAYS} or more"),
        *((f"events.topics.{topic}.retention_hours", settings["retention_hours"], TOPIC_RETENTION_FLOOR_HOURS,
           "hours (7 days)", f"set retention_hours: {TOPIC_RETENTION_FLOOR_HOURS} or more")
          for topic, settings in sorted(data["events"]["topics"].items())),
    ]
    if backups["point_in_time_recovery"] and backups["log_retention_days"] < PITR_MAX_DAYS[edition]:
        floors.append(("data.postgres.backups.log_retention_days", backups["log_retention_days"], PITR_MAX_DAYS[edition],
                       f"days ({edition}'s maximum)", f"set log_retention_days: {PITR_MAX_DAYS[edition]}"))
    copy_ = backups.get("locked_copy")
    if copy_ is None:
        yield Problem(shown, "data.postgres.backups.locked_copy", "production without a copy of its backups that the "
                      "project's own admins cannot shorten or delete",
                      f"add locked_copy: {{retention_days: {BACKUPS_FLOOR}}} or more ({RETENTION_FLOOR_DOC})")
    else:
        floors.append(("data.postgres.backups.locked_copy.retention_days", copy_["retention_days"], BACKUPS_FLOOR, "days",
                       f"set retention_days: {BACKUPS_FLOOR} or more (a locked retention can only grow later)"))
    for path, value, floor, unit, fix in floors:
        if value < floor:
            yield Problem(shown, path, f"{value} is below production's floor of {floor} {unit}",
                          f"{fix} ({RETENTION_FLOOR_DOC})")
