"""The data tier: Cloud SQL for PostgreSQL and Memorystore for Redis, private IP only.

Consumers never get a password: runtimes log in to PostgreSQL as IAM database users
(`data.postgres.grant_connect(identity)`) and read the Redis AUTH string from Secret Manager
(`data.redis.grant_access(sa)`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

from cdktf import Fn, TerraformOutput, TerraformResourceLifecycle
from constructs import Construct

from constructs.google import (
    project_iam_member,
    redis_instance,
    secret_manager_secret,
    secret_manager_secret_iam_member,
    secret_manager_secret_version,
    service_account,
    sql_database,
    sql_database_instance,
    sql_user,
)
from constructs.shared.protection import keep
from constructs.shared.secrets import regional_replication
from constructs.shared.sites import place, site_address
from constructs.shared.state_blocks import adopt, forget
from constructs.tiers.backup_copy import LockedBackupCopy
from constructs.tiers.sql_autopause import SqlAutoPause
from environments.config import DR_SITE, PRIMARY_SITE, DataNames, EnvironmentConfig

if TYPE_CHECKING:
    from constructs.shared.apis import Apis
    from constructs.shared.network import Network
    from constructs.shared.runtime import RuntimeIdentity

TIER = "data"

# Disk autoresize grows the disk past the configured size, and the provider replaces the instance
# when the configured size is below the current one (ForceNewIfChange("settings.0.disk_size",
# IsDiskShrinkage)): the file's size is the initial one, and Terraform never compares it again.
GROWN_BY_GOOGLE = ["settings[0].disk_size"]

# Flags on every PostgreSQL instance. The logging ones are those checkov's PostgreSQL checks
# ask for; docs/decisions/checkov-skips.md gives the reason for each one left out.
DATABASE_FLAGS = {
    "cloudsql.iam_authentication": "on",  # runtimes log in as IAM users: no passwords
    "log_checkpoints": "on",
    "log_connections": "on",
    "log_disconnections": "on",
    "log_lock_waits": "on",
    "log_min_messages": "warning",
    "log_min_error_statement": "error",
    "log_min_duration_statement": "-1",  # never log statements by duration: they may carry personal data
    "log_temp_files": "0",  # log every temporary file: spills to disk are a sizing signal
    "log_statement": "ddl",  # schema changes, not every query
    # pgAudit for access tracking (seed: compliance). `role` logs GRANT, REVOKE and role changes;
    # each database needs `CREATE EXTENSION pgaudit` once (docs/runbooks/data.md).
    "cloudsql.enable_pgaudit": "on",
    "pgaudit.log": "role",
}


def _slug(construct: Construct) -> str:
    """A construct's path inside its stack, as an id fragment: `api/service-account` -> `api-service-account`."""
    return construct.node.path.split("/", 1)[1].replace("/", "-")


class Data(Construct):
    """The data tier: `postgres` and `redis`, each with the grant its clients need."""

    def __init__(self, scope: Construct, id_: str, *, config: EnvironmentConfig, apis: "Apis", network: "Network"):
        super().__init__(scope, id_)
        self.postgres = Postgres(self, "postgres", config=config, apis=apis, network=network)
        self.redis = Redis(self, "redis", config=config, apis=apis, network=network)


