"""The drill environment (environments/drill.yaml): production's shape in a project of its own,
with the cross-region replica the regional drill fails over, and nothing that stops its teardown."""

import json

from environments.loader import ENVIRONMENTS_DIR, load_environment
from synth_tests.helpers import resources

PROTECTION_FLAGS = ("deletion_protection", "deletion_protection_enabled")


def _walk(value, path=""):
    """(key path, value) of every key in a resource body, nested blocks included."""
    if isinstance(value, dict):
        for key, inner in value.items():
            yield f"{path}.{key}".lstrip("."), inner
            yield from _walk(inner, f"{path}.{key}")
    elif isinstance(value, list):
        for inner in value:
            yield from _walk(inner, path)


def test_the_loader_accepts_the_drill_file_and_names_its_own_project():
    config = load_environment(ENVIRONMENTS_DIR / "drill.yaml")
    assert (config.name, config.project_id, config.state_bucket) == ("drill", "hexproperty-drill", "hexproperty-drill-tfstate")
    assert not config.is_production


def test_the_drill_project_is_neither_productions_nor_stagings(configs, stacks):
    drill = configs["drill"]
    others = {configs[name].project_id for name in ("production", "staging")}
    assert drill.project_id not in others and drill.state_bucket not in {configs[n].state_bucket for n in ("production", "staging")}
    # Every resource and the provider name the drill's project, never another environment's.
    text = json.dumps(stacks["drill"])
    assert all(project not in text for project in others)
    assert stacks["drill"]["provider"]["google"][0]["project"] == drill.project_id


def test_the_drill_has_productions_regions_and_a_replica_in_the_dr_region(configs, stacks):
    drill, production = configs["drill"], configs["production"]
    assert (drill.region, drill.dr_region) == (production.region, production.dr_region)
    instances = resources(stacks["drill"], "google_sql_database_instance")
    primary, replica = instances["postgres_primary"], instances["postgres_replica"]
    assert replica["region"] == drill.dr_region and primary["region"] == drill.region
    assert replica["master_instance_name"] == "${google_sql_database_instance.postgres_primary.name}"
    assert primary["settings"]["availability_type"] == "REGIONAL"
    backups = primary["settings"]["backup_configuration"]
    assert backups["enabled"] and backups["point_in_time_recovery_enabled"] and backups["location"] == drill.dr_region
    assert drill.disaster_recovery.active_region == "primary"
    assert drill.events.backend == production.events.backend == "managed"


def test_nothing_in_the_drill_stops_its_teardown(stacks):
    """`cdktf destroy drill` goes through: no deletion protection, no prevent_destroy, and every
    bucket but the locked copy empties itself (the copy's one-day lock is the runbook's to wait out)."""
    held = []
    for type_, group in stacks["drill"]["resource"].items():
        for name, body in group.items():
            for path, value in _walk(body):
                if path.rsplit(".", 1)[-1] in PROTECTION_FLAGS and value is True:
                    held.append(f"{type_}.{name}: {path}")
            if body.get("lifecycle", {}).get("prevent_destroy"):
                held.append(f"{type_}.{name}: lifecycle.prevent_destroy")
    assert held == []
    buckets = resources(stacks["drill"], "google_storage_bucket")
    locked = {name for name, body in buckets.items() if body.get("retention_policy", {}).get("is_locked")}
    assert locked == {"postgres_locked_copy_bucket"}
    assert buckets["postgres_locked_copy_bucket"]["retention_policy"]["retention_period"] == 24 * 3600
    assert all(body.get("force_destroy") for name, body in buckets.items() if name not in locked)
    log_buckets = resources(stacks["drill"], "google_logging_project_bucket_config")
    assert not any(body.get("locked") for body in log_buckets.values())


def test_the_drills_flip_runs_everything_regional_in_the_dr_region_and_stays_teardownable(configs, tmp_path):
    """What checklist step 6 deploys: the drill file with `active_region: dr` (which the loader
    reads with `standby: forgotten`)."""
    import dataclasses

    from main import synthesize

    drill = configs["drill"]
    flipped = dataclasses.replace(drill, disaster_recovery=dataclasses.replace(drill.disaster_recovery, active_region="dr",
                                                                                  standby="forgotten"))
    synthesize([flipped], tmp_path / "out")
    stack = json.loads((tmp_path / "out" / "stacks" / "drill" / "cdk.tf.json").read_text())
    stays = {"image_repository", "application_log_bucket", "audit_log_bucket"}
    in_primary = {name for group in stack["resource"].values() for name, body in group.items()
                  if drill.region in (body.get("region"), body.get("location"))}
    assert in_primary == stays
    assert {"redis_dr", "kafka_cluster_dr"} <= {n for group in stack["resource"].values() for n in group}
    assert resources(stack, "google_sql_database_instance")["postgres_replica"]["instance_type"] == "CLOUD_SQL_INSTANCE"
    assert stack["removed"] and all(block["lifecycle"] == {"destroy": False} for block in stack["removed"])
    assert not [n for group in stack["resource"].values() for n, body in group.items()
                if (body.get("lifecycle") or {}).get("prevent_destroy")]
