"""What the CI identities may do, derived from the main stack they plan and deploy.

The bootstrap stack (human-applied) grants the deployer and the planner their powers, so CI can
never widen its own access. It reads the synthesized main stack (`stack_needs`) and grants:

- the **deployer**, for each resource type the stack holds, the roles in `DEPLOYER_ROLES_BY_TYPE`;
  `roles/resourcemanager.projectIamAdmin` only with an IAM condition that lets it change bindings
  of the runtime roles the stack grants; `roles/storage.admin` on every bucket but the state
  bucket; `roles/iam.serviceAccountUser` on each runtime and build account, one by one.
- the **planner**, one custom role with the read permissions of every type the stack refreshes
  and of every data source it reads (`READ_PERMISSIONS`).

`DEPLOY_PERMISSIONS` says what Google checks when Terraform creates, reads, updates and deletes
each type; `ROLE_PERMISSIONS` is the excerpt of Google's predefined-role reference for the roles
granted here. A test checks that, for every type in each stack, the deployer holds every
permission the type needs: a new type cannot ship without a role that deploys it.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass

# Not a Terraform type: what a google_cloudfunctions2_function with an event_trigger needs beyond the rest.
EVENT_TRIGGERED_FUNCTION = "google_cloudfunctions2_function (event_trigger)"

# Custom role ids (bootstrap stack): letters, digits, `_` and `.`.
SERVICE_ACCOUNTS_ROLE = "ciServiceAccounts"
SECRETS_ROLE = "ciSecrets"
FIREWALLS_ROLE = "ciFirewalls"
SECURITY_POLICIES_ROLE = "ciSecurityPolicies"
PLANNER_ROLE = "ciPlanner"

# Granted by an administrator outside the project (docs/runbooks/deploy.md, Budgets and the billing account).
OUTSIDE_PROJECT = "outside the project"


def _crud(collection: str, *extra: str) -> tuple[str, ...]:
    return tuple(f"{collection}.{verb}" for verb in ("create", "get", "update", "delete", *extra))


def _iam(collection: str) -> tuple[str, ...]:
    """An *_iam_member reads and writes its parent's allow policy."""
    return (f"{collection}.getIamPolicy", f"{collection}.setIamPolicy")


