"""Region failover and failback by configuration (disaster_recovery: active_region, standby,
sql_instances), judged on the synthesized JSON and through Terraform's plan of each step against
the step before it applied (docs/runbooks/disaster-recovery.md, Region failover and failback).

The cycle, each step one reviewed change of production.yaml:
- primary (as committed): the writer in europe-west1, its replica in europe-west4;
- failover (`active_region: dr`): the replica promoted in place, everything regional rebuilt in
  europe-west4 at `_dr` addresses, the primary region's resources forgotten;
- rebuild (`standby: replica`, a new primary-site instance name): a replica in europe-west1 again;
- failback (`active_region: primary, standby: forgotten`): that replica promoted, the runtimes
  back in europe-west1, the DR region's resources forgotten;
- rebuild (`standby: replica`, a new DR-site instance name): a replica in europe-west4 again.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from concurrent.futures import ThreadPoolExecutor
from types import MappingProxyType

import pytest

from synth_tests.helpers import api_function, ref, resources, run_service
from tools.pinned_addresses import load_list, pinned_problems
from tools.plan_review import classify, report

PRIMARY = "google_sql_database_instance.postgres_primary"
PROMOTED = "google_sql_database_instance.postgres_replica"
WRITER_OBJECTS = ("google_sql_database.postgres_database_hexproperty", "google_sql_user.postgres_user_api",
                  "google_sql_user.postgres_user_bookings", "google_sql_user.postgres_user_properties")
# Regional, but they stay where they are whichever site is active: each site's image repository and
# application log bucket, and the audit log bucket (retained, locked data; docs/runbooks/disaster-recovery.md).
STAYS = {"google_artifact_registry_repository.image_repository", "google_artifact_registry_repository.image_repository_dr",
         "google_logging_project_bucket_config.application_log_bucket",
         "google_logging_project_bucket_config.application_log_bucket_dr",
         "google_logging_project_bucket_config.audit_log_bucket"}
# What each step sets in disaster_recovery (the rest of production.yaml as committed).
STEPS = {
    "failover": dict(active_region="dr", standby="forgotten"),
    "rebuilt-primary": dict(active_region="dr", standby="replica", sql_instances={"primary": "pg-2", "dr": "pg-dr"}),
    "failback": dict(active_region="primary", standby="forgotten", sql_instances={"primary": "pg-2", "dr": "pg-dr"}),
    "rebuilt-dr": dict(active_region="primary", standby="replica", sql_instances={"primary": "pg-2", "dr": "pg-dr-2"}),
}


def _step(config, settings: dict):
    settings = {k: MappingProxyType(v) if isinstance(v, dict) else v for k, v in settings.items()}
    return dataclasses.replace(config, disaster_recovery=dataclasses.replace(config.disaster_recovery, **settings))


@pytest.fixture(scope="module")
def steps(tmp_path_factory, configs) -> dict:
    """Each step synthesized (one extra synth each): name -> (config, stack folder, stack JSON)."""
    from main import synthesize

    out = {}
    for name, settings in STEPS.items():
        config = _step(configs["production"], settings)
        outdir = tmp_path_factory.mktemp(name) / "cdktf.out"
        synthesize([config], outdir)
        folder = outdir / "stacks" / "production"
        out[name] = (config, folder, json.loads((folder / "cdk.tf.json").read_text()))
    return out


@pytest.fixture(scope="module")
def failed_over(steps):
    return steps["failover"][0], steps["failover"][1]


@pytest.fixture(scope="module")
def dr_stack(steps) -> dict:
    return steps["failover"][2]


def _addresses(stack: dict) -> set[str]:
    return {f"{t}.{n}" for t, group in stack.get("resource", {}).items() for n in group}


def _located(stack: dict, region: str) -> set[str]:
    """Addresses of the resources whose own region or location is `region`."""
    return {f"{t}.{n}" for t, group in stack["resource"].items() for n, body in group.items()
            if region in (body.get("region"), body.get("location"))}


def _forgotten(stack: dict) -> set[str]:
    assert all(block["lifecycle"] == {"destroy": False} for block in stack.get("removed", []))
    return {block["from"] for block in stack.get("removed", [])}


# --- the failover, on the synthesized JSON ---------------------------------------------------


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
    # Backups stay in the writer's region while the other one is forgotten (it may be down).
    assert settings["backup_configuration"] == {**was["backup_configuration"], "location": config.dr_region}
    assert settings["maintenance_window"] == was["maintenance_window"]
    assert promoted["deletion_protection"] is True and settings["deletion_protection_enabled"] is True


def test_everything_regional_moves_to_the_dr_region_at_addresses_of_its_own(dr_stack, production, failed_over):
    """Each resource of the primary region (but the image repository and log buckets) is forgotten
    at its address and built again in the DR region at `<address>_dr`; nothing else is forgotten
    but the old primary and the objects inside it."""
    config = failed_over[0]
    moved = _located(production, config.region) - STAYS - {PRIMARY}
    # Placed with its bucket: an object and a grant have no region of their own.
    moved |= {a for a in _addresses(production) if a.startswith(("google_storage_bucket_object.api_",
                                                                  "google_storage_bucket_iam_member.api_"))}
    moved |= {a for a in _addresses(production) if a.startswith("google_cloud_run_v2_service_iam_member.")}
    assert _forgotten(dr_stack) == moved | {PRIMARY, *WRITER_OBJECTS}
    assert {f"{a}_dr" for a in moved} <= _addresses(dr_stack)
    assert _located(dr_stack, config.region) == {a for a in STAYS if not a.endswith("_dr")}
    assert not _addresses(dr_stack) & moved


def test_the_runtimes_use_the_dr_regions_network(dr_stack, failed_over):
    config = failed_over[0]
    subnet = resources(dr_stack, "google_compute_subnetwork")
    connector = resources(dr_stack, "google_vpc_access_connector")
    ((subnet_address, subnet_body),) = subnet.items()
    ((connector_address, connector_body),) = connector.items()
    assert (subnet_body["region"], subnet_body["ip_cidr_range"]) == (config.dr_region, config.network.dr.subnet_cidr)
    assert connector_body["ip_cidr_range"] == config.network.dr.connector_cidr
    interface = run_service(dr_stack, "hexproperty-production-frontend")["template"]["vpc_access"]["network_interfaces"][0]
    assert interface["subnetwork"] == ref("google_compute_subnetwork", subnet_address)
    function = api_function(dr_stack)
    assert function["location"] == config.dr_region
    assert function["service_config"]["vpc_connector"] == ref("google_vpc_access_connector", connector_address)


def test_redis_and_kafka_come_up_empty_in_the_dr_region_protected(dr_stack, failed_over):
    config = failed_over[0]
    redis = resources(dr_stack, "google_redis_instance")
    kafka = resources(dr_stack, "google_managed_kafka_cluster")
    assert set(redis) == {"redis_dr"} and set(kafka) == {"kafka_cluster_dr"}
    for body in (redis["redis_dr"], kafka["kafka_cluster_dr"]):
        assert body["lifecycle"]["prevent_destroy"] is True
    assert redis["redis_dr"]["region"] == kafka["kafka_cluster_dr"]["location"] == config.dr_region
    assert set(resources(dr_stack, "google_managed_kafka_topic")) == {
        "kafka_topic_booking_events_dr", "kafka_topic_property_events_dr"}
    bootstrap = api_function(dr_stack)["service_config"]["environment_variables"]["KAFKA_BOOTSTRAP_SERVERS"]
    assert f".{config.dr_region}.managedkafka." in bootstrap


def test_the_edge_serves_the_dr_regions_frontend(dr_stack):
    (backend,) = resources(dr_stack, "google_compute_backend_service").values()
    (neg_address,) = resources(dr_stack, "google_compute_region_network_endpoint_group")
    assert neg_address.endswith("_dr")
    assert backend["backend"][0]["group"] == ref("google_compute_region_network_endpoint_group", neg_address)


def test_application_logs_are_routed_into_the_dr_regions_bucket(dr_stack, production):
    for stack, bucket in ((production, "application_log_bucket"), (dr_stack, "application_log_bucket_dr")):
        sinks = {b["destination"] for b in resources(stack, "google_logging_project_sink").values()}
        assert f"logging.googleapis.com/{ref('google_logging_project_bucket_config', bucket)}" in sinks
        (metric,) = [m for m in resources(stack, "google_logging_metric").values() if "error" in m["name"]]
        assert metric["bucket_name"] == ref("google_logging_project_bucket_config", bucket)


def test_images_are_pulled_from_the_dr_regions_repository(dr_stack, production):
    def output(stack, name):
        return stack["output"][name]["value"]
    assert "image_repository_dr.location" in output(dr_stack, "image-repository")
    assert "image_repository.location" in output(dr_stack, "standby-image-repository")
    assert "image_repository.location" in output(production, "image-repository")


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
    """Production's pinned list, less the forgotten primary, with whatever lives in the active
    region (and the objects inside the writer) at `<address>_dr`."""
    regional = {"google_redis_instance.redis", "google_managed_kafka_cluster.kafka_cluster",
                "google_managed_kafka_topic.kafka_topic_booking_events",
                "google_managed_kafka_topic.kafka_topic_property_events"}
    moved = regional | set(WRITER_OBJECTS)
    pinned = set(load_list()["production"]) - {PRIMARY} - moved | {f"{a}_dr" for a in moved}
    assert pinned_problems("production (active_region: dr)", dr_stack, pinned) == []


def test_the_forgotten_primary_keeps_its_cost_until_deleted_by_hand(dr_stack, production, failed_over):
    from cost.budget import budget_delta
    from cost.prices import load_prices

    config = failed_over[0]
    delta = budget_delta("production", production, dr_stack, config.load_profile, load_prices(), config.cost)
    assert "removed" not in delta.text and "postgres_replica" in delta.text
    notes = [line for line in delta.text.splitlines() if "still billed, forgotten by Terraform" in line]
    assert any(PRIMARY in line for line in notes)


def test_clients_point_at_the_promoted_database(dr_stack):
    host = ref(*PROMOTED.split("."), "private_ip_address")
    connection = ref(*PROMOTED.split("."), "connection_name")
    assert api_function(dr_stack)["service_config"]["environment_variables"]["DB_HOST"] == host
    for service in ("properties", "bookings"):
        env = {e["name"]: e.get("value") for e in run_service(dr_stack, f"hexproperty-production-{service}")
               ["template"]["containers"][0]["env"]}
        assert (env["DB_HOST"], env["DB_CONNECTION_NAME"]) == (host, connection)


# --- failback, on the synthesized JSON -------------------------------------------------------


def test_rebuilding_the_primary_site_adds_a_replica_there_and_forgets_nothing(steps):
    config, _, stack = steps["rebuilt-primary"]
    instances = resources(stack, "google_sql_database_instance")
    rebuilt = instances["postgres_primary"]
    assert (rebuilt["name"], rebuilt["region"]) == ("hexproperty-production-pg-2", config.region)
    assert rebuilt["instance_type"] == "READ_REPLICA_INSTANCE"
    assert rebuilt["master_instance_name"] == ref(*PROMOTED.split("."), "name")
    # The writer's backups go back to the other region, now that it is a site again.
    assert instances["postgres_replica"]["settings"]["backup_configuration"]["location"] == config.region
    assert "removed" not in stack and "import" not in stack
    assert "google_redis_instance.redis_dr" in _addresses(stack)  # the runtimes stay in the DR region


def test_failback_promotes_the_rebuilt_replica_and_forgets_the_dr_site(steps, production):
    config, _, stack = steps["failback"]
    dr_site = steps["rebuilt-primary"][2]
    (writer,) = resources(stack, "google_sql_database_instance").values()
    assert set(resources(stack, "google_sql_database_instance")) == {"postgres_primary"}
    assert (writer["name"], writer["instance_type"]) == ("hexproperty-production-pg-2", "CLOUD_SQL_INSTANCE")
    dr_regional = {a for a in _addresses(dr_site) if a.endswith("_dr")} - STAYS - {f"{a}_dr" for a in WRITER_OBJECTS}
    assert _forgotten(stack) == dr_regional | {PROMOTED, *(f"{a}_dr" for a in WRITER_OBJECTS)}
    assert {a.removesuffix("_dr") for a in dr_regional} <= _addresses(stack)
    assert {block["to"] for block in stack["import"]} == set(WRITER_OBJECTS)
    assert all(config.sql_writer_name in block["id"] for block in stack["import"])
    # Back at the committed stack's addresses, but for the DR replica (and its export grant on the
    # locked copy's bucket), which the next step rebuilds.
    replica_grant = {a for a in _addresses(production) if "locked-copy_writer-1" in a}
    assert _addresses(stack) == _addresses(production) - {PROMOTED} - replica_grant


def test_rebuilding_the_dr_site_restores_the_committed_shape_under_new_names(steps, production):
    config, _, stack = steps["rebuilt-dr"]
    instances = resources(stack, "google_sql_database_instance")
    assert (instances["postgres_replica"]["name"], instances["postgres_replica"]["region"]) == (
        "hexproperty-production-pg-dr-2", config.dr_region)
    assert instances["postgres_replica"]["master_instance_name"] == ref(*PRIMARY.split("."), "name")
    assert "removed" not in stack and "import" not in stack
    assert _addresses(stack) == _addresses(production)


# --- every step through Terraform's plan -----------------------------------------------------


def _applied(name: str, folder, tmp, env):
    """A step's stack applied to a fresh state (its import blocks applied as creates: the stand-in cannot import)."""
    from provider_standin.terraform import without_imports
    from tools.plan_diff import apply_stack

    copy = tmp / f"{name}-stack"
    shutil.copytree(folder, copy, symlinks=True)
    without_imports(copy / "cdk.tf.json")
    return apply_stack(f"production ({name})", copy, tmp / f"{name}-applied", env)


