"""The frontend's SLOs (production): measured at the load balancer, fast and slow multi-window
burn-rate alerts, error budgets on the dashboard; staging keeps thresholds."""

import json

from constructs.tiers.slo import BURN_RATES, slo_names
from synth_tests.helpers import only, resources


def test_the_frontend_has_an_availability_and_a_latency_slo_measured_at_the_load_balancer(production, configs):
    config = configs["production"]
    slo = config.monitoring.slo
    service = only(production, "google_monitoring_custom_service")
    assert service["service_id"] == "hexproperty-production-frontend"
    objectives = {b["slo_id"]: b for b in resources(production, "google_monitoring_slo").values()}
    assert set(objectives) == {"availability", "latency"}
    for body in objectives.values():
        assert body["rolling_period_days"] == slo.window_days
        assert body["service"].startswith("${google_monitoring_custom_service.")
    ratio = objectives["availability"]["request_based_sli"]["good_total_ratio"]
    assert objectives["availability"]["goal"] == slo.availability_target
    assert 'metric.type = "loadbalancing.googleapis.com/https/request_count"' in ratio["total_service_filter"]
    assert 'resource.labels.backend_service_name = "hexproperty-production-frontend"' in ratio["total_service_filter"]
    assert ratio["bad_service_filter"].endswith("metric.labels.response_code_class = 500")
    cut = objectives["latency"]["request_based_sli"]["distribution_cut"]
    assert objectives["latency"]["goal"] == slo.latency_target
    assert "loadbalancing.googleapis.com/https/total_latencies" in cut["distribution_filter"]
    assert cut["range"] == {"max": slo.latency_threshold_ms}


def test_each_slo_alerts_on_a_fast_and_a_slow_burn_over_two_windows(production):
    burns = {b["display_name"]: b for b in resources(production, "google_monitoring_alert_policy").values()
             if "SLO" in b["display_name"]}
    assert len(burns) == 4
    for kind in ("availability", "latency"):
        for speed, long_window, short_window, rate in BURN_RATES:
            policy = burns[f"hexproperty-production-frontend: {kind} SLO, {speed} burn"]
            assert policy["combiner"] == "AND"
            filters = [c["condition_threshold"]["filter"] for c in policy["conditions"]]
            assert [f.rsplit('"', 2)[1] for f in filters] == [f"{long_window}s", f"{short_window}s"]
            assert all(f.startswith('select_slo_burn_rate("${google_monitoring_slo.') for f in filters)
            assert all(c["condition_threshold"]["threshold_value"] == rate for c in policy["conditions"])
            assert policy["notification_channels"]


def test_the_error_budgets_are_on_the_dashboard(production, configs):
    dashboard = json.loads(only(production, "google_monitoring_dashboard")["dashboard_json"])
    filters = json.dumps(dashboard)
    for name in slo_names(configs["production"]).values():
        assert f'select_slo_budget_fraction(\\"{name}\\")' in filters


def test_staging_keeps_thresholds(staging, configs):
    assert configs["staging"].monitoring.slo is None
    assert "google_monitoring_slo" not in staging["resource"]
    assert "google_monitoring_custom_service" not in staging["resource"]
