"""The delivery tier: Workload Identity Federation for GitHub Actions, and the bootstrap stack."""

import json
import os
from pathlib import Path

import pytest

from constructs.delivery import DEPLOYER_ROLES_BY_API, deployer_roles
from synth_tests.helpers import only, resources

ENVS = ["staging", "production"]
PRIMITIVE_ROLES = {"roles/owner", "roles/editor", "roles/viewer"}
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(params=ENVS)
def env(request, stacks, configs):
    return stacks[request.param], configs[request.param]


def _account_address(stack: dict, account_id: str) -> str:
    (address,) = [a for a, b in resources(stack, "google_service_account").items() if b["account_id"] == account_id]
    return f"google_service_account.{address}"


def _impersonators(stack: dict, account_id: str) -> list[str]:
    account = _account_address(stack, account_id)
    return sorted(b["member"] for b in resources(stack, "google_service_account_iam_member").values()
                  if b["service_account_id"] == f"${{{account}.name}}" and b["role"] == "roles/iam.workloadIdentityUser")


def test_provider_trusts_only_this_repository(env):
    stack, config = env
    provider = only(stack, "google_iam_workload_identity_pool_provider")
    assert provider["attribute_condition"] == f"assertion.repository == '{config.delivery.repository}'"
    assert provider["oidc"] == {"issuer_uri": "https://token.actions.githubusercontent.com"}
    mapping = provider["attribute_mapping"]
    assert mapping["google.subject"] == "assertion.sub"
    assert mapping["attribute.ref"] == "assertion.ref"
    assert mapping["attribute.repository"] == "assertion.repository"


def test_pool_id_is_within_googles_limits(env):
    stack, config = env
    pool_id = only(stack, "google_iam_workload_identity_pool")["workload_identity_pool_id"]
    assert 4 <= len(pool_id) <= 32 and not pool_id.startswith("gcp-")
    assert pool_id == config.short_name("github")


def test_staging_deploys_only_from_staging_and_release_branches(staging):
    members = _impersonators(staging, "hp-staging-deployer")
    assert [m.split("}", 1)[1] for m in members] == [
        "/attribute.branch_family/release", "/attribute.ref/refs/heads/staging"]
    mapping = only(staging, "google_iam_workload_identity_pool_provider")["attribute_mapping"]
    assert mapping["attribute.branch_family"] == "assertion.ref.startsWith('refs/heads/release/') ? 'release' : assertion.ref"


def test_production_deploys_only_from_main(production):
    members = _impersonators(production, "hp-production-deployer")
    assert [m.split("}", 1)[1] for m in members] == ["/attribute.ref/refs/heads/main"]
    mapping = only(production, "google_iam_workload_identity_pool_provider")["attribute_mapping"]
    assert "attribute.branch_family" not in mapping


def test_every_principal_set_is_in_this_pool(env):
    stack, _ = env
    (pool,) = resources(stack, "google_iam_workload_identity_pool")
    for body in resources(stack, "google_service_account_iam_member").values():
        assert body["member"].startswith(
            f"principalSet://iam.googleapis.com/${{google_iam_workload_identity_pool.{pool}.name}}/")


def test_planner_is_the_repository_and_reads_state_only(env):
    stack, config = env
    planner_id = config.short_name("planner")
    members = _impersonators(stack, planner_id)
    assert [m.split("}", 1)[1] for m in members] == [f"/attribute.repository/{config.delivery.repository}"]
    planner = f"${{{_account_address(stack, planner_id)}.member}}"
    grants = [b for t in ("google_project_iam_member", "google_storage_bucket_iam_member")
              for b in resources(stack, t).values() if b["member"] == planner]
    assert grants == [{"bucket": config.state_bucket, "member": planner, "role": "roles/storage.objectViewer",
                       "//": grants[0]["//"]}]


def test_no_keys_and_no_primitive_roles(env):
    stack, _ = env
    assert "google_service_account_key" not in stack.get("resource", {})
    roles = {b["role"] for t, group in stack["resource"].items() if t.endswith("_iam_member") for b in group.values()}
    assert roles and not roles & PRIMITIVE_ROLES


def test_deployer_holds_a_role_for_every_enabled_api(env):
    stack, config = env
    deployer = f"${{{_account_address(stack, config.short_name('deployer'))}.member}}"
    granted = {b["role"] for b in resources(stack, "google_project_iam_member").values() if b["member"] == deployer}
    services = sorted(b["service"] for b in resources(stack, "google_project_service").values())
    assert granted == set(deployer_roles(services))
    assert {"roles/compute.networkAdmin", "roles/iam.workloadIdentityPoolAdmin"} <= granted


def test_role_table_has_no_primitive_roles_and_refuses_unknown_apis():
    assert not {r for roles in DEPLOYER_ROLES_BY_API.values() for r in roles} & PRIMITIVE_ROLES
    with pytest.raises(ValueError, match="add it to DEPLOYER_ROLES_BY_API"):
        deployer_roles(["compute.googleapis.com", "example.googleapis.com"])


def test_workflows_get_the_provider_and_accounts_as_outputs(env):
    stack, _ = env
    outputs = {key.rsplit("_", 1)[0]: body["value"] for key, body in stack["output"].items()}
    assert outputs["delivery_workload-identity-provider"].startswith("${google_iam_workload_identity_pool_provider.")
    assert outputs["delivery_deployer-email"].endswith(".email}")


# --- the bootstrap stack -----------------------------------------------------------


@pytest.mark.parametrize("name", ENVS)
def test_bootstrap_creates_a_safe_state_bucket_with_local_state(bootstrap_dir, configs, name):
    stack_dir = bootstrap_dir / "stacks" / f"{name}-bootstrap"
    stack = json.loads((stack_dir / "cdk.tf.json").read_text())
    bucket = only(stack, "google_storage_bucket")
    assert bucket["name"] == configs[name].state_bucket
    assert bucket["versioning"] == {"enabled": True}
    assert bucket["uniform_bucket_level_access"] is True
    assert bucket["public_access_prevention"] == "enforced"
    assert bucket["lifecycle"] == {"prevent_destroy": True}
    assert bucket["labels"]["tier"] == "delivery"
    state = stack["terraform"]["backend"]["local"]["path"]
    assert not os.path.isabs(state)
    assert (stack_dir / state).resolve() == ROOT / "bootstrap" / f"{name}.tfstate"
    assert set(stack["resource"]) == {"google_storage_bucket", "google_project_service"}
    # The address is the bucket's identity in Terraform: renaming the construct id would replace it.
    assert set(stack["resource"]["google_storage_bucket"]) == {"state-bucket"}
