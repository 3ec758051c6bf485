"""Pinned addresses: every protected resource of every stack sits at the address the committed
list (synth_tests/pinned_addresses.json) gives it, with a readable name, so no rename of a
construct or a tier destroys it (tools/pinned_addresses.py)."""

import copy

import pytest

from tools.pinned_addresses import load_list, pinned_problems, protected_addresses

PINNED = load_list()
MAIN_STACKS = sorted(name for name in PINNED if not name.endswith("-bootstrap"))
BOOTSTRAP_STACKS = sorted(name for name in PINNED if name.endswith("-bootstrap"))


def test_the_list_covers_every_stack(stacks, bootstrap_stacks):
    assert set(PINNED) == set(stacks) | set(bootstrap_stacks), \
        "a stack without pinned addresses (or a listed stack that is gone): update synth_tests/pinned_addresses.json"


@pytest.mark.parametrize("name", MAIN_STACKS)
def test_every_pinned_address_is_present_and_every_protected_resource_pinned(stacks, name):
    assert pinned_problems(name, stacks[name], PINNED[name]) == []


@pytest.mark.parametrize("name", BOOTSTRAP_STACKS)
def test_bootstrap_stacks_are_held_to_the_list_too(bootstrap_stacks, name):
    assert pinned_problems(name, bootstrap_stacks[name], PINNED[name]) == []


def test_each_stack_pins_its_data_by_readable_names():
    for name in MAIN_STACKS:
        assert {"google_sql_database_instance.postgres_primary", "google_redis_instance.redis",
                "google_secret_manager_secret.redis_auth_secret"} <= set(PINNED[name])
    assert "google_sql_database_instance.postgres_replica" in PINNED["production"]
    assert "google_managed_kafka_topic.kafka_topic_booking_events" in PINNED["production"]


def test_a_renamed_protected_resource_names_the_moved_block_to_write(production):
    stack = copy.deepcopy(production)
    redis = stack["resource"]["google_redis_instance"]
    redis["cache"] = redis.pop("redis")
    problems = pinned_problems("production", stack, PINNED["production"])
    assert problems[0].startswith("production: google_redis_instance.redis is pinned but the stack no longer has it "
                                  "(new here: google_redis_instance.cache)")
    assert 'move_from_id("google_redis_instance.redis")' in problems[0]
    assert "synth_tests/pinned_addresses.json" in problems[0]
    assert problems[1] == ("production: protected google_redis_instance.cache is not in synth_tests/pinned_addresses.json: "
                           "after review, add it (tools/pinned_addresses.py write)")


def test_a_protected_resource_at_a_construct_path_address_is_refused(staging):
    stack = copy.deepcopy(staging)
    stack["resource"]["google_redis_instance"] = {"data_redis_instance_5F2A9C1B": stack["resource"]["google_redis_instance"]["redis"]}
    problems = pinned_problems("staging", stack, [*PINNED["staging"], "google_redis_instance.data_redis_instance_5F2A9C1B"])
    assert any("data_redis_instance_5F2A9C1B has no readable pinned name" in p for p in problems)


def test_unprotected_resources_are_not_pinned(staging):
    # Function source buckets are rebuilt from the repository: they may move freely.
    assert not any("source" in a for a in protected_addresses(staging) if a.startswith("google_storage_bucket."))
