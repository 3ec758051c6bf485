"""Pricing rules of what watches and notifies: alert conditions, uptime checks, log buckets kept
past 30 days, log-based metrics, Pub/Sub topics and Cloud Scheduler jobs (cloud.google.com/
stackdriver/pricing, /pubsub/pricing, /scheduler/pricing). Registered in rules.RULES."""

from __future__ import annotations

import re

from cost.context import Context, Cost, Unpriced
from cost.stack import Resource, block, resources

# Google's alerting examples evaluate a condition every 30 seconds and bill the series each returns.
EVALUATION_SECONDS = 30
CHECKER_REGIONS = 6  # USA (3 checkers), EUROPE, SOUTH_AMERICA, ASIA_PACIFIC: all, when none are selected
MESSAGE_BILLED_BYTES = 1000  # Pub/Sub bills each message as at least 1,000 bytes
MESSAGES_PER_MINUTE = 1  # ceiling taken for an operations topic (notices, budget and alert notifications)
COUNTER_POINT_BYTES = 8  # a point of a log-based counter metric
FREE_RETENTION_DAYS = 30
DAYS_PER_MONTH = 365 / 12
RUNTIME_TYPES = ("google_cloud_run_v2_service", "google_cloudfunctions2_function")
# Group-by fields the estimate knows the cardinality of: one series per Cloud Run service, per
# uptime check host or per check.
PER_RUNTIME = ("resource.label.service_name", "resource.labels.service_name")
PER_CHECK = ("resource.label.host", "resource.labels.host", "metric.label.check_id", "metric.labels.check_id")
LOG_METRIC_LABEL = "metric.label."
USER_METRIC = re.compile(r'metric\.type\s*=\s*"logging\.googleapis\.com/user/([^"]+)"')
NAMED = re.compile(r'(resource\.labels?\.[a-z_]+|metric\.labels?\.[a-z_]+)\s*=\s*(one_of\(([^)]*)\)|"[^"]*"|ends_with)')


def _runtimes_in(stack: dict, filter_: str) -> int:
    """Cloud Run services (functions included) a filter matches: those it names, else all."""
    match = re.search(r'service_name\s*=\s*one_of\(([^)]*)\)', filter_)
    if match:
        return len(re.findall(r'"[^"]+"', match.group(1)))
    if re.search(r'service_name\s*=\s*"', filter_):
        return 1
    return sum(1 for r in resources(stack) if r.type in RUNTIME_TYPES)


def _checks_in(filter_: str) -> int:
    match = re.search(r'check_id\s*=\s*one_of\(([^)]*)\)', filter_)
    return len(re.findall(r'"[^"]+"', match.group(1))) if match else 1


def _labelled_series(metric: dict) -> int:
    """A log-based metric labelled per kind of entry: at most one series per alternative of its
    filter, written one per line (several alternatives may share a label value)."""
    return len(metric.get("filter", "").splitlines())


def _log_metric_series(stack: dict, filter_: str, field: str) -> int:
    match = USER_METRIC.search(filter_)
    metrics = [r.body for r in resources(stack) if r.type == "google_logging_metric"
               and match and r.body.get("name") == match.group(1) and r.body.get("label_extractors")]
    if not metrics:
        raise Unpriced(f"cannot tell how many series grouping by {field} returns: its filter names no labelled "
                       "log-based metric of the stack")
    return _labelled_series(metrics[0])


def series_returned(stack: dict, kind: str, condition: dict) -> int:
    """Time series one evaluation of a condition returns: one per group after a cross-series
    reduction, else one per monitored resource the filter names."""
    filter_ = condition.get("filter", "")
    aggregation = (condition.get("aggregations") or [{}])[0]
    if kind not in ("condition_threshold", "condition_absent"):
        raise Unpriced(f"no rule for the time series a {kind} returns")
    if aggregation.get("cross_series_reducer"):
        count = 1
        for field in aggregation.get("group_by_fields") or ():
            if field in PER_RUNTIME:
                count *= _runtimes_in(stack, filter_)
            elif field in PER_CHECK:
                count *= _checks_in(filter_)
            elif field.startswith(LOG_METRIC_LABEL):
                count *= _log_metric_series(stack, filter_, field)
            else:
                raise Unpriced(f"cannot tell how many series grouping by {field} returns: add it to cost/observability.py")
        return count
    if NAMED.search(filter_) or filter_.startswith("select_slo_"):
        return 1  # one resource, or one SLO's burn rate
    raise Unpriced("its filter names no one resource and reduces nothing: cannot tell how many series it returns")


def alert_policy(r: Resource, ctx: Context) -> Cost:
    """Each condition bills a monthly fee and the series its evaluations return."""
    conditions = r.body.get("conditions") or []
    evaluations = ctx.seconds / EVALUATION_SECONDS
    series = 0
    for condition in conditions:
        kinds = [key for key in condition if key.startswith("condition_")]
        for kind in kinds:
            series += series_returned(ctx.stack, kind, condition[kind])
    cost = len(conditions) * ctx.usd("alert_condition_month") + series * evaluations / 1e6 * ctx.usd("alert_time_series_million")
    return Cost(cost, cost, f"{len(conditions)} condition(s), {series} series x {evaluations:,.0f} evaluations "
                            f"(every {EVALUATION_SECONDS} s)")


