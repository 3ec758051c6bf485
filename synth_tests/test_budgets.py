"""Cost: budgets in both environments as the files say, and cost labels on everything labelable."""

import inspect

import pytest
from cdktf import TerraformResource

from constructs import google
from constructs.concerns.cost import BUDGET_PUBLISHER
from policies.rules import LABEL_PATHS
from synth_tests.helpers import ENVS, ref, resources

BUDGET = "google_billing_budget"
COST_LABELS = ("app", "env", "tier", "service")


def budgets(stack):
    """tier (None for the environment's own budget) -> budget body."""
    return {(b["budget_filter"].get("labels") or {}).get("tier"): b for b in resources(stack, BUDGET).values()}


@pytest.mark.parametrize("env", ENVS)
def test_one_budget_for_the_project_and_one_per_tier_from_the_file(stacks, configs, env):
    stack, cost = stacks[env], configs[env].cost
    found = budgets(stack)
    assert set(found) == {None, *cost.tier_amounts}
    expected = {None: cost.monthly_amount, **cost.tier_amounts}
    (project,) = [a for a in stack["data"]["google_project"] if a.startswith("cost_")]
    for tier, body in found.items():
        assert body["billing_account"] == cost.billing_account
        assert body["amount"]["specified_amount"] == {"currency_code": cost.currency, "units": str(expected[tier])}
        assert body["budget_filter"]["projects"] == ["projects/${data.google_project." + project + ".number}"]
        assert body["budget_filter"]["calendar_period"] == "MONTH"
        if tier:
            assert body["budget_filter"]["labels"] == {"tier": tier}


@pytest.mark.parametrize("env", ENVS)
def test_budgets_notify_the_files_addresses_and_the_topic(stacks, configs, env):
    stack, cost = stacks[env], configs[env].cost
    channels = {a: c for a, c in resources(stack, "google_monitoring_notification_channel").items() if a.startswith("cost_")}
    assert sorted(c["labels"]["email_address"] for c in channels.values()) == sorted(cost.notification_emails)
    assert all(c["type"] == "email" for c in channels.values())
    (topic,) = [a for a in resources(stack, "google_pubsub_topic") if a.startswith("cost_")]
    for body in resources(stack, BUDGET).values():
        rule = body["all_updates_rule"]
        assert sorted(rule["monitoring_notification_channels"]) == sorted(
            ref("google_monitoring_notification_channel", a, "name") for a in channels)
        assert rule["pubsub_topic"] == ref("google_pubsub_topic", topic)
        assert rule["schema_version"] == "1.0"
    (grant,) = [g for a, g in resources(stack, "google_pubsub_topic_iam_member").items() if a.startswith("cost_")]
    assert (grant["topic"], grant["role"], grant["member"]) == (
        ref("google_pubsub_topic", topic, "name"), "roles/pubsub.publisher", BUDGET_PUBLISHER)


@pytest.mark.parametrize("env", ENVS)
def test_budgets_wait_for_their_api_and_the_provider_sends_a_quota_project(stacks, configs, env):
    stack = stacks[env]
    (api,) = [a for a, b in resources(stack, "google_project_service").items()
              if b["service"] == "billingbudgets.googleapis.com"]
    for body in resources(stack, BUDGET).values():
        assert f"google_project_service.{api}" in body["depends_on"]
    (provider,) = stack["provider"]["google"]
    assert (provider["billing_project"], provider["user_project_override"]) == (configs[env].project_id, True)


@pytest.mark.parametrize("env", ENVS)
def test_every_tier_with_a_budget_labels_resources(stacks, configs, env):
    """A tier budget on a label no resource carries would always report zero spend."""
    tiers = {labels.get("tier") for _, _, labels in labelled(stacks[env])}
    assert set(configs[env].cost.tier_amounts) <= tiers


def _binding_class(type_: str):
    module = getattr(google, type_.removeprefix("google_"))  # loads that one submodule (constructs/google.py)
    (cls,) = [c for _, c in inspect.getmembers(module, inspect.isclass)
              if issubclass(c, TerraformResource) and c.__module__ == module.__name__]
    return cls


def labelled(stack):
    """(type, address, labels) of every resource whose type takes labels: a binding with
    `reset_labels` has a `labels` argument; LABEL_PATHS names the `user_labels` types."""
    for type_, bodies in stack["resource"].items():
        path = LABEL_PATHS.get(type_)
        if path is None and not hasattr(_binding_class(type_), "reset_labels"):
            continue
        for address, body in bodies.items():
            for key in path or ("labels",):
                body = (body[0] if isinstance(body, list) else body).get(key, {})
            yield type_, address, body


@pytest.mark.parametrize("env", ENVS)
def test_every_labelable_resource_carries_app_env_tier_and_service(stacks, env):
    seen, missing = set(), []
    for type_, address, labels in labelled(stacks[env]):
        seen.add(type_)
        if any(not labels.get(key) for key in COST_LABELS):
            missing.append(f"{type_}.{address}")
    assert missing == []
    # The walk really judges the types that carry cost: not vacuously empty.
    assert {"google_cloud_run_v2_service", "google_sql_database_instance", "google_storage_bucket",
            "google_pubsub_topic", "google_secret_manager_secret"} <= seen

