"""What every runtime (Cloud Run service or function) owns besides itself: its identity."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from constructs import Construct

from constructs.google import project_iam_member, service_account, storage_bucket_iam_member
from constructs.shared.protection import keep
from constructs.shared.sites import place
from environments.config import EnvironmentConfig

if TYPE_CHECKING:
    from constructs.shared.apis import Apis

# Write-only telemetry, the floor every runtime needs; anything more comes from a declared grant.
TELEMETRY_ROLES = ("roles/logging.logWriter", "roles/monitoring.metricWriter", "roles/cloudtrace.agent")
# What Cloud Build needs to turn a function's source into an image: write its logs, push to the
# gcf-artifacts repository. Reading the source is granted on the source bucket alone.
BUILD_ROLES = ("roles/logging.logWriter", "roles/artifactregistry.writer")


class RuntimeIdentity(Construct):
    """A runtime's own service account (no keys: runtimes use the metadata server)."""

    def __init__(self, scope: Construct, id_: str, *, config: EnvironmentConfig, apis: "Apis", runtime: str,
                 roles: tuple[str, ...] = TELEMETRY_ROLES):
        super().__init__(scope, id_)
        self.runtime = runtime
        self.account = service_account.ServiceAccount(
            self,
            "account",
            account_id=config.short_name(runtime),
            display_name=f"HexProperty {config.name} {runtime}",
            description=f"Runtime identity of {config.resource_name(runtime)}; roles granted by the stack only.",
            depends_on=[apis.enable("iam.googleapis.com")],
        )
        keep(self.account, config, f"service_account_{runtime}")
        # Resources that must not start before these roles exist depend on `grants`.
        self.grants = [
            project_iam_member.ProjectIamMember(
                self, role.removeprefix("roles/"), project=config.project_id, role=role, member=self.member,
                depends_on=[apis.enable("cloudresourcemanager.googleapis.com")],
            )
            for role in roles
        ]

    # Cached: each read of a resource attribute is a round trip into jsii, and an identity's
    # member string is read by every grant made to it.
    @cached_property
    def email(self) -> str:
        return self.account.email

    @cached_property
    def member(self) -> str:
        """`serviceAccount:<email>`, the IAM member string."""
        return self.account.member

    @cached_property
    def name(self) -> str:
        """The account's resource name (`projects/<p>/serviceAccounts/<email>`)."""
        return self.account.name


class BuildIdentity(RuntimeIdentity):
    """The identity a function's build runs as. New projects no longer give Cloud Build's default
    service account the roles a build needs, so each function names its own; the function
    depends on `grants` so the first build never starts before them."""

    def __init__(self, scope: Construct, id_: str, *, config: EnvironmentConfig, apis: "Apis", function: str,
                 source_bucket):
        super().__init__(scope, id_, config=config, apis=apis, runtime=f"{function}-build", roles=BUILD_ROLES)
        reads_sources = storage_bucket_iam_member.StorageBucketIamMember(
            self, "reads-sources", bucket=source_bucket.name, role="roles/storage.objectViewer", member=self.member)
        place(reads_sources, config)  # on the active site's bucket
        self.grants.append(reads_sources)