# Permissions Terraform's google provider needs to create, read, update and delete each type.
# Federation and service-account allow policies are absent on purpose: they live in the
# bootstrap stack, and a main-stack resource of those types stops synthesis.
DEPLOY_PERMISSIONS: dict[str, tuple[str, ...]] = {
    "google_artifact_registry_repository": _crud("artifactregistry.repositories"),
    "google_billing_budget": _crud("billing.budgets"),
    # The backup copy's export job: it runs as its own account.
    "google_cloud_run_v2_job": (*_crud("run.jobs"), "run.operations.get", "iam.serviceAccounts.actAs"),
    "google_cloud_run_v2_service": (*_crud("run.services"), "run.operations.get", "iam.serviceAccounts.actAs"),
    "google_cloud_run_v2_service_iam_member": _iam("run.services"),
    "google_cloud_scheduler_job": (*_crud("cloudscheduler.jobs"), "iam.serviceAccounts.actAs"),
    # The build runs as its own account and pulls the source object from the sources bucket.
    "google_cloudfunctions2_function": (*_crud("cloudfunctions.functions"), "cloudfunctions.operations.get",
                                        "storage.objects.get", "iam.serviceAccounts.actAs"),
    # The Cloud Functions API creates an event-triggered function's Eventarc trigger with the caller's rights.
    EVENT_TRIGGERED_FUNCTION: _crud("eventarc.triggers"),
    "google_compute_firewall": (*_crud("compute.firewalls"), "compute.networks.updatePolicy"),
    # The edge (load balancer): each part uses the one it points at.
    "google_compute_backend_service": (*_crud("compute.backendServices"), "compute.backendServices.setSecurityPolicy",
                                       "compute.regionNetworkEndpointGroups.use", "compute.securityPolicies.use",
                                       "compute.globalOperations.get"),
    "google_compute_global_forwarding_rule": (
        "compute.globalForwardingRules.create", "compute.globalForwardingRules.get", "compute.globalForwardingRules.delete",
        "compute.globalForwardingRules.setLabels", "compute.globalForwardingRules.setTarget", "compute.globalAddresses.use",
        "compute.targetHttpProxies.use", "compute.targetHttpsProxies.use", "compute.globalOperations.get"),
    "google_compute_managed_ssl_certificate": ("compute.sslCertificates.create", "compute.sslCertificates.get",
                                               "compute.sslCertificates.delete", "compute.globalOperations.get"),
    "google_compute_region_network_endpoint_group": ("compute.regionNetworkEndpointGroups.create",
                                                     "compute.regionNetworkEndpointGroups.get",
                                                     "compute.regionNetworkEndpointGroups.delete",
                                                     "compute.regionOperations.get"),
    "google_compute_security_policy": (*_crud("compute.securityPolicies"), "compute.globalOperations.get"),
    "google_compute_target_http_proxy": ("compute.targetHttpProxies.create", "compute.targetHttpProxies.get",
                                         "compute.targetHttpProxies.delete", "compute.targetHttpProxies.setUrlMap",
                                         "compute.urlMaps.use", "compute.globalOperations.get"),
    "google_compute_target_https_proxy": ("compute.targetHttpsProxies.create", "compute.targetHttpsProxies.get",
                                          "compute.targetHttpsProxies.delete", "compute.targetHttpsProxies.setUrlMap",
                                          "compute.targetHttpsProxies.setSslCertificates", "compute.sslCertificates.get",
                                          "compute.urlMaps.use", "compute.globalOperations.get"),
    "google_compute_url_map": (*_crud("compute.urlMaps"), "compute.backendServices.use", "compute.globalOperations.get"),
    "google_compute_global_address": ("compute.globalAddresses.create", "compute.globalAddresses.get",
                                      "compute.globalAddresses.delete", "compute.globalOperations.get"),
    "google_compute_network": (*_crud("compute.networks"), "compute.globalOperations.get"),
    "google_compute_router": (*_crud("compute.routers"), "compute.regionOperations.get"),
    "google_compute_router_nat": ("compute.routers.get", "compute.routers.update"),
    "google_compute_subnetwork": (*_crud("compute.subnetworks"), "compute.regionOperations.get"),
    "google_logging_metric": _crud("logging.logMetrics"),
    "google_logging_project_bucket_config": _crud("logging.buckets"),
    "google_logging_project_exclusion": _crud("logging.exclusions"),
    "google_logging_project_sink": _crud("logging.sinks"),
    "google_managed_kafka_cluster": _crud("managedkafka.clusters"),
    "google_managed_kafka_topic": _crud("managedkafka.topics"),
    "google_monitoring_alert_policy": _crud("monitoring.alertPolicies"),
    "google_monitoring_custom_service": _crud("monitoring.services"),
    "google_monitoring_dashboard": _crud("monitoring.dashboards"),
    "google_monitoring_notification_channel": _crud("monitoring.notificationChannels"),
    "google_monitoring_slo": _crud("monitoring.slos"),
    "google_monitoring_uptime_check_config": _crud("monitoring.uptimeCheckConfigs"),
    "google_org_policy_policy": _crud("orgpolicy.policies"),
    "google_project_iam_audit_config": ("resourcemanager.projects.getIamPolicy", "resourcemanager.projects.setIamPolicy"),
    "google_project_iam_custom_role": _crud("iam.roles", "undelete"),
    "google_project_iam_member": ("resourcemanager.projects.getIamPolicy", "resourcemanager.projects.setIamPolicy"),
    "google_project_service": ("serviceusage.services.enable", "serviceusage.services.get",
                               "serviceusage.services.list", "serviceusage.services.disable"),
    "google_pubsub_topic": _crud("pubsub.topics"),
    "google_pubsub_topic_iam_member": _iam("pubsub.topics"),
    "google_redis_instance": (*_crud("redis.instances"), "redis.operations.get"),
    "google_secret_manager_secret": _crud("secretmanager.secrets"),
    "google_secret_manager_secret_iam_member": _iam("secretmanager.secrets"),
    # The provider reads a version's payload on refresh (`versions.access`): held only on the
    # versions the stack writes (see secret_version_condition).
    "google_secret_manager_secret_version": ("secretmanager.versions.add", "secretmanager.versions.get",
                                             "secretmanager.versions.access", "secretmanager.versions.enable",
                                             "secretmanager.versions.disable", "secretmanager.versions.destroy"),
    "google_service_account": (*_crud("iam.serviceAccounts"), "iam.serviceAccounts.enable", "iam.serviceAccounts.disable"),
    "google_service_networking_connection": ("servicenetworking.services.addPeering", "servicenetworking.services.get",
                                             "compute.networks.addPeering", "compute.networks.removePeering",
                                             "compute.networks.get"),
    "google_sql_database": _crud("cloudsql.databases"),
    "google_sql_database_instance": (*_crud("cloudsql.instances"), "cloudsql.instances.list"),
    "google_sql_user": ("cloudsql.users.create", "cloudsql.users.list", "cloudsql.users.update", "cloudsql.users.delete"),
    "google_storage_bucket": _crud("storage.buckets"),
    "google_storage_bucket_iam_member": _iam("storage.buckets"),
    "google_storage_bucket_object": ("storage.objects.create", "storage.objects.get", "storage.objects.delete"),
    "google_vpc_access_connector": (*_crud("vpcaccess.connectors"), "vpcaccess.operations.get"),
}

