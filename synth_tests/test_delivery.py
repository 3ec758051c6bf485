"""CI identities (bootstrap stack): who can assume which identity, and what each may do.

Read from the synthesized JSON of both the main stacks (what CI deploys) and the bootstrap
stacks (the identities and their grants, applied by a person).
"""

import json
import os
import re
from pathlib import Path

import pytest

from constructs.concerns.ci_access import (
    CONDITIONAL_READS,
    DATA_SOURCE_PERMISSIONS,
    DEPLOY_PERMISSIONS,
    DEPLOYER_ROLES_BY_TYPE,
    EVENT_TRIGGERED_FUNCTION,
    FORBIDDEN_ROLES,
    OUTSIDE_PROJECT,
    QUOTA_PERMISSIONS,
    read_permissions,
    role_grants,
    stack_needs,
)
from synth_tests.helpers import ENVS, only, resources

ROOT = Path(__file__).resolve().parent.parent
WORKLOAD_IDENTITY_USER = "roles/iam.workloadIdentityUser"


@pytest.fixture(scope="session")
def bootstraps(bootstrap_dir) -> dict[str, dict]:
    return {name: json.loads((bootstrap_dir / "stacks" / f"{name}-bootstrap" / "cdk.tf.json").read_text())
            for name in ENVS}


@pytest.fixture(params=ENVS)
def env(request, stacks, bootstraps, configs):
    """(main stack, bootstrap stack, config) of one environment."""
    return stacks[request.param], bootstraps[request.param], configs[request.param]


def _account(bootstrap: dict, name: str) -> str:
    (address,) = [a for a, b in resources(bootstrap, "google_service_account").items() if b["account_id"].endswith(f"-{name}")]
    return f"google_service_account.{address}"


def _impersonators(bootstrap: dict, name: str) -> list[str]:
    account = _account(bootstrap, name)
    return sorted(b["member"].split("}", 1)[1] for b in resources(bootstrap, "google_service_account_iam_member").values()
                  if b["service_account_id"] == f"${{{account}.name}}" and b["role"] == WORKLOAD_IDENTITY_USER)


def _project_grants(bootstrap: dict, name: str) -> list[dict]:
    member = f"${{{_account(bootstrap, name)}.member}}"
    return [b for b in resources(bootstrap, "google_project_iam_member").values() if b["member"] == member]


def _custom_roles(bootstrap: dict) -> dict[str, dict]:
    return {f"${{google_project_iam_custom_role.{a}.name}}": b
            for a, b in resources(bootstrap, "google_project_iam_custom_role").items()}


def _holds(bootstrap: dict, name: str) -> dict[str, dict | None]:
    """Role (custom role id, or predefined name) -> condition, for one CI account's project grants."""
    custom = _custom_roles(bootstrap)
    return {custom[g["role"]]["role_id"] if g["role"] in custom else g["role"]: g.get("condition")
            for g in _project_grants(bootstrap, name)}


# --- trust: who can assume which identity ---------------------------------------------


def test_the_main_stack_holds_no_ci_identity_or_trust(env):
    """CI applies the main stack: nothing in it may change who CI is or what it can do."""
    stack, _, config = env
    kinds = set(stack["resource"])
    assert not kinds & {"google_iam_workload_identity_pool", "google_iam_workload_identity_pool_provider",
                        "google_service_account_iam_member", "google_service_account_iam_binding"}
    ci_ids = {config.short_name(n) for n in ("deployer", "planner", "smoke")}
    assert not ci_ids & {b["account_id"] for b in resources(stack, "google_service_account").values()}
    text = json.dumps(stack["resource"])
    assert config.short_name("deployer") not in text and config.short_name("planner") not in text


def test_provider_pins_numeric_ids_and_the_events_the_workflows_use(env):
    _, bootstrap, config = env
    provider = only(bootstrap, "google_iam_workload_identity_pool_provider")
    delivery = config.delivery
    assert provider["attribute_condition"] == (
        f"assertion.repository_id == '{delivery.repository_id}' && "
        f"assertion.repository_owner_id == '{delivery.repository_owner_id}' && "
        "assertion.event_name in ['push', 'pull_request', 'schedule', 'workflow_dispatch']")
    assert "pull_request_target" not in provider["attribute_condition"]
    assert provider["oidc"] == {"issuer_uri": "https://token.actions.githubusercontent.com"}
    assert provider["attribute_mapping"]["google.subject"] == "assertion.sub"


