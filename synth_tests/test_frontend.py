"""The frontend tier: public Next.js on Cloud Run."""

import pytest

from synth_tests.helpers import api_function, api_function_address, address_of, member_of, only_address, ref, resources, run_service, service_account_address

@pytest.mark.parametrize("env", ["staging", "production"])
def test_scaling_and_resources_come_from_the_file(stacks, configs, env):
    settings = configs[env].frontend
    template = run_service(stacks[env], f"hexproperty-{env}-frontend")["template"]
    (container,) = template["containers"]
    assert template["scaling"] == {"min_instance_count": settings.min_instances, "max_instance_count": settings.max_instances}
    assert container["resources"] == {"cpu_idle": settings.cpu_idle, "startup_cpu_boost": True,
                                      "limits": {"cpu": str(settings.cpu), "memory": settings.memory}}
    assert template["max_instance_request_concurrency"] == settings.concurrency
    assert template["timeout"] == f"{settings.timeout_seconds}s"


@pytest.mark.parametrize("env", ["staging", "production"])
def test_public_with_invoker_check_disabled_and_own_identity(stacks, configs, env):
    """Production's edge is on: only its load balancer reaches the service, *.run.app no longer does."""
    stack = stacks[env]
    frontend = run_service(stack, f"hexproperty-{env}-frontend")
    assert configs[env].edge.enabled is (env == "production")
    assert frontend["ingress"] == ("INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER" if env == "production" else "INGRESS_TRAFFIC_ALL")
    assert frontend["invoker_iam_disabled"] is True
    account = service_account_address(stack, f"hp-{env}-frontend")
    assert frontend["template"]["service_account"] == ref("google_service_account", account, "email")
    # Public by the invoker check alone: no allUsers binding anywhere.
    members = [b["member"] for t in ("google_cloud_run_v2_service_iam_member",) for b in resources(stack, t).values()]
    assert "allUsers" not in members


@pytest.mark.parametrize("env", ["staging", "production"])
def test_startup_probe_and_api_url(stacks, env):
    stack = stacks[env]
    (container,) = run_service(stack, f"hexproperty-{env}-frontend")["template"]["containers"]
    assert container["startup_probe"]["http_get"]["path"] == "/"
    assert container["startup_probe"]["failure_threshold"] * container["startup_probe"]["period_seconds"] >= 60
    function_address = api_function_address(stack)
    env_vars = {e["name"]: e.get("value") for e in container["env"]}  # secret variables have no value
    assert env_vars["API_URL"] == ref("google_cloudfunctions2_function", function_address, "url")


@pytest.mark.parametrize("env", ["staging", "production"])
def test_terraform_creates_with_a_pinned_placeholder_and_ignores_image_changes(stacks, env):
    frontend = run_service(stacks[env], f"hexproperty-{env}-frontend")
    (container,) = frontend["template"]["containers"]
    assert "@sha256:" in container["image"]
    assert "template[0].containers[0].image" in frontend["lifecycle"]["ignore_changes"]


def test_staging_can_be_torn_down_production_cannot(staging, production):
    assert run_service(staging, "hexproperty-staging-frontend")["deletion_protection"] is False
    assert run_service(production, "hexproperty-production-frontend")["deletion_protection"] is True


@pytest.mark.parametrize("env", ["staging", "production"])
def test_frontend_may_invoke_exactly_what_it_calls(stacks, configs, env):
    stack = stacks[env]
    member = member_of(stack, f"hp-{env}-frontend")
    granted = sorted(
        b["name"] for b in resources(stack, "google_cloud_run_v2_service_iam_member").values() if b["member"] == member
    )
    expected = []
    for callee in configs[env].frontend.calls:
        if callee == "api":
            expected.append(ref("google_cloudfunctions2_function", api_function_address(stack), "name"))
        else:
            expected.append(ref("google_cloud_run_v2_service", address_of(stack, "google_cloud_run_v2_service", f"hexproperty-{env}-{callee}"), "name"))
    assert granted == sorted(expected)

