"""Checks of DisasterRecoveryConfig: the drill's time zone, a failover or a standby replica only
where there is a replica to promote, and two sites that do not share an instance name."""

from __future__ import annotations

from typing import Iterator

from environments.checks.shared import time_zone_problems
from environments.problems import Problem


def disaster_recovery_problems(shown: str, data: dict) -> Iterator[Problem]:
    recovery = data["disaster_recovery"]
    yield from time_zone_problems(shown, "disaster_recovery.time_zone", recovery["time_zone"])
    has_replica = "replica" in data["data"]["postgres"]
    if recovery["active_region"] == "dr" and not has_replica:
        yield Problem(shown, "disaster_recovery.active_region",
                      "dr promotes data.postgres.replica, and this file has none",
                      "set active_region: primary, or add data.postgres.replica and apply it before failing over")
    if "standby" in recovery and not has_replica:
        yield Problem(shown, "disaster_recovery.standby", "a standby site needs data.postgres.replica, and this file "
                      "has none", "remove standby, or add data.postgres.replica")
    instances = recovery["sql_instances"]
    if instances["primary"] == instances["dr"]:
        yield Problem(shown, "disaster_recovery.sql_instances.dr",
                      f"both sites' Cloud SQL instances are named {instances['dr']!r}",
                      "give the instance of each site its own name")