@pytest.fixture(scope="module")
def plans(steps, applied, synth_dir, terraform_env, tmp_path_factory) -> dict:
    """Each step planned against the one before it applied, and the committed stack planned
    against the failover applied (flipping straight back); concurrently, Terraform mostly waits."""
    from tools.plan_diff import plan_against

    tmp = tmp_path_factory.mktemp("flips")
    committed = synth_dir / "stacks" / "production"
    order = ["primary", *STEPS]
    with ThreadPoolExecutor(max_workers=3) as pool:
        states = dict(zip(order[1:-1], pool.map(
            lambda name: _applied(name, steps[name][1], tmp, terraform_env), order[1:-1])))
        states["primary"] = applied["production"]

        def plan(before: str, after: str, folder):
            return plan_against(f"production ({after})", folder, states[before], tmp / f"{before}-to-{after}",
                                terraform_env)

        futures = {after: pool.submit(plan, before, after, steps[after][1]) for before, after in zip(order, order[1:])}
        futures["straight-back"] = pool.submit(plan, "failover", "primary", committed)
        return {name: future.result() for name, future in futures.items()}


def _changes(planned) -> dict:
    return {c.address: c for c in classify(planned.plan, planned.prevent_destroy, planned.imports)}


def _actions(changes: dict, action: str) -> set[str]:
    return {a for a, c in changes.items() if c.action == action}


