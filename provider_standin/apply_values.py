"""ApplyResourceChange: the planned state with every unknown replaced by a deterministic value.

A value depends only on the type, the attribute path and the known planned values, so the same
plan applies to the same state run after run. Values other resources read are shaped like what
Google returns (ids in the provider's id format, a service account's email, a Cloud Run uri,
a Cloud SQL connection name, IP addresses); other computed collections become empty.
"""

from __future__ import annotations

import hashlib
import json

from .codec import UNKNOWN, is_unknown
from .diagnostics import sdk_key
from .storage_hash import crc32c_base64, file_md5_base64, md5_base64

_FIXED_TIME = "2025-01-01T00:00:00.000000Z"

# The provider's resource id formats (`d.SetId(...)` of each type), for the types the stacks use.
ID_FORMATS = {
    "google_artifact_registry_repository": "projects/{project}/locations/{location}/repositories/{repository_id}",
    "google_billing_budget": "billingAccounts/{billing_account}/budgets/{_number}",
    "google_cloud_run_v2_service": "projects/{project}/locations/{location}/services/{name}",
    "google_cloud_run_v2_service_iam_member": "projects/{project}/locations/{location}/services/{name}/{role}/{member}",
    "google_cloud_scheduler_job": "projects/{project}/locations/{region}/jobs/{name}",
    "google_cloudfunctions2_function": "projects/{project}/locations/{location}/functions/{name}",
    "google_compute_firewall": "projects/{project}/global/firewalls/{name}",
    "google_compute_global_address": "projects/{project}/global/addresses/{name}",
    "google_compute_network": "projects/{project}/global/networks/{name}",
    "google_compute_router": "projects/{project}/regions/{region}/routers/{name}",
    "google_compute_router_nat": "{project}/{region}/{router}/{name}",
    "google_compute_subnetwork": "projects/{project}/regions/{region}/subnetworks/{name}",
    "google_iam_workload_identity_pool": "projects/{project}/locations/global/workloadIdentityPools/{workload_identity_pool_id}",
    "google_iam_workload_identity_pool_provider": "projects/{project}/locations/global/workloadIdentityPools/"
    "{workload_identity_pool_id}/providers/{workload_identity_pool_provider_id}",
    "google_logging_metric": "{name}",
    "google_logging_project_bucket_config": "projects/{project}/locations/{location}/buckets/{bucket_id}",
    "google_logging_project_exclusion": "projects/{project}/exclusions/{name}",
    "google_logging_project_sink": "projects/{project}/sinks/{name}",
    "google_managed_kafka_cluster": "projects/{project}/locations/{location}/clusters/{cluster_id}",
    "google_managed_kafka_topic": "projects/{project}/locations/{location}/clusters/{cluster}/topics/{topic_id}",
    "google_monitoring_alert_policy": "projects/{project}/alertPolicies/{_number}",
    "google_monitoring_dashboard": "projects/{_project_number}/dashboards/{_hash}",
    "google_monitoring_notification_channel": "projects/{project}/notificationChannels/{_number}",
    "google_monitoring_uptime_check_config": "projects/{project}/uptimeCheckConfigs/{_hash}",
    "google_project_iam_audit_config": "{project}/audit_config/{service}",
    "google_project_iam_custom_role": "projects/{project}/roles/{role_id}",
    "google_project_iam_member": "{project}/{role}/{member}",
    "google_project_service": "{project}/{service}",
    "google_pubsub_topic": "projects/{project}/topics/{name}",
    "google_pubsub_topic_iam_member": "projects/{project}/topics/{topic}/{role}/{member}",
    "google_redis_instance": "projects/{project}/locations/{region}/instances/{name}",
    "google_secret_manager_secret": "projects/{project}/secrets/{secret_id}",
    "google_secret_manager_secret_iam_member": "{secret_id}/{role}/{member}",
    "google_secret_manager_secret_version": "{secret}/versions/1",
    "google_service_account": "projects/{project}/serviceAccounts/{email}",
    "google_service_account_iam_member": "{service_account_id}/{role}/{member}",
    "google_service_networking_connection": "{network}:{service}",
    "google_sql_database": "projects/{project}/instances/{instance}/databases/{name}",
    "google_sql_database_instance": "{name}",
    "google_sql_user": "{name}/{host}/{instance}",
    "google_storage_bucket": "{name}",
    "google_storage_bucket_iam_member": "b/{bucket}/{role}/{member}",
    "google_storage_bucket_object": "{bucket}-{name}",
    "google_vpc_access_connector": "projects/{project}/locations/{region}/connectors/{name}",
}

