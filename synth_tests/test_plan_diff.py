"""`make diff` (tools/plan_diff.py, tools/plan_review.py): Terraform's plan of a change against the
applied stack, judged for protected resources (policies/protected.py)."""

import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from synth_tests.helpers import modified_stack
from tools.plan_diff import EXIT_OK, EXIT_PROTECTED, allowed_addresses, plan_against, verdict
from tools.plan_review import changed_paths, classify, path_text, report

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.skipif(shutil.which("terraform") is None, reason="no terraform binary on PATH")

PSA = "google_compute_global_address.private_services_range"
REDIS = "google_redis_instance.redis"
SQL = "google_sql_database_instance.postgres_primary"
DATABASE = "google_sql_database.postgres_database_hexproperty"
RENAMED_DATABASE = "google_sql_database.postgres_database_main"
BOOKINGS = "google_managed_kafka_topic.kafka_topic_booking_events"
PROPERTIES = "google_managed_kafka_topic.kafka_topic_property_events"
USERS = ("google_sql_user.postgres_user_bookings",
         "google_sql_user.postgres_user_properties")


def body(resources: dict, address: str) -> dict:
    type_, name = address.split(".")
    return resources[type_][name]


def pop(resources: dict, address: str) -> dict:
    type_, name = address.split(".")
    return resources[type_].pop(name)


def risky_change(r):
    body(r, PSA)["address"] = "10.121.0.0"  # the PSA range moves
    body(r, REDIS)["tier"] = "BASIC"  # Memorystore tier: the provider replaces the instance
    pop(r, BOOKINGS)  # a Kafka topic removed
    body(r, PROPERTIES)["partition_count"] = 3  # a partition decrease, refused by the API
    r["google_sql_database"][RENAMED_DATABASE.split(".")[1]] = pop(r, DATABASE)  # a renamed construct id
    for user in USERS:  # two resources of one protected type removed at once
        pop(r, user)


def safe_change(r):
    body(r, SQL)["settings"]["tier"] = "db-custom-4-15360"  # Cloud SQL resize
    body(r, REDIS)["memory_size_gb"] = 6  # Memorystore grows


@pytest.fixture(scope="module")
def plans(synth_dir, applied, terraform_env, tmp_path_factory) -> dict:
    """The three plans the tests judge, made at once (Terraform mostly waits on the provider):
    the risky and the safe change of production, and staging's stack removed."""
    tmp = tmp_path_factory.mktemp("plans")
    jobs = {
        "risky": lambda: plan_against("production", modified_stack(synth_dir, tmp / "risky", "production", risky_change),
                                      applied["production"], tmp / "risky" / "work", terraform_env),
        "safe": lambda: plan_against("production", modified_stack(synth_dir, tmp / "safe", "production", safe_change),
                                     applied["production"], tmp / "safe" / "work", terraform_env),
        "removed": lambda: plan_against("staging", None, applied["staging"], tmp / "removed", terraform_env),
    }
    with ThreadPoolExecutor(max_workers=3) as pool:
        futures = {name: pool.submit(job) for name, job in jobs.items()}
        return {name: future.result() for name, future in futures.items()}


@pytest.fixture
def risky_plan(plans):
    return plans["risky"]


@pytest.fixture
def safe_plan(plans):
    return plans["safe"]


def by_address(planned):
    return {c.address: c for c in classify(planned.plan, planned.prevent_destroy)}


def test_each_protected_change_is_named_with_what_forces_it(risky_plan):
    changes = by_address(risky_plan)
    psa, redis = changes[PSA], changes[REDIS]
    assert (psa.action, psa.paths) == ("replace", ["address"])
    assert psa.risk.startswith("REPLACED, destroyed then created empty (forced by address): the private services")
    assert (redis.action, redis.paths) == ("replace", ["tier"]) and "Memorystore" in redis.risk
    assert redis.risk.endswith("lifecycle.prevent_destroy is set, so Terraform refuses this apply until the code drops it")
    assert changes[BOOKINGS].action == "delete" and changes[BOOKINGS].risk.startswith("DELETED: a Kafka topic")
    partitions = changes[PROPERTIES]
    assert partitions.action == "update" and partitions.paths == ["partition_count"]
    assert partitions.risk.startswith("REFUSED in place (partition_count 6 -> 3): Kafka cannot reduce")
    renamed = changes[DATABASE]
    assert renamed.action == "delete" and f"{RENAMED_DATABASE} creates it again under a new address" in renamed.risk
    assert f'move_from_id("{DATABASE}")' in renamed.risk
    assert changes[RENAMED_DATABASE].action == "create" and not changes[RENAMED_DATABASE].risk
    for user in USERS:
        assert changes[user].action == "delete" and changes[user].risk.startswith("DELETED: an IAM database user")