needs_terraform = pytest.mark.skipif(shutil.which("terraform") is None, reason="no terraform binary on PATH")


@needs_terraform
def test_terraform_plans_the_failover_as_a_promotion_and_a_move(plans, dr_stack):
    """The promotion is an update in place; the primary region is forgotten, never destroyed; the
    DR region's copies are created; the adopted objects are imports; nothing protected is at risk."""
    changes = _changes(plans["failover"])
    assert changes[PROMOTED].action == "update"
    assert {"instance_type", "master_instance_name", "settings[0].availability_type",
            "settings[0].backup_configuration"} <= set(changes[PROMOTED].paths)
    assert _actions(changes, "forget") == _forgotten(dr_stack)
    assert _actions(changes, "import") == {f"{a}_dr" for a in WRITER_OBJECTS}
    assert {f"{a}_dr" for a in _forgotten(dr_stack) - {PRIMARY, *WRITER_OBJECTS}} <= _actions(changes, "create")
    assert not [c for c in changes.values() if c.risk]
    text, risky = report("production", plans["failover"].plan, imports=plans["failover"].imports)
    assert risky == [] and f"  . {PRIMARY}" in text and "0 protected resource(s) at risk" in text


@needs_terraform
def test_terraform_plans_each_rebuild_as_one_new_replica(plans):
    for step, site in (("rebuilt-primary", PRIMARY), ("rebuilt-dr", PROMOTED)):
        changes = _changes(plans[step])
        created = {a for a in _actions(changes, "create") if a.startswith("google_sql_database_instance.")}
        assert created == {site}, step
        assert not _actions(changes, "forget") and not _actions(changes, "delete"), step
        assert not [c for c in changes.values() if c.risk], step