# Top-level computed attributes other resources read, per type: attribute -> format.
SHAPED = {
    "google_service_account": {
        "email": "{account_id}@{project}.iam.gserviceaccount.com",
        "member": "serviceAccount:{account_id}@{project}.iam.gserviceaccount.com",
        "name": "projects/{project}/serviceAccounts/{account_id}@{project}.iam.gserviceaccount.com",
        "unique_id": "1{_digits21}",
    },
    "google_cloud_run_v2_service": {"uri": "https://{name}-{_project_number}.{location}.run.app"},
    "google_cloudfunctions2_function": {"url": "https://{location}-{project}.cloudfunctions.net/{name}"},
    "google_sql_database_instance": {
        "connection_name": "{project}:{region}:{name}",
        "private_ip_address": "{_private_ip}",
        "public_ip_address": "{_public_ip}",
        "self_link": "https://sqladmin.googleapis.com/sql/v1beta4/projects/{project}/instances/{name}",
    },
    "google_redis_instance": {"host": "{_private_ip}", "current_location_id": "{region}-b"},
    "google_compute_global_address": {"address": "{_private_ip}"},
    "google_secret_manager_secret": {"name": "projects/{_project_number}/secrets/{secret_id}"},
    "google_secret_manager_secret_version": {"name": "{secret}/versions/1", "version": "1"},
    "google_monitoring_notification_channel": {"name": "projects/{project}/notificationChannels/{_number}"},
    "google_monitoring_alert_policy": {"name": "projects/{project}/alertPolicies/{_number}"},
    "google_monitoring_uptime_check_config": {
        "uptime_check_id": "{display_name_slug}-{_hash}",
        "name": "projects/{project}/uptimeCheckConfigs/{display_name_slug}-{_hash}",
    },
    "google_iam_workload_identity_pool": {
        "name": "projects/{_project_number}/locations/global/workloadIdentityPools/{workload_identity_pool_id}",
    },
    "google_iam_workload_identity_pool_provider": {
        "name": "projects/{_project_number}/locations/global/workloadIdentityPools/{workload_identity_pool_id}"
        "/providers/{workload_identity_pool_provider_id}",
    },
    "google_project_iam_custom_role": {"name": "projects/{project}/roles/{role_id}"},
    "google_artifact_registry_repository": {"name": "{repository_id}"},
    "google_storage_bucket": {"url": "gs://{name}", "self_link": "https://www.googleapis.com/storage/v1/b/{name}"},
    "google_storage_bucket_object": {
        "self_link": "https://www.googleapis.com/storage/v1/b/{bucket}/o/{name}",
        "media_link": "https://storage.googleapis.com/download/storage/v1/b/{bucket}/o/{name}?alt=media",
        "output_name": "{name}",
    },
    "google_managed_kafka_cluster": {"name": "projects/{project}/locations/{location}/clusters/{cluster_id}"},
}

# Computed lists Google fills where other resources index into them: attribute -> elements.
SHAPED_LISTS = {
    ("google_redis_instance", "server_ca_certs"): 1,
}


def project_number(project_id: str) -> str:
    """A stable 12-digit project number for a project id."""
    return str(100000000000 + int(hashlib.sha256(project_id.encode()).hexdigest(), 16) % 900000000000)


def fill_unknowns(resource, planned: dict, provider) -> dict:
    """The new state of an applied create/update: `planned` with its unknowns resolved."""
    filler = _Filler(resource, planned, provider)
    state = filler.value(planned, resource.value_type, ())
    filler.finish(state)
    return state


