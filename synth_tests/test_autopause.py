"""Staging's auto-pause chain, end to end in the JSON, and the function's own logic."""

import base64
import importlib.util
import io
import json
import zipfile

import pytest

from constructs.shared.source_archive import reproducible_zip
from constructs.tiers.sql_autopause import PERMISSIONS, SOURCE_DIR
from synth_tests.helpers import ref, resources, under

PREFIX = "data_postgres_auto-pause_"


def one(stack, type_):
    (address, body), = [(a, b) for a, b in resources(stack, type_).items() if a.startswith(PREFIX)]
    return address, body


def test_alert_watches_the_app_databases_for_the_files_idle_minutes(staging, configs):
    pause = configs["staging"].data.postgres.auto_pause
    _, policy = one(staging, "google_monitoring_alert_policy")
    (condition,) = policy["conditions"]
    threshold = condition["condition_threshold"]
    assert 'metric.type = "cloudsql.googleapis.com/database/postgresql/num_backends"' in threshold["filter"]
    assert 'resource.labels.database_id = "hexproperty-staging:hexproperty-staging-pg"' in threshold["filter"]
    assert 'metric.labels.database = one_of("hexproperty")' in threshold["filter"]
    # below one backend: zero
    assert (threshold["comparison"], threshold["threshold_value"]) == ("COMPARISON_LT", 1)
    assert threshold["duration"] == f"{pause.idle_minutes * 60}s" == "900s"
    assert policy["user_labels"]["tier"] == "data"


def test_alert_notifies_a_pubsub_channel_whose_topic_triggers_the_function(staging):
    channel_address, channel = one(staging, "google_monitoring_notification_channel")
    topic_address, _ = one(staging, "google_pubsub_topic")
    _, policy = one(staging, "google_monitoring_alert_policy")
    _, function = one(staging, "google_cloudfunctions2_function")
    assert policy["notification_channels"] == [ref("google_monitoring_notification_channel", channel_address, "name")]
    assert channel["type"] == "pubsub"
    assert channel["labels"] == {"topic": ref("google_pubsub_topic", topic_address)}
    trigger = function["event_trigger"]
    assert trigger["pubsub_topic"] == ref("google_pubsub_topic", topic_address)
    assert trigger["event_type"] == "google.cloud.pubsub.topic.v1.messagePublished"
    _, publisher = one(staging, "google_pubsub_topic_iam_member")
    assert publisher["role"] == "roles/pubsub.publisher"
    assert "@gcp-sa-monitoring-notification.iam.gserviceaccount.com" in publisher["member"]


def test_function_runs_as_its_own_account_with_only_the_custom_role_on_this_instance(staging):
    _, function = one(staging, "google_cloudfunctions2_function")
    accounts = resources(staging, "google_service_account")
    runtime = next(a for a, body in accounts.items() if body["account_id"] == "hp-staging-sql-power")
    assert function["service_config"]["service_account_email"] == ref("google_service_account", runtime, "email")
    assert function["service_config"]["environment_variables"] == {
        "PROJECT_ID": "hexproperty-staging", "INSTANCE": "hexproperty-staging-pg"}
    assert function["service_config"]["ingress_settings"] == "ALLOW_INTERNAL_ONLY"

    role_address, role = one(staging, "google_project_iam_custom_role")
    assert role["permissions"] == PERMISSIONS == ["cloudsql.instances.get", "cloudsql.instances.update"]
    grants = [g for g in resources(staging, "google_project_iam_member").values()
              if g["member"] == ref("google_service_account", runtime, "member")]
    assert len(grants) == 1, "the runtime account has exactly one project grant"
    (grant,) = grants
    assert grant["role"] == ref("google_project_iam_custom_role", role_address, "name")
    only_this = 'resource.name == "projects/hexproperty-staging/instances/hexproperty-staging-pg"'
    assert only_this in grant["condition"]["expression"]