def _executions(body: dict, ctx: Context) -> float:
    period = int(str(body.get("period", "60s")).rstrip("s"))
    checkers = len(body.get("selected_regions") or ()) or CHECKER_REGIONS
    return checkers * ctx.seconds / period


def uptime_check(r: Resource, ctx: Context) -> Cost:
    """Executions (one per checker region per period) beyond the project's free allotment, which
    the project's checks share in proportion to what they run."""
    mine = _executions(r.body, ctx)
    total = sum(_executions(other.body, ctx) for other in resources(ctx.stack) if other.type == r.type)
    billed = max(0.0, total - ctx.book.uptime_free_executions) * mine / total
    cost = billed / 1000 * ctx.usd("uptime_execution_thousand")
    return Cost(cost, cost, f"{mine:,.0f} executions ({len(r.body.get('selected_regions') or ()) or CHECKER_REGIONS} "
                            f"checkers every {r.body.get('period', '60s')}); the project's {total:,.0f} less "
                            f"{ctx.book.uptime_free_executions:,.0f} free")


def _routed_into(stack: dict, r: Resource) -> list[Resource]:
    target = f"${{{r.type}.{r.address}.id}}"
    return [sink for sink in resources(stack) if sink.type == "google_logging_project_sink"
            and target in str(sink.body.get("destination", ""))]


def _standby_twin(stack: dict, r: Resource) -> bool:
    """Another region's bucket of the same id takes the logs (constructs/tiers/monitoring.py)."""
    return any(other.type == r.type and other.address != r.address
               and other.body.get("bucket_id") == r.body.get("bucket_id") and _routed_into(stack, other)
               for other in resources(stack))


def _is_audit(sink: Resource) -> bool:
    filter_ = sink.body.get("filter", "")
    return "cloudaudit.googleapis.com" in filter_ and 'NOT logName:"cloudaudit' not in filter_


def log_bucket(r: Resource, ctx: Context) -> Cost:
    """Retention past 30 days, at steady state (a full retention period after the first write):
    each month's volume stays (retention - 30) days beyond the free 30."""
    days = int(r.body.get("retention_days") or FREE_RETENTION_DAYS)
    sinks = _routed_into(ctx.stack, r)
    if not sinks and _standby_twin(ctx.stack, r):
        return Cost(0.0, 0.0, "the standby region's twin of a routed bucket: it receives nothing until a failover",
                    ("what it retained from an earlier failover bills until its retention ends",))
    if not sinks:
        raise Unpriced("no sink routes logs into it, so its volume is unknown")
    audit = any(_is_audit(sink) for sink in sinks)
    volume = ctx.profile.audit_log_gib_per_month if audit else max(
        0.0, ctx.profile.log_gib_per_month - ctx.profile.audit_log_gib_per_month)
    kept = volume * max(0, days - FREE_RETENTION_DAYS) / DAYS_PER_MONTH
    cost = kept * ctx.usd("logging_retention_gib_month") if kept else 0.0
    what = "audit logs (load_profile.audit_log_gib_per_month)" if audit else "application logs (the rest of log_gib_per_month)"
    return Cost(0.0, cost, f"{volume:g} GiB/month of {what} x {days} days: {kept:,.1f} GiB past 30 days",
                ("steady state, reached once the bucket has been written for its retention period",))


def log_metric(r: Resource, ctx: Context) -> Cost:
    """A log-based counter writes a point per minute per series while matching entries arrive;
    at most one a minute for each runtime its filter covers, or for each kind a labelled one counts."""
    series = _labelled_series(r.body) if r.body.get("label_extractors") else _runtimes_in(ctx.stack, r.body.get("filter", ""))
    mib = series * ctx.seconds / 60 * COUNTER_POINT_BYTES / 2**20
    cost = mib * ctx.usd("monitoring_data_mib")
    return Cost(0.0, cost, f"at most {series} series x 1 point a minute = {mib:.2f} MiB",
                ("an upper bound: a point is written only in minutes with a matching entry; the first 150 MiB per "
                 "billing account are free (not applied)",))


def pubsub_topic(r: Resource, ctx: Context) -> Cost:
    """A topic costs nothing; its messages bill throughput. Ours carry notices: a ceiling of one a minute."""
    gib = MESSAGES_PER_MINUTE * ctx.seconds / 60 * MESSAGE_BILLED_BYTES / 2**30
    cost = gib / 1024 * ctx.usd("pubsub_throughput_tib")
    return Cost(cost, cost, f"at most {MESSAGES_PER_MINUTE} message a minute x {MESSAGE_BILLED_BYTES} billed bytes "
                            f"= {gib:.3f} GiB")


def scheduler_job(r: Resource, ctx: Context) -> Cost:
    cost = ctx.usd("scheduler_job_month")
    return Cost(cost, cost, "1 job a month")


def network_logs(ctx: Context) -> Cost:
    """VPC flow logs, firewall rule logs and Cloud NAT logs are vended network logs."""
    gib = ctx.profile.network_log_gib_per_month
    return Cost(0.0, gib * ctx.usd("vended_network_logs_gib"), f"{gib:g} GiB (load_profile.network_log_gib_per_month)",
                ("network telemetry charges on generating these logs: no rate found, not included",))


def subnetwork(r: Resource, ctx: Context) -> None:
    """Its flow logs bill as vended network logs: the project's `vended network logs` line."""
    return None