class Postgres(Construct):
    """The writer, its databases, the standby site's replica and staging's auto-pause.

    Each site (constructs/shared/sites.py) holds one instance at its own pinned address:
    `postgres_primary` in project.region, `postgres_replica` in project.dr_region. The active
    site's instance is the writer; the other is a replica of it, or forgotten
    (disaster_recovery.standby). A replica becomes the writer in place: the provider promotes a
    READ_REPLICA_INSTANCE whose type changes to CLOUD_SQL_INSTANCE, with no `state rm` or `import`.
    """

    ADDRESSES = {PRIMARY_SITE: "postgres_primary", DR_SITE: "postgres_replica"}

    def __init__(self, scope: Construct, id_: str, *, config: EnvironmentConfig, apis: "Apis", network: "Network"):
        super().__init__(scope, id_)
        pg, recovery = config.data.postgres, config.disaster_recovery
        self._config, self._network = config, network
        depends_on = [network.private_services, apis.enable("sqladmin.googleapis.com")]
        # The primary site's tier is data.postgres.tier, the DR site's the replica's.
        tiers = {PRIMARY_SITE: pg.tier, DR_SITE: pg.replica.tier if pg.replica else pg.tier}
        writer, standby = recovery.active_site, recovery.standby_site
        self.instance = sql_database_instance.SqlDatabaseInstance(
            self,
            self._construct_id(writer),
            name=config.sql_instance_name(writer),
            region=config.region_of(writer),
            database_version=pg.database_version,
            # Stated after a failover or failback: the change from READ_REPLICA_INSTANCE plans as the promotion.
            instance_type="CLOUD_SQL_INSTANCE" if self._promoted else None,
            deletion_protection=pg.deletion_protection,
            settings=self._settings(tiers[writer], pg.availability, "postgres", primary=True),
            # The auto-pause function stops the instance through the API; without this, the next
            # apply would start it again.
            lifecycle=TerraformResourceLifecycle(
                ignore_changes=[*GROWN_BY_GOOGLE, *(["settings[0].activation_policy"] if pg.auto_pause else [])]),
            depends_on=depends_on,
        )
        keep(self.instance, config, self.ADDRESSES[writer])

        self.replica: Optional[sql_database_instance.SqlDatabaseInstance] = None
        if pg.replica and not recovery.forgets_standby:
            self.replica = sql_database_instance.SqlDatabaseInstance(
                self,
                self._construct_id(standby),
                name=config.sql_instance_name(standby),
                region=config.region_of(standby),
                database_version=pg.database_version,
                # Stated, so a failover's change to CLOUD_SQL_INSTANCE plans as a promotion in place.
                instance_type="READ_REPLICA_INSTANCE",
                master_instance_name=self.instance.name,
                deletion_protection=pg.deletion_protection,
                settings=self._settings(tiers[standby], "ZONAL", "postgres-replica", primary=False),
                lifecycle=TerraformResourceLifecycle(ignore_changes=GROWN_BY_GOOGLE),
                depends_on=depends_on,
            )
            keep(self.replica, config, self.ADDRESSES[standby])
        elif pg.replica:
            # Its region is lost, or it held the writer before a failback: out of Terraform's
            # state, untouched in Google Cloud (a dead region is never called; the runbook says
            # when to delete it by hand).
            forget(self, f"google_sql_database_instance.{self.ADDRESSES[standby]}")
        for name in pg.databases:
            self._keep_on_writer(sql_database.SqlDatabase(
                self,
                f"database-{name}",
                instance=self.instance.name,
                name=name,
                # Dropping a database from the file leaves its data alone (and a staging teardown
                # does not fail on open connections): the instance's deletion removes it.
                deletion_policy="ABANDON",
            ), f"postgres_database_{name}",
                f"projects/{config.project_id}/instances/{config.sql_writer_name}/databases/{name}")

        if pg.backups.locked_copy:
            instances = [self.instance, *([self.replica] if self.replica else [])]
            instance_names = [config.sql_writer_name, *([config.sql_instance_name(standby)] if self.replica else [])]
            LockedBackupCopy(self, "locked-copy", config=config, apis=apis, writer_name=self.instance.name,
                             instance_names=instance_names,
                             service_agents=[i.service_account_email_address for i in instances])

        if pg.auto_pause:
            SqlAutoPause(self, "auto-pause", config=config, apis=apis, instance_name=config.sql_writer_name,
                         databases=pg.databases, settings=pg.auto_pause)

        TerraformOutput(self, "connection-name", value=self.instance.connection_name)
        TerraformOutput(self, "private-ip", value=self.instance.private_ip_address)
        if self.replica:
            TerraformOutput(self, "replica-connection-name", value=self.replica.connection_name)

    @property
    def _promoted(self) -> bool:
        """The writer was a replica before: the DR site's instance always was, and the primary
        site's is whenever the other site is forgotten after a failback."""
        recovery = self._config.disaster_recovery
        return recovery.active_site == DR_SITE or recovery.forgets_standby

    @staticmethod
    def _construct_id(site: str) -> str:
        return "instance" if site == PRIMARY_SITE else "replica"

    def _keep_on_writer(self, resource, name: str, import_id: str) -> None:
        """Pin an object that lives inside the writer (a database, a user), at the writer site's
        address (`<name>` or `<name>_dr`). When the standby site is forgotten, the object's
        address there is forgotten too and the object adopted from the writer, which already
        holds it (replicated)."""
        config = self._config
        recovery = config.disaster_recovery
        keep(resource, config, site_address(name, recovery.active_site))
        if recovery.forgets_standby:
            type_ = type(resource).TF_RESOURCE_TYPE
            forget(self, f"{type_}.{site_address(name, recovery.standby_site)}")
            adopt(self, f"{type_}.{site_address(name, recovery.active_site)}", import_id)

    def _settings(self, tier: str, availability: str, service: str, *,
                  primary: bool) -> sql_database_instance.SqlDatabaseInstanceSettings:
        """Settings of the primary, or of a replica: zonal, with no backups or maintenance window of
        its own (both follow the primary; a promoted replica gets them set when it becomes one)."""
        config, pg = self._config, self._config.data.postgres
        backups = pg.backups
        s = sql_database_instance
        return s.SqlDatabaseInstanceSettings(
            tier=tier,
            # Explicit: for POSTGRES_16+ the API would pick ENTERPRISE_PLUS, which refuses small tiers.
            edition=pg.edition,
            availability_type=availability,
            activation_policy="ALWAYS",
            disk_type="PD_SSD",
            disk_size=pg.disk_size_gb,
            disk_autoresize=True,
            disk_autoresize_limit=pg.disk_autoresize_limit_gb,
            # The API's own guard, which also stops deletion from the console and gcloud.
            deletion_protection_enabled=pg.deletion_protection,
            # Production keeps the automated backups when the instance is deleted anyway (by
            # hand, or a replacement): they can restore it. A replica has no backups of its own.
            retain_backups_on_delete=config.is_production if primary else None,
            user_labels=config.labels(TIER, service),
            ip_configuration=s.SqlDatabaseInstanceSettingsIpConfiguration(
                ipv4_enabled=False,
                private_network=self._network.vpc_id,
                allocated_ip_range=self._network.private_services_range.name,
                ssl_mode="ENCRYPTED_ONLY",
            ),
            database_flags=[s.SqlDatabaseInstanceSettingsDatabaseFlags(name=k, value=v) for k, v in DATABASE_FLAGS.items()],
            insights_config=s.SqlDatabaseInstanceSettingsInsightsConfig(
                query_insights_enabled=pg.query_insights,
                query_string_length=1024,
                record_application_tags=True,
                record_client_address=False,
            ),
            maintenance_window=s.SqlDatabaseInstanceSettingsMaintenanceWindow(
                day=pg.maintenance.day_number, hour=pg.maintenance.hour, update_track=pg.maintenance.update_track,
            ) if primary else None,
            backup_configuration=s.SqlDatabaseInstanceSettingsBackupConfiguration(
                enabled=backups.enabled,
                start_time=backups.start_time,
                # In the standby site's region, so backups outlive a regional outage of the writer's;
                # the writer's own while that site is forgotten (its region may be down).
                location=config.active_region if config.disaster_recovery.forgets_standby
                else config.region_of(config.disaster_recovery.standby_site),
                point_in_time_recovery_enabled=backups.point_in_time_recovery,
                transaction_log_retention_days=backups.log_retention_days if backups.point_in_time_recovery else None,
                backup_retention_settings=s.SqlDatabaseInstanceSettingsBackupConfigurationBackupRetentionSettings(
                    retained_backups=backups.retained, retention_unit="COUNT",
                ),
            ) if primary else None,
        )

    def grant_connect(self, identity: "RuntimeIdentity") -> None:
        """Let a runtime's identity log in to the databases as an IAM database user (no password).

        Cloud SQL has no instance-level IAM, so the two roles are project-level members.
        """
        account = identity.account
        slug = _slug(account)
        for role in ("roles/cloudsql.client", "roles/cloudsql.instanceUser"):
            project_iam_member.ProjectIamMember(
                self, f"{slug}-{role.rsplit('.', 1)[1]}", project=self._config.project_id, role=role, member=account.member,
            )
        config = self._config
        self._keep_on_writer(sql_user.SqlUser(
            self,
            f"{slug}-user",
            instance=self.instance.name,
            # PostgreSQL IAM service-account users are named by the email without this suffix.
            name=Fn.trimsuffix(account.email, ".gserviceaccount.com"),
            type="CLOUD_IAM_SERVICE_ACCOUNT",
            # PostgreSQL refuses to drop a role that owns objects or holds grants; leave it to the instance.
            deletion_policy="ABANDON",
        ), f"postgres_user_{identity.runtime}",
            # The provider's import id of a PostgreSQL user: project/instance/name.
            f"{config.project_id}/{config.sql_writer_name}/{config.short_name(identity.runtime)}@{config.project_id}.iam")