# What reading a data source needs.
DATA_SOURCE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    "google_project": ("resourcemanager.projects.get",),
}

# Every call carries the project as quota project (`user_project_override`, gcp-facts section 6).
QUOTA_PERMISSIONS = ("serviceusage.services.use",)

# Refresh calls only the reading verbs.
_READ_VERBS = ("get", "list", "getIamPolicy", "access")
# Reads that would reach data, not configuration, if granted project-wide (every secret's payload,
# every bucket's objects): held only through conditional grants on what the stack writes.
CONDITIONAL_READS = frozenset({"secretmanager.versions.access", "storage.objects.get"})


def read_permissions(resource_type: str) -> tuple[str, ...]:
    """What refreshing one resource of `resource_type` needs: the reading verbs of its permissions."""
    return tuple(p for p in DEPLOY_PERMISSIONS[resource_type] if p.rsplit(".", 1)[1] in _READ_VERBS)


# The deployer's roles per type. Custom role ids (defined in the bootstrap stack) have no prefix.
DEPLOYER_ROLES_BY_TYPE: dict[str, tuple[str, ...]] = {
    "google_artifact_registry_repository": ("roles/artifactregistry.admin",),
    "google_billing_budget": (OUTSIDE_PROJECT,),
    "google_cloud_run_v2_job": ("roles/run.admin",),
    "google_cloud_run_v2_service": ("roles/run.admin",),
    "google_cloud_run_v2_service_iam_member": ("roles/run.admin",),
    "google_cloud_scheduler_job": ("roles/cloudscheduler.admin",),
    # Functions (2nd gen) build through Cloud Build into Artifact Registry; the deployer triggers it.
    "google_cloudfunctions2_function": ("roles/cloudfunctions.admin", "roles/cloudbuild.builds.editor"),
    # roles/compute.networkAdmin reads firewall rules but cannot change them; securityAdmin would
    # add SSL and security policies too, so a custom role holds exactly the firewall verbs.
    EVENT_TRIGGERED_FUNCTION: ("roles/eventarc.admin",),
    "google_compute_firewall": (FIREWALLS_ROLE,),
    # The edge: roles/compute.loadBalancerAdmin may use security policies but not write them;
    # securityAdmin would add firewall rules too, so a custom role holds the policy verbs.
    "google_compute_backend_service": ("roles/compute.loadBalancerAdmin",),
    "google_compute_global_forwarding_rule": ("roles/compute.loadBalancerAdmin",),
    "google_compute_managed_ssl_certificate": ("roles/compute.loadBalancerAdmin",),
    "google_compute_region_network_endpoint_group": ("roles/compute.loadBalancerAdmin",),
    "google_compute_security_policy": (SECURITY_POLICIES_ROLE,),
    "google_compute_target_http_proxy": ("roles/compute.loadBalancerAdmin",),
    "google_compute_target_https_proxy": ("roles/compute.loadBalancerAdmin",),
    "google_compute_url_map": ("roles/compute.loadBalancerAdmin",),
    "google_compute_global_address": ("roles/compute.networkAdmin",),
    "google_compute_network": ("roles/compute.networkAdmin",),
    "google_compute_router": ("roles/compute.networkAdmin",),
    "google_compute_router_nat": ("roles/compute.networkAdmin",),
    "google_compute_subnetwork": ("roles/compute.networkAdmin",),
    "google_logging_metric": ("roles/logging.configWriter",),
    "google_logging_project_bucket_config": ("roles/logging.configWriter",),
    "google_logging_project_exclusion": ("roles/logging.configWriter",),
    "google_logging_project_sink": ("roles/logging.configWriter",),
    "google_managed_kafka_cluster": ("roles/managedkafka.admin",),
    "google_managed_kafka_topic": ("roles/managedkafka.admin",),
    "google_monitoring_alert_policy": ("roles/monitoring.editor",),
    "google_monitoring_custom_service": ("roles/monitoring.editor",),
    "google_monitoring_dashboard": ("roles/monitoring.editor",),
    "google_monitoring_notification_channel": ("roles/monitoring.editor",),
    "google_monitoring_slo": ("roles/monitoring.editor",),
    "google_monitoring_uptime_check_config": ("roles/monitoring.editor",),
    # Only grantable on the organization, by its administrator.
    "google_org_policy_policy": (OUTSIDE_PROJECT,),
    # Audit configs change no role binding, so the condition on modified grants lets them through.
    "google_project_iam_audit_config": ("roles/resourcemanager.projectIamAdmin",),
    "google_project_iam_custom_role": ("roles/iam.roleAdmin",),
    "google_project_iam_member": ("roles/resourcemanager.projectIamAdmin",),
    "google_project_service": ("roles/serviceusage.serviceUsageAdmin",),
    "google_pubsub_topic": ("roles/pubsub.admin",),
    "google_pubsub_topic_iam_member": ("roles/pubsub.admin",),
    "google_redis_instance": ("roles/redis.admin",),
    "google_secret_manager_secret": (SECRETS_ROLE,),
    "google_secret_manager_secret_iam_member": (SECRETS_ROLE,),
    "google_secret_manager_secret_version": (SECRETS_ROLE, "roles/secretmanager.secretAccessor"),
    "google_service_account": (SERVICE_ACCOUNTS_ROLE,),
    "google_service_networking_connection": ("roles/servicenetworking.networksAdmin", "roles/compute.networkAdmin"),
    "google_sql_database": ("roles/cloudsql.admin",),
    "google_sql_database_instance": ("roles/cloudsql.admin",),
    "google_sql_user": ("roles/cloudsql.admin",),
    "google_storage_bucket": ("roles/storage.admin",),
    "google_storage_bucket_iam_member": ("roles/storage.admin",),
    "google_storage_bucket_object": ("roles/storage.admin",),
    "google_vpc_access_connector": ("roles/vpcaccess.admin",),
}

