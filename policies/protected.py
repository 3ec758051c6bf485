"""The one list of protected resources: those whose deletion or replacement loses data, an
identity or an address other things depend on. The policy pack (HP-001), `make diff` and the
tests all read it from here.

Keyed by Terraform resource type; a type whose instances are not all protected carries a test on
the resource body (the synthesized JSON, or the `after`/`before` values of Terraform's plan).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

from environments.config import BUCKET_CONTENT_LABEL, REBUILT_CONTENT


@dataclass(frozen=True)
class Protected:
    why: str
    applies: Callable[[Mapping[str, Any]], bool] = lambda body: True
    # The provider-side deletion protection the type has (attribute paths that must be true in
    # production); a type without any is kept by Terraform's lifecycle.prevent_destroy instead.
    provider_flags: tuple[str, ...] = ()


def _holds_data(bucket: Mapping[str, Any]) -> bool:
    return (bucket.get("labels") or {}).get(BUCKET_CONTENT_LABEL) != REBUILT_CONTENT


def _range_or_edge_address(address: Mapping[str, Any]) -> bool:
    # The private services access range (Cloud SQL and Redis hold addresses inside it) and the
    # edge's external address (users' DNS records point at it).
    return address.get("purpose") == "VPC_PEERING" or address.get("address_type") == "EXTERNAL"


PROTECTED: dict[str, Protected] = {
    "google_sql_database_instance": Protected(
        "a Cloud SQL instance: its data and its automated backups go with it",
        # Terraform's guard and the API's own (which also stops the console and gcloud).
        provider_flags=("deletion_protection", "settings.deletion_protection_enabled")),
    "google_sql_database": Protected("a database inside Cloud SQL: its tables go with it"),
    "google_sql_user": Protected("an IAM database user: its grants inside PostgreSQL go with it"),
    "google_redis_instance": Protected("Memorystore: its cached data and its AUTH string go with it"),
    "google_storage_bucket": Protected("a bucket that holds data: every object goes with it", _holds_data),
    "google_managed_kafka_cluster": Protected("the Kafka cluster: every topic and message goes with it"),
    "google_managed_kafka_topic": Protected("a Kafka topic: its messages go with it"),
    "google_secret_manager_secret": Protected(
        "a secret: every version (the real values added by hand) goes with it", provider_flags=("deletion_protection",)),
    "google_logging_project_bucket_config": Protected("a log bucket: its retained logs go with it"),
    "google_artifact_registry_repository": Protected("the image repository: every image the services run goes with it"),
    "google_compute_global_address": Protected(
        "the private services access range (Cloud SQL and Redis addresses live in it) or the edge's address "
        "(every domain's DNS record points at it; a new one means new records and a wait for them)",
        _range_or_edge_address),
    "google_service_networking_connection": Protected(
        "the private services peering: Cloud SQL and Redis are reached through it"),
    "google_iam_workload_identity_pool": Protected(
        "the CI identity pool: deleted pools are kept 30 days and their id cannot be reused"),
    "google_iam_workload_identity_pool_provider": Protected("the CI identity provider: CI cannot authenticate without it"),
    "google_service_account": Protected(
        "a service account: a new one has a new identity, and every grant to the old one is lost"),
}


def protection(type_: str, body: Mapping[str, Any] | None) -> Protected | None:
    """Why a resource of `type_` with `body` is protected, or None when it is not."""
    entry = PROTECTED.get(type_)
    if entry is None or not entry.applies(body or {}):
        return None
    return entry
