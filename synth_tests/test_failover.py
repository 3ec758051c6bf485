"""Region failover by configuration (disaster_recovery.active_region: dr): the replica in the DR
region promoted in place, the old primary forgotten, its databases and users adopted from the
promoted instance; judged on the synthesized JSON and through Terraform's plan against the
applied primary stack (docs/runbooks/disaster-recovery.md)."""

from __future__ import annotations

import dataclasses
import json
import shutil
from concurrent.futures import ThreadPoolExecutor

import pytest

from synth_tests.helpers import api_function, ref, resources, run_service
from tools.pinned_addresses import load_list, pinned_problems
from tools.plan_review import classify, report

PRIMARY = "google_sql_database_instance.postgres_primary"
PROMOTED = "google_sql_database_instance.postgres_replica"
WRITER_OBJECTS = ("google_sql_database.postgres_database_hexproperty", "google_sql_user.postgres_user_api",
                  "google_sql_user.postgres_user_bookings", "google_sql_user.postgres_user_properties")


@pytest.fixture(scope="module")
def failed_over(tmp_path_factory, configs):
    """Production synthesized with `active_region: dr` (one extra synth): its config and stack folder."""
    from main import synthesize

    config = configs["production"]
    dr = dataclasses.replace(config, disaster_recovery=dataclasses.replace(config.disaster_recovery, active_region="dr"))
    outdir = tmp_path_factory.mktemp("failover") / "cdktf.out"
    synthesize([dr], outdir)
    return dr, outdir / "stacks" / "production"


@pytest.fixture(scope="module")
def dr_stack(failed_over) -> dict:
    return json.loads((failed_over[1] / "cdk.tf.json").read_text())


def test_the_primary_stack_states_its_replica_as_one(production):
    replica = resources(production, "google_sql_database_instance")["postgres_replica"]
    assert replica["instance_type"] == "READ_REPLICA_INSTANCE"
    assert replica["master_instance_name"] == ref(*PRIMARY.split("."), "name")
    assert "removed" not in production and "import" not in production


def test_the_replica_is_promoted_in_place_with_the_primarys_safeguards(dr_stack, production, failed_over):
    config = failed_over[0]
    assert set(resources(dr_stack, "google_sql_database_instance")) == {"postgres_replica"}
    promoted = resources(dr_stack, "google_sql_database_instance")["postgres_replica"]
    was = resources(production, "google_sql_database_instance")["postgres_primary"]["settings"]
    assert promoted["instance_type"] == "CLOUD_SQL_INSTANCE" and "master_instance_name" not in promoted
    assert (promoted["name"], promoted["region"]) == (config.sql_writer_name, config.dr_region)
    settings = promoted["settings"]
    assert settings["availability_type"] == "REGIONAL" and settings["retain_backups_on_delete"] is True
    assert settings["backup_configuration"] == was["backup_configuration"]
    assert settings["maintenance_window"] == was["maintenance_window"]
    assert promoted["deletion_protection"] is True and settings["deletion_protection_enabled"] is True


def test_the_old_primary_and_its_objects_are_forgotten_never_destroyed(dr_stack):
    assert sorted(dr_stack["removed"], key=lambda block: block["from"]) == [
        {"from": address, "lifecycle": {"destroy": False}} for address in sorted((PRIMARY, *WRITER_OBJECTS))]


def test_databases_and_users_are_adopted_from_the_promoted_instance(dr_stack, failed_over):
    config = failed_over[0]
    writer, project = config.sql_writer_name, config.project_id
    assert dr_stack["import"] == [
        {"to": "google_sql_database.postgres_database_hexproperty_dr",
         "id": f"projects/{project}/instances/{writer}/databases/hexproperty"},
        *({"to": f"google_sql_user.postgres_user_{runtime}_dr",
           "id": f"{project}/{writer}/hp-production-{runtime}@{project}.iam"} for runtime in ("api", "properties", "bookings")),
    ]
    for block in dr_stack["import"]:
        type_, name = block["to"].split(".")
        assert resources(dr_stack, type_)[name]["instance"] == ref(*PROMOTED.split("."), "name")


def test_protected_resources_keep_pinned_readable_addresses(dr_stack):
    """Production's pinned list, less the forgotten primary, with the adopted objects at `<address>_dr`."""
    pinned = set(load_list()["production"]) - {PRIMARY, *WRITER_OBJECTS} | {f"{a}_dr" for a in WRITER_OBJECTS}
    assert pinned_problems("production (active_region: dr)", dr_stack, pinned) == []