# The permissions of the custom roles the bootstrap stack defines for the deployer.
CUSTOM_ROLE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    # The accounts' lifecycle, not their allow policies: the deployer cannot let anyone (itself
    # included) impersonate an account. Per-account actAs comes from the bootstrap stack.
    SERVICE_ACCOUNTS_ROLE: ("iam.serviceAccounts.create", "iam.serviceAccounts.get", "iam.serviceAccounts.list",
                            "iam.serviceAccounts.update", "iam.serviceAccounts.delete",
                            "iam.serviceAccounts.enable", "iam.serviceAccounts.disable"),
    # roles/secretmanager.admin less `versions.access`: the deployer reads no payload through this
    # role; it reads the versions it writes through a conditional secretAccessor grant.
    SECRETS_ROLE: ("secretmanager.secrets.create", "secretmanager.secrets.get", "secretmanager.secrets.list",
                   "secretmanager.secrets.update", "secretmanager.secrets.delete",
                   "secretmanager.secrets.getIamPolicy", "secretmanager.secrets.setIamPolicy",
                   "secretmanager.versions.add", "secretmanager.versions.get", "secretmanager.versions.list",
                   "secretmanager.versions.enable", "secretmanager.versions.disable",
                   "secretmanager.versions.destroy"),
    SECURITY_POLICIES_ROLE: ("compute.securityPolicies.create", "compute.securityPolicies.get",
                             "compute.securityPolicies.list", "compute.securityPolicies.update",
                             "compute.securityPolicies.delete", "compute.securityPolicies.use",
                             "compute.globalOperations.get"),
    FIREWALLS_ROLE: ("compute.firewalls.create", "compute.firewalls.get", "compute.firewalls.list",
                     "compute.firewalls.update", "compute.firewalls.delete", "compute.networks.updatePolicy",
                     "compute.globalOperations.get"),
}

