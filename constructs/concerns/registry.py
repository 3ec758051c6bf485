"""The Artifact Registry Docker repositories the application's CI pushes images to: one in each
site's region. Artifact Registry is regional, so images pushed only to the primary region's
repository would be out of reach in the outage a failover answers; CI pushes every image to both
(docs/runbooks/deploy.md), and the runtimes pull from the active region's."""

from __future__ import annotations

from typing import TYPE_CHECKING

from constructs import Construct

from constructs.google import artifact_registry_repository as registry
from constructs.shared.protection import keep
from constructs.shared.sites import site_address
from environments.config import PRIMARY_SITE, EnvironmentConfig

if TYPE_CHECKING:
    from constructs.shared.apis import Apis

TIER = "delivery"


class ImageRepository(Construct):
    """`url` is the active region's repository, `standby_url` the other site's (or None)."""

    def __init__(self, scope: Construct, id_: str, *, config: EnvironmentConfig, apis: "Apis"):
        super().__init__(scope, id_)
        # Both exist whichever site is active: each holds images (protected), and neither moves.
        self.repositories = {site: self._repository(config, apis, site) for site in config.sites}
        recovery = config.disaster_recovery
        self.repository = self.repositories[recovery.active_site]
        self.standby = self.repositories.get(recovery.standby_site)

    def _repository(self, config: EnvironmentConfig, apis: "Apis", site: str) -> registry.ArtifactRegistryRepository:
        images = config.images
        repository = registry.ArtifactRegistryRepository(
            self,
            "repository" if site == PRIMARY_SITE else "repository-dr",
            repository_id=config.resource_name("images"),
            location=config.region_of(site),
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
        keep(repository, config, site_address("image_repository", site))
        return repository

    @property
    def url(self) -> str:
        """`<region>-docker.pkg.dev/<project>/<repository>`, where CI pushes and the runtimes pull."""
        return _url(self.repository)

    @property
    def standby_url(self) -> str | None:
        """The other site's repository, where CI pushes every image too; None without a DR site."""
        return _url(self.standby) if self.standby else None


def _url(repository: registry.ArtifactRegistryRepository) -> str:
    return f"{repository.location}-docker.pkg.dev/{repository.project}/{repository.repository_id}"