def test_the_forgotten_primary_keeps_its_cost_until_deleted_by_hand(dr_stack, production, failed_over):
    from cost.budget import budget_delta
    from cost.prices import load_prices

    config = failed_over[0]
    delta = budget_delta("production", production, dr_stack, config.load_profile, load_prices(), config.cost)
    assert "removed" not in delta.text and "postgres_replica" in delta.text
    (note,) = [line for line in delta.text.splitlines() if "still billed, forgotten by Terraform" in line]
    assert PRIMARY in note


def test_clients_point_at_the_promoted_database(dr_stack):
    host = ref(*PROMOTED.split("."), "private_ip_address")
    connection = ref(*PROMOTED.split("."), "connection_name")
    assert api_function(dr_stack)["service_config"]["environment_variables"]["DB_HOST"] == host
    for service in ("properties", "bookings"):
        env = {e["name"]: e.get("value") for e in run_service(dr_stack, f"hexproperty-production-{service}")
               ["template"]["containers"][0]["env"]}
        assert (env["DB_HOST"], env["DB_CONNECTION_NAME"]) == (host, connection)


def _flipped_back(dr_stack_folder, primary_stack_folder, tmp, env):
    """The primary synthesis planned against the `dr` stack applied (its imports applied as creates:
    the stand-in cannot import)."""
    from provider_standin.terraform import without_imports
    from tools.plan_diff import apply_stack, plan_against

    dr_folder = tmp / "dr"
    shutil.copytree(dr_stack_folder, dr_folder, symlinks=True)
    without_imports(dr_folder / "cdk.tf.json")
    state = apply_stack("production (dr)", dr_folder, tmp / "applied", env)
    return plan_against("production", primary_stack_folder, state, tmp / "back", env)


@pytest.fixture(scope="module")
def flip_plans(failed_over, applied, synth_dir, terraform_env, tmp_path_factory):
    """Both directions, planned at once (Terraform mostly waits on the provider): `dr` against the
    applied primary stack, and `primary` again against the applied `dr` stack."""
    from tools.plan_diff import plan_against

    tmp = tmp_path_factory.mktemp("flips")
    with ThreadPoolExecutor(max_workers=2) as pool:
        flip = pool.submit(plan_against, "production (dr)", failed_over[1], applied["production"], tmp / "flip",
                           terraform_env)
        back = pool.submit(_flipped_back, failed_over[1], synth_dir / "stacks" / "production", tmp, terraform_env)
        return flip.result(), back.result()


@pytest.mark.skipif(shutil.which("terraform") is None, reason="no terraform binary on PATH")
def test_terraform_plans_the_flip_as_a_promotion(flip_plans):
    """The `dr` synthesis planned against the applied primary stack: the promotion is an update in
    place, the old primary and its objects are forgotten, nothing protected is at risk. The stand-in
    cannot import, so the adopted objects plan as creates that the report names as imports."""
    planned = flip_plans[0]
    changes = {c.address: c for c in classify(planned.plan, planned.prevent_destroy, planned.imports)}
    assert changes[PROMOTED].action == "update"
    assert {"instance_type", "master_instance_name", "settings[0].availability_type",
            "settings[0].backup_configuration"} <= set(changes[PROMOTED].paths)
    assert {a for a, c in changes.items() if c.action == "forget"} == {PRIMARY, *WRITER_OBJECTS}
    assert {a for a, c in changes.items() if c.action == "import"} == {f"{a}_dr" for a in WRITER_OBJECTS}
    assert not [c for c in changes.values() if c.risk]
    text, risky = report("production", planned.plan, imports=planned.imports)
    assert risky == [] and f"  . {PRIMARY}" in text and "5 to forget (left in Google Cloud); 0 protected" in text


@pytest.mark.skipif(shutil.which("terraform") is None, reason="no terraform binary on PATH")
def test_flipping_straight_back_is_stopped_by_make_diff(flip_plans):
    """`primary` again after `dr` would demote the only writer: Terraform replaces the promoted
    instance to make it a replica, deletes the adopted database and users, and creates an empty
    primary under a name Cloud SQL still holds. make diff refuses it; failback is the runbook's
    new replica and switchover instead."""
    from tools.plan_diff import EXIT_PROTECTED, verdict

    planned = flip_plans[1]
    risky = {c.address: c.action for c in classify(planned.plan, planned.prevent_destroy) if c.risk}
    assert risky == {PROMOTED: "replace", **{f"{a}_dr": "delete" for a in WRITER_OBJECTS}}
    assert verdict({"production": planned}, frozenset())[1] == EXIT_PROTECTED