def test_deployer_is_only_the_jobs_of_the_protected_github_environment(env):
    _, bootstrap, config = env
    assert _impersonators(bootstrap, "deployer") == [
        f"/subject/repo:{config.delivery.repository}:environment:{config.name}"]


def test_production_planner_is_pull_requests_into_main_and_release_the_main_push_and_drift(bootstraps):
    assert _impersonators(bootstraps["production"], "planner") == [
        "/attribute.event_ref/pull_request:refs/heads/main",
        "/attribute.event_ref/pull_request:release",
        "/attribute.event_ref/push:refs/heads/main",
        "/subject/repo:hexproperty/infrastructure:environment:drift",
    ]


def test_staging_planner_is_the_other_pull_requests_its_deploy_pushes_and_drift(bootstraps):
    assert _impersonators(bootstraps["staging"], "planner") == [
        "/attribute.event_ref/pull_request:refs/heads/develop",
        "/attribute.event_ref/pull_request:refs/heads/staging",
        "/attribute.event_ref/push:refs/heads/staging",
        "/attribute.event_ref/push:release",
        "/subject/repo:hexproperty/infrastructure:environment:drift",
    ]


def _event_ref(mapping: str, claims: dict) -> str:
    """Evaluate the provider's event_ref CEL for one token (the subset of CEL it uses)."""
    event, base, ref = claims["event_name"], claims.get("base_ref", ""), claims["ref"]

    def family(value: str, expression: str) -> str:
        for prefix, name in re.findall(r"startsWith\('([^']+)'\) \? '([^']+)'", expression):
            if value.startswith(prefix):
                return name
        return value

    pull, other = mapping.split(" : assertion.event_name + ':' + ", 1)
    return f"pull_request:{family('refs/heads/' + base, pull)}" if event == "pull_request" else f"{event}:{family(ref, other)}"


@pytest.mark.parametrize("claims,planner_envs", [
    ({"event_name": "pull_request", "base_ref": "main", "ref": "refs/pull/7/merge"}, ["production"]),
    ({"event_name": "pull_request", "base_ref": "release/2.1", "ref": "refs/pull/7/merge"}, ["production"]),
    ({"event_name": "pull_request", "base_ref": "develop", "ref": "refs/pull/7/merge"}, ["staging"]),
    ({"event_name": "pull_request", "base_ref": "feature/x", "ref": "refs/pull/7/merge"}, []),
    ({"event_name": "push", "ref": "refs/heads/release/2.1"}, ["staging"]),
    ({"event_name": "push", "ref": "refs/heads/main"}, ["production"]),
    ({"event_name": "push", "ref": "refs/heads/develop"}, []),
    # A branch named like a family value is still a ref: no family match by name.
    ({"event_name": "push", "ref": "refs/heads/releasex/1"}, []),
    ({"event_name": "schedule", "ref": "refs/heads/main"}, []),
])
def test_which_tokens_reach_a_planner(bootstraps, claims, planner_envs):
    reached = []
    for name, bootstrap in bootstraps.items():
        mapping = only(bootstrap, "google_iam_workload_identity_pool_provider")["attribute_mapping"]["attribute.event_ref"]
        value = _event_ref(mapping, claims)
        if f"/attribute.event_ref/{value}" in _impersonators(bootstrap, "planner"):
            reached.append(name)
    assert sorted(reached) == sorted(planner_envs)


def test_smoke_account_is_the_deploy_pushes_and_may_only_invoke_the_api(env):
    stack, bootstrap, config = env
    assert _impersonators(bootstrap, "smoke") == [
        v.replace("planner", "") for v in _impersonators(bootstrap, "planner") if "/push:" in v]
    assert _project_grants(bootstrap, "smoke") == []
    email = f"serviceAccount:{config.short_name('smoke')}@{config.project_id}.iam.gserviceaccount.com"
    grants = [b for t, group in stack["resource"].items() if t.endswith("_iam_member") for b in group.values()
              if b["member"] == email]
    # Behind the edge the API answers the VPC only: the smoke tests call the frontend alone.
    expected = [] if config.edge.enabled else [("roles/run.invoker", "${google_cloudfunctions2_function.api_function_AF620FF3.name}")]
    assert [(g["role"], g["name"]) for g in grants] == expected