@needs_terraform
def test_terraform_plans_failback_as_the_failover_mirrored(plans, steps):
    changes = _changes(plans["failback"])
    assert changes[PRIMARY].action == "update" and "instance_type" in changes[PRIMARY].paths
    assert _actions(changes, "forget") == _forgotten(steps["failback"][2])
    assert _actions(changes, "import") == set(WRITER_OBJECTS)
    assert not [c for c in changes.values() if c.risk]


@needs_terraform
def test_flipping_straight_back_is_stopped_by_make_diff(plans):
    """`primary` again right after `dr` would demote the only writer and destroy the DR region's
    Redis, Kafka and the adopted objects: make diff refuses it. Failback is the rebuild first."""
    from tools.plan_diff import EXIT_PROTECTED, verdict

    planned = plans["straight-back"]
    risky = {c.address: c.action for c in classify(planned.plan, planned.prevent_destroy) if c.risk}
    assert risky[PROMOTED] == "replace"
    assert {f"{a}_dr" for a in WRITER_OBJECTS} | {"google_redis_instance.redis_dr",
                                                   "google_managed_kafka_cluster.kafka_cluster_dr"} <= set(risky)
    assert verdict({"production": planned}, frozenset())[1] == EXIT_PROTECTED


@pytest.mark.parametrize("lines, standby", [("active_region: dr", "forgotten"), ("active_region: primary", "replica"),
                                            ("active_region: dr\n  standby: replica", "replica")])