def test_protected_changes_stop_with_their_own_status(risky_plan):
    blocks, status = verdict({"production": risky_plan}, frozenset(), github=True)
    text = "\n".join(blocks)
    assert status == EXIT_PROTECTED != EXIT_OK
    assert f"!!! PROTECTED {PSA} would be REPLACED" in text
    assert f"::error title=Protected resource at risk (production)::{REDIS} would be REPLACED" in text
    # Besides the protected ones: the Redis AUTH version follows the new instance, and the runtimes
    # and outputs that read Redis's host and port learn them at apply.
    assert ("1 to add, 0 to import, 4 to change, 3 to replace, 4 to destroy, 0 to forget (left in Google Cloud); "
            "7 protected resource(s) at risk") in text
    assert text.endswith("rollback and moved state: docs/runbooks/deploy.md")


def test_a_reviewed_exception_passes_only_the_addresses_it_names(risky_plan):
    every = {c.address for c in classify(risky_plan.plan) if c.risk}
    blocks, status = verdict({"production": risky_plan}, frozenset(every) | {"google_x.not_at_risk"})
    text = "\n".join(blocks)
    assert status == EXIT_OK and f"(allowed by ALLOW_REPLACE) {PSA}" in text
    assert "ALLOW_REPLACE names google_x.not_at_risk, which this change does not put at risk" in text
    _, status = verdict({"production": risky_plan}, frozenset(every - {REDIS}))
    assert status == EXIT_PROTECTED
    assert allowed_addresses(f" {PSA}, {REDIS}\n") == {PSA, REDIS}


def test_a_resize_and_a_memory_increase_are_updates_in_place(safe_plan):
    changes = by_address(safe_plan)
    assert set(changes) == {SQL, REDIS}
    assert (changes[SQL].action, changes[SQL].paths, changes[SQL].risk) == ("update", ["settings[0].tier"], "")
    assert (changes[REDIS].action, changes[REDIS].paths, changes[REDIS].risk) == ("update", ["memory_size_gb"], "")
    assert verdict({"production": safe_plan}, frozenset())[1] == EXIT_OK


def test_a_removed_block_is_a_forget_not_a_risk():
    """`removed { lifecycle { destroy = false } }` plans as `forget`: out of state, left in Google Cloud."""
    plan = {"resource_changes": [{"address": SQL, "type": SQL.split(".")[0], "mode": "managed",
                                  "change": {"actions": ["forget"], "before": {"name": "hexproperty-production-sql"}}}]}
    (change,) = classify(plan)
    assert (change.action, change.risk) == ("forget", "")
    text, risky = report("production", plan)
    assert f"  . {SQL}" in text and "1 to forget (left in Google Cloud); 0 protected resource(s) at risk" in text
    assert risky == []


def test_paths_read_like_configuration():
    assert path_text(["settings", 0, "ip_configuration", 0, "private_network"]) == \
        "settings[0].ip_configuration[0].private_network"
    before = {"labels": {"a": "1"}, "settings": [{"tier": "x", "disk": 10}], "uri": "u"}
    after = {"labels": {"a": "2", "b": "3"}, "settings": [{"tier": "y", "disk": 10}], "uri": None}
    assert list(changed_paths(before, after, {"uri": True})) == [
        "labels.a", "labels.b", "settings[0].tier", "uri (known after apply)"]


def test_an_unknown_ref_stops_with_a_clear_message():
    run = subprocess.run([sys.executable, "tools/plan_diff.py", "--ref", "no-such-ref-xyz"], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 2
    assert "git archive no-such-ref-xyz failed" in run.stderr and "Traceback" not in run.stderr


def test_a_removed_stack_destroys_everything_and_flags_what_is_protected(plans, staging):
    planned = plans["removed"]
    changes = classify(planned.plan, planned.prevent_destroy)
    assert {c.action for c in changes} == {"delete"}
    assert len(changes) == sum(len(group) for group in staging["resource"].values())
    risky = {c.address for c in changes if c.risk}
    assert REDIS in risky and SQL in risky and "google_storage_bucket.kafka_log_bucket" in risky
    assert not any("source-bucket" in address for address in risky)  # function sources are rebuilt
    assert verdict({"staging": planned}, frozenset())[1] == EXIT_PROTECTED
