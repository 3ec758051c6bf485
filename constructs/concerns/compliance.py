"""Security and compliance: audit logging, the audit-log bucket, location policy, secret rotation.

- Audit configs: Admin Read for every service (Admin Activity is always on and not configurable),
  Data Access for the services the file names (production: all of them).
- A sink copies every audit log entry into a log bucket in the environment's region with the
  file's retention; production's bucket is locked, so nobody can shorten or delete the record.
- With an organization in the file, an org policy keeps new resources in the two regions.
- Secrets that rotate announce it on a topic the Secret Manager service agent may publish to;
  each notice becomes an email to `compliance.notification_emails` (the drill reminder's too).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

from constructs import Construct

from constructs.google import (
    data_google_project,
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

        if compliance.organization_id:
            self._location_policy(config, apis)

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

    def _location_policy(self, config: EnvironmentConfig, apis: "Apis") -> None:
        """gcp.resourceLocations on the project: the policy admin role exists only at organization level."""
        o = org_policy_policy
        o.OrgPolicyPolicy(
            self,
            "resource-locations",
            name=f"projects/{config.project_id}/policies/gcp.resourceLocations",
            parent=f"projects/{config.project_id}",
            spec=o.OrgPolicyPolicySpec(rules=[o.OrgPolicyPolicySpecRules(values=o.OrgPolicyPolicySpecRulesValues(
                allowed_values=[f"in:{region}-locations" for region in (config.region, config.dr_region)]))]),
            depends_on=[apis.enable("orgpolicy.googleapis.com")],
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
