"""Security and compliance: audit logging, the audit-log bucket, location policy, secret rotation.

- Audit configs: Admin Read for every service (Admin Activity is always on and not configurable),
  Data Access for the services the file names (production: all of them).
- A sink copies every audit log entry into a log bucket in the environment's region with the
  file's retention; production's bucket is locked, so nobody can shorten or delete the record.
- Configuration changes (the CIS Google Cloud benchmark's monitored events 2.4-2.11) are counted
  by one log-based metric labelled with the changed resource's type; one alert condition grouped by
  that label emails the compliance channel once per kind of change (`compliance.change_alerts`:
  production; staging keeps the count but no condition, to stay within its 60 USD floor).
- With an organization in the file, org policies keep new resources in the two regions, stop
  default networks, service account keys and automatic grants to default service accounts.
- Secrets that rotate announce it on a topic the Secret Manager service agent may publish to;
  each notice becomes an email to `compliance.notification_emails` (the drill reminder's too).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

from constructs import Construct

from constructs.google import (
    data_google_project,
    logging_metric,
    monitoring_alert_policy,
    logging_project_bucket_config,
    logging_project_sink,
    org_policy_policy,
    project_iam_audit_config,
    pubsub_topic,
    pubsub_topic_iam_member,
)
from constructs.shared.notices import email_channels, publish_alert
from constructs.shared.protection import keep
from constructs.shared.secrets import SecretRotation
from environments.config import EnvironmentConfig

if TYPE_CHECKING:
    from constructs.shared.apis import Apis

TIER = "operations"
AUDIT_FILTER = 'logName:"cloudaudit.googleapis.com"'
DAY_SECONDS = 86_400
CHANGES_METRIC = "config-changes"
CHANGE_KIND_LABEL = "resource_type"
# The CIS Google Cloud Foundations benchmark's log metric filters, one per monitored event.
CIS_CHANGE_FILTERS = {
    "2.4 project ownership": (
        '(protoPayload.serviceName = "cloudresourcemanager.googleapis.com" AND '
        '(ProjectOwnership OR projectOwnerInvitee)) OR '
        '(protoPayload.serviceData.policyDelta.bindingDeltas.action = ("REMOVE" OR "ADD") AND '
        'protoPayload.serviceData.policyDelta.bindingDeltas.role = "roles/owner")'),
    "2.5 audit configuration": (
        'protoPayload.methodName = "SetIamPolicy" AND protoPayload.serviceData.policyDelta.auditConfigDeltas:*'),
    "2.6 custom roles": (
        'resource.type = "iam_role" AND protoPayload.methodName = ("google.iam.admin.v1.CreateRole" OR '
        '"google.iam.admin.v1.DeleteRole" OR "google.iam.admin.v1.UpdateRole")'),
    "2.7 firewall rules": (
        'resource.type = "gce_firewall_rule" AND (protoPayload.methodName:"compute.firewalls.patch" OR '
        'protoPayload.methodName:"compute.firewalls.insert" OR protoPayload.methodName:"compute.firewalls.delete")'),
    "2.8 routes": (
        'resource.type = "gce_route" AND (protoPayload.methodName:"compute.routes.delete" OR '
        'protoPayload.methodName:"compute.routes.insert")'),
    "2.9 networks": (
        'resource.type = "gce_network" AND (protoPayload.methodName:"compute.networks.insert" OR '
        'protoPayload.methodName:"compute.networks.patch" OR protoPayload.methodName:"compute.networks.delete" OR '
        'protoPayload.methodName:"compute.networks.removePeering" OR '
        'protoPayload.methodName:"compute.networks.addPeering")'),
    "2.10 bucket IAM": 'resource.type = "gcs_bucket" AND protoPayload.methodName = "storage.setIamPermissions"',
    "2.11 Cloud SQL configuration": 'protoPayload.methodName = "cloudsql.instances.update"',
}
# Org policies besides resource locations (docs/runbooks/cost-and-compliance.md, Organization policies).
ENFORCED_CONSTRAINTS = (
    "compute.skipDefaultNetworkCreation",
    "iam.disableServiceAccountKeyCreation",
    "iam.disableServiceAccountKeyUpload",
    "iam.automaticIamGrantsForDefaultServiceAccounts",
)
# One alternative a line: the cost estimate counts a labelled metric's series by its filter's lines.
CHANGES_FILTER = "\nOR ".join(f"({f})" for f in CIS_CHANGE_FILTERS.values())


class Compliance(Construct):
    """Build it before the tiers whose secrets rotate: they take `rotation`. `channels` get notices."""

    def __init__(self, scope: Construct, id_: str, *, config: EnvironmentConfig, apis: "Apis"):
        super().__init__(scope, id_)
        compliance = config.compliance
        project = config.project_id
        self._audit_configs(config)
        self._monitoring = apis.enable("monitoring.googleapis.com")
        self.channels = email_channels(self, config=config, emails=compliance.notification_emails,
                                       purpose="Operations notices", labels=config.labels(TIER, "notices"),
                                       depends_on=[self._monitoring])

        logging = apis.enable("logging.googleapis.com")
        self.audit_bucket = logging_project_bucket_config.LoggingProjectBucketConfig(
            self,
            "audit-bucket",
            project=project,
            location=config.region,  # data residency: the entries stay in the region
            bucket_id=config.resource_name("audit"),
            description="Every Cloud Audit Logs entry of the project (access tracking)",
            retention_days=compliance.audit_log_retention_days,
            # Locked: retention can only grow and the bucket cannot be deleted while it holds entries.
            locked=compliance.lock_audit_bucket,
            depends_on=[logging],
        )
        keep(self.audit_bucket, config, "audit_log_bucket")
        # A sink into a log bucket of its own project writes without a writer identity grant.
        self.audit_sink = logging_project_sink.LoggingProjectSink(
            self,
            "audit-sink",
            project=project,
            name=config.resource_name("audit"),
            destination=f"logging.googleapis.com/{self.audit_bucket.id}",
            filter=AUDIT_FILTER,
            unique_writer_identity=True,
            description="Cloud Audit Logs into the audit bucket",
        )

        self._change_alerts(config, logging)

        if compliance.organization_id:
            self._org_policies(config, apis)

        self.rotation: Optional[SecretRotation] = None
        if compliance.secret_rotation_days:
            self.rotation = self._rotation(config, apis)

    def _audit_configs(self, config: EnvironmentConfig) -> None:
        compliance = config.compliance
        a = project_iam_audit_config
        types = {"allServices": ["ADMIN_READ"]}
        for service in compliance.data_access_services:
            types.setdefault(service, []).extend(compliance.data_access_log_types)
        for service, log_types in types.items():
            a.ProjectIamAuditConfig(
                self,
                f"audit-{service.split('.')[0]}",
                project=config.project_id,
                service=service,
                audit_log_config=[a.ProjectIamAuditConfigAuditLogConfig(log_type=t) for t in log_types],
            )

    def _change_alerts(self, config: EnvironmentConfig, logging) -> None:
        """Project-level log-based metrics see every entry the project receives, the _Required
        bucket's Admin Activity logs included, whatever the sinks and exclusions do."""
        m = logging_metric
        metric = m.LoggingMetric(
            self, "changes-metric", project=config.project_id, name=config.resource_name(CHANGES_METRIC),
            description="CIS 2.4-2.11 monitored configuration changes, per changed resource type",
            filter=CHANGES_FILTER,
            metric_descriptor=m.LoggingMetricMetricDescriptor(
                metric_kind="DELTA", value_type="INT64",
                labels=[m.LoggingMetricMetricDescriptorLabels(
                    key=CHANGE_KIND_LABEL, value_type="STRING", description="Type of the changed resource")]),
            label_extractors={CHANGE_KIND_LABEL: "EXTRACT(resource.type)"},
            depends_on=[logging])
        if not config.compliance.change_alerts:
            return
        a = monitoring_alert_policy
        subject = f"{config.name}: a monitored configuration change"
        kinds = "\n".join(f"- CIS {kind}" for kind in CIS_CHANGE_FILTERS)
        a.MonitoringAlertPolicy(
            self, "changes-alert", display_name=subject, combiner="OR",
            conditions=[a.MonitoringAlertPolicyConditions(
                display_name="Configuration changes, per changed resource type",
                condition_threshold=a.MonitoringAlertPolicyConditionsConditionThreshold(
                    # No resource.type: entries whose resource Monitoring does not know (project,
                    # iam_role, gce_firewall_rule...) are written against the global resource.
                    filter=f'metric.type = "logging.googleapis.com/user/{config.resource_name(CHANGES_METRIC)}"',
                    aggregations=[a.MonitoringAlertPolicyConditionsConditionThresholdAggregations(
                        alignment_period="300s", per_series_aligner="ALIGN_SUM", cross_series_reducer="REDUCE_SUM",
                        group_by_fields=[f"metric.label.{CHANGE_KIND_LABEL}"])],
                    comparison="COMPARISON_GT", threshold_value=0, duration="0s",
                    # No change is the normal state, not missing data to alert on.
                    evaluation_missing_data="EVALUATION_MISSING_DATA_INACTIVE"),
            )],
            notification_channels=[c.name for c in self.channels],
            alert_strategy=a.MonitoringAlertPolicyAlertStrategy(auto_close="86400s"),
            documentation=a.MonitoringAlertPolicyDocumentation(
                mime_type="text/markdown", subject=subject,
                content=("Someone changed one of the CIS benchmark's monitored settings (the incident names the "
                         f"resource type):\n{kinds}\n\nFind who and what in the audit logs "
                         "(docs/runbooks/cost-and-compliance.md, Configuration changes); a change Terraform "
                         "did not make is undone by the next deploy or written into the code.")),
            user_labels=config.labels(TIER, "changes"),
            depends_on=[metric, self._monitoring])

    def _org_policies(self, config: EnvironmentConfig, apis: "Apis") -> None:
        """Set on the project: the policy admin role exists only at organization level. The boolean
        constraints forbid what this stack never does (it runs its own network and its own
        identities, and creates no key), so they are enforced at once rather than dry-run first."""
        o = org_policy_policy
        orgpolicy = apis.enable("orgpolicy.googleapis.com")
        parent = f"projects/{config.project_id}"
        locations = o.OrgPolicyPolicySpecRulesValues(
            allowed_values=[f"in:{region}-locations" for region in (config.region, config.dr_region)])
        rules = {"gcp.resourceLocations": o.OrgPolicyPolicySpecRules(values=locations)}
        rules.update({constraint: o.OrgPolicyPolicySpecRules(enforce="TRUE") for constraint in ENFORCED_CONSTRAINTS})
        for constraint, rule in rules.items():
            o.OrgPolicyPolicy(
                self,
                "resource-locations" if constraint == "gcp.resourceLocations" else constraint.split(".")[1],
                name=f"{parent}/policies/{constraint}",
                parent=parent,
                spec=o.OrgPolicyPolicySpec(rules=[rule]),
                depends_on=[orgpolicy],
            )

    def _rotation(self, config: EnvironmentConfig, apis: "Apis") -> SecretRotation:
        topic = pubsub_topic.PubsubTopic(
            self, "rotation-topic", name=config.resource_name("secret-rotation"),
            labels=config.labels(TIER, "secret-rotation"), depends_on=[apis.enable("pubsub.googleapis.com")])
        # Secret Manager publishes SECRET_ROTATE as its service agent, and refuses a secret whose
        # topic the agent cannot publish to: the grant comes before the secret.
        number = data_google_project.DataGoogleProject(self, "project", project_id=config.project_id).number
        grant = pubsub_topic_iam_member.PubsubTopicIamMember(
            self,
            "secretmanager-publishes",
            topic=topic.name,
            role="roles/pubsub.publisher",
            member=f"serviceAccount:service-{number}@gcp-sa-secretmanager.iam.gserviceaccount.com",
            depends_on=[apis.enable("secretmanager.googleapis.com")],
        )
        publish_alert(
            self, "rotation-due", topic_name=topic.name, channels=self.channels, labels=config.labels(TIER, "secret-rotation"),
            subject=f"{config.name}: a secret is due for rotation",
            content=("Secret Manager published SECRET_ROTATE: add the new value and disable the old version "
                     "(docs/runbooks/cost-and-compliance.md, Secret rotation). `gcloud secrets list "
                     f"--project={config.project_id} --format='table(name, rotation.nextRotationTime)'` shows which."),
            depends_on=[self._monitoring])
        return SecretRotation(period_seconds=config.compliance.secret_rotation_days * DAY_SECONDS, topic=topic.id,
                              dependables=(grant,))
