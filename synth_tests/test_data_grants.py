"""`data.postgres.grant_connect` and `data.redis.grant_access`, proved on one extra synth.

The runtimes whose identities get these grants live in the application tiers; here a test
runtime identity stands in for one.
"""

import json

import pytest

from synth_tests.helpers import ref, resources


@pytest.fixture(scope="module")
def granted(tmp_path_factory, configs):
    from cdktf import App
    from constructs import Construct

    from constructs.shared.runtime import RuntimeIdentity
    from constructs.stack import HexPropertyStack

    outdir = tmp_path_factory.mktemp("grants")
    app = App(outdir=str(outdir))
    stack = HexPropertyStack(app, configs["staging"])
    runtime = Construct(stack, "test-runtime")
    identity = RuntimeIdentity(runtime, "identity", config=configs["staging"], apis=stack.apis, runtime="test-runtime")
    stack.data.postgres.grant_connect(identity)
    stack.data.redis.grant_access(identity.account)
    app.synth()
    return json.loads((outdir / "stacks" / "staging" / "cdk.tf.json").read_text())


def account_address(stack):
    (address,) = [a for a, body in resources(stack, "google_service_account").items()
                  if body["account_id"] == "hp-staging-test-runtime"]
    return address


def test_grant_connect_adds_client_and_instance_user_roles(granted):
    member = ref("google_service_account", account_address(granted), "member")
    roles = {body["role"] for body in resources(granted, "google_project_iam_member").values() if body["member"] == member}
    # Beside the runtime's own telemetry roles (constructs/shared/runtime.py).
    assert {r for r in roles if r.startswith("roles/cloudsql.")} == {"roles/cloudsql.client", "roles/cloudsql.instanceUser"}


def test_grant_connect_adds_an_iam_database_user_named_without_the_domain(granted):
    email = ref("google_service_account", account_address(granted), "email")
    (user,) = [u for u in resources(granted, "google_sql_user").values() if email[2:-1] in u["name"]]
    assert user["type"] == "CLOUD_IAM_SERVICE_ACCOUNT"
    assert user["name"] == "${trimsuffix(" + email[2:-1] + ', ".gserviceaccount.com")}'
    assert user["instance"] == ref("google_sql_database_instance", "postgres_primary", "name")
    assert "password" not in user


def test_grant_access_lets_the_account_read_the_auth_secret_only(granted):
    member = ref("google_service_account", account_address(granted), "member")
    (binding,) = [b for b in resources(granted, "google_secret_manager_secret_iam_member").values() if b["member"] == member]
    assert binding["member"] == member
    assert binding["role"] == "roles/secretmanager.secretAccessor"
    assert binding["secret_id"] == ref("google_secret_manager_secret", "redis_auth_secret")


def test_grant_ids_name_the_account(granted):
    roles = [a for a in resources(granted, "google_project_iam_member") if "test-runtime-identity-account" in a]
    assert len(roles) == 2
    # The database user is protected: its address is pinned by the runtime's name.
    assert "postgres_user_test-runtime" in resources(granted, "google_sql_user")