def test_the_file_says_the_flip_in_one_line(tmp_path, lines, standby):
    """`active_region: dr` alone gives up the primary site; failback's steps name `standby`."""
    from environments.loader import ENVIRONMENTS_DIR, load_environment

    text = (ENVIRONMENTS_DIR / "production.yaml").read_text()
    assert "  active_region: primary\n" in text
    (tmp_path / "production.yaml").write_text(text.replace("  active_region: primary\n", f"  {lines}\n"))
    recovery = load_environment(tmp_path / "production.yaml").disaster_recovery
    assert recovery.standby == standby and recovery.sql_instances == {"primary": "pg", "dr": "pg-dr"}


# --- make forgotten: what the removed blocks left running --------------------------------------


def test_make_forgotten_lists_one_delete_per_forgotten_resource_of_the_old_region(steps, production, configs):
    from tools.forgotten import before_the_flip, delete_commands, forgotten_addresses

    config, _, stack = steps["failover"]
    assert before_the_flip(config).disaster_recovery == configs["production"].disaster_recovery
    commands = delete_commands(config, forgotten_addresses(stack), production)
    # Grants, topics, the source object, NAT, the database and its users go with their parent.
    assert len(commands) == 17
    assert all("--region=europe-west1" in c or "--location=europe-west1" in c or c.startswith("gcloud storage rm")
               or c.startswith("gcloud sql") for c in commands)
    sql = [c for c in commands if c.startswith("gcloud sql")]
    assert sql == ["gcloud sql instances patch hexproperty-production-pg --no-deletion-protection "
                   "--project=hexproperty-production --quiet && gcloud sql instances delete hexproperty-production-pg "
                   "--project=hexproperty-production --quiet"]
    # What uses the subnet and the connector goes before them.
    order = [c.split(" delete ")[0] if " delete " in c else c for c in commands]
    assert order.index("gcloud compute networks subnets") > order.index("gcloud compute networks vpc-access connectors") \
        > order.index("gcloud functions") and order.index("gcloud compute networks subnets") > order.index(
        "gcloud managed-kafka clusters")
    assert "gcloud run services delete hexproperty-production-frontend --region=europe-west1 " \
           "--project=hexproperty-production --quiet" in commands


def test_make_forgotten_after_failback_names_the_dr_regions_resources(steps):
    from tools.forgotten import before_the_flip, delete_commands, forgotten_addresses

    config, _, stack = steps["failback"]
    assert before_the_flip(config).disaster_recovery == steps["rebuilt-primary"][0].disaster_recovery
    commands = delete_commands(config, forgotten_addresses(stack), steps["rebuilt-primary"][2])
    assert "gcloud storage rm --recursive gs://hexproperty-production-function-sources-dr " \
           "--project=hexproperty-production" in commands
    assert any("instances delete hexproperty-production-pg-dr " in c for c in commands)
    assert not any("europe-west1" in c for c in commands)


def test_make_forgotten_says_so_when_nothing_is_forgotten_and_refuses_what_it_cannot_name(
        synth_dir, monkeypatch, capsys, production, configs):
    import tools.forgotten as forgotten

    monkeypatch.setattr(forgotten, "STACKS", synth_dir / "stacks")
    assert forgotten.main(["production"]) == 0
    assert "forgets nothing" in capsys.readouterr().out
    with pytest.raises(forgotten.ForgottenError, match="add one to DELETE or PARENTS"):
        forgotten.delete_commands(configs["production"], ["google_compute_network.network_vpc_4E8F0223"], production)
    with pytest.raises(SystemExit) as exit_:
        forgotten.main(["nowhere"])
    assert exit_.value.code == 2
