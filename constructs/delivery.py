"""The delivery tier: keyless CI identity for GitHub Actions (Workload Identity Federation).

One pool and one OIDC provider per environment (each environment is its own project). Two
service accounts, neither with a key:

- the **deployer** applies the stack. Only pushes to the environment's deploy branches
  (`delivery.deploy_branches`) may impersonate it, and it holds predefined roles for the APIs
  the stack enables, never owner/editor/viewer.
- the **planner** reads Terraform state and nothing else. Any workflow of the repository, pull
  requests included, may impersonate it: pull-request plans run with `-refresh=false -lock=false`,
  so they need no read access to the resources themselves (docs/runbooks/deploy.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cdktf import TerraformOutput
from constructs import Construct

from constructs.google import (
    iam_workload_identity_pool,
    iam_workload_identity_pool_provider,
    project_iam_member,
    service_account,
    service_account_iam_member,
    storage_bucket_iam_member,
)
from constructs.protection import keep
from environments.config import EnvironmentConfig

if TYPE_CHECKING:
    from constructs.stack import Apis

GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
PROVIDER_ID = "github"

# Roles the deployer needs whatever the stack holds.
DEPLOYER_BASE_ROLES = (
    # google_project_service: turning on the APIs the tiers ask for.
    "roles/serviceusage.serviceUsageAdmin",
    # This tier's and every tier's runtime service accounts, and their IAM policies
    # (the workloadIdentityUser bindings below).
    "roles/iam.serviceAccountAdmin",
    # This pool and its GitHub provider.
    "roles/iam.workloadIdentityPoolAdmin",
    # google_project_iam_member grants: the tiers' runtime roles and the deployer's own.
    # The deployer can therefore change its own roles: branch protection and the production
    # approval are what guard the deploy branches (docs/runbooks/deploy.md).
    "roles/resourcemanager.projectIamAdmin",
)

# Predefined roles the deployer needs per API the stack enables. Synthesis fails on an API
# missing here, so a tier that adds an API also says which role deploys it.
DEPLOYER_ROLES_BY_API: dict[str, tuple[str, ...]] = {
    # VPC, subnet, router, Cloud NAT, the private-services address range.
    "compute.googleapis.com": ("roles/compute.networkAdmin",),
    # The private services access peering.
    "servicenetworking.googleapis.com": ("roles/servicenetworking.networksAdmin",),
    "vpcaccess.googleapis.com": ("roles/vpcaccess.admin",),
    # Covered by DEPLOYER_BASE_ROLES: this tier enables them for federation itself.
    # The data tier's auto-pause function holds a custom role (two Cloud SQL permissions).
    "iam.googleapis.com": ("roles/iam.roleAdmin",),
    "iamcredentials.googleapis.com": (),
    "sts.googleapis.com": (),
    "cloudresourcemanager.googleapis.com": (),
    # Services run as their own service account: deploying one needs actAs on it.
    "run.googleapis.com": ("roles/run.admin", "roles/iam.serviceAccountUser"),
    "cloudfunctions.googleapis.com": ("roles/cloudfunctions.admin", "roles/iam.serviceAccountUser"),
    # Functions (2nd gen) build through Cloud Build into Artifact Registry; the deployer only triggers it.
    "cloudbuild.googleapis.com": ("roles/cloudbuild.builds.editor",),
    "artifactregistry.googleapis.com": ("roles/artifactregistry.admin",),
    # Scanning pushed images needs the API on, nothing deployed.
    "containerscanning.googleapis.com": (),
    "sqladmin.googleapis.com": ("roles/cloudsql.admin",),
    "redis.googleapis.com": ("roles/redis.admin",),
    "managedkafka.googleapis.com": ("roles/managedkafka.admin",),
    "storage.googleapis.com": ("roles/storage.admin",),
    "pubsub.googleapis.com": ("roles/pubsub.admin",),
    # Event-triggered functions (the data tier's auto-pause) deliver through an Eventarc trigger.
    "eventarc.googleapis.com": ("roles/eventarc.admin",),
    "cloudscheduler.googleapis.com": ("roles/cloudscheduler.admin",),
    "secretmanager.googleapis.com": ("roles/secretmanager.admin",),
    # Alert policies, notification channels, uptime checks, dashboards.
    "monitoring.googleapis.com": ("roles/monitoring.editor",),
    # Log buckets and sinks.
    "logging.googleapis.com": ("roles/logging.configWriter",),
    "cloudtrace.googleapis.com": (),
    # Budgets live on the billing account, outside the project: its admin grants
    # roles/billing.costsManager there (docs/runbooks/deploy.md).
    "billingbudgets.googleapis.com": (),
    # Audit configs (setIamPolicy on the project) come with roles/resourcemanager.projectIamAdmin.
    # The location org policy needs roles/orgpolicy.policyAdmin, which Google grants only at
    # organization level: the organization's admin grants it there (docs/runbooks/deploy.md).
    "orgpolicy.googleapis.com": (),
}

def deployer_roles(services: list[str]) -> list[str]:
    """The predefined project roles a deployer of a stack enabling `services` needs, sorted."""
    missing = [s for s in services if s not in DEPLOYER_ROLES_BY_API]
    if missing:
        raise ValueError(f"no deployer role for {', '.join(missing)}: add it to DEPLOYER_ROLES_BY_API "
                         "in constructs/delivery.py (a predefined role, never owner/editor/viewer)")
    roles = set(DEPLOYER_BASE_ROLES)
    for service in services:
        roles.update(DEPLOYER_ROLES_BY_API[service])
    return sorted(roles)


class Delivery(Construct):
    """Build it after every other tier: the deployer's roles follow the APIs the stack enabled.

    Hands out `provider` (its name is what google-github-actions/auth needs), `deployer` and `planner`.
    """

    def __init__(self, scope: Construct, id_: str, *, config: EnvironmentConfig, apis: "Apis"):
        super().__init__(scope, id_)
        self._config = config
        delivery = config.delivery
        # Service accounts and grants need these APIs too; on a fresh project they come first.
        self._federation = federation = [apis.enable(s) for s in ("iam.googleapis.com", "iamcredentials.googleapis.com",
                                               "sts.googleapis.com", "cloudresourcemanager.googleapis.com")]

        self.pool = iam_workload_identity_pool.IamWorkloadIdentityPool(
            self,
            "github-pool",
            project=config.project_id,
            workload_identity_pool_id=config.short_name("github"),
            display_name=f"GitHub Actions {config.name}",  # at most 27 characters: names are 2-12
            description=f"GitHub Actions workflows of {delivery.repository}",
            depends_on=federation,
        )
        keep(self.pool, config, "github_pool")
        mapping = {
            "google.subject": "assertion.sub",
            "attribute.repository": "assertion.repository",
            "attribute.repository_owner": "assertion.repository_owner",
            "attribute.ref": "assertion.ref",
        }
        if delivery.branch_families:
            # IAM principal sets match attribute values exactly; a branch family (`release/*`)
            # becomes one value here so it can be bound like a branch.
            mapping["attribute.branch_family"] = _family_expression(delivery.branch_families)
        self.provider = iam_workload_identity_pool_provider.IamWorkloadIdentityPoolProvider(
            self,
            "github-provider",
            project=config.project_id,
            workload_identity_pool_id=self.pool.workload_identity_pool_id,
            workload_identity_pool_provider_id=PROVIDER_ID,
            display_name="GitHub Actions OIDC",
            # GitHub's issuer is shared by every repository on github.com: without this
            # condition any workflow anywhere could federate into the pool.
            attribute_condition=f"assertion.repository == '{delivery.repository}'",
            attribute_mapping=mapping,
            oidc=iam_workload_identity_pool_provider.IamWorkloadIdentityPoolProviderOidc(issuer_uri=GITHUB_ISSUER),
        )
        keep(self.provider, config, "github_provider")

        self.deployer = self._account("deployer", "applies the stack from its deploy branches")
        self.planner = self._account("planner", "reads Terraform state for pull-request plans")
        principals = f"principalSet://iam.googleapis.com/{self.pool.name}"
        for branch in delivery.exact_branches:
            self._may_impersonate(self.deployer, f"deploy-{_slug(branch)}",
                                  f"{principals}/attribute.ref/refs/heads/{branch}")
        for family in delivery.branch_families:
            self._may_impersonate(self.deployer, f"deploy-{_slug(family)}-family",
                                  f"{principals}/attribute.branch_family/{family}")
        self._may_impersonate(self.planner, "plan-repository", f"{principals}/attribute.repository/{delivery.repository}")

        deployer = self.deployer.member  # one jsii read for its ~20 grants
        for role in deployer_roles(apis.services):
            project_iam_member.ProjectIamMember(
                self, f"deployer-{role.removeprefix('roles/').replace('.', '-')}",
                project=config.project_id, role=role, member=deployer)
        # State: the deployer reads, writes and locks it; the planner only reads it.
        for name, member, role in (("deployer", deployer, "roles/storage.objectAdmin"),
                                   ("planner", self.planner.member, "roles/storage.objectViewer")):
            storage_bucket_iam_member.StorageBucketIamMember(
                self, f"{name}-state", bucket=config.state_bucket, role=role, member=member)

        TerraformOutput(self, "workload-identity-provider", value=self.provider.name)
        TerraformOutput(self, "deployer-email", value=self.deployer.email)
        TerraformOutput(self, "planner-email", value=self.planner.email)

    def _account(self, role: str, purpose: str) -> service_account.ServiceAccount:
        account = service_account.ServiceAccount(
            self, role, project=self._config.project_id, account_id=self._config.short_name(role),
            display_name=f"CI {role} ({self._config.name})", description=f"GitHub Actions: {purpose}. No keys.",
            depends_on=self._federation)
        keep(account, self._config, f"service_account_{role}")
        return account

    def _may_impersonate(self, account: service_account.ServiceAccount, id_: str, member: str) -> None:
        service_account_iam_member.ServiceAccountIamMember(
            self, id_, service_account_id=account.name, role="roles/iam.workloadIdentityUser", member=member)


def _family_expression(families: tuple[str, ...]) -> str:
    """CEL naming the deploy-branch family of the token's ref."""
    # Any other ref maps to itself: it starts with `refs/`, which no family may (the loader checks).
    expression = "assertion.ref"
    for family in reversed(families):
        expression = f"assertion.ref.startsWith('refs/heads/{family}/') ? '{family}' : {expression}"
    return expression


def _slug(branch: str) -> str:
    return branch.replace("/", "-").replace(".", "-")
