"""Every number the seed (deployment-architecture.md) gives, checked in the synthesized stacks.

Each row quotes the seed line it checks. Where Google Cloud cannot do what the seed says,
the row checks the substitute DESIGN.md section 3 names (for example nodejs24 for Node.js 18).
"""

import pytest

from synth_tests.helpers import api_function, api_function_address, only, run_service, under


def frontend(stack, env):
    return run_service(stack, f"hexproperty-{env}-frontend")["template"]


def microservice_templates(stack, env):
    services = [b for b in stack["resource"]["google_cloud_run_v2_service"].values()
                if b["labels"]["tier"] == "microservices"]
    assert len(services) >= 3
    return [s["template"] for s in services]


def kafka(stack, env):
    return run_service(stack, f"hexproperty-{env}-kafka")["template"]


def kafka_env(stack, env):
    return {v["name"]: v["value"] for v in kafka(stack, env)["containers"][1]["env"]}


def function(stack, env):
    return api_function(stack)


ROWS = [
    # (seed line, environment, extractor -> value, expected)
    ("Frontend: Auto-scaling min=0", "staging", lambda s, e: frontend(s, e)["scaling"]["min_instance_count"], 0),
    ("Frontend: Auto-scaling max=2", "staging", lambda s, e: frontend(s, e)["scaling"]["max_instance_count"], 2),
    ("Frontend: Memory 512MB", "staging", lambda s, e: frontend(s, e)["containers"][0]["resources"]["limits"]["memory"], "512Mi"),
    ("Frontend: CPU 1", "staging", lambda s, e: frontend(s, e)["containers"][0]["resources"]["limits"]["cpu"], "1"),
    ("Frontend: Concurrency 80", "staging", lambda s, e: frontend(s, e)["max_instance_request_concurrency"], 80),
    ("Frontend: Min instances 2", "production", lambda s, e: frontend(s, e)["scaling"]["min_instance_count"], 2),
    ("Frontend: Max instances 10", "production", lambda s, e: frontend(s, e)["scaling"]["max_instance_count"], 10),
    ("Frontend: Memory 1GB", "production", lambda s, e: frontend(s, e)["containers"][0]["resources"]["limits"]["memory"], "1Gi"),
    ("Frontend: CPU 2", "production", lambda s, e: frontend(s, e)["containers"][0]["resources"]["limits"]["cpu"], "2"),
    ("Frontend: Regional deployment", "production", lambda s, e: run_service(s, f"hexproperty-{e}-frontend")["location"], "europe-west1"),
    ("API: Runtime Node.js 18 (decommissioned; nodejs24)", "staging", lambda s, e: function(s, e)["build_config"]["runtime"], "nodejs24"),
    ("API: Runtime Node.js 18 (decommissioned; nodejs24)", "production", lambda s, e: function(s, e)["build_config"]["runtime"], "nodejs24"),
    ("API: Memory 256MB", "staging", lambda s, e: function(s, e)["service_config"]["available_memory"], "256M"),
    ("API: Timeout 60s", "staging", lambda s, e: function(s, e)["service_config"]["timeout_seconds"], 60),
    ("API: Min instances 0", "staging", lambda s, e: function(s, e)["service_config"]["min_instance_count"], 0),
    ("API: Min instances 1", "production", lambda s, e: function(s, e)["service_config"]["min_instance_count"], 1),
    ("API: Memory 512MB", "production", lambda s, e: function(s, e)["service_config"]["available_memory"], "512M"),
    ("API: Regional deployment", "production", lambda s, e: function(s, e)["location"], "europe-west1"),
    ("Microservices: min=0", "staging", lambda s, e: {t["scaling"]["min_instance_count"] for t in microservice_templates(s, e)}, {0}),
    ("Microservices: max=2", "staging", lambda s, e: {t["scaling"]["max_instance_count"] for t in microservice_templates(s, e)}, {2}),
    ("Microservices: Memory 512MB", "staging", lambda s, e: {t["containers"][0]["resources"]["limits"]["memory"] for t in microservice_templates(s, e)}, {"512Mi"}),
    ("Microservices: Concurrency 80", "staging", lambda s, e: {t["max_instance_request_concurrency"] for t in microservice_templates(s, e)}, {80}),
    ("Microservices: Min instances 2", "production", lambda s, e: {t["scaling"]["min_instance_count"] for t in microservice_templates(s, e)}, {2}),
    ("Microservices: Max instances 10", "production", lambda s, e: {t["scaling"]["max_instance_count"] for t in microservice_templates(s, e)}, {10}),
    ("Kafka: Kafka in Docker on Cloud Run", "staging", lambda s, e: kafka(s, e)["containers"][1]["image"].split(":")[0], "apache/kafka"),
    ("Kafka: Zookeeper-less mode (KRaft)", "staging", lambda s, e: kafka_env(s, e)["KAFKA_PROCESS_ROLES"], "broker,controller"),
    ("Kafka: Persistence: Cloud Storage", "staging", lambda s, e: "gcs" in kafka(s, e)["volumes"][0], True),
    # "Auto-scaling based on load" cannot hold for a broker (docs/decisions/kafka.md): one instance.
    ("Kafka: Auto-scaling (a broker is one instance)", "staging", lambda s, e: kafka(s, e)["scaling"]["max_instance_count"], 1),
]


def thresholds(stack, basis):
    """The sorted threshold percentages of `basis`, the same on every budget of the stack."""
    found = {tuple(sorted(r["threshold_percent"] for r in b["threshold_rules"] if r["spend_basis"] == basis))
             for b in stack["resource"]["google_billing_budget"].values()}
    assert len(found) == 1, found
    return found.pop()


# Cost Monitoring: "Alerts at 50%, 80%, 90% of budget", plus a forecast rule at 100 % (DESIGN.md section 3).
ROWS += [
    ("Cost: Alerts at 50%, 80%, 90% of budget", env, lambda s, e: thresholds(s, "CURRENT_SPEND"), (0.5, 0.8, 0.9))
    for env in ("staging", "production")
] + [
    ("Cost: forecast alert at 100% of budget", env, lambda s, e: thresholds(s, "FORECASTED_SPEND"), (1.0,))
    for env in ("staging", "production")
] + [
    # "Per-service cost attribution": one budget per tier label besides the environment's own.
    ("Cost: Per-service cost attribution (budgets per tier label)", env,
     lambda s, e: len(s["resource"]["google_billing_budget"]) > 1, True)
    for env in ("staging", "production")
] + [
    # Compliance: "Audit logging", "Access tracking": every audit entry kept in a bucket of the region.
    ("Compliance: Audit logging (sink of Cloud Audit Logs)", env,
     lambda s, e: [b["filter"] for b in under(s, "google_logging_project_sink", "compliance").values()],
     ['logName:"cloudaudit.googleapis.com"'])
    for env in ("staging", "production")
] + [
    ("Compliance: Access tracking (production's audit bucket is locked)", "production",
     lambda s, e: [b["locked"] for b in under(s, "google_logging_project_bucket_config", "compliance").values()],
     [True]),
]


@pytest.mark.parametrize("seed_line,env,extract,expected", ROWS, ids=[f"{r[1]}: {r[0]}" for r in ROWS])
def test_seed_number(stacks, seed_line, env, extract, expected):
    assert extract(stacks[env], env) == expected, seed_line

