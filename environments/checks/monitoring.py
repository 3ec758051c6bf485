"""Checks of MonitoringConfig (and SloConfig): whole-minute alert durations; production pages per runtime; SLOs are production's."""

from __future__ import annotations

from typing import Iterator

from environments.checks.shared import PRODUCTION
from environments.problems import Problem


def monitoring_problems(shown: str, monitoring: dict, name: str) -> Iterator[Problem]:
    """Alert durations the Monitoring API accepts: whole minutes only. Production pages someone:
    it keeps a condition for each runtime."""
    if name == PRODUCTION and monitoring["alerting"] != "per-runtime":
        yield Problem(shown, "monitoring.alerting", f"production with {monitoring['alerting']} alerting: no runtime at its cap and no "
                      "database or Redis limit would page anyone", "set alerting: per-runtime")
    if name != PRODUCTION and "slo" in monitoring:
        yield Problem(shown, "monitoring.slo", "staging's traffic is too thin for an SLO: a handful of failed requests "
                      "would spend the error budget", "remove monitoring.slo; the latency and errors thresholds stay")
    for section in ("latency", "errors", "scaling", "postgres", "redis", "kafka", "uptime"):
        seconds = monitoring[section]["duration_seconds"]
        if seconds % 60:
            yield Problem(shown, f"monitoring.{section}.duration_seconds", f"{seconds} s is not a whole number of minutes",
                          f"use a multiple of 60, for example {max(60, seconds // 60 * 60)}")
