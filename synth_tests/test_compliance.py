"""Security and compliance in every environment: audit logging, the audit-log bucket, data
residency over the whole synthesized JSON, the optional location policy, secret rotation."""

import base64
import dataclasses
import json
import re
from pathlib import Path

import pytest

from constructs.concerns.compliance import AUDIT_FILTER, CHANGES_FILTER, CIS_CHANGE_FILTERS, DAY_SECONDS, ENFORCED_CONSTRAINTS
from constructs.concerns.dr_drill import CHECKLIST_ANCHOR, RUNBOOK, checklist_url
from synth_tests.helpers import ENVS, ref, resources, under

ROOT = Path(__file__).resolve().parent.parent

LOCATION_KEYS = {"location", "region", "location_id", "alternative_location_id", "trigger_region"}


def mine(stack, type_):
    return under(stack, type_, "compliance")


def audit_types(stack):
    return {body["service"]: sorted(c["log_type"] for c in body["audit_log_config"])
            for body in resources(stack, "google_project_iam_audit_config").values()}


def test_staging_reads_admin_everywhere_and_data_for_sql_secrets_and_storage(staging):
    data = ["DATA_READ", "DATA_WRITE"]
    assert audit_types(staging) == {"allServices": ["ADMIN_READ"], "sqladmin.googleapis.com": data,
                                    "secretmanager.googleapis.com": data, "storage.googleapis.com": data}


def test_production_widens_data_access_logging_to_all_services(production):
    assert audit_types(production) == {"allServices": ["ADMIN_READ", "DATA_READ", "DATA_WRITE"]}


@pytest.mark.parametrize("env", ENVS)
def test_audit_logs_are_copied_to_a_regional_bucket_with_the_files_retention(stacks, configs, env):
    stack, config = stacks[env], configs[env]
    # The monitoring tier has log buckets and sinks of its own: these are the compliance tier's.
    (address, bucket), = mine(stack, "google_logging_project_bucket_config").items()
    assert (bucket["bucket_id"], bucket["location"]) == (f"hexproperty-{env}-audit", config.region)
    assert bucket["retention_days"] == config.compliance.audit_log_retention_days
    assert bucket["locked"] is (env == "production")
    (sink,) = mine(stack, "google_logging_project_sink").values()
    assert sink["filter"] == AUDIT_FILTER == 'logName:"cloudaudit.googleapis.com"'
    assert sink["destination"] == "logging.googleapis.com/" + ref("google_logging_project_bucket_config", address)


def _locations(value, trail=""):
    if isinstance(value, dict):
        for key, child in value.items():
            where = f"{trail}.{key}" if trail else key
            if key in LOCATION_KEYS and isinstance(child, str):
                yield where, child
            elif key != "//":
                yield from _locations(child, where)
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _locations(child, f"{trail}[{index}]")


def _region(value):
    """A zone (europe-west1-b) names its region; a region is itself."""
    return value.rsplit("-", 1)[0] if value[-2:-1] == "-" and value[-1].isalpha() else value


# The only places the DR region may appear: the cross-region replica and the backups.
DR_ALLOWED = {("google_sql_database_instance", "region"),
              ("google_sql_database_instance", "settings.backup_configuration.location"),
              ("google_secret_manager_secret", "replication.user_managed.replicas[1].location"),
              # The locked copy of production's database (docs/decisions/backup-copy.md).
              ("google_storage_bucket", "location"),
              # The DR site's image repository, which CI fills before a failover needs it, and its
              # application log bucket, empty until a failover routes there.
              ("google_artifact_registry_repository", "location"),
              ("google_logging_project_bucket_config", "location")}


