"""Secret Manager secrets whose values never pass through Terraform."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Optional

from cdktf import Fn, TerraformResourceLifecycle
from constructs import Construct

from constructs.google import secret_manager_secret, secret_manager_secret_iam_member, secret_manager_secret_version
from constructs.shared.protection import keep
from environments.config import EnvironmentConfig

if TYPE_CHECKING:
    from constructs.shared.apis import Apis

# Runtimes that reference `latest` fail to deploy while a secret has no version, so Terraform
# adds this placeholder once; the real value is added with `gcloud secrets versions add` and
# Terraform ignores the version's data from then on. It is not a secret.
PLACEHOLDER = "unset: add the real value with gcloud secrets versions add"


@dataclass(frozen=True)
class SecretRotation:
    """What a rotating secret carries: the period, the topic, and the grant it must wait for."""

    period_seconds: int
    topic: str
    dependables: tuple


def regional_replication(config: EnvironmentConfig) -> secret_manager_secret.SecretManagerSecretReplication:
    """Replicas in the environment's own regions (data residency), not Google's automatic choice:
    also in the DR region wherever a database replica waits there (production, the drill), so a
    failover there has its credentials."""
    sm = secret_manager_secret
    regions = [config.region, config.dr_region] if config.data.postgres.replica else [config.region]
    return sm.SecretManagerSecretReplication(user_managed=sm.SecretManagerSecretReplicationUserManaged(
        replicas=[sm.SecretManagerSecretReplicationUserManagedReplicas(location=region) for region in regions],
    ))


class AppSecret(Construct):
    """A secret kept in the environment's region (data residency), readable only by granted runtimes."""

    def __init__(self, scope: Construct, id_: str, *, config: EnvironmentConfig, apis: "Apis", secret_id: str, tier: str,
                 service: str, address: str, rotation: Optional[SecretRotation] = None):
        super().__init__(scope, id_)
        sm = secret_manager_secret
        # A runtime referencing the secret deploys only once these exist (version, access).
        self.dependables: list = []
        self.secret = secret_manager_secret.SecretManagerSecret(
            self,
            "secret",
            secret_id=secret_id,
            replication=regional_replication(config),
            labels=config.labels(tier, service),
            deletion_protection=config.is_production,
            # Rotation only publishes SECRET_ROTATE on the topic; the secret's owner adds the new
            # version (docs/runbooks/cost-and-compliance.md). The first notice comes one period
            # after creation; Secret Manager advances the time itself from then on.
            rotation=sm.SecretManagerSecretRotation(
                rotation_period=f"{rotation.period_seconds}s",
                next_rotation_time=Fn.timeadd(Fn.plantimestamp(), f"{rotation.period_seconds}s"),
            ) if rotation else None,
            topics=[sm.SecretManagerSecretTopics(name=rotation.topic)] if rotation else None,
            lifecycle=TerraformResourceLifecycle(ignore_changes=["rotation[0].next_rotation_time"]) if rotation else None,
            depends_on=[apis.enable("secretmanager.googleapis.com"), *(rotation.dependables if rotation else ())],
        )
        keep(self.secret, config, address)
        self.dependables.append(secret_manager_secret_version.SecretManagerSecretVersion(
            self,
            "placeholder",
            secret=self.secret.id,
            secret_data=PLACEHOLDER,
            lifecycle=TerraformResourceLifecycle(ignore_changes=["secret_data", "enabled"]),
        ))

    @property
    def secret_id(self) -> str:
        return self.secret.secret_id

    def grant_access(self, member: str, *, id_: str) -> None:
        """Let `member` read this secret's versions, and nothing else."""
        self.dependables.append(secret_manager_secret_iam_member.SecretManagerSecretIamMember(
            self, f"accessor-{id_}", secret_id=self._secret_ref, role="roles/secretmanager.secretAccessor",
            member=member,
        ))

    @cached_property
    def _secret_ref(self) -> str:
        """The secret's id attribute, read once for all its accessors (each read is a jsii round trip)."""
        return self.secret.id
