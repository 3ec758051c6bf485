"""`make diff` (tools/plan_diff.py): plan review from the synthesized JSON, on crafted stacks."""

import copy
import subprocess
import sys
from pathlib import Path

from tools.plan_diff import STATEFUL_TYPES, diff_stack, report

ROOT = Path(__file__).resolve().parent.parent

BEFORE = {
    "//": {"metadata": {"version": "0.21.0"}},
    "resource": {
        "google_sql_database_instance": {
            "data_db_1": {"//": {"metadata": {"path": "staging/data/db"}}, "name": "hexproperty-staging-db",
                          "region": "europe-west1", "settings": {"tier": "db-f1-micro", "backup_configuration": {"enabled": False}}},
        },
        "google_redis_instance": {"data_cache_2": {"name": "hexproperty-staging-cache", "tier": "BASIC", "memory_size_gb": 1}},
        "google_storage_bucket": {"api_source_3": {"name": "hexproperty-staging-source", "location": "europe-west1"}},
        "google_compute_network": {"network_vpc_4": {"name": "hexproperty-staging-vpc"}},
        "google_compute_router": {"network_router_5": {"name": "hexproperty-staging-router"}},
    },
    "output": {"vpc": {"value": "x"}},
}


def after(change) -> dict:
    stack = copy.deepcopy(BEFORE)
    change(stack["resource"])
    return stack


def by_address(changes):
    return {c.address: c for c in changes}


def test_identical_stacks_have_no_changes_and_metadata_is_ignored():
    other = copy.deepcopy(BEFORE)
    other["//"] = {"metadata": {"version": "other"}}
    other["resource"]["google_compute_network"]["network_vpc_4"]["//"] = {"metadata": {"path": "moved"}}
    assert diff_stack(BEFORE, other) == []
    assert report("staging", BEFORE, other)[0].endswith("no changes")


def test_an_addition():
    new = after(lambda r: r["google_compute_router"].update(network_router_6={"name": "second"}))
    (change,) = diff_stack(BEFORE, new)
    assert (change.address, change.kind, change.risk) == ("google_compute_router.network_router_6", "added", "")


def test_a_removal_of_a_stateless_resource_is_not_flagged():
    new = after(lambda r: r.pop("google_compute_router"))
    (change,) = diff_stack(BEFORE, new)
    assert (change.address, change.kind, change.risk) == ("google_compute_router.network_router_5", "removed", "")


def test_an_in_place_change_lists_the_attribute_paths():
    def change(r):
        db = r["google_sql_database_instance"]["data_db_1"]
        db["settings"]["tier"] = "db-g1-small"
        db["settings"]["backup_configuration"]["enabled"] = True
        r["google_redis_instance"]["data_cache_2"]["memory_size_gb"] = 2
    changes = by_address(diff_stack(BEFORE, after(change)))
    db = changes["google_sql_database_instance.data_db_1"]
    assert (db.kind, db.paths, db.risk) == ("changed", ["settings.backup_configuration.enabled", "settings.tier"], "")
    assert changes["google_redis_instance.data_cache_2"].risk == ""


def test_replacing_a_stateful_resource_is_flagged_loudly():
    new = after(lambda r: r["google_redis_instance"]["data_cache_2"].update(tier="STANDARD_HA"))
    (change,) = diff_stack(BEFORE, new)
    assert change.paths == ["tier"] and change.risk.startswith("REPLACED")
    text, at_risk = report("staging", BEFORE, new, github=True)
    assert at_risk == 1
    assert "!!! STATEFUL RESOURCE google_redis_instance.data_cache_2 would be REPLACED" in text
    assert "::error title=Stateful resource at risk (staging)::google_redis_instance.data_cache_2" in text


def test_deleting_a_stateful_resource_is_flagged_and_a_renamed_id_is_explained():
    def rename(r):
        r["google_sql_database_instance"]["data_database_9"] = r["google_sql_database_instance"].pop("data_db_1")
    changes = by_address(diff_stack(BEFORE, after(rename)))
    removed = changes["google_sql_database_instance.data_db_1"]
    assert removed.risk.startswith("DELETED")
    assert "google_sql_database_instance.data_database_9 creates it again" in removed.risk
    assert "moved" in removed.risk
    text, at_risk = report("staging", BEFORE, after(lambda r: r.pop("google_storage_bucket")))
    assert at_risk == 1 and "google_storage_bucket.api_source_3 would be DELETED" in text


def test_outputs_and_other_sections_are_reported():
    new = copy.deepcopy(BEFORE)
    new["output"]["vpc"]["value"] = "y"
    text, _ = report("staging", BEFORE, new)
    assert "~ output.vpc.value" in text


def test_the_stateful_list_names_the_data_tier():
    assert {"google_sql_database_instance", "google_redis_instance", "google_storage_bucket"} <= set(STATEFUL_TYPES)
    for type_, forcing in STATEFUL_TYPES.items():
        assert forcing and all("." not in a for a in forcing), type_


def test_an_unknown_ref_stops_with_a_clear_message():
    run = subprocess.run([sys.executable, "tools/plan_diff.py", "--ref", "no-such-ref-xyz"], cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 2
    assert "git archive no-such-ref-xyz failed" in run.stderr and "Traceback" not in run.stderr


def test_the_cost_of_a_change_is_printed_beside_it(staging, configs):
    from cost.prices import load_prices
    from tools.plan_diff import cost_summary

    after = copy.deepcopy(staging)
    redis = next(iter(after["resource"]["google_redis_instance"].values()))
    redis["memory_size_gb"] = 2  # BASIC 1 GB -> 2 GB: the cache's line doubles
    text = cost_summary("staging", staging, after, configs["staging"].load_profile, load_prices())
    head, *lines = text.splitlines()
    assert head.startswith("cost staging: idle ") and "USD/month" in head
    (line,) = [l for l in lines if "google_redis_instance" in l]
    assert float(line.split()[0]) > 0  # the idle delta of the grown cache
    unchanged = cost_summary("staging", staging, staging, configs["staging"].load_profile, load_prices())
    assert unchanged.endswith("no resource changes cost")