def test_eventarc_pushes_with_an_identity_that_may_only_invoke_the_function(staging):
    function_address, function = one(staging, "google_cloudfunctions2_function")
    _, invoker = one(staging, "google_cloud_run_v2_service_iam_member")
    assert invoker["role"] == "roles/run.invoker"
    assert invoker["name"] == ref("google_cloudfunctions2_function", function_address, "name")
    push_email = function["event_trigger"]["service_account_email"]
    assert invoker["member"] == push_email.replace(".email}", ".member}")
    assert push_email != function["service_config"]["service_account_email"]


def test_function_source_is_the_committed_folder_packaged_reproducibly(staging):
    _, function = one(staging, "google_cloudfunctions2_function")
    bucket_address, bucket = one(staging, "google_storage_bucket")
    _, source = one(staging, "google_storage_bucket_object")
    storage = function["build_config"]["source"]["storage_source"]
    assert storage["bucket"] == ref("google_storage_bucket", bucket_address, "name")
    assert (bucket["uniform_bucket_level_access"], bucket["public_access_prevention"]) == (True, "enforced")
    assert source["name"].startswith("sql-autopause/") and source["name"].endswith(".zip")
    names = zipfile.ZipFile(io.BytesIO(reproducible_zip(SOURCE_DIR))).namelist()
    assert {"main.py", "pause.py", "requirements.txt"} <= set(names)
    assert function["build_config"]["entry_point"] == "on_idle_alert"


def test_wake_schedule_patches_always_as_the_same_account(staging, configs):
    pause = configs["staging"].data.postgres.auto_pause
    _, job = one(staging, "google_cloud_scheduler_job")
    assert (job["schedule"], job["time_zone"]) == (pause.wake_schedule, pause.time_zone)
    target = job["http_target"]
    assert target["http_method"] == "PATCH"
    assert target["uri"].endswith("/projects/hexproperty-staging/instances/hexproperty-staging-pg")
    assert json.loads(base64.b64decode(target["body"])) == {"settings": {"activationPolicy": "ALWAYS"}}
    assert target["oauth_token"]["service_account_email"] == "${google_service_account.service_account_sql-power.email}"


def test_production_has_no_auto_pause(production, staging):
    for type_ in ("google_monitoring_alert_policy", "google_cloudfunctions2_function", "google_cloud_scheduler_job",
                  "google_pubsub_topic", "google_project_iam_custom_role"):
        assert not under(production, type_, "data/postgres/auto-pause"), type_
        assert under(staging, type_, "data/postgres/auto-pause"), type_


# --- the function's logic (standard library only, so it runs here) -----------------------


@pytest.fixture(scope="module")
def pause():
    spec = importlib.util.spec_from_file_location("sql_autopause_pause", SOURCE_DIR / "pause.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def event(state):
    data = json.dumps({"version": "1.2", "incident": {"state": state, "policy_name": "idle"}}).encode()
    return {"message": {"data": base64.b64encode(data).decode()}}


class FakeApi:
    def __init__(self, policy):
        self.policy, self.calls = policy, []

    def __call__(self, method, url, body):
        self.calls.append((method, url, body))
        return {"settings": {"activationPolicy": self.policy}}


def test_open_incident_stops_the_configured_instance(pause):
    api = FakeApi("ALWAYS")
    result = pause.handle(event("open"), project="p", instance="i", call=api)
    url = "https://sqladmin.googleapis.com/v1/projects/p/instances/i"
    assert api.calls == [("GET", url, None), ("PATCH", url, {"settings": {"activationPolicy": "NEVER"}})]
    assert "NEVER" in result


@pytest.mark.parametrize("data", [event("closed"), {"message": {"data": "bm90IGpzb24="}}, {}])
def test_closed_or_unreadable_messages_change_nothing(pause, data):
    api = FakeApi("ALWAYS")
    assert pause.handle(data, project="p", instance="i", call=api).startswith("ignored")
    assert api.calls == []


def test_an_already_stopped_instance_is_left_alone(pause):
    api = FakeApi("NEVER")
    assert "already stopped" in pause.handle(event("open"), project="p", instance="i", call=api)
    assert [c[0] for c in api.calls] == ["GET"]