def test_every_principal_is_in_this_pool(env):
    _, bootstrap, _ = env
    (pool,) = resources(bootstrap, "google_iam_workload_identity_pool")
    for body in resources(bootstrap, "google_service_account_iam_member").values():
        if body["role"] == WORKLOAD_IDENTITY_USER:
            assert re.match(rf"^principal(Set)?://iam\.googleapis\.com/\$\{{google_iam_workload_identity_pool\.{pool}\.name\}}/",
                            body["member"])


# --- what the deployer may do ---------------------------------------------------------


def test_no_ci_identity_holds_a_forbidden_role_or_a_key(env):
    _, bootstrap, _ = env
    assert "google_service_account_key" not in bootstrap["resource"]
    for name in ("deployer", "planner", "smoke"):
        assert not set(_holds(bootstrap, name)) & FORBIDDEN_ROLES


def test_project_iam_admin_only_for_the_runtime_roles_the_stack_grants(env):
    stack, bootstrap, _ = env
    condition = _holds(bootstrap, "deployer")["roles/resourcemanager.projectIamAdmin"]
    assert condition is not None, "unconditional projectIamAdmin"
    granted = stack_needs(stack).granted_roles
    listed = re.fullmatch(r"api\.getAttribute\('iam\.googleapis\.com/modifiedGrantsByRole', \[\]\)\.hasOnly\(\[(.*)\]\)",
                          condition["expression"]).group(1)
    assert sorted(re.findall(r"'([^']+)'", listed)) == sorted(granted)
    # The deployer could hand these on to itself through a runtime account it deploys.
    assert not set(granted) & (FORBIDDEN_ROLES | {"roles/resourcemanager.projectIamAdmin", "roles/iam.serviceAccountUser"})
    assert "roles/cloudsql.client" in granted


def test_service_account_user_per_account_never_on_the_project(env):
    stack, bootstrap, config = env
    assert "roles/iam.serviceAccountUser" not in _holds(bootstrap, "deployer")
    deployer = f"${{{_account(bootstrap, 'deployer')}.member}}"
    acts_as = sorted(b["service_account_id"].rsplit("/", 1)[1] for b in resources(bootstrap, "google_service_account_iam_member").values()
                     if b["member"] == deployer and b["role"] == "roles/iam.serviceAccountUser")
    # Every account a service, function, build or job of the main stack runs as.
    addresses = {f"${{google_service_account.{a}.{attr}}}": b["account_id"]
                 for a, b in resources(stack, "google_service_account").items() for attr in ("email", "name")}
    text = json.dumps({t: stack["resource"][t] for t in ("google_cloud_run_v2_service", "google_cloudfunctions2_function",
                                                           "google_cloud_scheduler_job") if t in stack["resource"]})
    runs_as = {addresses[ref] for ref in re.findall(r"\$\{google_service_account\.[^}]+\}", text)}
    assert runs_as and {f"{a}@{config.project_id}.iam.gserviceaccount.com" for a in runs_as} <= set(acts_as)


def test_no_power_over_the_state_bucket_beyond_its_objects(env):
    _, bootstrap, config = env
    storage = _holds(bootstrap, "deployer")["roles/storage.admin"]
    assert storage["expression"] == (f"resource.name != 'projects/_/buckets/{config.state_bucket}' && "
                                     f"!resource.name.startsWith('projects/_/buckets/{config.state_bucket}/')")
    deployer = f"${{{_account(bootstrap, 'deployer')}.member}}"
    on_bucket = [b["role"] for b in resources(bootstrap, "google_storage_bucket_iam_member").values() if b["member"] == deployer]
    assert on_bucket == ["roles/storage.objectAdmin"]


