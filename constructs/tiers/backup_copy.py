"""Production's second copy of its database, which nobody in the project can shorten or delete
(docs/decisions/backup-copy.md).

Every day Cloud Scheduler runs a Cloud Run job that exports the writer's databases
(`gcloud sql export sql`) into a bucket in the DR region whose retention policy is locked: no
one, the deployer included, can delete an export, shorten the retention or delete the bucket
before the last export has aged out. Each export gets its own object name (a locked bucket
refuses to overwrite one), which is why a job with a shell runs it rather than a scheduled API
call with a fixed body.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

from constructs import Construct

from constructs.google import (
    cloud_run_v2_job,
    cloud_scheduler_job,
    project_iam_custom_role,
    project_iam_member,
    service_account,
    storage_bucket,
    storage_bucket_iam_member,
)
from constructs.shared.protection import keep
from constructs.shared.sites import place
from environments.config import DataNames, EnvironmentConfig

if TYPE_CHECKING:
    from constructs.shared.apis import Apis

TIER = "data"
SERVICE = "sql-copy"
SECONDS_PER_DAY = 86_400
# What the job's identity needs on the writer: read it (gcloud does first) and start an export.
EXPORT_PERMISSIONS = ["cloudsql.instances.get", "cloudsql.instances.export"]


class LockedBackupCopy(Construct):
    """`instance_names`: every Cloud SQL instance of the stack (the writer changes with a failover);
    `service_agents`: their service agents' emails, which write the export objects."""

    def __init__(self, scope: Construct, id_: str, *, config: EnvironmentConfig, apis: "Apis", writer_name: str,
                 instance_names: Sequence[str], service_agents: Sequence[str]):
        super().__init__(scope, id_)
        copy_ = config.data.postgres.backups.locked_copy
        project, labels = config.project_id, config.labels(TIER, SERVICE)
        iam = apis.enable("iam.googleapis.com")
        s = storage_bucket
        self.bucket = s.StorageBucket(
            self,
            "bucket",
            name=config.resource_name(DataNames.SQL_COPY),
            # The DR region: the copy outlives the primary region. It stays there after a failover:
            # a locked bucket cannot be moved or deleted.
            location=config.dr_region,
            storage_class="STANDARD",
            uniform_bucket_level_access=True,
            public_access_prevention="enforced",
            retention_policy=s.StorageBucketRetentionPolicy(retention_period=copy_.retention_days * SECONDS_PER_DAY,
                                                            is_locked=True),
            # Once an export has served its locked retention, it goes.
            lifecycle_rule=[s.StorageBucketLifecycleRule(
                action=s.StorageBucketLifecycleRuleAction(type="Delete"),
                condition=s.StorageBucketLifecycleRuleCondition(age=copy_.retention_days + 1),
            )],
            labels=labels,
            depends_on=[apis.enable("storage.googleapis.com")],
        )
        keep(self.bucket, config, "postgres_locked_copy_bucket")
        # Cloud SQL writes an export as the instance's service agent.
        for index, agent in enumerate(service_agents):
            storage_bucket_iam_member.StorageBucketIamMember(
                self, f"writer-{index}", bucket=self.bucket.name, role="roles/storage.objectCreator",
                member=f"serviceAccount:{agent}")

        account = service_account.ServiceAccount(
            self, "account", account_id=config.short_name(DataNames.SQL_COPY),
            display_name="Exports the database into the locked copy bucket",
            description="Runs the daily export job and starts it on schedule.", depends_on=[iam])
        keep(account, config, f"service_account_{DataNames.SQL_COPY}")
        role = project_iam_custom_role.ProjectIamCustomRole(
            self, "role", project=project, role_id=DataNames.custom_role_id(config.resource_name(DataNames.SQL_COPY)),
            title="Export the database", permissions=EXPORT_PERMISSIONS, depends_on=[iam])
        # Cloud SQL has no instance-level IAM policy: a condition on the instances' names.
        names = " || ".join(f'resource.name == "projects/{project}/instances/{name}"' for name in instance_names)
        project_iam_member.ProjectIamMember(
            self, "export-member", project=project, role=role.name, member=account.member,
            condition=project_iam_member.ProjectIamMemberCondition(
                title="only this environment's databases",
                expression=f'resource.type == "sqladmin.googleapis.com/Instance" && ({names})'))

        # The job and its schedule run beside the writer, in the active region.
        region = config.active_region
        job_name = config.resource_name(DataNames.SQL_COPY)
        databases = ",".join(config.data.postgres.databases)
        j = cloud_run_v2_job
        job = j.CloudRunV2Job(
            self,
            "job",
            name=job_name,
            location=region,
            deletion_protection=False,  # holds nothing: the exports are in the bucket
            labels=labels,
            template=j.CloudRunV2JobTemplate(
                task_count=1,
                template=j.CloudRunV2JobTemplateTemplate(
                    service_account=account.email,
                    max_retries=1,
                    timeout="3600s",
                    containers=[j.CloudRunV2JobTemplateTemplateContainers(
                        image=copy_.image,
                        command=["/bin/sh", "-c"],
                        # Waits for the export: a failed export fails the job execution.
                        args=['gcloud sql export sql "$INSTANCE" '
                              '"gs://$BUCKET/$INSTANCE-$(date -u +%Y%m%dT%H%M%SZ).sql.gz" '
                              '--database="$DATABASES" --project="$PROJECT" --quiet'],
                        env=[j.CloudRunV2JobTemplateTemplateContainersEnv(name=k, value=v) for k, v in (
                            ("INSTANCE", writer_name), ("BUCKET", self.bucket.name), ("DATABASES", databases),
                            ("PROJECT", project))],
                        resources=j.CloudRunV2JobTemplateTemplateContainersResources(limits={"cpu": "1", "memory": "512Mi"}),
                    )],
                ),
            ),
            depends_on=[apis.enable("run.googleapis.com")],
        )
        place(job, config)
        # Starting the job: the predefined invoker role, on this job only.
        project_iam_member.ProjectIamMember(
            self, "run-member", project=project, role="roles/run.invoker", member=account.member,
            condition=project_iam_member.ProjectIamMemberCondition(
                title="only the export job",
                expression=f'resource.name == "projects/{project}/locations/{region}/jobs/{job_name}"'))
        schedule = cloud_scheduler_job.CloudSchedulerJob(
            self,
            "schedule",
            name=job_name,
            region=region,
            description="Starts the daily export into the locked copy bucket",
            schedule=copy_.schedule,
            time_zone="Etc/UTC",
            http_target=cloud_scheduler_job.CloudSchedulerJobHttpTarget(
                uri=f"https://run.googleapis.com/v2/projects/{project}/locations/{region}/jobs/{job_name}:run",
                http_method="POST",
                oauth_token=cloud_scheduler_job.CloudSchedulerJobHttpTargetOauthToken(service_account_email=account.email),
            ),
            depends_on=[job, apis.enable("cloudscheduler.googleapis.com")],
        )
        place(schedule, config)
