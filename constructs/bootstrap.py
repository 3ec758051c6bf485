"""The bootstrap stack `<env>-bootstrap`: the state bucket and the CI identities.

The main stack keeps its state in this bucket, so the bucket cannot live in that stack. The CI
identities (pool, provider, deployer, planner, smoke account) and every grant they hold live
here too, so the CI that applies the main stack cannot widen its own trust: only a person with
Owner applies this stack (`make bootstrap ENV=<env>`), before the first deploy and again when
the main stack needs a new role (docs/runbooks/deploy.md). It keeps its state locally
(`bootstrap/<env>.tfstate`, committed: names, settings and grants, nothing secret; keep it that way).
"""

from __future__ import annotations

from cdktf import LocalBackend, TerraformResourceLifecycle, TerraformStack
from constructs import Construct

from constructs.concerns.ci_access import StackNeeds
from constructs.concerns.delivery import CiIdentities
from constructs.google import provider, storage_bucket
from constructs.shared.apis import Apis
from environments.config import EnvironmentConfig

TIER = "delivery"
# Old state versions kept for rollback of a bad apply; beyond these the bucket would grow forever.
NONCURRENT_VERSIONS_KEPT = 50


class BootstrapStack(TerraformStack):
    def __init__(self, scope: Construct, config: EnvironmentConfig, *, state_path: str, needs: StackNeeds,
                 with_account_grants: bool = True):
        super().__init__(scope, f"{config.name}-bootstrap")
        google = provider.GoogleProvider(self, "google", project=config.project_id, region=config.region)
        google.add_override("default_labels", dict(config.base_labels))
        LocalBackend(self, path=state_path)
        apis = Apis(self, "apis", config=config)
        self.bucket = storage_bucket.StorageBucket(
            self,
            "state-bucket",
            name=config.state_bucket,
            project=config.project_id,
            location=config.region,
            # Every apply writes a new state version; an old one is the way back from a bad apply.
            versioning=storage_bucket.StorageBucketVersioning(enabled=True),
            uniform_bucket_level_access=True,
            public_access_prevention="enforced",
            force_destroy=False,
            lifecycle_rule=[
                storage_bucket.StorageBucketLifecycleRule(
                    action=storage_bucket.StorageBucketLifecycleRuleAction(type="Delete"),
                    condition=storage_bucket.StorageBucketLifecycleRuleCondition(
                        with_state="ARCHIVED", num_newer_versions=NONCURRENT_VERSIONS_KEPT),
                )
            ],
            labels=config.labels(TIER, "terraform-state"),
            # Losing the bucket loses every environment resource's state.
            lifecycle=TerraformResourceLifecycle(prevent_destroy=True),
            depends_on=[apis.enable("storage.googleapis.com")],
        )
        # Service accounts and grants need these APIs; on a fresh project they come first.
        federation = [apis.enable(s) for s in ("iam.googleapis.com", "iamcredentials.googleapis.com",
                                               "sts.googleapis.com", "cloudresourcemanager.googleapis.com")]
        self.identities = CiIdentities(self, "ci", config=config, needs=needs, depends_on=federation,
                                       with_account_grants=with_account_grants)