class Redis(Construct):
    """Memorystore over private services access, AUTH on, its AUTH string in Secret Manager."""

    def __init__(self, scope: Construct, id_: str, *, config: EnvironmentConfig, apis: "Apis", network: "Network"):
        super().__init__(scope, id_)
        redis = config.data.redis
        r = redis_instance
        self.instance = r.RedisInstance(
            self,
            "instance",
            name=config.resource_name(DataNames.REDIS),
            region=config.active_region,
            tier=redis.tier,
            memory_size_gb=redis.memory_size_gb,
            redis_version=redis.redis_version,
            connect_mode="PRIVATE_SERVICE_ACCESS",
            authorized_network=network.vpc_id,
            reserved_ip_range=network.private_services_range.name,
            auth_enabled=True,
            transit_encryption_mode="SERVER_AUTHENTICATION" if redis.transit_encryption else "DISABLED",
            persistence_config=r.RedisInstancePersistenceConfig(persistence_mode="DISABLED")
            if redis.rdb_snapshot_period == "DISABLED"
            else r.RedisInstancePersistenceConfig(persistence_mode="RDB", rdb_snapshot_period=redis.rdb_snapshot_period),
            maintenance_policy=r.RedisInstanceMaintenancePolicy(
                weekly_maintenance_window=[r.RedisInstanceMaintenancePolicyWeeklyMaintenanceWindow(
                    day=redis.maintenance.day,
                    start_time=r.RedisInstanceMaintenancePolicyWeeklyMaintenanceWindowStartTime(
                        hours=redis.maintenance.hour, minutes=0),
                )],
            ),
            labels=config.labels(TIER, "redis"),
            depends_on=[network.private_services, apis.enable("redis.googleapis.com")],
        )
        # A failover builds it in the DR region, empty: a cache the application refills.
        place(self.instance, config, "redis")

        self.auth_secret = secret_manager_secret.SecretManagerSecret(
            self,
            "auth-secret",
            secret_id=config.resource_name(DataNames.REDIS_AUTH),
            replication=regional_replication(config),
            labels=config.labels(TIER, "redis"),
            deletion_protection=config.is_production,
            depends_on=[apis.enable("secretmanager.googleapis.com")],
        )
        keep(self.auth_secret, config, "redis_auth_secret")
        # The JSON holds only a reference; the value lives in Terraform state (as the instance's
        # own `auth_string` already does) and in the secret.
        self.auth_secret_version = secret_manager_secret_version.SecretManagerSecretVersion(
            self, "auth-secret-version", secret=self.auth_secret.id, secret_data=self.instance.auth_string,
        )

        TerraformOutput(self, "host", value=self.instance.host)
        TerraformOutput(self, "port", value=self.instance.port)
        TerraformOutput(self, "auth-secret-id", value=self.auth_secret.secret_id)
        if redis.transit_encryption:
            # Not a secret: TLS clients verify the server against it.
            TerraformOutput(self, "server-ca-cert", value=self.instance.server_ca_certs.get(0).cert)

    def grant_access(self, account: service_account.ServiceAccount) -> secret_manager_secret_iam_member.SecretManagerSecretIamMember:
        """Let `account` read the AUTH string. Redis itself has no IAM: the AUTH string and the
        network path (the runtime's VPC egress) are all a client needs."""
        return secret_manager_secret_iam_member.SecretManagerSecretIamMember(
            self,
            f"{_slug(account)}-auth-reader",
            secret_id=self.auth_secret.id,
            role="roles/secretmanager.secretAccessor",
            member=account.member,
        )
