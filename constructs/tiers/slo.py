"""The frontend's service level objectives (`monitoring.slo`, production): availability and latency
over a rolling window, measured where users are (the edge's load balancer when it is on, else
Cloud Run), each with multi-window burn-rate alerts (the SRE workbook's pairs):

- fast: 2 % of the budget in an hour, burn rate 14.4 over 1 h and over 5 min;
- slow: 5 % of the budget in six hours, burn rate 6 over 6 h and over 30 min.
The short window closes the incident soon after the burn stops.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from constructs import Construct

from constructs.google import monitoring_alert_policy as alert, monitoring_custom_service, monitoring_slo
from environments.config import EnvironmentConfig

if TYPE_CHECKING:
    from constructs.google import monitoring_notification_channel

TIER = "monitoring"
# (name, long window s, short window s, burn rate): the rate spends the budget that fast.
BURN_RATES = (("fast", 3600, 300, 14.4), ("slow", 21600, 1800, 6.0))


def slo_names(config: EnvironmentConfig) -> dict[str, str]:
    """What each SLO is called in the Monitoring API (the dashboard reads its budget by name)."""
    service = f"projects/{config.project_id}/services/{config.resource_name('frontend')}"
    return {kind: f"{service}/serviceLevelObjectives/{kind}" for kind in ("availability", "latency")}


class FrontendSlos(Construct):
    def __init__(self, scope: Construct, id_: str, *, config: EnvironmentConfig, frontend_service: str,
                 channels: "list[monitoring_notification_channel.MonitoringNotificationChannel]", depends_on: list):
        super().__init__(scope, id_)
        slo = config.monitoring.slo
        labels = config.labels(TIER, "slo")
        where = "the load balancer" if config.edge.enabled else "Cloud Run"
        service = monitoring_custom_service.MonitoringCustomService(
            self, "service", project=config.project_id, service_id=config.resource_name("frontend"),
            display_name=f"HexProperty {config.name} frontend (measured at {where})", user_labels=labels,
            depends_on=depends_on)
        if config.edge.enabled:
            # The backend service the edge names after the frontend (constructs/tiers/edge.py).
            at = ('resource.type = "https_lb_rule" AND resource.labels.backend_service_name = '
                  f'"{config.resource_name("frontend")}"')
            requests = f'{at} AND metric.type = "loadbalancing.googleapis.com/https/request_count"'
            errors = f"{requests} AND metric.labels.response_code_class = 500"
            latencies = f'{at} AND metric.type = "loadbalancing.googleapis.com/https/total_latencies"'
        else:
            at = f'resource.type = "cloud_run_revision" AND resource.labels.service_name = "{frontend_service}"'
            requests = f'{at} AND metric.type = "run.googleapis.com/request_count"'
            errors = f'{requests} AND metric.labels.response_code_class = "5xx"'
            latencies = f'{at} AND metric.type = "run.googleapis.com/request_latencies"'
        s = monitoring_slo
        objectives = {
            "availability": (slo.availability_target, f"{slo.availability_target:.2%} of requests without a 5xx",
                             s.MonitoringSloRequestBasedSli(good_total_ratio=s.MonitoringSloRequestBasedSliGoodTotalRatio(
                                 total_service_filter=requests, bad_service_filter=errors))),
            "latency": (slo.latency_target, f"{slo.latency_target:.2%} of requests within {slo.latency_threshold_ms} ms",
                        s.MonitoringSloRequestBasedSli(distribution_cut=s.MonitoringSloRequestBasedSliDistributionCut(
                            distribution_filter=latencies,
                            range=s.MonitoringSloRequestBasedSliDistributionCutRange(max=slo.latency_threshold_ms)))),
        }
        for kind, (goal, what, sli) in objectives.items():
            objective = s.MonitoringSlo(
                self, kind, project=config.project_id, service=service.service_id, slo_id=kind,
                display_name=f"{what}, {slo.window_days} days", goal=goal, rolling_period_days=slo.window_days,
                request_based_sli=sli, user_labels=labels)
            for speed, long_window, short_window, rate in BURN_RATES:
                self._burn_alert(config, kind, what, objective, speed, long_window, short_window, rate, channels, labels)

    def _burn_alert(self, config: EnvironmentConfig, kind: str, what: str, objective, speed: str, long_window: int,
                    short_window: int, rate: float, channels: list, labels: dict) -> None:
        def condition(window: int) -> alert.MonitoringAlertPolicyConditions:
            return alert.MonitoringAlertPolicyConditions(
                display_name=f"Burn rate above {rate:g} over {window // 60} min",
                condition_threshold=alert.MonitoringAlertPolicyConditionsConditionThreshold(
                    filter=f'select_slo_burn_rate("{objective.name}", "{window}s")', comparison="COMPARISON_GT",
                    threshold_value=rate, duration="0s"))
        budget = "2 % of the error budget in an hour" if speed == "fast" else "5 % of the error budget in six hours"
        alert.MonitoringAlertPolicy(
            self, f"{kind}-{speed}-burn", display_name=f"{config.resource_name('frontend')}: {kind} SLO, {speed} burn",
            combiner="AND", conditions=[condition(long_window), condition(short_window)],
            notification_channels=[c.name for c in channels],
            documentation=alert.MonitoringAlertPolicyDocumentation(
                mime_type="text/markdown", subject=f"HexProperty {config.name}: frontend {kind} SLO, {speed} burn",
                content=f"The frontend spends its {kind} error budget ({what}) at {budget}'s pace or faster. "
                        "Runbook: docs/runbooks/monitoring.md, SLOs."),
            severity="CRITICAL" if speed == "fast" else "WARNING", user_labels=labels)
