"""The data tier in both environments: Cloud SQL and Memorystore as the synthesized JSON says."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from synth_tests.helpers import ENVS, only, ref, resources, under

ROOT = Path(__file__).resolve().parent.parent
SQL = "google_sql_database_instance"

PRIMARY = "postgres_primary"
REDIS = "redis"


@pytest.fixture(params=ENVS)
def env(request, stacks, configs):
    return stacks[request.param], configs[request.param]


def primary(stack):
    return resources(stack, SQL)[PRIMARY]


def test_postgres_private_ip_only_tls_only(env):
    stack, _ = env
    (psa,) = resources(stack, "google_service_networking_connection")
    (vpc,) = resources(stack, "google_compute_network")
    for address, instance in resources(stack, SQL).items():
        ip = instance["settings"]["ip_configuration"]
        assert ip["ipv4_enabled"] is False, address
        assert ip["private_network"] == ref("google_compute_network", vpc)
        assert ip["ssl_mode"] == "ENCRYPTED_ONLY"
        assert f"google_service_networking_connection.{psa}" in instance["depends_on"]


def test_postgres_flags_iam_auth_and_logging(env):
    stack, _ = env
    for instance in resources(stack, SQL).values():
        flags = {f["name"]: f["value"] for f in instance["settings"]["database_flags"]}
        assert flags["cloudsql.iam_authentication"] == "on"
        for name in ("log_checkpoints", "log_connections", "log_disconnections", "log_lock_waits"):
            assert flags[name] == "on"
        assert (flags["log_min_duration_statement"], flags["log_temp_files"]) == ("-1", "0")
        assert flags["log_min_error_statement"] == "error"
        assert flags["cloudsql.enable_pgaudit"] == "on"


def test_postgres_edition_is_explicit_and_sizes_come_from_the_file(env):
    stack, config = env
    pg = config.data.postgres
    settings = primary(stack)["settings"]
    assert settings["edition"] == "ENTERPRISE"
    assert (settings["tier"], settings["availability_type"]) == (pg.tier, pg.availability)
    assert primary(stack)["database_version"] == pg.database_version
    assert settings["user_labels"] == config.labels("data", "postgres")
    assert settings["maintenance_window"] == {"day": pg.maintenance.day_number, "hour": pg.maintenance.hour,
                                              "update_track": pg.maintenance.update_track}
    assert settings["insights_config"]["query_insights_enabled"] is True
    databases = {body["name"] for body in resources(stack, "google_sql_database").values()}
    assert databases == set(pg.databases)


def test_disk_size_is_the_initial_size_only(env):
    """Autoresize grows the disk past the file's size, and the provider replaces an instance whose
    configured size is below the current one: every instance ignores later disk_size changes."""
    stack, config = env
    instances = resources(stack, SQL)
    assert instances, "no Cloud SQL instance"
    for address, body in instances.items():
        assert body["settings"]["disk_autoresize"] is True
        assert "settings[0].disk_size" in body["lifecycle"]["ignore_changes"], address
    assert primary(stack)["settings"]["disk_size"] == config.data.postgres.disk_size_gb


def test_no_password_and_no_secret_value_in_the_json(env):
    stack, _ = env
    text = json.dumps(stack)
    assert "root_password" not in text and '"password' not in text
    (version,) = [v for a, v in resources(stack, "google_secret_manager_secret_version").items() if a.startswith("data_")]
    assert version["secret_data"] == ref("google_redis_instance", REDIS, "auth_string")


def test_staging_postgres_is_small_zonal_and_deletable(staging):
    instance = primary(staging)
    assert len(resources(staging, SQL)) == 1, "staging has no replica"
    assert instance["settings"]["availability_type"] == "ZONAL"
    assert instance["deletion_protection"] is False
    assert instance["settings"]["deletion_protection_enabled"] is False
    # The auto-pause function stops it through the API; an apply must not start it again.
    assert "settings[0].activation_policy" in instance["lifecycle"]["ignore_changes"]


def test_production_postgres_ha_backups_pitr_protection(production, configs):
    config = configs["production"]
    instance = primary(production)
    settings = instance["settings"]
    assert settings["availability_type"] == "REGIONAL"
    assert instance["deletion_protection"] is True and settings["deletion_protection_enabled"] is True
    backups = settings["backup_configuration"]
    assert backups["enabled"] is True and backups["point_in_time_recovery_enabled"] is True
    assert backups["start_time"] == config.data.postgres.backups.start_time
    assert backups["backup_retention_settings"] == {"retained_backups": config.data.postgres.backups.retained,
                                                    "retention_unit": "COUNT"}
    assert 1 <= backups["transaction_log_retention_days"] <= 7
    assert backups["location"] == config.dr_region
    assert "settings[0].activation_policy" not in instance["lifecycle"]["ignore_changes"], \
        "production's activation policy stays under Terraform"


def test_production_replica_in_the_dr_region(production, configs):
    config = configs["production"]
    replica = resources(production, SQL)["postgres_replica"]
    assert replica["region"] == config.dr_region != config.region
    assert replica["master_instance_name"] == ref(SQL, PRIMARY, "name")
    assert replica["deletion_protection"] is True and replica["settings"]["deletion_protection_enabled"] is True
    assert "backup_configuration" not in replica["settings"]


def test_redis(env):
    stack, config = env
    redis = only(stack, "google_redis_instance")
    (vpc,) = resources(stack, "google_compute_network")
    wanted = config.data.redis
    assert (redis["tier"], redis["memory_size_gb"], redis["redis_version"]) == (
        wanted.tier, wanted.memory_size_gb, wanted.redis_version)
    assert redis["connect_mode"] == "PRIVATE_SERVICE_ACCESS"
    assert redis["authorized_network"] == ref("google_compute_network", vpc)
    assert redis["auth_enabled"] is True
    assert redis["labels"] == config.labels("data", "redis")
    assert redis["maintenance_policy"]["weekly_maintenance_window"][0]["day"] == wanted.maintenance.day
    (secret,) = under(stack, "google_secret_manager_secret", "data/redis").values()
    regions = [config.region, config.dr_region] if config.data.postgres.replica else [config.region]
    assert secret["replication"] == {"user_managed": {"replicas": [{"location": r} for r in regions]}}


def test_redis_seed_sizes_tls_and_persistence(staging, production):
    staging_redis, production_redis = only(staging, "google_redis_instance"), only(production, "google_redis_instance")
    assert (staging_redis["tier"], staging_redis["memory_size_gb"]) == ("BASIC", 1)
    assert (production_redis["tier"], production_redis["memory_size_gb"]) == ("STANDARD_HA", 5)
    assert production_redis["transit_encryption_mode"] == "SERVER_AUTHENTICATION"
    assert production_redis["persistence_config"]["persistence_mode"] == "RDB"
    assert staging_redis["persistence_config"] == {"persistence_mode": "DISABLED"}


def test_outputs(env):
    stack, _ = env
    values = {body["value"] for body in stack["output"].values()}
    assert ref(SQL, PRIMARY, "connection_name") in values
    assert ref(SQL, PRIMARY, "private_ip_address") in values
    assert ref("google_redis_instance", REDIS, "host") in values
    assert ref("google_redis_instance", REDIS, "port") in values
    assert ref("google_secret_manager_secret", "redis_auth_secret", "secret_id") in values


def test_data_apis_are_enabled_and_depended_on(env):
    stack, _ = env
    apis = {body["service"]: address for address, body in resources(stack, "google_project_service").items()}
    assert f"google_project_service.{apis['sqladmin.googleapis.com']}" in primary(stack)["depends_on"]
    assert f"google_project_service.{apis['redis.googleapis.com']}" in only(stack, "google_redis_instance")["depends_on"]
    assert f"google_project_service.{apis['secretmanager.googleapis.com']}" in resources(
        stack, "google_secret_manager_secret")["redis_auth_secret"]["depends_on"]


# Where each labelable data-tier resource carries its labels (Cloud SQL: settings.user_labels).
LABEL_KEYS = {
    SQL: ("settings", "user_labels"),
    "google_redis_instance": ("labels",),
    "google_secret_manager_secret": ("labels",),
    "google_pubsub_topic": ("labels",),
    "google_monitoring_alert_policy": ("user_labels",),
    "google_monitoring_notification_channel": ("user_labels",),
    "google_cloudfunctions2_function": ("labels",),
    "google_storage_bucket": ("labels",),
}


def test_every_labelable_data_resource_carries_the_cost_labels(env):
    stack, config = env
    seen = 0
    for type_, path in LABEL_KEYS.items():
        for address, body in under(stack, type_, "data").items():
            for key in path:
                body = body[key]
            # A source bucket also says what it holds (environments/config.py, BUCKET_CONTENT_LABEL).
            labels = {k: v for k, v in body.items() if k != "content"}
            assert labels == config.labels("data", body["service"]), address
            seen += 1
    assert seen >= 3


def test_make_wake_targets_the_stacks_instance(staging, configs):
    """`make wake` takes the instance and project from tools/sql_instance.py: the same names as the stack."""
    out = subprocess.run([sys.executable, "tools/sql_instance.py", "staging"], cwd=ROOT, capture_output=True,
                         text=True, check=True)
    assert out.stdout.split() == [primary(staging)["name"], f"--project={configs['staging'].project_id}"]
