"""The Artifact Registry Docker repository the application's CI pushes images to."""

from __future__ import annotations

from typing import TYPE_CHECKING

from constructs import Construct

from constructs.google import artifact_registry_repository as registry
from constructs.shared.protection import keep
from environments.config import EnvironmentConfig

if TYPE_CHECKING:
    from constructs.shared.apis import Apis

TIER = "delivery"


class ImageRepository(Construct):
    def __init__(self, scope: Construct, id_: str, *, config: EnvironmentConfig, apis: "Apis"):
        super().__init__(scope, id_)
        images = config.images
        self.repository = registry.ArtifactRegistryRepository(
            self,
            "repository",
            repository_id=config.resource_name("images"),
            location=config.region,
            format="DOCKER",
            description="HexProperty container images, pushed by the application's CI",
            labels=config.labels(TIER, "images"),
            # INHERITED scans every pushed image once the Container Scanning API is on.
            vulnerability_scanning_config=registry.ArtifactRegistryRepositoryVulnerabilityScanningConfig(
                enablement_config="INHERITED"),
            docker_config=registry.ArtifactRegistryRepositoryDockerConfig(immutable_tags=config.is_production),
            cleanup_policy_dry_run=False,
            cleanup_policies=[
                registry.ArtifactRegistryRepositoryCleanupPolicies(
                    id="keep-recent",
                    action="KEEP",
                    most_recent_versions=registry.ArtifactRegistryRepositoryCleanupPoliciesMostRecentVersions(
                        keep_count=images.keep_recent_versions),
                ),
                registry.ArtifactRegistryRepositoryCleanupPolicies(
                    id="delete-old-untagged",
                    action="DELETE",
                    condition=registry.ArtifactRegistryRepositoryCleanupPoliciesCondition(
                        tag_state="UNTAGGED", older_than=f"{images.delete_untagged_after_days * 86400}s"),
                ),
            ],
            depends_on=[apis.enable("artifactregistry.googleapis.com"), apis.enable("containerscanning.googleapis.com")],
        )
        keep(self.repository, config, "image_repository")

    @property
    def url(self) -> str:
        """`<region>-docker.pkg.dev/<project>/<repository>`, where CI pushes."""
        return f"{self.repository.location}-docker.pkg.dev/{self.repository.project}/{self.repository.repository_id}"