@pytest.mark.parametrize("env", ENVS)
def test_every_location_in_the_json_is_the_environments_region(stacks, configs, env):
    stack, config = stacks[env], configs[env]
    outside, dr_uses, seen = [], [], 0
    for section in ("resource", "data", "provider"):
        for type_, bodies in stack.get(section, {}).items():
            items = enumerate(bodies) if isinstance(bodies, list) else bodies.items()
            for address, body in items:
                for where, value in _locations(body):
                    if "${" in value:
                        continue  # a reference to another resource's location, itself walked
                    seen += 1
                    region = _region(value)
                    if region == config.dr_region and (type_, where) in DR_ALLOWED:
                        dr_uses.append((type_, where))
                    elif region != config.region:
                        outside.append(f"{section}.{type_}.{address}.{where} = {value}")
    assert outside == []
    assert seen > 10
    # Production's replica and backups are in the DR region; staging's backups are too.
    assert ("google_sql_database_instance", "settings.backup_configuration.location") in dr_uses
    assert (("google_sql_database_instance", "region") in dr_uses) is (config.data.postgres.replica is not None)
    # Where a database replica waits there, the secrets have one too, so a failover has its credentials.
    assert (("google_secret_manager_secret", "replication.user_managed.replicas[1].location") in dr_uses) is \
        config.has_dr_site
    assert (("google_artifact_registry_repository", "location") in dr_uses) is config.has_dr_site
    assert (("google_logging_project_bucket_config", "location") in dr_uses) is config.has_dr_site
    assert (("google_storage_bucket", "location") in dr_uses) is (config.data.postgres.backups.locked_copy is not None)


@pytest.mark.parametrize("env", ENVS)
def test_every_secret_is_replicated_in_the_environments_regions_only(stacks, configs, env):
    """Staging: its region. Production and the drill: also the DR region, so a failover has its credentials."""
    config = configs[env]
    regions = [config.region, config.dr_region] if config.data.postgres.replica else [config.region]
    for address, secret in resources(stacks[env], "google_secret_manager_secret").items():
        assert secret["replication"] == {"user_managed": {"replicas": [{"location": r} for r in regions]}}, address


@pytest.mark.parametrize("env", ENVS)
def test_without_an_organization_there_is_no_org_policy(stacks, env):
    assert "google_org_policy_policy" not in stacks[env]["resource"]


@pytest.fixture(scope="module")
def with_organization(configs):
    from cdktf import Testing

    from constructs.stack import HexPropertyStack

    config = configs["production"]
    config = dataclasses.replace(config, compliance=dataclasses.replace(config.compliance, organization_id="123456789012"))
    return config, json.loads(Testing.synth(HexPropertyStack(Testing.app(), config)))


def _org_policy(stack, constraint):
    (policy,) = [p for p in resources(stack, "google_org_policy_policy").values() if p["name"].endswith(f"/{constraint}")]
    return policy


def test_an_organization_in_the_file_restricts_locations_to_both_regions(with_organization):
    config, stack = with_organization
    policy = _org_policy(stack, "gcp.resourceLocations")
    assert policy["name"] == "projects/hexproperty-production/policies/gcp.resourceLocations"
    assert policy["parent"] == "projects/hexproperty-production"
    assert policy["spec"]["rules"] == [{"values": {"allowed_values": ["in:europe-west1-locations",
                                                                      "in:europe-west4-locations"]}}]
    (api,) = [a for a, b in resources(stack, "google_project_service").items() if b["service"] == "orgpolicy.googleapis.com"]
    assert policy["depends_on"] == [f"google_project_service.{api}"]


def test_an_organization_in_the_file_stops_default_networks_keys_and_automatic_grants(with_organization):
    _, stack = with_organization
    assert len(resources(stack, "google_org_policy_policy")) == 1 + len(ENFORCED_CONSTRAINTS)
    for constraint in ("compute.skipDefaultNetworkCreation", "iam.disableServiceAccountKeyCreation",
                       "iam.disableServiceAccountKeyUpload", "iam.automaticIamGrantsForDefaultServiceAccounts"):
        policy = _org_policy(stack, constraint)
        assert policy["parent"] == "projects/hexproperty-production"
        assert policy["spec"]["rules"] == [{"enforce": "TRUE"}]


