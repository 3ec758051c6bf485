"""The environment's dashboard: each tier's golden signals (latency, traffic, errors, saturation).

Built as a dict and serialized with json.dumps (the `projects.dashboards` schema). Every name in
it comes from the environment file, never from a Terraform reference, so the JSON is plain text
that reviewers can read in the synthesized stack.
"""

from __future__ import annotations

import json

from environments.config import DataNames, EnvironmentConfig

WIDTH, HEIGHT, COLUMNS = 16, 4, 48  # a mosaic is 48 columns wide: three charts per row


def dashboard_json(config: EnvironmentConfig, runtimes: dict[str, str], slos: dict[str, str]) -> str:
    """`runtimes` maps each runtime's name to its Cloud Run service name (functions included);
    `slos` each frontend SLO's kind to its name in the Monitoring API (none: no SLO)."""
    sections: list[tuple[str, list[dict]]] = []
    for tier, names in (("frontend", ["frontend"]), ("api", ["api"]),
                        ("microservices", [s.name for s in config.microservices])):
        charts = [chart for name in names for chart in _runtime_charts(name, runtimes[name])]
        if tier == "frontend":
            charts += [_budget_chart(kind, name) for kind, name in slos.items()]
        sections.append((tier, charts))
    sections.append(("data", _sql_charts(config) + _redis_charts(config)))
    sections.append(("events", _kafka_charts(config, runtimes.get("kafka"))))

    tiles, y = [], 0
    for tier, charts in sections:
        tiles.append({"xPos": 0, "yPos": y, "width": COLUMNS, "height": 1,
                      "widget": {"title": tier, "sectionHeader": {"dividerBelow": True}}})
        y += 1
        for index, chart in enumerate(charts):
            tiles.append({"xPos": (index % 3) * WIDTH, "yPos": y + (index // 3) * HEIGHT, "width": WIDTH,
                          "height": HEIGHT, "widget": chart})
        y += -(-len(charts) // 3) * HEIGHT
    return json.dumps({"displayName": f"HexProperty {config.name}: golden signals",
                       "mosaicLayout": {"columns": COLUMNS, "tiles": tiles}}, sort_keys=True)


def _chart(title: str, filter_: str, aligner: str, reducer: str = "REDUCE_SUM", group_by: list[str] | None = None,
           plot: str = "LINE") -> dict:
    aggregation = {"alignmentPeriod": "60s", "perSeriesAligner": aligner, "crossSeriesReducer": reducer}
    if group_by:
        aggregation["groupByFields"] = group_by
    return {"title": title, "xyChart": {"dataSets": [{
        "plotType": plot, "targetAxis": "Y1",
        "timeSeriesQuery": {"timeSeriesFilter": {"filter": filter_, "aggregation": aggregation}},
    }]}}


def _budget_chart(kind: str, slo_name: str) -> dict:
    """The share of the SLO's error budget left over its window (1 is untouched, below 0 spent)."""
    return {"title": f"frontend: {kind} error budget left", "xyChart": {"dataSets": [{
        "plotType": "LINE", "targetAxis": "Y1",
        "timeSeriesQuery": {"timeSeriesFilter": {"filter": f'select_slo_budget_fraction("{slo_name}")'}},
    }]}}


def _runtime_charts(name: str, service: str) -> list[dict]:
    run = f'resource.type = "cloud_run_revision" AND resource.labels.service_name = "{service}"'
    requests = f'{run} AND metric.type = "run.googleapis.com/request_count"'
    return [
        _chart(f"{name}: latency p99 (ms)", f'{run} AND metric.type = "run.googleapis.com/request_latencies"',
               "ALIGN_DELTA", "REDUCE_PERCENTILE_99"),
        _chart(f"{name}: requests/s by response class", requests, "ALIGN_RATE", group_by=["metric.label.response_code_class"],
               plot="STACKED_BAR"),
        _chart(f"{name}: 5xx/s", f'{requests} AND metric.labels.response_code_class = "5xx"', "ALIGN_RATE"),
        _chart(f"{name}: instances", f'{run} AND metric.type = "run.googleapis.com/container/instance_count"', "ALIGN_MAX",
               group_by=["metric.label.state"], plot="STACKED_AREA"),
        _chart(f"{name}: CPU utilization p99", f'{run} AND metric.type = "run.googleapis.com/container/cpu/utilizations"',
               "ALIGN_PERCENTILE_99", "REDUCE_MAX"),
        _chart(f"{name}: memory utilization p99", f'{run} AND metric.type = "run.googleapis.com/container/memory/utilizations"',
               "ALIGN_PERCENTILE_99", "REDUCE_MAX"),
    ]


def _sql_charts(config: EnvironmentConfig) -> list[dict]:
    sql = (f'resource.type = "cloudsql_database" AND resource.labels.database_id = '
           f'"{config.project_id}:{config.sql_writer_name}"')
    metric = "cloudsql.googleapis.com/database/"
    return [_chart(f"postgres: {title}", f'{sql} AND metric.type = "{metric}{name}"', aligner, reducer)
            for title, name, aligner, reducer in (
                ("CPU utilization", "cpu/utilization", "ALIGN_MEAN", "REDUCE_MAX"),
                ("memory utilization", "memory/utilization", "ALIGN_MEAN", "REDUCE_MAX"),
                ("disk utilization", "disk/utilization", "ALIGN_MEAN", "REDUCE_MAX"),
                ("connections", "postgresql/num_backends", "ALIGN_MAX", "REDUCE_SUM"),
                ("transactions/s", "postgresql/transaction_count", "ALIGN_RATE", "REDUCE_SUM"),
                ("deadlocks", "postgresql/deadlock_count", "ALIGN_DELTA", "REDUCE_SUM"))]


def _redis_charts(config: EnvironmentConfig) -> list[dict]:
    redis = (f'resource.type = "redis_instance" AND resource.labels.instance_id = '
             f'ends_with("/{config.resource_name(DataNames.REDIS)}")')
    return [_chart(f"redis: {title}", f'{redis} AND metric.type = "redis.googleapis.com/{name}"', aligner, "REDUCE_MAX")
            for title, name, aligner in (
                ("memory usage ratio", "stats/memory/usage_ratio", "ALIGN_MAX"),
                ("commands/s", "commands/calls", "ALIGN_RATE"),
                ("connected clients", "clients/connected", "ALIGN_MAX"),
                ("evicted keys", "stats/evicted_keys", "ALIGN_DELTA"))]


def _kafka_charts(config: EnvironmentConfig, service: str | None) -> list[dict]:
    if service is not None:  # the cloud-run backend: its REST proxy is a Cloud Run service
        return _runtime_charts("kafka", service)
    cluster = (f'resource.type = "managedkafka.googleapis.com/Cluster" AND resource.labels.cluster_id = '
               f'"{config.resource_name("kafka")}"')
    return [_chart("kafka: requests/s", f'{cluster} AND metric.type = "managedkafka.googleapis.com/request_count"',
                   "ALIGN_RATE")]
