"""The HexProperty policy rules: each a stable id, a level, a one-line explanation and the fix.

A rule's `check(resource)` returns the problems it finds in one resolved resource body
(an empty list is a pass). Rules read the synthesized attributes, so they judge exactly
what Terraform will be asked to create. Ids are never reused or renumbered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Mapping

from environments.config import EnvironmentConfig
from policies.protected import PROTECTED, protection

ERROR, WARNING = "error", "warning"
COST_LABELS = ("app", "env", "tier", "service", "managed-by")
PRIMITIVE_ROLES = {"roles/owner", "roles/editor", "roles/viewer"}
PUBLIC_MEMBERS = {"allUsers", "allAuthenticatedUsers"}
# HP-001 judges the protected resources (policies/protected.py) and Cloud Run services, whose
# provider-side deletion protection production keeps on.
DELETION_PROTECTED = frozenset(PROTECTED) | {"google_cloud_run_v2_service"}
LOCATION_KEYS = {"location", "region", "location_id", "alternative_location_id"}
# Types whose resource labels are not the top-level `labels` (there it is configuration).
LABEL_PATHS = {
    "google_sql_database_instance": ("settings", "user_labels"),
    "google_monitoring_notification_channel": ("user_labels",),
    "google_monitoring_alert_policy": ("user_labels",),
    "google_monitoring_uptime_check_config": ("user_labels",),
}


@dataclass(frozen=True)
class Resource:
    """One resource as the rules see it: type, address, construct path, resolved body."""

    type: str
    address: str
    path: str
    body: dict
    labelable: bool
    config: EnvironmentConfig
    # The stack's rendered `resource` section (type -> name -> body), for rules that look across resources.
    stack: Mapping[str, Mapping[str, dict]] = field(default_factory=dict)


@dataclass(frozen=True)
class Rule:
    id: str
    level: str
    title: str
    fix: str
    types: frozenset[str] | None  # None: every resource type
    check: Callable[[Resource], list[str]]

    def applies_to(self, resource: Resource) -> bool:
        return self.types is None or resource.type in self.types


def _get(body: Any, *keys: str, default: Any = None) -> Any:
    """Nested read that tolerates the one-element lists Terraform JSON uses for blocks."""
    for key in keys:
        if isinstance(body, list):
            body = body[0] if body else None
        if not isinstance(body, dict) or key not in body:
            return default
        body = body[key]
    return body


def _is_reference(value: Any) -> bool:
    return isinstance(value, str) and "${" in value


def _deletion_protection(r: Resource) -> list[str]:
    if not r.config.is_production:
        return []
    body = r.body
    if r.type == "google_cloud_run_v2_service":
        return ["deletion_protection is false"] if body.get("deletion_protection") is False else []
    guarded = protection(r.type, body)
    if guarded is None:
        return []
    problems = [f"{flag} is not true" for flag in guarded.provider_flags
                if _get(body, *flag.split(".")) is not True]
    if not guarded.provider_flags and _get(body, "lifecycle", "prevent_destroy") is not True:
        problems.append("lifecycle.prevent_destroy is not set (the type has no deletion protection of its own)")
    if r.type == "google_storage_bucket" and body.get("force_destroy") is True:
        problems.append("force_destroy is true: a destroy would delete every object")
    return problems


def _production_database(r: Resource) -> list[str]:
    if not r.config.is_production or r.body.get("master_instance_name"):
        return []  # replicas inherit backups from their primary
    settings = _get(r.body, "settings", default={})
    problems = []
    if _get(settings, "availability_type") != "REGIONAL":
        problems.append(f"availability_type is {_get(settings, 'availability_type')!r}, not REGIONAL")
    if _get(settings, "backup_configuration", "enabled") is not True:
        problems.append("automated backups are off")
    if _get(settings, "backup_configuration", "point_in_time_recovery_enabled") is not True:
        problems.append("point-in-time recovery is off")
    return problems


def _scales_to_zero(r: Resource) -> list[str]:
    if r.config.is_production:
        return []
    if r.type == "google_cloud_run_v2_service":
        low = _get(r.body, "template", "scaling", "min_instance_count", default=0)
    else:
        low = _get(r.body, "service_config", "min_instance_count", default=0)
    return [] if low == 0 else [f"minimum instances is {low}, so it never scales to zero"]


def _instance_cap(r: Resource) -> list[str]:
    if r.type == "google_cloud_run_v2_service":
        high = _get(r.body, "template", "scaling", "max_instance_count")
    else:
        high = _get(r.body, "service_config", "max_instance_count")
    return [] if isinstance(high, int) and high > 0 else ["no maximum instance count: scaling has no cost ceiling"]


def _public_name(r: Resource) -> str:
    return r.config.resource_name("frontend")


def _public_ingress(r: Resource) -> list[str]:
    if r.type == "google_cloud_run_v2_service":
        ingress = r.body.get("ingress", "INGRESS_TRAFFIC_ALL")  # the API's default is ALL
        if ingress == "INGRESS_TRAFFIC_ALL" and r.body.get("name") != _public_name(r):
            return [f"ingress is {ingress}: only the frontend takes traffic from the internet"]
        return []
    ingress = _get(r.body, "service_config", "ingress_settings", default="ALLOW_ALL")
    is_api = r.body.get("name") == r.config.resource_name("api")
    if ingress == "ALLOW_ALL" and not (is_api and r.config.api.ingress == "ALLOW_ALL"):
        return ["ingress_settings is ALLOW_ALL, which only the API may have, and only when api.ingress says so"]
    return []


def _public_members(r: Resource) -> list[str]:
    problems = []
    if r.body.get("invoker_iam_disabled") is True and r.body.get("name") != _public_name(r):
        problems.append("invoker_iam_disabled is true: anyone may invoke it, and only the frontend is public")
    members = [r.body.get("member")] + list(r.body.get("members") or [])
    # The one allowed binding: the Api construct's invoker grant when api.public is true.
    public_api = (r.config.api.public and r.type == "google_cloud_run_v2_service_iam_member"
                  and r.path.split("/")[1:2] == ["api"] and r.body.get("role") == "roles/run.invoker")
    for member in filter(None, members):
        if member in PUBLIC_MEMBERS and not public_api:
            problems.append(f"grants {r.body.get('role')} to {member}")
    return problems


def _primitive_roles(r: Resource) -> list[str]:
    roles = [r.body.get("role")] + [b.get("role") for b in r.body.get("binding") or [] if isinstance(b, dict)]
    return [f"grants the primitive role {role}" for role in roles if role in PRIMITIVE_ROLES]


def _no_keys(r: Resource) -> list[str]:
    return ["creates a service account key: runtimes use their attached identity, CI uses Workload Identity Federation"]


def _cost_labels(r: Resource) -> list[str]:
    if r.type in LABEL_PATHS:
        labels = _get(r.body, *LABEL_PATHS[r.type], default={})
    elif r.labelable:
        labels = r.body.get("labels") or {}
    else:
        return []
    missing = [label for label in COST_LABELS if label not in labels]
    return [f"missing the label(s) {', '.join(missing)}"] if missing else []


def _locations(value: Any, trail: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for key, child in value.items():
            if key == "//":
                continue
            where = f"{trail}.{key}" if trail else key
            if key in LOCATION_KEYS and isinstance(child, str):
                yield where, child
            else:
                yield from _locations(child, where)
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _locations(child, f"{trail}[{index}]")


def _residency(r: Resource) -> list[str]:
    allowed = {r.config.region, r.config.dr_region}
    problems = []
    for where, value in _locations(r.body):
        if _is_reference(value) or value == "global":
            continue
        region = value.rsplit("-", 1)[0] if value[-2:-1] == "-" and value[-1].isalpha() else value  # zone -> region
        if value not in allowed and region not in allowed:
            problems.append(f"{where} is {value!r}, outside {' and '.join(sorted(allowed))}")
    return problems


def _redis_auth(r: Resource) -> list[str]:
    return [] if r.body.get("auth_enabled") is True else ["auth_enabled is not true: any VPC client could connect"]


def _sql_private_ssl(r: Resource) -> list[str]:
    ip = _get(r.body, "settings", "ip_configuration", default={})
    problems = []
    if _get(ip, "ipv4_enabled") is not False:
        problems.append("a public IPv4 address is enabled (set ipv4_enabled = false)")
    if not _get(ip, "private_network"):
        problems.append("no private_network")
    if _get(ip, "ssl_mode") not in ("ENCRYPTED_ONLY", "TRUSTED_CLIENT_CERTIFICATE_REQUIRED"):
        problems.append(f"ssl_mode is {_get(ip, 'ssl_mode')!r}: unencrypted connections are accepted")
    return problems


def _bucket_access(r: Resource) -> list[str]:
    problems = []
    if r.body.get("uniform_bucket_level_access") is not True:
        problems.append("uniform_bucket_level_access is not true (object ACLs could open objects)")
    if r.body.get("public_access_prevention") != "enforced":
        problems.append("public_access_prevention is not enforced")
    return problems


def _kafka_on_cloud_run(r: Resource) -> list[str]:
    if r.config.is_production and _get(r.body, "labels", "tier") == "events":
        return ["production runs its Kafka broker on Cloud Run: one instance, no TCP clients, "
                "no file locking on its Cloud Storage log (docs/decisions/kafka.md)"]
    return []


def _public_without_edge(r: Resource) -> list[str]:
    """Production's internet traffic comes through the edge's load balancer (Cloud Armor, rate
    limit); a runtime the internet reaches directly gets round both."""
    if not r.config.is_production:
        return []
    if r.type == "google_cloud_run_v2_service":
        ingress = r.body.get("ingress", "INGRESS_TRAFFIC_ALL")
        public = ingress == "INGRESS_TRAFFIC_ALL"
    else:
        ingress = _get(r.body, "service_config", "ingress_settings", default="ALLOW_ALL")
        public = ingress == "ALLOW_ALL"
    return [f"ingress is {ingress} in production: the internet reaches it without Cloud Armor"] if public else []


RUN = frozenset({"google_cloud_run_v2_service"})
RUNTIMES = frozenset({"google_cloud_run_v2_service", "google_cloudfunctions2_function"})


def _slo_burn_rate_alerted(r: Resource) -> list[str]:
    """An SLO nobody is told about is a dashboard: some alert policy must select its burn rate."""
    name = r.address.split(".", 1)[1]
    reference = re.compile(r'select_slo_burn_rate\("\$\{google_monitoring_slo\.' + re.escape(name) + r'\.(name|id)\}"')
    for policy in r.stack.get("google_monitoring_alert_policy", {}).values():
        for condition in policy.get("conditions") or []:
            if reference.search((condition.get("condition_threshold") or {}).get("filter", "")):
                return []
    return ["no alert policy selects its burn rate"]

RULES: tuple[Rule, ...] = (
    Rule("HP-001", ERROR, "Production protected resources have deletion protection",
         "create it through constructs/shared/protection.py keep(): the type's own protection where it has one (Cloud SQL: "
         "deletion_protection and settings.deletion_protection_enabled; secrets: deletion_protection), else "
         "lifecycle.prevent_destroy; buckets also keep force_destroy false",
         DELETION_PROTECTED, _deletion_protection),
    Rule("HP-002", ERROR, "The production database is regional with backups and point-in-time recovery",
         "set availability_type REGIONAL, backup_configuration.enabled and point_in_time_recovery_enabled",
         frozenset({"google_sql_database_instance"}), _production_database),
    Rule("HP-003", ERROR, "In staging every service and function scales to zero",
         "set min_instances to 0 in the staging file", RUNTIMES, _scales_to_zero),
    Rule("HP-004", ERROR, "Every service and function has a maximum instance cap (seed: limits against runaway cost)",
         "set max_instances", RUNTIMES, _instance_cap),
    Rule("HP-005", ERROR, "No public ingress except the frontend, and the API when the file says so",
         "use internal ingress (INGRESS_TRAFFIC_INTERNAL_ONLY / ALLOW_INTERNAL_ONLY)", RUNTIMES, _public_ingress),
    Rule("HP-006", ERROR, "No allUsers or allAuthenticatedUsers access except the frontend and a public API",
         "grant roles/run.invoker to the callers' service accounts instead", None, _public_members),
    Rule("HP-007", ERROR, "No primitive roles (owner, editor, viewer)",
         "grant the predefined role that covers exactly what is needed", None, _primitive_roles),
    Rule("HP-008", ERROR, "No service account keys",
         "remove the key; use the attached service account or Workload Identity Federation",
         frozenset({"google_service_account_key"}), _no_keys),
    Rule("HP-009", ERROR, "Every labelable resource carries the cost labels app, env, tier, service, managed-by",
         "set labels=config.labels(tier, service)", None, _cost_labels),
    Rule("HP-010", ERROR, "Every location is inside the environment's regions (data residency)",
         "use project.region (or project.dr_region for disaster recovery copies)", None, _residency),
    Rule("HP-011", ERROR, "Redis AUTH is on", "set auth_enabled = true",
         frozenset({"google_redis_instance"}), _redis_auth),
    Rule("HP-012", ERROR, "Cloud SQL has a private IP only and enforces SSL",
         "set ip_configuration.ipv4_enabled = false, private_network, ssl_mode = ENCRYPTED_ONLY",
         frozenset({"google_sql_database_instance"}), _sql_private_ssl),
    Rule("HP-013", ERROR, "Buckets use uniform access and enforce public access prevention",
         "set uniform_bucket_level_access = true and public_access_prevention = enforced",
         frozenset({"google_storage_bucket"}), _bucket_access),
    Rule("HP-014", WARNING, "Production Kafka on the Cloud Run backend",
         "set events.backend: managed in the production file", RUN, _kafka_on_cloud_run),
    Rule("HP-015", ERROR, "In production no runtime answers the internet except through the edge",
         "turn edge.enabled on and keep ingress internal (INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER for what the "
         "load balancer serves, ALLOW_INTERNAL_ONLY for the API); a runtime that must answer directly (a "
         "webhook receiver) is suppressed with its reason", RUNTIMES, _public_without_edge),
    Rule("HP-016", ERROR, "Every SLO has a burn-rate alert",
         "add a fast and a slow burn-rate alert policy on it (select_slo_burn_rate), as the monitoring tier does",
         frozenset({"google_monitoring_slo"}), _slo_burn_rate_alerted),
)
RULES_BY_ID = {rule.id: rule for rule in RULES}