@pytest.mark.parametrize("env", ["production"])
def test_the_apis_secrets_rotate_on_a_topic_the_secret_manager_agent_may_publish_to(stacks, configs, env):
    stack, config = stacks[env], configs[env]
    (topic,) = [a for a in resources(stack, "google_pubsub_topic") if a.startswith("compliance_")]
    (grant_address, grant), = [(a, g) for a, g in resources(stack, "google_pubsub_topic_iam_member").items()
                               if a.startswith("compliance_")]
    assert grant["topic"] == ref("google_pubsub_topic", topic, "name")
    assert grant["role"] == "roles/pubsub.publisher"
    assert grant["member"].startswith("serviceAccount:service-${data.google_project.compliance_")
    assert grant["member"].endswith(".number}@gcp-sa-secretmanager.iam.gserviceaccount.com")
    period = f"{config.compliance.secret_rotation_days * DAY_SECONDS}s"
    secrets = resources(stack, "google_secret_manager_secret")
    rotating = {b["secret_id"] for b in secrets.values() if "rotation" in b}
    assert rotating == set(config.api.secrets.values())
    for body in secrets.values():
        if "rotation" not in body:
            continue
        assert body["rotation"]["rotation_period"] == period
        assert body["rotation"]["next_rotation_time"] == f'${{timeadd(plantimestamp(), "{period}")}}'
        # Secret Manager moves the next time forward itself: Terraform must not pull it back.
        assert body["lifecycle"]["ignore_changes"] == ["rotation[0].next_rotation_time"]
        assert body["topics"] == [{"name": ref("google_pubsub_topic", topic)}]
        assert f"google_pubsub_topic_iam_member.{grant_address}" in body["depends_on"]


def notice_alerts(stack, prefix):
    """Alerts on a notice topic's publishes (the compliance tier's change alert is not one)."""
    return {a: p for a, p in resources(stack, "google_monitoring_alert_policy").items()
            if a.startswith(prefix) and "pubsub_topic" in p["conditions"][0]["condition_threshold"]["filter"]}


@pytest.mark.parametrize("env", ["production"])
def test_rotation_notices_and_the_drill_reminder_email_the_compliance_recipients(stacks, configs, env):
    stack, config = stacks[env], configs[env]
    channels = {a: c for a, c in resources(stack, "google_monitoring_notification_channel").items()
                if a.startswith("compliance_")}
    assert sorted(c["labels"]["email_address"] for c in channels.values()) == sorted(config.compliance.notification_emails)
    expected_channels = sorted(ref("google_monitoring_notification_channel", a, "name") for a in channels)
    for prefix, topic_name in (("compliance_", f"hexproperty-{env}-secret-rotation"), ("dr-drill_", f"hexproperty-{env}-dr-drill")):
        (policy,) = notice_alerts(stack, prefix).values()
        assert sorted(policy["notification_channels"]) == expected_channels
        threshold = policy["conditions"][0]["condition_threshold"]
        assert f'resource.labels.topic_id = "${{google_pubsub_topic.' in threshold["filter"]
        assert 'metric.type = "pubsub.googleapis.com/topic/send_message_operation_count"' in threshold["filter"]
        assert (threshold["comparison"], threshold["threshold_value"]) == ("COMPARISON_GT", 0)
        (topic,) = [t for a, t in resources(stack, "google_pubsub_topic").items() if a.startswith(prefix)]
        assert topic["name"] == topic_name
        assert "docs/runbooks/" in policy["documentation"]["content"]


@pytest.mark.parametrize("env", ["production"])
def test_scheduler_publishes_the_drill_reminder_on_the_files_schedule(stacks, configs, env):
    stack, drill = stacks[env], configs[env].disaster_recovery
    (job_address, job), = [(a, j) for a, j in resources(stack, "google_cloud_scheduler_job").items() if a.startswith("dr-drill_")]
    (topic,) = [a for a in resources(stack, "google_pubsub_topic") if a.startswith("dr-drill_")]
    assert (job["schedule"], job["time_zone"], job["region"]) == (drill.drill_schedule, drill.time_zone, configs[env].region)
    assert job["pubsub_target"]["topic_name"] == ref("google_pubsub_topic", topic)
    assert base64.b64decode(job["pubsub_target"]["data"]).decode() == f"DR drill due: {checklist_url(configs[env])}"


