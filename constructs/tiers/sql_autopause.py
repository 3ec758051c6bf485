"""Auto-pause: stop a Cloud SQL instance after it has had no connections for a while.

Cloud SQL has no serverless mode and never stops itself. The closest real thing:

    alert policy: num_backends of the app databases below 1 for `idle_minutes`
      -> Pub/Sub notification channel -> topic
      -> function (Eventarc trigger) -> SQL Admin API: activation policy NEVER

Nothing starts the instance on connect: `make wake ENV=<env>` or the optional Cloud
Scheduler job sets the activation policy back to ALWAYS. docs/runbooks/data.md has the
behaviour and timings.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from constructs import Construct

from constructs.google import (
    cloud_run_v2_service_iam_member,
    cloud_scheduler_job,
    cloudfunctions2_function,
    data_google_project,
    monitoring_alert_policy,
    monitoring_notification_channel,
    project_iam_custom_role,
    project_iam_member,
    pubsub_topic,
    pubsub_topic_iam_member,
    service_account,
    storage_bucket_object,
)
from constructs.shared.protection import keep
from constructs.shared.runtime import BuildIdentity
from constructs.shared.source_archive import ROOT, SourceArchive, function_source_bucket
from environments.config import AutoPauseConfig, DataNames, EnvironmentConfig

if TYPE_CHECKING:
    from constructs.shared.apis import Apis

TIER = "data"
SERVICE = "postgres-autopause"
SOURCE_DIR: Path = ROOT / "functions" / "sql-autopause"
RUNTIME = "python313"
METRIC = "cloudsql.googleapis.com/database/postgresql/num_backends"
SQLADMIN = "https://sqladmin.googleapis.com/v1/projects/{project}/instances/{instance}"
# Exactly what reading and patching the activation policy needs. roles/cloudsql.editor would
# also allow creating and changing databases, users, backups and imports; roles/cloudsql.admin
# even deleting. The API has no per-field permission, so `update` is the floor.
PERMISSIONS = ["cloudsql.instances.get", "cloudsql.instances.update"]


class SqlAutoPause(Construct):
    """The chain for one instance, from the idle alert to the function and the wake schedule."""

    def __init__(self, scope: Construct, id_: str, *, config: EnvironmentConfig, apis: "Apis",
                 instance_name: str, databases: Sequence[str], settings: AutoPauseConfig):
        super().__init__(scope, id_)
        labels = config.labels(TIER, SERVICE)
        project = config.project_id
        instance_url = SQLADMIN.format(project=project, instance=instance_name)
        run, build, registry, functions, eventarc, pubsub, monitoring, iam, storage = (
            apis.enable(f"{name}.googleapis.com") for name in ("run", "cloudbuild", "artifactregistry", "cloudfunctions",
                                                               "eventarc", "pubsub", "monitoring", "iam", "storage"))

        # --- alert policy -> notification channel -> topic ---------------------------------
        topic = pubsub_topic.PubsubTopic(
            self, "topic", name=config.resource_name(DataNames.PAUSE_TOPIC), labels=labels, depends_on=[pubsub])
        channel = monitoring_notification_channel.MonitoringNotificationChannel(
            self,
            "channel",
            type="pubsub",
            display_name=f"{instance_name} idle -> auto-pause",
            labels={"topic": topic.id},
            user_labels=labels,
            depends_on=[monitoring],
        )
        # Monitoring publishes as its notification service agent, which exists once the project
        # has a notification channel.
        number = data_google_project.DataGoogleProject(self, "project", project_id=project).number
        pubsub_topic_iam_member.PubsubTopicIamMember(
            self,
            "monitoring-publishes",
            topic=topic.name,
            role="roles/pubsub.publisher",
            member=f"serviceAccount:service-{number}@gcp-sa-monitoring-notification.iam.gserviceaccount.com",
            depends_on=[channel],
        )
        alert = monitoring_alert_policy
        app_databases = ", ".join(f'"{name}"' for name in databases)
        alert.MonitoringAlertPolicy(
            self,
            "idle-alert",
            display_name=f"{instance_name}: no connections for {settings.idle_minutes} min (auto-pause)",
            combiner="OR",
            conditions=[alert.MonitoringAlertPolicyConditions(
                display_name="No backends on the application databases",
                condition_threshold=alert.MonitoringAlertPolicyConditionsConditionThreshold(
                    # Only the file's databases: Cloud SQL's own agent keeps connections to
                    # `cloudsqladmin` open, so the instance-wide count is never zero.
                    filter=(f'resource.type = "cloudsql_database" '
                            f'AND resource.labels.database_id = "{project}:{instance_name}" '
                            f'AND metric.type = "{METRIC}" AND metric.labels.database = one_of({app_databases})'),
                    aggregations=[alert.MonitoringAlertPolicyConditionsConditionThresholdAggregations(
                        alignment_period="60s", per_series_aligner="ALIGN_MAX", cross_series_reducer="REDUCE_SUM",
                    )],
                    # Below one backend, i.e. zero: the metric is a whole number.
                    comparison="COMPARISON_LT",
                    threshold_value=1,
                    duration=f"{settings.idle_minutes * 60}s",
                    # A stopped instance reports nothing: the incident closes, so the next idle
                    # spell after a wake opens a new one (and stops the instance again).
                    evaluation_missing_data="EVALUATION_MISSING_DATA_INACTIVE",
                ),
            )],
            notification_channels=[channel.name],
            alert_strategy=alert.MonitoringAlertPolicyAlertStrategy(auto_close="1800s"),
            documentation=alert.MonitoringAlertPolicyDocumentation(
                mime_type="text/markdown",
                subject=f"{instance_name} idle: stopping it",
                content=(f"No connections to {instance_name} for {settings.idle_minutes} minutes. The auto-pause function "
                         "sets its activation policy to NEVER. Wake it with `make wake` (docs/runbooks/data.md)."),
            ),
            user_labels=labels,
            depends_on=[monitoring],
        )

        # --- the function's identity: one custom role, on this instance only ----------------
        account = service_account.ServiceAccount(
            self,
            "account",
            account_id=config.short_name(DataNames.PAUSE_ACCOUNT),
            display_name=f"Starts and stops {instance_name}",
            description="Auto-pause function and wake schedule: reads and sets the instance's activation policy.",
            depends_on=[iam],
        )
        keep(account, config, f"service_account_{DataNames.PAUSE_ACCOUNT}")
        role = project_iam_custom_role.ProjectIamCustomRole(
            self,
            "role",
            project=project,
            role_id=DataNames.custom_role_id(config.resource_name(DataNames.PAUSE_ACCOUNT)),
            title=f"Start and stop {instance_name}",
            permissions=PERMISSIONS,
            depends_on=[iam],
        )
        # Cloud SQL has no instance-level IAM policy; a condition on the resource name is the
        # tightest scope Google offers for a project-level grant.
        project_iam_member.ProjectIamMember(
            self,
            "role-member",
            project=project,
            role=role.name,
            member=account.member,
            condition=project_iam_member.ProjectIamMemberCondition(
                title=f"only {instance_name}",
                expression=(f'resource.type == "sqladmin.googleapis.com/Instance" && '
                            f'resource.name == "projects/{project}/instances/{instance_name}"'),
            ),
        )

        # --- the function ---------------------------------------------------------------------
        bucket = function_source_bucket(self, "source-bucket", config=config, component=DataNames.PAUSE_SOURCE,
                                        labels=labels,
                                        depends_on=[storage])
        builder = BuildIdentity(self, "build-identity", config=config, apis=apis, function=DataNames.PAUSE_ACCOUNT,
                                source_bucket=bucket)
        archive = SourceArchive(self, "source", source_dir=SOURCE_DIR, name=DataNames.PAUSE_FUNCTION)
        source = storage_bucket_object.StorageBucketObject(
            self, "source-object", bucket=bucket.name, name=archive.object_name, source=archive.path)
        # Eventarc pushes with its own identity, allowed to invoke this function and nothing else.
        push = service_account.ServiceAccount(
            self,
            "push-account",
            account_id=config.short_name(DataNames.PAUSE_PUSH_ACCOUNT),
            display_name=f"Delivers {instance_name} idle alerts to the auto-pause function",
            depends_on=[iam],
        )
        keep(push, config, f"service_account_{DataNames.PAUSE_PUSH_ACCOUNT}")
        f = cloudfunctions2_function
        function = f.Cloudfunctions2Function(
            self,
            "function",
            name=config.resource_name(DataNames.PAUSE_FUNCTION),
            location=config.region,
            description=f"Stops {instance_name} when its idle alert opens",
            build_config=f.Cloudfunctions2FunctionBuildConfig(
                runtime=RUNTIME,
                entry_point="on_idle_alert",
                service_account=builder.name,
                source=f.Cloudfunctions2FunctionBuildConfigSource(
                    storage_source=f.Cloudfunctions2FunctionBuildConfigSourceStorageSource(bucket=bucket.name, object=source.name),
                ),
            ),
            service_config=f.Cloudfunctions2FunctionServiceConfig(
                available_memory="256M",
                timeout_seconds=60,
                min_instance_count=0,
                max_instance_count=1,
                # Eventarc deliveries from the same project count as internal.
                ingress_settings="ALLOW_INTERNAL_ONLY",
                all_traffic_on_latest_revision=True,
                service_account_email=account.email,
                # The instance comes from here, never from the message.
                environment_variables={"PROJECT_ID": project, "INSTANCE": instance_name},
            ),
            event_trigger=f.Cloudfunctions2FunctionEventTrigger(
                trigger_region=config.region,
                event_type="google.cloud.pubsub.topic.v1.messagePublished",
                pubsub_topic=topic.id,
                # The function is idempotent and fails only on API errors (for example an
                # operation already running): retrying is what heals those.
                retry_policy="RETRY_POLICY_RETRY",
                service_account_email=push.email,
            ),
            labels=labels,
            depends_on=[run, build, registry, functions, eventarc, *builder.grants],
        )
        cloud_run_v2_service_iam_member.CloudRunV2ServiceIamMember(
            self,
            "push-invokes",
            project=project,
            location=config.region,
            # A 2nd-gen function runs as the Cloud Run service of the same name.
            name=function.name,
            role="roles/run.invoker",
            member=push.member,
        )

        if settings.wake_schedule:
            body = json.dumps({"settings": {"activationPolicy": "ALWAYS"}}, separators=(",", ":"))
            cloud_scheduler_job.CloudSchedulerJob(
                self,
                "wake",
                name=config.resource_name(DataNames.WAKE_JOB),
                region=config.region,
                description=f"Starts {instance_name} before the working day",
                schedule=settings.wake_schedule,
                time_zone=settings.time_zone,
                http_target=cloud_scheduler_job.CloudSchedulerJobHttpTarget(
                    uri=instance_url,
                    http_method="PATCH",
                    body=base64.b64encode(body.encode()).decode(),
                    headers={"Content-Type": "application/json"},
                    oauth_token=cloud_scheduler_job.CloudSchedulerJobHttpTargetOauthToken(
                        service_account_email=account.email,
                        scope="https://www.googleapis.com/auth/cloud-platform",
                    ),
                ),
                retry_config=cloud_scheduler_job.CloudSchedulerJobRetryConfig(retry_count=3),
                depends_on=[apis.enable("cloudscheduler.googleapis.com")],
            )
