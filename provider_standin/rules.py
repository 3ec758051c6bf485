"""The CustomizeDiff rules of the types the stacks use, one registry: type -> rules.

Each rule is named as the type's `customize_diff` text names it and carries the provider file
and line (tag v6.50.0) it models. `NOT_MODELLED` lists, with the reason, what is deliberately
left out; a test checks that every name in the schema's `customize_diff` text of a used type is
in one of the two.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Callable

from .codec import UNKNOWN, is_unknown, is_wholly_known
from .diagnostics import error
from .planning import PlanContext, get_key
from .storage_hash import file_md5_base64, md5_base64


@dataclass(frozen=True)
class Rule:
    name: str
    source: str
    apply: Callable[[PlanContext], None]


def _fail(context: PlanContext, rule_name: str, message: str, key: str = "") -> None:
    path = tuple(int(p) if p.isdigit() else p for p in key.split(".")) if key else ()
    context.diagnostics.append(error(message, f"{context.resource.type_name}: CustomizeDiff {rule_name}: {message}", path))


# --- tpgresource: shared by most types ---------------------------------------------------

_ATTRIBUTION_KEY = "goog-terraform-provisioned"  # transport/config.go:758


def set_labels_diff(context: PlanContext, *, skip_attribution: bool = False) -> None:
    """terraform_labels = provider default_labels + labels (resource wins); effective_labels follows."""
    labels = context.planned.get("labels")
    if is_unknown(labels) or not is_wholly_known(labels):
        context.planned["terraform_labels"] = UNKNOWN
        context.planned["effective_labels"] = UNKNOWN
        return
    provider = context.provider
    terraform_labels = dict(provider.default_labels)
    prior_effective = (context.prior or {}).get("effective_labels") or {}
    if not skip_attribution and provider.add_attribution_label and (
        _ATTRIBUTION_KEY in prior_effective
        or provider.attribution_strategy == "PROACTIVE"
        or (provider.attribution_strategy == "CREATION_ONLY" and context.creating)
    ):
        terraform_labels[_ATTRIBUTION_KEY] = "true"
    terraform_labels.update(labels or {})
    old_terraform = (context.prior or {}).get("terraform_labels") or {}
    context.planned["terraform_labels"] = terraform_labels
    effective = dict(prior_effective)
    effective.update(terraform_labels)
    for key in old_terraform:
        if key not in terraform_labels:
            effective.pop(key, None)
    context.planned["effective_labels"] = effective


def set_labels_diff_without_attribution(context: PlanContext) -> None:
    set_labels_diff(context, skip_attribution=True)


def set_annotations_diff(context: PlanContext) -> None:
    annotations = context.planned.get("annotations")
    if is_unknown(annotations) or not is_wholly_known(annotations):
        context.planned["effective_annotations"] = UNKNOWN
        return
    old = (context.prior or {}).get("annotations") or {}
    effective = dict((context.prior or {}).get("effective_annotations") or {})
    effective.update(annotations or {})
    for key in old:
        if key not in (annotations or {}):
            effective.pop(key, None)
    context.planned["effective_annotations"] = effective


def _default_from_provider(attribute: str) -> Callable[[PlanContext], None]:
    def apply(context: PlanContext) -> None:
        if context.config.get(attribute) is not None:
            return
        value = getattr(context.provider, attribute)
        if value is not None:
            context.planned[attribute] = value
        elif context.creating:
            context.diagnostics.append(
                error(
                    f"Failed to retrieve {attribute}",
                    f"{context.resource.type_name}: {attribute} is not set on the resource nor on the provider",
                    (attribute,),
                )
            )

    return apply


# --- conditional replacement (customdiff.ForceNewIfChange / ForceNewIf) ------------------


def force_new_if_change(key: str, shrinks: Callable[[object, object], bool]) -> Callable[[PlanContext], None]:
    def apply(context: PlanContext) -> None:
        if context.creating or not context.has_change(key):
            return
        old, new = context.old(key), context.new(key)
        if is_unknown(new) or is_unknown(old):
            return
        if shrinks(old, new):
            context.force_new(key)

    return apply


def is_number_shrinkage(old, new) -> bool:
    """compute.IsDiskShrinkage / vpcaccess isInstanceShrinkage: new < old (null reads as 0)."""
    return (new or 0) < (old or 0)


def is_redis_version_decreasing(old, new) -> bool:
    import re

    pattern = re.compile(r"REDIS_(\d+)_(\d+)")
    old_match, new_match = pattern.search(old or ""), pattern.search(new or "")
    if not old_match or not new_match:
        return False
    return float(f"{new_match[1]}.{new_match[2]}") < float(f"{old_match[1]}.{old_match[2]}")


def is_shrinkage_ip_cidr(old, new) -> bool:
    try:
        old_net = ipaddress.ip_network(old or "", strict=False)
        new_net = ipaddress.ip_network(new or "", strict=False)
    except ValueError:
        return False
    return not (old_net.version == new_net.version and old_net.subnet_of(new_net))


def is_policy_locked(old, new) -> bool:
    return bool(old) and not bool(new)


# --- google_sql_database_instance -------------------------------------------------------


def _is_switchover_from_old_primary_side(context: PlanContext) -> bool:
    replica_configuration = context.new("replica_configuration")
    if not isinstance(replica_configuration, list) or len(replica_configuration) != 1 or not replica_configuration[0]:
        return False
    new_master = context.new("master_instance_name")
    old_replicas = context.old("replica_names") or []
    new_replicas = context.new("replica_names") or []
    cascadable = replica_configuration[0].get("cascadable_replica")
    is_sql_server = str(context.new("database_version") or "").startswith("SQLSERVER")
    return (
        new_master is not None
        and context.old("instance_type") == "CLOUD_SQL_INSTANCE"
        and context.new("instance_type") == "READ_REPLICA_INSTANCE"
        and new_master in old_replicas
        and new_master not in new_replicas
        and (not is_sql_server or bool(cascadable))
    )


def force_new_if_not_switchover(key: str) -> Callable[[PlanContext], None]:
    def apply(context: PlanContext) -> None:
        if not context.creating and context.has_change(key) and not _is_switchover_from_old_primary_side(context):
            context.force_new(key)

    return apply


def sql_promote_replica(context: PlanContext) -> None:
    if context.creating or not (
        context.old("instance_type") == "READ_REPLICA_INSTANCE" and context.new("instance_type") == "CLOUD_SQL_INSTANCE"
    ):
        return
    if context.config.get("master_instance_name") is not None:
        _fail(context, "checkPromoteConfigurationsAndUpdateDiff",
              "Replica promote configuration check failed. Please remove master_instance_name and try again.")
    elif context.config.get("replica_configuration"):
        _fail(context, "checkPromoteConfigurationsAndUpdateDiff",
              "Replica promote configuration check failed. Please remove replica_configuration and try again.")
    else:
        context.planned["master_instance_name"] = None
        context.planned["replica_configuration"] = []


def sql_private_network(context: PlanContext) -> None:
    key = "settings.0.ip_configuration.0.private_network"
    if context.creating:
        return
    old, new = context.old(key), context.new(key)
    if old and not is_unknown(new) and not new:
        context.force_new(key)


def sql_pitr_support(context: PlanContext) -> None:
    pitr = context.new("settings.0.backup_configuration.0.point_in_time_recovery_enabled")
    version = context.new("database_version")
    if pitr is True and isinstance(version, str) and not any(v in version for v in ("POSTGRES", "SQLSERVER")):
        _fail(
            context,
            "pitrSupportDbCustomizeDiff",
            "point_in_time_recovery_enabled is only available for the following [POSTGRES SQLSERVER]. You may want to "
            "consider using binary_log_enabled instead and remove point_in_time_recovery_enabled",
            "settings.0.backup_configuration.0.point_in_time_recovery_enabled",
        )


# --- compute ----------------------------------------------------------------------------


def firewall_enable_logging(context: PlanContext) -> None:
    enable_logging = context.config.get("enable_logging")
    if enable_logging is False and context.planned.get("log_config"):
        _fail(context, "resourceComputeFirewallEnableLoggingCustomizeDiff",
              "log_config cannot be defined when enable_logging is false", "log_config")


def firewall_source_fields(context: PlanContext) -> None:
    if context.planned.get("direction") == "EGRESS":
        return
    sources = ("source_tags", "source_ranges", "source_service_accounts")
    if all(context.config.get(name) is None for name in sources) and not any(context.planned.get(n) for n in sources):
        _fail(context, "resourceComputeFirewallSourceFieldsCustomizeDiff",
              "one of source_tags, source_ranges, or source_service_accounts must be defined")


def security_policy_rule_priorities(context: PlanContext) -> None:
    rules = context.planned.get("rule")
    if is_unknown(rules) or not rules:
        return
    priorities = [rule.get("priority") for rule in rules if not is_unknown(rule.get("priority"))]
    if len(priorities) != len(set(priorities)):
        _fail(context, "rulesCustomizeDiff",
              "Two rules have the same priority, please update one of the priorities to be different.", "rule")


def router_bgp(context: PlanContext) -> None:
    bgp = get_key(context.planned, "bgp.0")
    if not isinstance(bgp, dict) or bgp.get("advertise_mode") != "DEFAULT":
        return
    if bgp.get("advertised_groups"):
        _fail(context, "resourceComputeRouterCustomDiff",
              "Error in bgp: advertised_groups cannot be specified when using advertise_mode DEFAULT", "bgp.0.advertised_groups")
    if bgp.get("advertised_ip_ranges"):
        _fail(context, "resourceComputeRouterCustomDiff",
              "Error in bgp: advertised_ip_ranges cannot be specified when using advertise_mode DEFAULT", "bgp.0.advertised_ip_ranges")


def _resource_names(values) -> set:
    if not isinstance(values, list):
        return set()
    return {v.rsplit("/", 1)[-1] for v in values if isinstance(v, str)}


def router_nat_drain_nat_ips(context: PlanContext) -> None:
    added = _resource_names(context.new("drain_nat_ips")) - _resource_names(context.old("drain_nat_ips"))
    if not added:
        return
    if context.creating:
        _fail(context, "resourceComputeRouterNatDrainNatIpsCustomDiff",
              f"New RouterNat cannot have drain_nat_ips, got values {sorted(added)}", "drain_nat_ips")
        return
    old_nat, new_nat = _resource_names(context.old("nat_ips")), _resource_names(context.new("nat_ips"))
    for name in sorted(added):
        if name not in old_nat:
            _fail(context, "resourceComputeRouterNatDrainNatIpsCustomDiff",
                  f'drain_nat_ip "{name}" was not previously set in nat_ips {sorted(old_nat)}', "drain_nat_ips")
        elif name in new_nat:
            _fail(context, "resourceComputeRouterNatDrainNatIpsCustomDiff",
                  f'drain_nat_ip "{name}" cannot be drained if still set in nat_ips {sorted(new_nat)}', "drain_nat_ips")


def subnetwork_secondary_ranges_as_set(context: PlanContext) -> None:
    if context.creating:
        return
    old, new = context.old("secondary_ip_range"), context.new("secondary_ip_range")
    if isinstance(old, list) and isinstance(new, list) and old != new and is_wholly_known(new):
        if sorted(map(repr, old)) == sorted(map(repr, new)):
            context.planned["secondary_ip_range"] = old


def subnetwork_send_empty_secondary_ranges(context: PlanContext) -> None:
    if context.creating or context.new("send_secondary_ip_range_if_empty") is not True:
        return
    configured = context.config.get("secondary_ip_range")
    if is_unknown(configured):
        return
    if not configured and context.old("secondary_ip_range"):
        context.planned["secondary_ip_range"] = []


# --- other services ---------------------------------------------------------------------


def logging_sink(context: PlanContext) -> None:
    if context.has_change("bigquery_options") and context.planned.get("bigquery_options"):
        if context.planned.get("unique_writer_identity") is False:
            _fail(context, "resourceLoggingProjectSinkCustomizeDiff",
                  "unique_writer_identity must be true when bigquery_options is supplied", "unique_writer_identity")
    if not context.creating and context.has_change("unique_writer_identity") and context.planned.get("unique_writer_identity"):
        context.planned["writer_identity"] = UNKNOWN


def notification_channel_sensitive_labels(context: PlanContext) -> None:
    labels = context.planned.get("labels") or {}
    sensitive = get_key(context.planned, "sensitive_labels.0") or {}
    for name in ("auth_token", "service_key", "password"):
        if labels.get(name) and sensitive.get(name):
            _fail(context, "sensitiveLabelCustomizeDiff",
                  f"Sensitive label [{name}] cannot be set in both `labels` and the `sensitive_labels` block.", "labels")


def secret_replication_auto(context: PlanContext) -> None:
    if context.creating:
        return
    old_automatic, new_automatic = context.old("replication.0.automatic"), context.new("replication.0.automatic")
    if old_automatic is True and not new_automatic and context.new("replication.0.auto"):
        return
    for key in ("replication.0.automatic", "replication.0.auto"):
        if context.has_change(key):
            context.force_new(key)


def service_account_email(context: PlanContext) -> None:
    if not context.creating and not context.has_change("account_id"):
        return
    account_id, project = context.planned.get("account_id"), context.planned.get("project")
    if not isinstance(account_id, str) or not isinstance(project, str) or not account_id or not project:
        return
    email = f"{account_id}@{project}.iam.gserviceaccount.com"
    context.planned["email"] = email
    context.planned["member"] = f"serviceAccount:{email}"


def scheduler_auth_headers(context: PlanContext) -> None:
    target = get_key(context.planned, "http_target.0")
    if isinstance(target, dict) and target.get("oauth_token") and target.get("oidc_token"):
        _fail(context, "validateAuthHeaders",
              "Error in http_target: only one of oauth_token or oidc_token can be specified, but not both.", "http_target")


def storage_object_content_hash(context: PlanContext) -> None:
    """A changed local file or content plans new md5hash/crc32c/generation; an unchanged one plans nothing."""
    configured_md5 = context.config.get("source_md5hash")
    if is_unknown(configured_md5) or (not context.creating and context.has_change("source_md5hash")):
        _show_object_diff(context)
        return
    local = ""
    source, content = context.planned.get("source"), context.config.get("content")
    if is_unknown(source) or is_unknown(content):
        _show_object_diff(context)
        return
    if source:
        local = file_md5_base64(source)
    if content is not None:
        local = md5_base64(content.encode())
    if not local:
        return
    if (context.prior or {}).get("md5hash") == local:
        return
    _show_object_diff(context)


def _show_object_diff(context: PlanContext) -> None:
    for name in ("md5hash", "crc32c", "generation"):
        context.planned[name] = UNKNOWN


# --- the registry -----------------------------------------------------------------------

_LABELS = Rule("tpgresource.SetLabelsDiff", "google/tpgresource/labels.go#L157", set_labels_diff)
_ANNOTATIONS = Rule("tpgresource.SetAnnotationsDiff", "google/tpgresource/annotations.go#L26", set_annotations_diff)
_PROJECT = Rule("tpgresource.DefaultProviderProject", "google/tpgresource/utils.go#L861", _default_from_provider("project"))
_REGION = Rule("tpgresource.DefaultProviderRegion", "google/tpgresource/utils.go#L883", _default_from_provider("region"))
_ZONE = Rule("tpgresource.DefaultProviderZone", "google/tpgresource/utils.go#L901", _default_from_provider("zone"))

_SQL = "google/services/sql/resource_sql_database_instance.go"
_SUBNET = "google/services/compute/resource_compute_subnetwork.go"

RULES: dict[str, list[Rule]] = {
    "google_artifact_registry_repository": [_LABELS, _PROJECT],
    # google/services/cloudrunv2/resource_cloud_run_v2_job.go#L38: customdiff.All(SetLabelsDiff,
    # SetAnnotationsDiff, DefaultProviderProject), the same three as the service's.
    "google_cloud_run_v2_job": [_LABELS, _ANNOTATIONS, _PROJECT],
    "google_cloud_run_v2_service": [_LABELS, _ANNOTATIONS, _PROJECT],
    "google_cloud_scheduler_job": [
        Rule("validateAuthHeaders", "google/services/cloudscheduler/resource_cloud_scheduler_job.go#L41", scheduler_auth_headers),
        _PROJECT,
        _REGION,
    ],
    "google_cloudfunctions2_function": [_LABELS, _PROJECT],
    "google_compute_firewall": [
        Rule("resourceComputeFirewallEnableLoggingCustomizeDiff", "google/services/compute/resource_compute_firewall.go#L71",
             firewall_enable_logging),
        Rule("resourceComputeFirewallSourceFieldsCustomizeDiff", "google/services/compute/resource_compute_firewall.go#L87",
             firewall_source_fields),
        _PROJECT,
    ],
    "google_compute_backend_service": [_PROJECT],
    "google_compute_global_address": [_LABELS, _PROJECT],
    "google_compute_global_forwarding_rule": [
        Rule("tpgresource.SetLabelsDiffWithoutAttributionLabel", "google/tpgresource/labels.go#L151",
             set_labels_diff_without_attribution),
        _PROJECT,
    ],
    "google_compute_managed_ssl_certificate": [_PROJECT],
    "google_compute_network": [_PROJECT],
    "google_compute_region_network_endpoint_group": [_PROJECT],
    "google_compute_router": [
        Rule("resourceComputeRouterCustomDiff", "google/services/compute/resource_compute_router.go#L39", router_bgp),
        _PROJECT,
    ],
    "google_compute_router_nat": [
        Rule("resourceComputeRouterNatDrainNatIpsCustomDiff", "google/services/compute/resource_compute_router_nat.go#L59",
             router_nat_drain_nat_ips),
        _PROJECT,
    ],
    "google_compute_security_policy": [
        _PROJECT,
        Rule("rulesCustomizeDiff", "google/services/compute/resource_compute_security_policy.go#L704",
             security_policy_rule_priorities),
    ],
    "google_compute_subnetwork": [
        Rule("resourceComputeSubnetworkSecondaryIpRangeSetStyleDiff", f"{_SUBNET}#L474", subnetwork_secondary_ranges_as_set),
        Rule("ForceNewIfChange(ip_cidr_range, IsShrinkageIpCidr)", f"{_SUBNET}#L41",
             force_new_if_change("ip_cidr_range", is_shrinkage_ip_cidr)),
        Rule("sendSecondaryIpRangeIfEmptyDiff", f"{_SUBNET}#L60", subnetwork_send_empty_secondary_ranges),
        _PROJECT,
    ],
    "google_compute_target_http_proxy": [_PROJECT],
    "google_compute_target_https_proxy": [_PROJECT],
    "google_compute_url_map": [_PROJECT],
    "google_iam_workload_identity_pool": [_PROJECT],
    "google_iam_workload_identity_pool_provider": [_PROJECT],
    "google_logging_metric": [_PROJECT],
    "google_logging_project_sink": [
        Rule("resourceLoggingProjectSinkCustomizeDiff", "google/services/logging/resource_logging_project_sink.go#L115",
             logging_sink),
    ],
    "google_managed_kafka_cluster": [_LABELS, _PROJECT],
    "google_managed_kafka_topic": [_PROJECT],
    "google_monitoring_alert_policy": [_PROJECT],
    "google_monitoring_custom_service": [_PROJECT],
    "google_monitoring_dashboard": [_PROJECT],
    "google_monitoring_notification_channel": [
        Rule("sensitiveLabelCustomizeDiff", "google/services/monitoring/resource_monitoring_notification_channel.go#L40",
             notification_channel_sensitive_labels),
        _PROJECT,
    ],
    "google_monitoring_slo": [_PROJECT],
    "google_monitoring_uptime_check_config": [_PROJECT],
    "google_project_iam_custom_role": [_PROJECT],
    "google_project_service": [_PROJECT],
    "google_pubsub_topic": [_LABELS, _PROJECT],
    "google_redis_instance": [
        Rule("ForceNewIfChange(redis_version, isRedisVersionDecreasing)", "google/services/redis/resource_redis_instance.go#L43",
             force_new_if_change("redis_version", is_redis_version_decreasing)),
        _PROJECT,
        _LABELS,
    ],
    "google_secret_manager_secret": [
        Rule("secretManagerSecretAutoCustomizeDiff", "google/services/secretmanager/resource_secret_manager_secret.go#L39",
             secret_replication_auto),
        _LABELS,
        _ANNOTATIONS,
        _PROJECT,
    ],
    "google_service_account": [
        _PROJECT,
        Rule("resourceServiceAccountCustomDiff", "google/services/resourcemanager/resource_google_service_account.go#L356",
             service_account_email),
    ],
    "google_sql_database": [_PROJECT],
    "google_sql_database_instance": [
        _PROJECT,
        Rule("ForceNewIfChange(settings.0.disk_size, compute.IsDiskShrinkage)", "google/services/compute/resource_compute_disk.go#L68",
             force_new_if_change("settings.0.disk_size", is_number_shrinkage)),
        Rule("ForceNewIf(master_instance_name)", f"{_SQL}#L165", force_new_if_not_switchover("master_instance_name")),
        Rule("ForceNewIf(replica_configuration.0.cascadable_replica)", f"{_SQL}#L169",
             force_new_if_not_switchover("replica_configuration.0.cascadable_replica")),
        Rule("IfValueChange(instance_type, isReplicaPromoteRequested)", f"{_SQL}#L2952", sql_promote_replica),
        Rule("privateNetworkCustomizeDiff", f"{_SQL}#L1183", sql_private_network),
        Rule("pitrSupportDbCustomizeDiff", f"{_SQL}#L1209", sql_pitr_support),
    ],
    "google_sql_user": [_PROJECT],
    "google_storage_bucket": [
        Rule("ForceNewIfChange(retention_policy.0.is_locked, isPolicyLocked)", "google/services/storage/resource_storage_bucket.go#L812",
             force_new_if_change("retention_policy.0.is_locked", is_policy_locked)),
        _LABELS,
    ],
    "google_storage_bucket_object": [
        Rule("resourceStorageBucketObjectCustomizeDiff", "google/services/storage/resource_storage_bucket_object.go#L687",
             storage_object_content_hash),
    ],
    "google_vpc_access_connector": [
        Rule("ForceNewIfChange(min_instances, isInstanceShrinkage)", "google/services/vpcaccess/resource_vpc_access_connector.go#L39",
             force_new_if_change("min_instances", is_number_shrinkage)),
        Rule("ForceNewIfChange(max_instances, isInstanceShrinkage)", "google/services/vpcaccess/resource_vpc_access_connector.go#L39",
             force_new_if_change("max_instances", is_number_shrinkage)),
        _PROJECT,
    ],
}

# Rules of used types deliberately not modelled: name -> why.
NOT_MODELLED: dict[str, str] = {}

# Types without a registry entry still get the three provider defaults when their
# customize_diff names them (types the stacks may add later).
SHARED_RULES = {rule.name: rule for rule in (_LABELS, _ANNOTATIONS, _PROJECT, _REGION, _ZONE)}


def rules_for(resource) -> list[Rule]:
    if resource.type_name in RULES:
        return RULES[resource.type_name]
    text = resource.customize_diff or ""
    return [rule for name, rule in SHARED_RULES.items() if name in text]