def _github_slug(heading: str) -> str:
    """The anchor GitHub gives a Markdown heading: lowercase, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_the_drill_reminder_links_to_the_regional_drill_checklist(stacks, configs):
    """The reminder's link lands on the checklist: the anchor is a heading of the runbook, and the
    runbook's own links to its sections resolve too."""
    runbook = (ROOT / RUNBOOK).read_text()
    anchors = {_github_slug(h) for h in re.findall(r"^#{1,6} (.+)$", runbook, re.M)}
    assert CHECKLIST_ANCHOR in anchors
    assert {link for link in re.findall(r"\]\(#([^)]+)\)", runbook)} <= anchors
    url = checklist_url(configs["production"])
    assert url == ("https://github.com/hexproperty/infrastructure/blob/HEAD/docs/runbooks/disaster-recovery.md"
                   "#regional-drill-checklist")
    (policy,) = notice_alerts(stacks["production"], "dr-drill_").values()
    assert url in policy["documentation"]["content"]


@pytest.mark.parametrize("env", [env for env in ENVS if env != "production"])
def test_only_production_sends_rotation_notices_and_drill_reminders(stacks, configs, env):
    """Each notice is an alert condition (about 1.50 USD a month): staging pages no one and its
    secrets hold test credentials; the drill environment lives only during a drill. The reminder is
    production's, whose recovery is what is drilled."""
    stack = stacks[env]
    assert configs[env].compliance.secret_rotation_days is None
    assert not [b for b in resources(stack, "google_secret_manager_secret").values() if "rotation" in b]
    assert not notice_alerts(stack, "compliance_") and not notice_alerts(stack, "dr-drill_")
    assert not [a for a in resources(stack, "google_cloud_scheduler_job") if a.startswith("dr-drill_")]


@pytest.mark.parametrize("env", ENVS)
def test_the_audit_bucket_address_is_pinned(stacks, env):
    """Renaming the construct id would replace the bucket; a locked one cannot even be deleted."""
    assert set(mine(stacks[env], "google_logging_project_bucket_config")) == {"audit_log_bucket"}


@pytest.mark.parametrize("env", ENVS)
def test_one_log_based_metric_counts_the_cis_monitored_changes_per_resource_type(stacks, env):
    (metric,) = [m for m in mine(stacks[env], "google_logging_metric").values()
                 if m["name"] == f"hexproperty-{env}-config-changes"]
    assert metric["filter"] == CHANGES_FILTER
    assert [kind.split()[0] for kind in CIS_CHANGE_FILTERS] == [f"2.{n}" for n in range(4, 12)]
    for needle in ('"roles/owner"', "auditConfigDeltas", "google.iam.admin.v1.UpdateRole", "compute.firewalls.patch",
                   "compute.routes.insert", "compute.networks.addPeering", "storage.setIamPermissions",
                   "cloudsql.instances.update"):
        assert needle in metric["filter"]
    # Project-level: it sees the _Required bucket's Admin Activity entries, whatever the sinks do.
    assert "bucket_name" not in metric
    assert metric["label_extractors"] == {"resource_type": "EXTRACT(resource.type)"}
    assert metric["metric_descriptor"]["labels"][0]["key"] == "resource_type"


def _change_alerts(stack):
    return [p for p in mine(stack, "google_monitoring_alert_policy").values()
            if "config-changes" in p["conditions"][0]["condition_threshold"]["filter"]]


def test_production_alerts_the_compliance_channel_once_per_kind_of_change(production):
    (policy,) = _change_alerts(production)
    channels = [a for a in resources(production, "google_monitoring_notification_channel") if a.startswith("compliance_")]
    assert sorted(policy["notification_channels"]) == sorted(
        ref("google_monitoring_notification_channel", a, "name") for a in channels)
    (condition,) = policy["conditions"]
    threshold = condition["condition_threshold"]
    assert threshold["filter"] == 'metric.type = "logging.googleapis.com/user/hexproperty-production-config-changes"'
    (aggregation,) = threshold["aggregations"]
    assert aggregation["group_by_fields"] == ["metric.label.resource_type"]
    assert (threshold["comparison"], threshold["threshold_value"], threshold["duration"]) == ("COMPARISON_GT", 0, "0s")
    assert "docs/runbooks/cost-and-compliance.md" in policy["documentation"]["content"]


def test_staging_counts_the_changes_without_an_alert_condition(staging, configs):
    """One more condition (1.50 USD a month) would lift staging's idle bill past 60 USD."""
    assert configs["staging"].compliance.change_alerts is False
    assert not _change_alerts(staging)
