"""Nothing stateful is lost: production's retention floors (environments/checks/retention.py), backups kept
when an instance is deleted, and the locked second copy of the database (constructs/tiers/backup_copy.py)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from environments.loader import ConfigError, load_environment
from synth_tests.helpers import only, ref, resources, under

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION = ROOT / "environments" / "production.yaml"
DOC = "docs/runbooks/cost-and-compliance.md#retention-floors"


def production_with(tmp_path: Path, change) -> Path:
    data = yaml.safe_load(PRODUCTION.read_text())
    change(data)
    path = tmp_path / "production.yaml"  # the file name makes it production
    path.write_text(yaml.safe_dump(data))
    return path


def shown(path: Path) -> str:
    """The file as the loader names it: relative to where the run started."""
    return os.path.relpath(path)


def problems_of(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as error:
        load_environment(path)
    return [str(p) for p in error.value.problems]


FLOORS = [
    (lambda d: d["data"]["postgres"]["backups"].update(retained=13), "data.postgres.backups.retained",
     "13 is below production's floor of 14 daily backups", "set retained: 14 or more"),
    (lambda d: d["data"]["postgres"]["backups"].update(log_retention_days=6), "data.postgres.backups.log_retention_days",
     "6 is below production's floor of 7 days (ENTERPRISE's maximum)", "set log_retention_days: 7"),
    (lambda d: d["compliance"].update(audit_log_retention_days=364), "compliance.audit_log_retention_days",
     "364 is below production's floor of 365 days", "set audit_log_retention_days: 365 or more"),
    (lambda d: d["monitoring"].update(log_retention_days=29), "monitoring.log_retention_days",
     "29 is below production's floor of 30 days", "set log_retention_days: 30 or more"),
    (lambda d: d["events"]["topics"]["property-events"].update(retention_hours=167),
     "events.topics.property-events.retention_hours", "167 is below production's floor of 168 hours (7 days)",
     "set retention_hours: 168 or more"),
    (lambda d: d["data"]["postgres"]["backups"]["locked_copy"].update(retention_days=13),
     "data.postgres.backups.locked_copy.retention_days", "13 is below production's floor of 14 days",
     "set retention_days: 14 or more (a locked retention can only grow later)"),
]


@pytest.mark.parametrize("change, key, message, fix", FLOORS, ids=[f[1] for f in FLOORS])
def test_each_floor_is_refused_below_it_with_file_key_and_fix(tmp_path, change, key, message, fix):
    path = production_with(tmp_path, change)
    assert problems_of(path) == [f"{shown(path)}: {key}: {message}. Fix: {fix} ({DOC})"]


def test_the_floor_itself_is_accepted(tmp_path):
    def at_the_floors(d):
        d["data"]["postgres"]["backups"].update(retained=14, log_retention_days=7, locked_copy={"retention_days": 14})
        d["compliance"]["audit_log_retention_days"] = 365
        d["monitoring"]["log_retention_days"] = 30
        for topic in d["events"]["topics"].values():
            topic["retention_hours"] = 168
    assert load_environment(production_with(tmp_path, at_the_floors)).data.postgres.backups.retained == 14


def test_enterprise_plus_needs_its_35_days_of_logs(tmp_path):
    def plus(d):
        d["data"]["postgres"].update(edition="ENTERPRISE_PLUS", tier="db-perf-optimized-N-2")
        d["data"]["postgres"]["replica"]["tier"] = "db-perf-optimized-N-2"
    path = production_with(tmp_path, plus)
    assert problems_of(path) == [
        f"{shown(path)}: data.postgres.backups.log_retention_days: 7 is below production's floor of 35 days "
        f"(ENTERPRISE_PLUS's maximum). Fix: set log_retention_days: 35 ({DOC})"]


def test_production_without_the_locked_copy_is_refused(tmp_path):
    path = production_with(tmp_path, lambda d: d["data"]["postgres"]["backups"].pop("locked_copy"))
    [problem] = problems_of(path)
    assert problem.startswith(f"{shown(path)}: data.postgres.backups.locked_copy: production without a copy of its backups")
    assert "add locked_copy: {retention_days: 14} or more" in problem


def test_staging_has_no_floors(configs):
    assert configs["staging"].data.postgres.backups.retained < 14
    assert configs["staging"].data.postgres.backups.locked_copy is None


def test_synthesis_stops_with_exit_2_and_no_traceback(tmp_path):
    production_with(tmp_path, lambda d: d["compliance"].update(audit_log_retention_days=1))
    run = subprocess.run([sys.executable, "main.py", "--environments-dir", str(tmp_path), "--outdir",
                          str(tmp_path / "out")], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 2
    assert "Traceback" not in run.stderr
    assert ("compliance.audit_log_retention_days: 1 is below production's floor of 365 days. "
            "Fix: set audit_log_retention_days: 365 or more") in run.stderr
    assert not (tmp_path / "out").exists()


# --- the stacks ----------------------------------------------------------------------------


def test_production_keeps_backups_when_the_instance_is_deleted(production, staging):
    sql = resources(production, "google_sql_database_instance")
    assert sql["postgres_primary"]["settings"]["retain_backups_on_delete"] is True
    # A replica has no backups of its own.
    assert "retain_backups_on_delete" not in sql["postgres_replica"]["settings"]
    assert resources(staging, "google_sql_database_instance")["postgres_primary"]["settings"]["retain_backups_on_delete"] is False


def test_the_locked_copy_is_a_retention_locked_bucket_in_the_dr_region(production, configs):
    config = configs["production"]
    bucket = resources(production, "google_storage_bucket")["postgres_locked_copy_bucket"]
    assert bucket["location"] == config.dr_region
    assert bucket["retention_policy"] == {"is_locked": True, "retention_period": 30 * 86_400}
    assert bucket["lifecycle"] == {"prevent_destroy": True}
    assert bucket["lifecycle_rule"][0]["condition"] == {"age": 31}
    assert bucket["public_access_prevention"] == "enforced" and bucket["uniform_bucket_level_access"] is True


def test_the_export_job_dumps_the_writer_with_a_new_name_each_day(production, configs):
    job = only(production, "google_cloud_run_v2_job")
    container = job["template"]["template"]["containers"][0]
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env["INSTANCE"] == ref("google_sql_database_instance", "postgres_primary", "name")
    assert env["BUCKET"] == ref("google_storage_bucket", "postgres_locked_copy_bucket", "name")
    assert env["DATABASES"] == "hexproperty"
    # A locked bucket refuses to overwrite an object: every export is named by its time.
    assert "$(date -u +%Y%m%dT%H%M%SZ)" in container["args"][0]
    assert ":" in container["image"] and not container["image"].endswith(":latest")
    account = ref("google_service_account", "service_account_sql-copy", "email")
    assert job["template"]["template"]["service_account"] == account
    schedule = next(s for s in resources(production, "google_cloud_scheduler_job").values() if s["name"] == job["name"])
    assert schedule["http_target"]["uri"].endswith(f"/locations/{job['location']}/jobs/{job['name']}:run")
    assert schedule["http_target"]["oauth_token"]["service_account_email"] == account


def test_the_export_identity_reaches_only_this_environments_databases_and_job(production):
    members = under(production, "google_project_iam_member", "data/postgres/locked-copy")
    expressions = sorted(m["condition"]["expression"] for m in members.values())
    assert expressions[0].startswith("resource.name == \"projects/hexproperty-production/locations/europe-west1/jobs/")
    assert "instances/hexproperty-production-pg\"" in expressions[1] and "instances/hexproperty-production-pg-dr\"" in expressions[1]
    role = only(production, "google_project_iam_custom_role")  # production has no auto-pause role
    assert role["permissions"] == ["cloudsql.instances.get", "cloudsql.instances.export"]
    writers = under(production, "google_storage_bucket_iam_member", "data/postgres/locked-copy")
    assert {w["member"] for w in writers.values()} == {
        "serviceAccount:" + ref("google_sql_database_instance", name, "service_account_email_address")
        for name in ("postgres_primary", "postgres_replica")}
    assert {w["role"] for w in writers.values()} == {"roles/storage.objectCreator"}


def test_staging_has_no_locked_copy(staging):
    assert "google_cloud_run_v2_job" not in staging["resource"]
    assert "postgres_locked_copy_bucket" not in resources(staging, "google_storage_bucket")