def test_secrets_without_reading_versions_a_person_added(env):
    stack, bootstrap, config = env
    holds = _holds(bootstrap, "deployer")
    assert "roles/secretmanager.admin" not in holds
    custom = {b["role_id"]: b["permissions"] for b in _custom_roles(bootstrap).values()}
    assert "secretmanager.versions.access" not in custom["ciSecrets"]
    expression = holds["roles/secretmanager.secretAccessor"]["expression"]
    payment = config.api.secrets["PAYMENT_PROVIDER_KEY"]
    # The placeholder the stack wrote is version 1; the real key a person adds is a later version.
    assert f"resource.name.endsWith('/secrets/{payment}/versions/1')" in expression
    assert f"'{payment}'" not in expression


def test_firewall_rules_are_manageable(env):
    _, bootstrap, _ = env
    custom = {b["role_id"]: b["permissions"] for b in _custom_roles(bootstrap).values()}
    assert "ciFirewalls" in _holds(bootstrap, "deployer")
    assert {"compute.firewalls.update", "compute.firewalls.create", "compute.networks.updatePolicy"} <= set(custom["ciFirewalls"])


def _deployer_can(bootstrap: dict, permission: str) -> bool:
    custom = {b["role_id"]: b["permissions"] for b in _custom_roles(bootstrap).values()}
    for role in _holds(bootstrap, "deployer"):
        if role in custom:
            if permission in custom[role]:
                return True
        elif role_grants(role, permission):
            return True
    return False


def test_the_deployer_holds_every_permission_each_type_in_the_stack_needs(env):
    """The mapping: every resource type -> the permissions deploying it takes -> a role the deployer holds."""
    stack, bootstrap, _ = env
    missing = []
    for resource_type in stack_needs(stack).resource_types:
        roles = DEPLOYER_ROLES_BY_TYPE[resource_type]
        for permission in DEPLOY_PERMISSIONS[resource_type]:
            if permission == "iam.serviceAccounts.actAs":
                continue  # per account: test_service_account_user_per_account_never_on_the_project
            if OUTSIDE_PROJECT in roles and role_grants(OUTSIDE_PROJECT, permission):
                continue  # granted on the billing account or organization (runbook)
            if not _deployer_can(bootstrap, permission):
                missing.append(f"{resource_type}: {permission}")
    for data_type in stack.get("data", {}):
        missing += [f"data.{data_type}: {p}" for p in DATA_SOURCE_PERMISSIONS[data_type] if not _deployer_can(bootstrap, p)]
    missing += [p for p in QUOTA_PERMISSIONS if not _deployer_can(bootstrap, p)]
    assert not missing


def test_event_triggered_functions_bring_eventarc(bootstraps, stacks):
    """Staging's auto-pause function is event-triggered; production has none."""
    assert EVENT_TRIGGERED_FUNCTION in stack_needs(stacks["staging"]).resource_types
    assert "roles/eventarc.admin" in _holds(bootstraps["staging"], "deployer")
    assert "roles/eventarc.admin" not in _holds(bootstraps["production"], "deployer")


def test_a_type_without_a_deployer_role_stops_synthesis():
    needs = stack_needs({"resource": {"google_compute_instance": {"vm": {}}}})
    with pytest.raises(ValueError, match="google_compute_instance.*DEPLOYER_ROLES_BY_TYPE"):
        needs.deployer_roles()
    with pytest.raises(ValueError, match="DATA_SOURCE_PERMISSIONS"):
        stack_needs({"data": {"google_compute_image": {"i": {}}}}).planner_permissions()


def test_the_table_grants_what_it_claims():
    assert role_grants("roles/compute.networkAdmin", "compute.networks.create")
    assert not role_grants("roles/compute.networkAdmin", "compute.firewalls.update")
    with pytest.raises(KeyError, match="ROLE_PERMISSIONS"):
        role_grants("roles/unknown.role", "x.y.z")


# --- what the planner may read ---------------------------------------------------------


