"""The one protected-resource list (policies/protected.py) over both synthesized stacks."""

from policies.protected import PROTECTED, protection
from synth_tests.helpers import resources


def protected_addresses(stack) -> set[str]:
    return {f"{type_}.{name}" for type_ in PROTECTED for name, body in resources(stack, type_).items()
            if protection(type_, body)}


def test_the_list_names_every_kind_of_resource_whose_loss_is_unrecoverable():
    assert set(PROTECTED) == {
        "google_sql_database_instance", "google_sql_database", "google_sql_user", "google_redis_instance",
        "google_storage_bucket", "google_managed_kafka_cluster", "google_managed_kafka_topic",
        "google_secret_manager_secret", "google_logging_project_bucket_config",
        "google_artifact_registry_repository", "google_compute_global_address",
        "google_service_networking_connection", "google_iam_workload_identity_pool",
        "google_iam_workload_identity_pool_provider", "google_service_account"}
    assert all(entry.why for entry in PROTECTED.values())


def test_function_source_buckets_are_rebuilt_and_every_other_bucket_holds_data(stacks):
    for stack in stacks.values():
        for name, bucket in resources(stack, "google_storage_bucket").items():
            rebuilt = bucket["labels"].get("content") == "function-sources"
            assert rebuilt == ("source" in name), name
            assert (protection("google_storage_bucket", bucket) is None) == rebuilt, name


def test_the_private_services_range_and_the_edge_address_are_protected(stacks):
    for env, stack in stacks.items():
        addresses = resources(stack, "google_compute_global_address")
        protected = sorted(name for name, body in addresses.items() if protection("google_compute_global_address", body))
        expected = ["private_services_range"] + (["edge_address"] if env == "production" else [])
        assert protected == sorted(expected)


def test_each_stack_protects_its_data_and_identities(staging, production):
    # The CI identities (workload identity pool and provider) live in the bootstrap stacks.
    for stack in (staging, production):
        kinds = {address.split(".")[0] for address in protected_addresses(stack)}
        assert {"google_sql_database_instance", "google_sql_database", "google_sql_user", "google_redis_instance",
                "google_secret_manager_secret", "google_logging_project_bucket_config",
                "google_artifact_registry_repository", "google_service_networking_connection",
                "google_service_account"} <= kinds
    assert {"google_managed_kafka_cluster", "google_managed_kafka_topic"} <= {
        a.split(".")[0] for a in protected_addresses(production)}
    assert "google_storage_bucket.kafka_log_bucket" in protected_addresses(staging)