class _Filler:
    def __init__(self, resource, planned: dict, provider):
        self.type_name = resource.type_name
        self.planned = planned
        self.provider = provider
        known = {k: v for k, v in planned.items() if isinstance(v, (str, int, float, bool))}
        self.seed = json.dumps([self.type_name, sorted(known.items())], default=str)
        project = known.get("project") or provider.project or "project"
        self.names = _FormatValues(self, known, project)

    def digest(self, path: tuple) -> str:
        return hashlib.sha256(f"{self.seed}|{sdk_key(path)}".encode()).hexdigest()

    def value(self, value, value_type, path: tuple):
        if is_unknown(value):
            return self.generate(value_type, path)
        if value is None or isinstance(value_type, str):
            return value
        kind, inner = value_type
        if kind in ("list", "set"):
            return [self.value(v, inner, path + (i,)) for i, v in enumerate(value)]
        if kind == "map":
            return {k: self.value(v, inner, path + (k,)) for k, v in value.items()}
        return {k: self.value(value.get(k), t, path + (k,)) for k, t in inner.items()}

    def generate(self, value_type, path: tuple):
        name = path[-1] if path else ""
        if isinstance(value_type, list):
            kind, inner = value_type
            count = SHAPED_LISTS.get((self.type_name, sdk_key(path)), 0)
            if kind in ("list", "set"):
                return [self.generate(inner, path + (i,)) for i in range(count)]
            if kind == "map":
                return {}
            return {k: self.generate(t, path + (k,)) for k, t in inner.items()}
        if value_type == "bool":
            return False
        if value_type == "number":
            if name == "port":
                return 6379 if self.type_name == "google_redis_instance" else 443
            return int(self.digest(path)[:6], 16) % 1000 + 1
        return self.string(path, name)

    def string(self, path: tuple, name) -> str:
        if len(path) == 1:
            if name == "id":
                return self.names.format(ID_FORMATS.get(self.type_name, "{_type_id}"))
            shaped = SHAPED.get(self.type_name, {}).get(name)
            if shaped:
                return self.names.format(shaped)
            if name == "project":
                return self.names.project
        if name in ("md5hash", "crc32c", "md5hexhash"):
            return self.object_hash(name)
        if isinstance(name, str) and name.endswith("_time") or name in ("create_time", "update_time"):
            return _FIXED_TIME
        if name == "etag":
            return self.digest(path)[:16]
        if name == "cert":
            return "-----BEGIN CERTIFICATE-----\n" + self.digest(path) + "\n-----END CERTIFICATE-----\n"
        if name == "uri":
            return f"https://{self.names.get('name') or 'service'}-{self.digest(path)[:10]}.{self.names.region}.run.app"
        if name in ("auth_string", "password"):
            return self.digest(path)[:32]
        return f"{name}-{self.digest(path)[:10]}" if name else self.digest(path)[:10]

    def object_hash(self, name: str) -> str:
        content = self.planned.get("content")
        if isinstance(content, str):
            data = content.encode()
        elif isinstance(self.planned.get("source"), str):
            try:
                with open(self.planned["source"], "rb") as source:
                    data = source.read()
            except OSError:
                return ""
        else:
            return ""
        if name == "md5hash":
            return md5_base64(data) if content is not None else file_md5_base64(self.planned["source"])
        if name == "md5hexhash":
            return hashlib.md5(data).hexdigest()
        return crc32c_base64(data)

    def finish(self, state: dict) -> None:
        # An object uploaded from `source` has no `content` in the provider's state.
        if self.type_name == "google_storage_bucket_object" and self.planned.get("source") and is_unknown(self.planned.get("content")):
            state["content"] = None


class _FormatValues:
    """Values for `{field}` in the formats: the resource's known values, and derived `_` ones."""

    def __init__(self, filler: _Filler, known: dict, project: str):
        self.filler = filler
        self.known = known
        self.project = project
        self.region = known.get("region") or known.get("location") or filler.provider.region or "us-central1"

    def get(self, key: str):
        return self.known.get(key)

    def format(self, template: str) -> str:
        return template.format_map(self)

    def __getitem__(self, key: str):
        digest = self.filler.digest(("_" + key,))
        derived = {
            "project": self.project,
            "region": self.region,
            "location": self.region,
            "_project_number": project_number(self.project),
            "_number": str(int(digest[:15], 16) % 10**19),
            "_digits21": str(int(digest[:20], 16) % 10**20).zfill(20),
            "_hash": digest[:12],
            "_private_ip": f"10.{int(digest[0:2], 16)}.{int(digest[2:4], 16)}.{int(digest[4:6], 16) % 250 + 2}",
            "_public_ip": f"34.{int(digest[0:2], 16)}.{int(digest[2:4], 16)}.{int(digest[4:6], 16) % 250 + 2}",
            "_type_id": f"{self.filler.type_name}/{self.known.get('name') or digest[:12]}",
            "display_name_slug": "".join(c if c.isalnum() else "-" for c in str(self.known.get("display_name", "check"))).lower(),
        }
        if key in self.known:
            value = self.known[key]
            return str(value)
        if key in derived:
            return derived[key]
        return f"{key}-{digest[:8]}"


def read_google_project(resource, config: dict | None, provider) -> dict:
    """The `google_project` data source: known values from the config's or the provider's project."""
    config = config or {}
    project_id = config.get("project_id") or provider.project
    if not isinstance(project_id, str) or not project_id:
        raise ValueError("no project: project_id is not set on the data source nor on the provider")
    attributes = resource.block.get("attributes", {})
    values = {name: (UNKNOWN if config.get(name) is None else config.get(name)) for name in attributes}
    for name in resource.block.get("blocks", {}):
        values[name] = config.get(name)
    known = {"project_id": project_id, "name": project_id, "number": project_number(project_id), "id": f"projects/{project_id}"}
    values.update({name: value for name, value in known.items() if name in attributes})
    return fill_unknowns(resource, values, provider)