# Excerpt of Google's predefined roles reference (cloud.google.com/iam/docs/roles-permissions):
# the permissions of each role granted here that the tables above rely on, as patterns.
ROLE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    "roles/artifactregistry.admin": ("artifactregistry.*",),
    "roles/cloudbuild.builds.editor": ("cloudbuild.builds.*",),
    "roles/cloudfunctions.admin": ("cloudfunctions.*",),
    "roles/cloudscheduler.admin": ("cloudscheduler.*",),
    "roles/cloudsql.admin": ("cloudsql.*",),
    # Networks, subnets, routers, addresses, peering; firewall rules only read.
    "roles/compute.networkAdmin": ("compute.networks.*", "compute.subnetworks.*", "compute.routers.*",
                                   "compute.addresses.*", "compute.globalAddresses.*", "compute.globalOperations.*",
                                   "compute.regionOperations.*", "compute.firewalls.get", "compute.firewalls.list"),
    # Backend services, URL maps, proxies, forwarding rules, SSL certificates, NEGs; security policies only used.
    "roles/compute.loadBalancerAdmin": ("compute.backendServices.*", "compute.urlMaps.*", "compute.targetHttpProxies.*",
                                        "compute.targetHttpsProxies.*", "compute.globalForwardingRules.*",
                                        "compute.sslCertificates.*", "compute.networkEndpointGroups.*",
                                        "compute.regionNetworkEndpointGroups.*", "compute.globalAddresses.use",
                                        "compute.securityPolicies.get", "compute.securityPolicies.list",
                                        "compute.securityPolicies.use", "compute.globalOperations.*",
                                        "compute.regionOperations.*"),
    "roles/eventarc.admin": ("eventarc.*",),
    "roles/iam.roleAdmin": ("iam.roles.*",),
    "roles/iam.serviceAccountUser": ("iam.serviceAccounts.actAs", "iam.serviceAccounts.get", "iam.serviceAccounts.list"),
    "roles/logging.configWriter": ("logging.buckets.*", "logging.sinks.*", "logging.exclusions.*", "logging.logMetrics.*"),
    "roles/managedkafka.admin": ("managedkafka.*",),
    "roles/monitoring.editor": ("monitoring.*",),
    "roles/pubsub.admin": ("pubsub.*",),
    "roles/redis.admin": ("redis.*",),
    "roles/resourcemanager.projectIamAdmin": ("resourcemanager.projects.get", "resourcemanager.projects.getIamPolicy",
                                              "resourcemanager.projects.setIamPolicy"),
    "roles/run.admin": ("run.*",),
    "roles/secretmanager.secretAccessor": ("secretmanager.versions.access",),
    "roles/servicenetworking.networksAdmin": ("servicenetworking.*", "compute.networks.addPeering",
                                              "compute.networks.removePeering", "compute.networks.get"),
    "roles/serviceusage.serviceUsageAdmin": ("serviceusage.services.*",),
    "roles/storage.admin": ("storage.*",),
    "roles/storage.objectAdmin": ("storage.objects.*",),
    "roles/vpcaccess.admin": ("vpcaccess.*",),
    # Budgets: roles/billing.costsManager on the billing account; org policies: roles/orgpolicy.policyAdmin.
    OUTSIDE_PROJECT: ("billing.budgets.*", "orgpolicy.policies.*"),
}

