"""Checks of DisasterRecoveryConfig: the drill's time zone, and a failover only where there is a
replica to promote."""

from __future__ import annotations

from typing import Iterator

from environments.checks.shared import time_zone_problems
from environments.problems import Problem


def disaster_recovery_problems(shown: str, data: dict) -> Iterator[Problem]:
    recovery = data["disaster_recovery"]
    yield from time_zone_problems(shown, "disaster_recovery.time_zone", recovery["time_zone"])
    if recovery["active_region"] == "dr" and "replica" not in data["data"]["postgres"]:
        yield Problem(shown, "disaster_recovery.active_region",
                      "dr promotes data.postgres.replica, and this file has none",
                      "set active_region: primary, or add data.postgres.replica and apply it before failing over")
