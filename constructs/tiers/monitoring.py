"""Monitoring (seed: Cloud Logging, Cloud Monitoring, Cloud Trace; performance monitoring of
request latency, error rates, resource utilization and user experience).

- **Notifications**: one email channel per address in `monitoring.notification_emails`.
- **Alerts**, thresholds and durations from the file. `monitoring.alerting: per-runtime`
  (production): per runtime (frontend, API function, each microservice, the Kafka REST service
  when Kafka runs on Cloud Run) latency and 5xx ratio, and, except for the one-instance broker,
  instances at the cap; Cloud SQL CPU, memory, disk, connections; Redis memory; Kafka down; a
  failure alert per uptime check. `broad` (staging, which pages no one): each condition bills
  1.50 USD a month, so one latency and one 5xx condition over every runtime, grouped by service
  (each service still alerts on its own), and one uptime condition over both checks, grouped by
  host; no at-the-cap or utilization conditions (the dashboard shows them); Kafka down as above.
  `none` (staging): no condition that notifies a person; the dashboard, the uptime checks' own
  status, Sentry's error alerts and the deploy workflow's smoke tests are staging's signals.
- **SLOs** (`monitoring.slo`, production): the frontend's availability and latency objectives with
  fast and slow burn-rate alerts (slo.py); their error budgets on the dashboard.
- **Uptime checks** on the frontend and the API.
- **Logs**: application logs routed into a regional bucket with the file's retention, and a
  log-based metric counting application errors. The dashboard lives in monitoring_dashboard.py.
- **Trace**: the Cloud Trace API; every runtime identity already holds roles/cloudtrace.agent.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from cdktf import Fn, TerraformResourceLifecycle
from constructs import Construct

from constructs.google import (
    cloud_run_v2_service_iam_member,
    data_google_project,
    logging_metric,
    logging_project_bucket_config,
    logging_project_exclusion,
    logging_project_sink,
    monitoring_alert_policy as alert,
    monitoring_dashboard,
    monitoring_notification_channel,
    monitoring_uptime_check_config as uptime,
)
from constructs.shared.protection import keep
from constructs.shared.sites import place, site_address
from constructs.tiers.monitoring_dashboard import dashboard_json
from constructs.tiers.slo import FrontendSlos, slo_names
from environments.config import PRIMARY_SITE, DataNames, EnvironmentConfig

if TYPE_CHECKING:
    from constructs.shared.apis import Apis

TIER = "monitoring"
RUN_REVISION = 'resource.type = "cloud_run_revision"'
LOG_BUCKET = "app-logs"
ERROR_METRIC = "app-errors"
KAFKA_FAILURE_METRIC = "kafka-start-failures"
# Logs of every Cloud Run revision in the project: the frontend, the microservices, the Kafka
# service and every 2nd gen function (the API), which runs as a Cloud Run service. Not their audit
# logs: those keep the retention the compliance tier gives them.
APP_LOGS = 'resource.type = "cloud_run_revision" AND NOT logName:"cloudaudit.googleapis.com"'
# What Cloud Run itself logs about a container: startup probe failures, exits, out of memory.
SYSTEM_LOG = "run.googleapis.com%2Fvarlog%2Fsystem"


class Monitoring(Construct):
    """Built after the runtimes. `runtimes` maps a runtime's name to (Cloud Run service name,
    max instances or None when the cap is not a scaling signal)."""

    def __init__(self, scope: Construct, id_: str, *, config: EnvironmentConfig, apis: "Apis",
                 runtimes: dict[str, tuple[str, int | None]], frontend_url: str, api_uri: str | None,
                 api_function_name: str):
        super().__init__(scope, id_)
        self._config = config
        self._settings = config.monitoring
        self._labels = config.labels(TIER, "alerts")
        monitoring = apis.enable("monitoring.googleapis.com")
        self._depends_on = [monitoring]
        # Traces: runtimes export spans with their own identity (roles/cloudtrace.agent, runtime.py).
        # The OTLP Telemetry API (telemetry.googleapis.com) would need roles/telemetry.tracesWriter on
        # every runtime too; it is left off until an application exports OTLP.
        apis.enable("cloudtrace.googleapis.com")

        self.channels = [
            monitoring_notification_channel.MonitoringNotificationChannel(
                self, f"email-{_slug(address)}", type="email", display_name=f"HexProperty {config.name}: {address}",
                labels={"email_address": address}, user_labels=config.labels(TIER, "notifications"),
                depends_on=[monitoring])
            for address in self._settings.notification_emails
        ]
        self._channel_names = [channel.name for channel in self.channels]  # read once: each read is a jsii round trip
        self._logs(apis)
        if self._settings.broad:
            self._broad_runtime_alerts([service for service, _ in runtimes.values()])
        elif self._settings.notifies:
            for name, (service, max_instances) in runtimes.items():
                self._runtime_alerts(name, service, max_instances)
            self._data_alerts()
        if self._settings.notifies:
            self._kafka_alert()
        if self._settings.slo is not None:
            FrontendSlos(self, "slo", config=config, frontend_service=runtimes["frontend"][0], channels=self.channels,
                         depends_on=[monitoring])
        self._uptime_checks(frontend_url, api_uri, api_function_name)
        monitoring_dashboard.MonitoringDashboard(
            self, "dashboard", dashboard_json=dashboard_json(
                config, {n: s for n, (s, _) in runtimes.items()},
                slo_names(config) if self._settings.slo is not None else {}),
            depends_on=[monitoring])

    # --- logs -----------------------------------------------------------------------------

    def _logs(self, apis: "Apis") -> None:
        config, logging = self._config, apis.enable("logging.googleapis.com")
        # _Default keeps everything for 30 days, fixed, in the global location. Application logs go
        # to a bucket in the active region (data residency) with the file's retention, and _Default
        # skips them so each line is stored, and billed, once. With a DR site each region has one:
        # a failover routes into the DR region's (the other keeps what it retained), and the
        # error metric counts there; an empty bucket costs nothing.
        buckets = {}
        for site in config.sites:
            buckets[site] = logging_project_bucket_config.LoggingProjectBucketConfig(
                self, "log-bucket" if site == PRIMARY_SITE else "log-bucket-dr", project=config.project_id,
                location=config.region_of(site), bucket_id=config.resource_name(LOG_BUCKET),
                retention_days=self._settings.log_retention_days,
                description=f"Application logs of HexProperty {config.name} (Cloud Run services and functions)",
                depends_on=[logging])
            keep(buckets[site], config, site_address("application_log_bucket", site))
        self.log_bucket = buckets[config.disaster_recovery.active_site]
        destination = f"logging.googleapis.com/{self.log_bucket.id}"
        logging_project_sink.LoggingProjectSink(
            self, "log-sink", project=config.project_id, name=config.resource_name(LOG_BUCKET), destination=destination,
            # Into a log bucket of its own project: Logging writes it itself, no writer grant needed.
            filter=APP_LOGS, description="Application logs into the environment's log bucket")
        logging_project_exclusion.LoggingProjectExclusion(
            self, "default-exclusion", project=config.project_id, name=config.resource_name(f"{LOG_BUCKET}-not-default"),
            filter=APP_LOGS, description=f"Stored in {config.resource_name(LOG_BUCKET)} instead of _Default")
        # Counted in the environment's bucket (bucket-scoped metrics see what that bucket stores).
        logging_metric.LoggingMetric(
            self, "error-metric", project=config.project_id, name=config.resource_name(ERROR_METRIC),
            bucket_name=self.log_bucket.id,
            description="Application log entries at severity ERROR or above, per Cloud Run service or function",
            filter=f'{APP_LOGS} AND severity >= ERROR AND NOT logName:"{SYSTEM_LOG}"')

    # --- alerts ---------------------------------------------------------------------------

    def _policy(self, id_: str, title: str, conditions: list, doc: str, service: str) -> None:
        alert.MonitoringAlertPolicy(
            self, id_, display_name=f"{self._config.resource_name(service)}: {title}", combiner="OR",
            conditions=conditions, notification_channels=self._channel_names,
            alert_strategy=alert.MonitoringAlertPolicyAlertStrategy(auto_close="1800s"),
            documentation=alert.MonitoringAlertPolicyDocumentation(
                mime_type="text/markdown", subject=f"HexProperty {self._config.name}: {service} {title}",
                content=f"{doc} Runbook: docs/runbooks/monitoring.md."),
            severity="CRITICAL" if self._config.is_production else "WARNING",
            user_labels=self._labels, depends_on=self._depends_on)

    def _runtime_alerts(self, name: str, service: str, max_instances: int | None) -> None:
        latency, errors = self._settings.latency, self._settings.errors
        of_service = f'{RUN_REVISION} AND resource.labels.service_name = "{service}"'
        requests = f'{of_service} AND metric.type = "run.googleapis.com/request_count"'
        self._policy(f"latency-{name}", f"p{latency.percentile} latency above {latency.threshold_ms} ms", [_threshold(
            f"p{latency.percentile} request latency",
            f'{of_service} AND metric.type = "run.googleapis.com/request_latencies"',
            latency.threshold_ms, latency.duration_seconds, aligner=f"ALIGN_PERCENTILE_{latency.percentile}",
            reducer="REDUCE_MAX")], f"Requests to {service} are slow.", name)
        self._policy(f"errors-{name}", f"5xx above {errors.ratio:.0%} of requests", [_threshold(
            "5xx share of requests", f'{requests} AND metric.labels.response_code_class = "5xx"', errors.ratio,
            errors.duration_seconds, aligner="ALIGN_RATE", reducer="REDUCE_SUM", denominator=requests)],
            f"{service} answers with server errors. Its error log and Sentry show why.", name)
        if max_instances is not None:
            # At the cap: the count is a whole number, so "above max - 1" is "at max".
            self._policy(f"scaling-{name}", f"at its cap of {max_instances} instances", [_threshold(
                "Instances at max_instances", f'{of_service} AND metric.type = "run.googleapis.com/container/instance_count"',
                max_instances - 1, self._settings.scaling_duration_seconds, aligner="ALIGN_MAX", reducer="REDUCE_SUM")],
                f"{service} has run at max_instances: requests queue or fail, or something loops. Raise the cap in "
                "the environment file only once the load is understood (it is the cost ceiling).", name)

    def _broad_runtime_alerts(self, services: list[str]) -> None:
        """One condition per signal over every runtime, a series per service: still one alert per
        service in trouble, at the price of one condition."""
        latency, errors = self._settings.latency, self._settings.errors
        names = ", ".join(f'"{service}"' for service in sorted(services))
        of_runtimes = f'{RUN_REVISION} AND resource.labels.service_name = one_of({names})'
        requests = f'{of_runtimes} AND metric.type = "run.googleapis.com/request_count"'
        by_service = ["resource.label.service_name"]
        self._policy("latency", f"p{latency.percentile} latency above {latency.threshold_ms} ms", [_threshold(
            f"p{latency.percentile} request latency, per service",
            f'{of_runtimes} AND metric.type = "run.googleapis.com/request_latencies"',
            latency.threshold_ms, latency.duration_seconds, aligner=f"ALIGN_PERCENTILE_{latency.percentile}",
            reducer="REDUCE_MAX", group_by=by_service)],
            "Requests to the service named in this incident are slow.", "runtimes")
        self._policy("errors", f"5xx above {errors.ratio:.0%} of requests", [_threshold(
            "5xx share of requests, per service", f'{requests} AND metric.labels.response_code_class = "5xx"',
            errors.ratio, errors.duration_seconds, aligner="ALIGN_RATE", reducer="REDUCE_SUM", denominator=requests,
            group_by=by_service)],
            "The service named in this incident answers with server errors. Its error log and Sentry show why.",
            "runtimes")

    def _data_alerts(self) -> None:
        config, pg = self._config, self._settings.postgres
        instance = f'resource.type = "cloudsql_database" AND resource.labels.database_id = ' \
                   f'"{config.project_id}:{config.sql_writer_name}"'
        conditions = [
            _threshold(f"{what} above {value:.0%}", f'{instance} AND metric.type = "cloudsql.googleapis.com/database/{metric}"',
                       value, pg.duration_seconds, aligner="ALIGN_MEAN")
            for what, metric, value in (("CPU", "cpu/utilization", pg.cpu_utilization),
                                        ("Memory", "memory/utilization", pg.memory_utilization),
                                        ("Disk", "disk/utilization", pg.disk_utilization))
        ] + [_threshold(f"More than {pg.connections} connections",
                        f'{instance} AND metric.type = "cloudsql.googleapis.com/database/postgresql/num_backends"',
                        pg.connections, pg.duration_seconds, aligner="ALIGN_MAX", reducer="REDUCE_SUM")]
        # A stopped (auto-paused) instance reports nothing: the default treats missing data as no breach.
        self._policy("postgres", "CPU, memory, disk or connections high", conditions,
                     "The database is near a limit. Query Insights shows the heavy queries.", DataNames.SQL)
        redis = self._settings.redis
        self._policy("redis", f"memory above {redis.memory_usage_ratio:.0%}", [_threshold(
            "Memory usage ratio",
            f'resource.type = "redis_instance" AND resource.labels.instance_id = ends_with("/{config.resource_name(DataNames.REDIS)}")'
            ' AND metric.type = "redis.googleapis.com/stats/memory/usage_ratio"',
            redis.memory_usage_ratio, redis.duration_seconds, aligner="ALIGN_MAX")],
            "Redis is close to its memory: keys are evicted or writes refused.", DataNames.REDIS)

    def _kafka_alert(self) -> None:
        config, seconds = self._config, self._settings.kafka_duration_seconds
        name = config.resource_name("kafka")
        if config.events.backend == "cloud-run":
            # Zero instances is normal here (min_instances 0: the broker sleeps when idle), so "down"
            # means failing to run: Cloud Run's own ERROR lines for the service (startup probe failed,
            # container exited, out of memory), counted by a log-based metric in the environment's bucket.
            # A start attempt takes minutes (4-minute probe window), so one failure within the file's
            # window alerts, rather than a failure in every minute of it.
            metric = logging_metric.LoggingMetric(
                self, "kafka-failure-metric", project=config.project_id, name=config.resource_name(KAFKA_FAILURE_METRIC),
                bucket_name=self.log_bucket.id, description=f"Start failures, exits and crashes of {name}",
                filter=f'{APP_LOGS} AND resource.labels.service_name = "{name}" AND logName:"{SYSTEM_LOG}" '
                       'AND severity >= ERROR')
            condition = _threshold("Broker failed to start or crashed",
                                   f'metric.type = "logging.googleapis.com/user/{metric.name}" AND {RUN_REVISION}',
                                   0, 0, aligner="ALIGN_SUM", reducer="REDUCE_SUM", window=seconds)
        else:
            # Google runs the brokers (three zones); what we can see is the cluster stopping serving.
            # Clients poll all the time, so no request count for the whole duration means it is down.
            condition = alert.MonitoringAlertPolicyConditions(
                display_name="Cluster serves no requests",
                condition_absent=alert.MonitoringAlertPolicyConditionsConditionAbsent(
                    filter=(f'resource.type = "managedkafka.googleapis.com/Cluster" AND resource.labels.cluster_id = '
                            f'"{name}" AND metric.type = "managedkafka.googleapis.com/request_count"'),
                    duration=f"{seconds}s",
                    aggregations=[alert.MonitoringAlertPolicyConditionsConditionAbsentAggregations(
                        alignment_period="60s", per_series_aligner="ALIGN_RATE", cross_series_reducer="REDUCE_SUM")],
                ))
        self._policy("kafka", "broker not running", [condition],
                     "Producers and consumers cannot reach Kafka. docs/decisions/kafka.md describes both backends.", "kafka")

    # --- uptime -----------------------------------------------------------------------------

    def _uptime_checks(self, frontend_url: str, api_uri: str | None, api_function_name: str) -> None:
        """`api_uri` None: the API answers the VPC only, and the frontend's check is the users' path."""
        config, settings = self._config, self._settings.uptime
        targets = [("frontend", frontend_url, settings.frontend_path, False)]
        if api_uri is not None:
            targets.append(("api", api_uri, settings.api_path, True))
            # The API's ingress is ALLOW_ALL but invoking it takes roles/run.invoker: the checkers send an
            # OIDC token of the Monitoring service agent, which may invoke the API's service and nothing else.
            # The agent exists once the project has a notification channel (the channels above).
            number = data_google_project.DataGoogleProject(self, "project", project_id=config.project_id).number
            place(cloud_run_v2_service_iam_member.CloudRunV2ServiceIamMember(
                self, "uptime-invokes-api", project=config.project_id, location=config.active_region,
                name=api_function_name, role="roles/run.invoker",
                member=f"serviceAccount:service-{number}@gcp-sa-monitoring-notification.iam.gserviceaccount.com",
                depends_on=self.channels), config)
        check_ids = []
        for name, url, path, authenticated in targets:
            check = uptime.MonitoringUptimeCheckConfig(
                self, f"uptime-check-{name}", display_name=f"{config.resource_name(name)} is up", timeout=f"{settings.timeout_seconds}s",
                period=f"{settings.period_seconds}s",
                monitored_resource=uptime.MonitoringUptimeCheckConfigMonitoredResource(
                    type="uptime_url", labels={"project_id": config.project_id, "host": Fn.trimprefix(url, "https://")}),
                http_check=uptime.MonitoringUptimeCheckConfigHttpCheck(
                    path=path, port=443, use_ssl=True, validate_ssl=True, request_method="GET",
                    accepted_response_status_codes=[
                        uptime.MonitoringUptimeCheckConfigHttpCheckAcceptedResponseStatusCodes(status_class="STATUS_CLASS_2XX")],
                    service_agent_authentication=uptime.MonitoringUptimeCheckConfigHttpCheckServiceAgentAuthentication(
                        type="OIDC_TOKEN") if authenticated else None),
                user_labels=config.labels(TIER, f"uptime-{name}"), depends_on=self._depends_on)
            check_ids.append(check.uptime_check_id)
            if self._settings.notifies and not self._settings.broad:
                self._uptime_alert(f"uptime-{name}", f'"{check.uptime_check_id}"',
                                   f"{config.resource_name(name)} does not answer 2xx from more than one checker region.",
                                   name)
        if self._settings.broad:
            self._uptime_alert("uptime", "one_of(" + ", ".join(f'"{check_id}"' for check_id in check_ids) + ")",
                               "The host named in this incident does not answer 2xx from more than one checker region.",
                               "uptime")

    def _uptime_alert(self, id_: str, check_ids: str, doc: str, service: str) -> None:
        """Failing from more than one checker region, a series per host (one host per check)."""
        settings = self._settings.uptime
        self._policy(id_, "uptime check failing", [_threshold(
            "Checker regions failing",
            'metric.type = "monitoring.googleapis.com/uptime_check/check_passed" AND resource.type = "uptime_url" '
            f'AND metric.labels.check_id = {check_ids}',
            1, settings.duration_seconds, aligner="ALIGN_NEXT_OLDER", reducer="REDUCE_COUNT_FALSE",
            window=settings.period_seconds * 2, group_by=["resource.label.host"])], doc, service)


def _threshold(title: str, filter_: str, value: float, seconds: int, *, aligner: str, reducer: str | None = None,
               denominator: str | None = None, window: int = 60,
               group_by: list[str] | None = None) -> alert.MonitoringAlertPolicyConditions:
    """One "above `value` for `seconds`" condition, built from the binding's structs (jsii drops
    snake_case keys of plain dicts inside lists)."""
    c = alert
    aggregations = [c.MonitoringAlertPolicyConditionsConditionThresholdAggregations(
        alignment_period=f"{window}s", per_series_aligner=aligner, cross_series_reducer=reducer, group_by_fields=group_by)]
    return c.MonitoringAlertPolicyConditions(
        display_name=title,
        condition_threshold=c.MonitoringAlertPolicyConditionsConditionThreshold(
            filter=filter_, comparison="COMPARISON_GT", threshold_value=value, duration=f"{seconds}s",
            aggregations=aggregations,
            denominator_filter=denominator,
            denominator_aggregations=[c.MonitoringAlertPolicyConditionsConditionThresholdDenominatorAggregations(
                alignment_period=f"{window}s", per_series_aligner=aligner, cross_series_reducer=reducer,
                group_by_fields=group_by)]
            if denominator else None,
        ),
    )


def _slug(address: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", address.lower()).strip("-")