# Roles never granted to a CI identity, whatever a table says.
FORBIDDEN_ROLES = frozenset({"roles/owner", "roles/editor", "roles/viewer", "roles/secretmanager.admin",
                             "roles/iam.serviceAccountAdmin", "roles/iam.workloadIdentityPoolAdmin",
                             "roles/iam.serviceAccountTokenCreator"})


def role_grants(role: str, permission: str) -> bool:
    """Whether `role` (predefined, custom id or OUTSIDE_PROJECT) includes `permission`."""
    patterns = CUSTOM_ROLE_PERMISSIONS.get(role) or ROLE_PERMISSIONS.get(role)
    if patterns is None:
        raise KeyError(f"{role}: add its permissions to ROLE_PERMISSIONS in constructs/concerns/ci_access.py")
    return any(fnmatch.fnmatchcase(permission, pattern) for pattern in patterns)


@dataclass(frozen=True)
class StackNeeds:
    """What the CI identities need to plan and deploy one synthesized main stack."""

    # Terraform types, and EVENT_TRIGGERED_FUNCTION when a function has an event trigger.
    resource_types: tuple[str, ...]
    data_source_types: tuple[str, ...]
    # Project-level roles the stack grants to its runtime accounts (predefined names, and
    # `projects/<project>/roles/<id>` for the custom roles it defines).
    granted_roles: tuple[str, ...]
    # account_id of every service account the stack creates: runtimes, builds, push identities.
    service_accounts: tuple[str, ...]
    # secret_id -> True when the stack writes every version (a value it knows), False when it
    # writes only the first (a placeholder a human replaces with a version of their own).
    secret_versions: dict[str, bool]
    # Buckets the stack uploads objects to (function sources): refresh reads those objects.
    object_buckets: tuple[str, ...]

    def deployer_roles(self) -> tuple[str, ...]:
        missing = [t for t in self.resource_types if t not in DEPLOYER_ROLES_BY_TYPE or t not in DEPLOY_PERMISSIONS]
        if missing:
            raise ValueError(f"no deployer role for {', '.join(missing)}: add the type to DEPLOY_PERMISSIONS and "
                             "DEPLOYER_ROLES_BY_TYPE in constructs/concerns/ci_access.py")
        return tuple(sorted({r for t in self.resource_types for r in DEPLOYER_ROLES_BY_TYPE[t]}))

    def planner_permissions(self) -> tuple[str, ...]:
        missing = [t for t in self.data_source_types if t not in DATA_SOURCE_PERMISSIONS]
        if missing:
            raise ValueError(f"no read permission for data source {', '.join(missing)}: add it to "
                             "DATA_SOURCE_PERMISSIONS in constructs/concerns/ci_access.py")
        permissions = set(QUOTA_PERMISSIONS)
        # A type missing from the tables is deployer_roles()'s to report, with the fix.
        for resource_type in set(self.resource_types) & set(DEPLOY_PERMISSIONS) & set(DEPLOYER_ROLES_BY_TYPE):
            if OUTSIDE_PROJECT not in DEPLOYER_ROLES_BY_TYPE[resource_type]:
                permissions.update(read_permissions(resource_type))
        for data_type in self.data_source_types:
            permissions.update(DATA_SOURCE_PERMISSIONS[data_type])
        return tuple(sorted(permissions - CONDITIONAL_READS))