def test_the_planner_reads_every_type_and_data_source_and_writes_nothing(env):
    stack, bootstrap, config = env
    holds = _holds(bootstrap, "planner")
    (role_key,) = [r for r, c in holds.items() if c is None]
    permissions = set(next(b for b in _custom_roles(bootstrap).values() if b["role_id"] == role_key)["permissions"])
    needed = {p for t in stack_needs(stack).resource_types if OUTSIDE_PROJECT not in DEPLOYER_ROLES_BY_TYPE[t] for p in read_permissions(t)}
    needed |= {p for t in stack.get("data", {}) for p in DATA_SOURCE_PERMISSIONS[t]} | set(QUOTA_PERMISSIONS)
    assert {"resourcemanager.projects.get", "serviceusage.services.use"} <= permissions
    assert needed - CONDITIONAL_READS <= permissions
    assert all(p.rsplit(".", 1)[1] in ("get", "list", "getIamPolicy", "use") for p in permissions), "a write verb"
    assert not permissions & CONDITIONAL_READS
    # Payloads and objects only where the stack writes them.
    assert set(holds) == {role_key, "roles/secretmanager.secretAccessor", "roles/storage.objectViewer"}
    assert all(holds[r]["expression"] for r in holds if r != role_key)
    planner = f"${{{_account(bootstrap, 'planner')}.member}}"
    assert [(b["bucket"], b["role"]) for b in resources(bootstrap, "google_storage_bucket_iam_member").values()
            if b["member"] == planner] == [(config.state_bucket, "roles/storage.objectViewer")]


# --- the bootstrap stack ----------------------------------------------------------------


@pytest.mark.parametrize("name", ENVS)
def test_bootstrap_creates_a_safe_state_bucket_with_local_state(bootstrap_dir, bootstraps, configs, name):
    stack_dir = bootstrap_dir / "stacks" / f"{name}-bootstrap"
    stack = bootstraps[name]
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
    # The address is the bucket's identity in Terraform: renaming the construct id would replace it.
    assert set(stack["resource"]["google_storage_bucket"]) == {"state-bucket"}
    assert not (bootstrap_dir / "main-stacks").exists() and not list(bootstrap_dir.parent.glob(".main-stacks.*"))


def test_before_the_first_deploy_the_per_account_grants_are_left_out(tmp_path, configs):
    from main import synthesize

    synthesize([configs["staging"]], tmp_path / "out", bootstrap=True, before_first_deploy=True)
    stack = json.loads((tmp_path / "out" / "stacks" / "staging-bootstrap" / "cdk.tf.json").read_text())
    roles = {b["role"] for b in resources(stack, "google_service_account_iam_member").values()}
    assert roles == {WORKLOAD_IDENTITY_USER}


def test_outputs_give_the_workflows_their_variables(env):
    _, bootstrap, _ = env
    outputs = {key.rsplit("_", 1)[0]: body["value"] for key, body in bootstrap["output"].items()}
    assert outputs["ci_workload-identity-provider"].startswith("${google_iam_workload_identity_pool_provider.")
    assert {"ci_deployer-email", "ci_planner-email", "ci_smoke-email"} <= set(outputs)


def test_a_type_missing_from_the_tables_is_named_not_raised():
    """main.py stops on it with CI-ACCESS and the table to extend; the planner's check must not
    fail first with a KeyError on the same type."""
    needs = stack_needs({"resource": {"google_redis_instance": {"redis": {}}, "google_new_type": {"x": {}}}})
    assert "redis.instances.get" in needs.planner_permissions()
    with pytest.raises(ValueError, match="no deployer role for google_new_type: add the type to DEPLOY_PERMISSIONS"):
        needs.deployer_roles()


def test_the_planner_reads_the_uploaded_sources_of_both_sites(env):
    """Refresh reads the function source archives; after a failover they are in the DR site's
    bucket, which the planner may read before the bootstrap stack is applied again."""
    bootstrap, config = env[1], env[2]
    (grant,) = [g for g in _project_grants(bootstrap, "planner") if g["role"] == "roles/storage.objectViewer"]
    expression = grant["condition"]["expression"]
    source_bucket = config.resource_name("function-sources")
    assert f"projects/_/buckets/{source_bucket}/objects/" in expression
    assert (f"projects/_/buckets/{source_bucket}-dr/objects/" in expression) is config.has_dr_site
