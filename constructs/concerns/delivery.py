"""Keyless CI identities for GitHub Actions (Workload Identity Federation), in the bootstrap stack.

They live in the human-applied `<env>-bootstrap` stack, never in the stack CI applies, so a CI
run cannot widen its own trust or powers. One pool and one OIDC provider per environment (each
environment is its own project); the provider accepts only tokens of this repository, pinned by
its numeric id and its owner's, from the events the workflows use. Three accounts, none with a key:

- the **deployer** applies the stack. Only a job that runs in the environment's GitHub
  environment (`repo:<owner>/<name>:environment:<env>`: that environment's reviewers and branch
  rules passed) may impersonate it. Its roles are derived from the main stack (constructs/concerns/ci_access.py).
- the **planner** reads: state, and what a plan refreshes (one custom read-only role). Pull
  requests into the environment's `plan_branches`, pushes to its deploy branches (the plan that
  reviewers approve) and the drift workflow's `drift` GitHub environment may impersonate it.
- the **smoke** account may only invoke the API (the main stack grants it run.invoker there where the
  API answers the internet, that is without the edge), so the smoke tests after an apply can call
  it with an ID token.
"""

from __future__ import annotations

from cdktf import TerraformOutput
from constructs import Construct

from constructs.concerns.ci_access import (
    CUSTOM_ROLE_PERMISSIONS,
    OUTSIDE_PROJECT,
    PLANNER_ROLE,
    StackNeeds,
    modified_grants_condition,
    not_state_bucket_condition,
    objects_condition,
    secret_version_condition,
)
from constructs.google import (
    iam_workload_identity_pool,
    iam_workload_identity_pool_provider,
    project_iam_custom_role,
    project_iam_member,
    service_account,
    service_account_iam_member,
    storage_bucket_iam_member,
)
from constructs.shared.protection import keep
from environments.config import DR_BUCKET_SUFFIX, EnvironmentConfig

GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
PROVIDER_ID = "github"
# Events whose tokens the provider accepts: deploys and their plans (push), pull-request plans,
# drift detection (schedule, and its manual re-run). pull_request_target, workflow_run and the
# rest run with the base branch's secrets on behalf of others: refused.
ALLOWED_EVENTS = ("push", "pull_request", "schedule", "workflow_dispatch")
# The GitHub environment the drift workflow's jobs run in (.github/repository-settings.yaml).
DRIFT_ENVIRONMENT = "drift"
CI_ACCOUNTS = ("deployer", "planner", "smoke")


def github_subject(repository: str, environment: str) -> str:
    """The OIDC `sub` of a job that runs in GitHub environment `environment`."""
    return f"repo:{repository}:environment:{environment}"


def _ref_value(ref_expression: str, branches: tuple[str, ...]) -> str:
    """CEL giving a ref's branch family (`release`) when it is in one of `branches`' families, else the ref."""
    expression = ref_expression
    for family in reversed([b[: -len("/*")] for b in branches if b.endswith("/*")]):
        expression = f"{ref_expression}.startsWith('refs/heads/{family}/') ? '{family}' : {expression}"
    return f"({expression})"


def event_ref_expression(branch_patterns: tuple[str, ...]) -> str:
    """CEL for `attribute.event_ref`: `<event>:<ref or family>`, with a pull request's base branch as its ref.

    Principal sets match attribute values exactly; this one value lets a binding name both the
    event and the branch. Git forbids `:` in ref names, so no branch can forge another value.
    """
    base = _ref_value("('refs/heads/' + assertion.base_ref)", branch_patterns)
    ref = _ref_value("assertion.ref", branch_patterns)
    return f"assertion.event_name == 'pull_request' ? 'pull_request:' + {base} : assertion.event_name + ':' + {ref}"


def event_ref_values(event: str, branches: tuple[str, ...]) -> list[str]:
    """The `attribute.event_ref` values of `event` on `branches` (exact names and `<prefix>/*` families)."""
    return [f"{event}:{b[: -len('/*')]}" if b.endswith("/*") else f"{event}:refs/heads/{b}" for b in branches]