_REFERENCE = re.compile(r"^\$\{google_project_iam_custom_role\.([^.]+)\.(?:name|id)\}$")
_SECRET_REFERENCE = re.compile(r"^\$\{google_secret_manager_secret\.([^.]+)\.(?:id|name)\}$")


def stack_needs(stack: dict) -> StackNeeds:
    """Read a synthesized main stack (its cdk.tf.json as a dict)."""
    resources = stack.get("resource", {})
    custom_roles = {address: body for address, body in resources.get("google_project_iam_custom_role", {}).items()}
    granted = set()
    for body in resources.get("google_project_iam_member", {}).values():
        match = _REFERENCE.match(body["role"])
        if match:
            role = custom_roles[match.group(1)]
            granted.add(f"projects/{role['project']}/roles/{role['role_id']}")
        else:
            granted.add(body["role"])
    secrets = resources.get("google_secret_manager_secret", {})
    versions: dict[str, bool] = {}
    for body in resources.get("google_secret_manager_secret_version", {}).values():
        secret_id = secrets[_SECRET_REFERENCE.match(body["secret"]).group(1)]["secret_id"]
        placeholder = "secret_data" in body.get("lifecycle", {}).get("ignore_changes", [])
        versions[secret_id] = versions.get(secret_id, False) or not placeholder
    types = set(resources)
    if any("event_trigger" in b for b in resources.get("google_cloudfunctions2_function", {}).values()):
        types.add(EVENT_TRIGGERED_FUNCTION)
    return StackNeeds(
        resource_types=tuple(sorted(types)),
        data_source_types=tuple(sorted(stack.get("data", {}))),
        granted_roles=tuple(sorted(granted)),
        service_accounts=tuple(sorted(b["account_id"] for b in resources.get("google_service_account", {}).values())),
        secret_versions=dict(sorted(versions.items())),
        object_buckets=tuple(sorted({_bucket_name(b["bucket"], resources)
                                     for b in resources.get("google_storage_bucket_object", {}).values()})),
    )


def _bucket_name(reference: str, resources: dict) -> str:
    match = re.match(r"^\$\{google_storage_bucket\.([^.]+)\.name\}$", reference)
    return resources["google_storage_bucket"][match.group(1)]["name"] if match else reference


def modified_grants_condition(roles: tuple[str, ...]) -> str:
    """CEL for a projectIamAdmin grant that may add or remove bindings of `roles` only."""
    listed = ", ".join(f"'{r}'" for r in roles)
    return f"api.getAttribute('iam.googleapis.com/modifiedGrantsByRole', []).hasOnly([{listed}])"


def not_state_bucket_condition(bucket: str) -> str:
    """CEL for a storage grant that reaches every bucket and object of the project but the state bucket's."""
    name = f"projects/_/buckets/{bucket}"
    return f"resource.name != '{name}' && !resource.name.startsWith('{name}/')"


def secret_version_condition(secret_versions: dict[str, bool]) -> str:
    """CEL for reading the payloads the stack writes: every version of a secret whose value the
    stack knows, only version 1 (the placeholder) of one a human fills in."""
    # Version names read projects/<number>/secrets/<id>/versions/<n>: match from `/secrets/` on.
    terms = []
    for secret_id, all_versions in secret_versions.items():
        if all_versions:
            terms.append(f"resource.name.extract('/secrets/{{id}}/versions/') == '{secret_id}'")
        else:
            terms.append(f"resource.name.endsWith('/secrets/{secret_id}/versions/1')")
    return " || ".join(terms) if terms else "false"


def objects_condition(buckets: tuple[str, ...]) -> str:
    """CEL for reading the objects of `buckets` only."""
    return " || ".join(f"resource.name.startsWith('projects/_/buckets/{b}/objects/')" for b in buckets) or "false"