class CiIdentities(Construct):
    """Pool, provider, the three CI accounts and every grant they hold, for one environment.

    `needs` is what the main stack holds (constructs/concerns/ci_access.py `stack_needs`).
    `with_account_grants=False` leaves out the per-account actAs grants: before the first
    apply of the main stack its accounts do not exist yet (docs/runbooks/deploy.md).
    """

    def __init__(self, scope: Construct, id_: str, *, config: EnvironmentConfig, needs: StackNeeds,
                 depends_on: list, with_account_grants: bool = True):
        super().__init__(scope, id_)
        self._config = config
        project = config.project_id
        delivery = config.delivery

        self.pool = iam_workload_identity_pool.IamWorkloadIdentityPool(
            self, "github-pool", project=project, workload_identity_pool_id=config.short_name("github"),
            display_name=f"GitHub Actions {config.name}",  # at most 32 characters: names are 2-12
            description=f"GitHub Actions workflows of {delivery.repository}", depends_on=depends_on)
        keep(self.pool, config, "github_pool")
        branches = tuple(dict.fromkeys(delivery.deploy_branches + delivery.plan_branches))
        events = ", ".join(f"'{e}'" for e in ALLOWED_EVENTS)
        self.provider = iam_workload_identity_pool_provider.IamWorkloadIdentityPoolProvider(
            self, "github-provider", project=project, workload_identity_pool_id=self.pool.workload_identity_pool_id,
            workload_identity_pool_provider_id=PROVIDER_ID, display_name="GitHub Actions OIDC",
            # GitHub's issuer is shared by every repository on github.com. Ids, not names: a
            # repository deleted and re-created under the same name by someone else has new ids.
            attribute_condition=(f"assertion.repository_id == '{delivery.repository_id}' && "
                                 f"assertion.repository_owner_id == '{delivery.repository_owner_id}' && "
                                 f"assertion.event_name in [{events}]"),
            attribute_mapping={
                "google.subject": "assertion.sub",
                "attribute.repository": "assertion.repository",
                "attribute.repository_id": "assertion.repository_id",
                "attribute.event_ref": event_ref_expression(branches),
            },
            oidc=iam_workload_identity_pool_provider.IamWorkloadIdentityPoolProviderOidc(issuer_uri=GITHUB_ISSUER),
        )
        keep(self.provider, config, "github_provider")

        accounts = {name: self._account(name, purpose, depends_on) for name, purpose in (
            ("deployer", "applies the stack from its GitHub environment"),
            ("planner", "plans the stack and detects drift; reads only"),
            ("smoke", "calls the deployed API in the smoke tests"))}
        self.deployer, self.planner, self.smoke = (accounts[n] for n in CI_ACCOUNTS)
        pool = self.pool.name
        self._may_impersonate(self.deployer, "deploy-environment",
                              f"principal://iam.googleapis.com/{pool}/subject/{github_subject(delivery.repository, config.name)}")
        self._may_impersonate(self.planner, "plan-drift",
                              f"principal://iam.googleapis.com/{pool}/subject/{github_subject(delivery.repository, DRIFT_ENVIRONMENT)}")
        for value in (*event_ref_values("pull_request", delivery.plan_branches),
                      *event_ref_values("push", delivery.deploy_branches)):
            self._may_impersonate(self.planner, f"plan-{_slug(value)}",
                                  f"principalSet://iam.googleapis.com/{pool}/attribute.event_ref/{value}")
        for value in event_ref_values("push", delivery.deploy_branches):
            self._may_impersonate(self.smoke, f"smoke-{_slug(value)}",
                                  f"principalSet://iam.googleapis.com/{pool}/attribute.event_ref/{value}")

        self._grant_planner(needs)
        self._grant_deployer(needs, with_account_grants)

        TerraformOutput(self, "workload-identity-provider", value=self.provider.name)
        for name, account in accounts.items():
            TerraformOutput(self, f"{name}-email", value=account.email)

    def _grant_deployer(self, needs: StackNeeds, with_account_grants: bool) -> None:
        config, deployer = self._config, self.deployer.member
        roles = needs.deployer_roles()
        custom = {role_id: self._custom_role(role_id) for role_id in CUSTOM_ROLE_PERMISSIONS if role_id in roles}
        conditions = {
            "roles/resourcemanager.projectIamAdmin": (
                "runtime roles only", "changes bindings of the roles the stack grants its runtime accounts, no other",
                modified_grants_condition(needs.granted_roles)),
            "roles/storage.admin": (
                "not the state bucket", f"every bucket but {config.state_bucket}, whose objects it reaches through its own grant",
                not_state_bucket_condition(config.state_bucket)),
            "roles/secretmanager.secretAccessor": (
                "versions the stack writes", "reads the payloads the stack writes, never one a person added",
                secret_version_condition(needs.secret_versions)),
        }
        for role in roles:
            if role == OUTSIDE_PROJECT:
                continue
            name = custom[role].name if role in custom else role
            condition = conditions.get(role)
            project_iam_member.ProjectIamMember(
                self, f"deployer-{_slug(role.removeprefix('roles/'))}", project=config.project_id, role=name,
                member=deployer, condition=project_iam_member.ProjectIamMemberCondition(
                    title=condition[0], description=condition[1], expression=condition[2]) if condition else None)
        # Refresh reads what the planner reads (data sources, quota project) whatever the types.
        project_iam_member.ProjectIamMember(self, "deployer-reads", project=config.project_id,
                                            role=self.planner_role.name, member=deployer)
        # State: read, write and lock its objects; nothing on the bucket itself.
        storage_bucket_iam_member.StorageBucketIamMember(
            self, "deployer-state", bucket=config.state_bucket, role="roles/storage.objectAdmin", member=deployer)
        if with_account_grants:
            for account_id in needs.service_accounts:
                # Deploying a service, function or job that runs as an account takes actAs on it.
                service_account_iam_member.ServiceAccountIamMember(
                    self, f"deployer-acts-as-{account_id}", role="roles/iam.serviceAccountUser", member=deployer,
                    service_account_id=f"projects/{config.project_id}/serviceAccounts/{account_email(config, account_id)}")

    def _grant_planner(self, needs: StackNeeds) -> None:
        config, planner = self._config, self.planner.member
        self.planner_role = project_iam_custom_role.ProjectIamCustomRole(
            self, "planner-role", project=config.project_id, role_id=PLANNER_ROLE, title="CI planner (read-only)",
            description="What a Terraform plan of the stack reads: project metadata, quota, each type's reads.",
            permissions=list(needs.planner_permissions()))
        project_iam_member.ProjectIamMember(self, "planner-reads", project=config.project_id,
                                            role=self.planner_role.name, member=planner)
        if needs.secret_versions:
            project_iam_member.ProjectIamMember(
                self, "planner-secret-versions", project=config.project_id, role="roles/secretmanager.secretAccessor",
                member=planner, condition=project_iam_member.ProjectIamMemberCondition(
                    title="versions the stack writes", description="refresh reads the payloads the stack writes",
                    expression=secret_version_condition(needs.secret_versions)))
        if needs.object_buckets:
            project_iam_member.ProjectIamMember(
                self, "planner-objects", project=config.project_id, role="roles/storage.objectViewer",
                member=planner, condition=project_iam_member.ProjectIamMemberCondition(
                    title="objects the stack uploads", description="refresh reads the function source archives",
                    expression=objects_condition(_both_sites(config, needs.object_buckets))))
        # Reads state; -lock=false in every planner run, so no lock object is written.
        storage_bucket_iam_member.StorageBucketIamMember(
            self, "planner-state", bucket=config.state_bucket, role="roles/storage.objectViewer", member=planner)

    def _custom_role(self, role_id: str) -> project_iam_custom_role.ProjectIamCustomRole:
        return project_iam_custom_role.ProjectIamCustomRole(
            self, f"role-{role_id}", project=self._config.project_id, role_id=role_id, title=f"CI deployer: {role_id}",
            # The text as first applied, though the tables now live in constructs/concerns/ci_access.py:
            # a new description is an in-place update of every role, for a change that updates them anyway.
            description="Held by the CI deployer (constructs/ci_access.py)",
            permissions=list(CUSTOM_ROLE_PERMISSIONS[role_id]))

    def _account(self, role: str, purpose: str, depends_on: list) -> service_account.ServiceAccount:
        account = service_account.ServiceAccount(
            self, role, project=self._config.project_id, account_id=self._config.short_name(role),
            display_name=f"CI {role} ({self._config.name})", description=f"GitHub Actions: {purpose}. No keys.",
            depends_on=depends_on)
        keep(account, self._config, f"service_account_{role}")
        return account

    def _may_impersonate(self, account: service_account.ServiceAccount, id_: str, member: str) -> None:
        service_account_iam_member.ServiceAccountIamMember(
            self, id_, service_account_id=account.name, role="roles/iam.workloadIdentityUser", member=member)


def account_email(config: EnvironmentConfig, account_id: str) -> str:
    return f"{account_id}@{config.project_id}.iam.gserviceaccount.com"


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text).strip("-")


def _both_sites(config: EnvironmentConfig, buckets: tuple[str, ...]) -> tuple[str, ...]:
    """Each bucket of the stack and, with a DR site, its other site's twin: after a failover the
    sources are in `<bucket>-dr`, and the planner reads them without the bootstrap applied again."""
    if not config.has_dr_site:
        return buckets
    bases = {b.removesuffix(DR_BUCKET_SUFFIX) for b in buckets}
    return tuple(sorted(bases | {b + DR_BUCKET_SUFFIX for b in bases}))
