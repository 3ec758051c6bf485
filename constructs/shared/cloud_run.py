"""A Cloud Run v2 service built from a RunServiceConfig: the shape the frontend and every
microservice share (scaling, resources, probe, Direct VPC egress, image ownership)."""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Mapping

from cdktf import TerraformResourceLifecycle
from constructs import Construct

from constructs.google import cloud_run_v2_service as run
from constructs.google import cloud_run_v2_service_iam_member
from constructs.shared.runtime import RuntimeIdentity
from constructs.shared.sites import place
from environments.config import EnvironmentConfig, RunServiceConfig

if TYPE_CHECKING:
    from constructs.shared.apis import Apis
    from constructs.shared.network import Network

# Terraform creates the service; the application's CI deploys images and revisions
# (gcloud run deploy), which also stamps the client fields. Terraform leaves those alone.
IGNORED_AFTER_CREATE = [
    "template[0].containers[0].image",
    "template[0].revision",
    "client",
    "client_version",
]


@dataclass
class RuntimeWiring:
    """What the stack hands a runtime about the tiers it uses: plain values and secret references."""

    env: dict[str, str] = field(default_factory=dict)
    secret_env: dict[str, str] = field(default_factory=dict)  # VARIABLE -> Secret Manager secret id


def wait_for(resource, *dependencies) -> None:
    """Make `resource` wait for resources created after it (grants it needs at deploy time)."""
    resource.depends_on = list(resource.depends_on or []) + [_address(d) for d in dependencies]


# Every attribute read is a round trip into jsii, and one grant (the Sentry DSN's, say) is
# waited for by every runtime: read each dependency's address once.
_ADDRESSES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _address(resource) -> str:
    """The bare address `google_x.name`: `depends_on` takes only static references, and
    `resource.fqn` renders as the expression `${google_x.name}`, which Terraform refuses there
    (the constructor's `depends_on=` argument strips the braces itself; this setter does not)."""
    if resource not in _ADDRESSES:
        _ADDRESSES[resource] = f"{resource.terraform_resource_type}.{resource.friendly_unique_id}"
    return _ADDRESSES[resource]


class CloudRunService(Construct):
    """One service with its own identity. `url`, `identity` and `grant_invoker` for consumers."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        config: EnvironmentConfig,
        settings: RunServiceConfig,
        tier: str,
        ingress: str,
        network: "Network",
        apis: "Apis",
        env: Mapping[str, str] | None = None,
        secret_env: Mapping[str, str] | None = None,
        public: bool = False,
    ):
        super().__init__(scope, id_)
        self.settings = settings
        self.identity = RuntimeIdentity(self, "identity", config=config, apis=apis, runtime=settings.name)
        self.name = config.resource_name(settings.name)
        variables = {**settings.env, **(env or {})}
        self.service = run.CloudRunV2Service(
            self,
            "service",
            name=self.name,
            location=config.active_region,
            ingress=ingress,
            # Allows `cdktf destroy` of staging; production keeps the provider's default (on).
            deletion_protection=config.is_production,
            # Public without an allUsers binding: Google's recommended way, and it keeps working
            # under the domain-restricted-sharing org policy that refuses allUsers members.
            invoker_iam_disabled=public,
            labels=config.labels(tier, settings.name),
            template=run.CloudRunV2ServiceTemplate(
                service_account=self.identity.email,
                scaling=run.CloudRunV2ServiceTemplateScaling(
                    min_instance_count=settings.min_instances, max_instance_count=settings.max_instances
                ),
                max_instance_request_concurrency=settings.concurrency,
                timeout=f"{settings.timeout_seconds}s",
                vpc_access=run.CloudRunV2ServiceTemplateVpcAccess(
                    # All egress through the VPC: calls to internal-ingress services count as
                    # internal only when routed there; Cloud NAT carries the rest outside.
                    egress="ALL_TRAFFIC",
                    network_interfaces=[run.CloudRunV2ServiceTemplateVpcAccessNetworkInterfaces(
                        network=network.vpc_id, subnetwork=network.subnet_id)],
                ),
                containers=[run.CloudRunV2ServiceTemplateContainers(
                    image=settings.image,
                    ports=run.CloudRunV2ServiceTemplateContainersPorts(container_port=settings.port),
                    resources=run.CloudRunV2ServiceTemplateContainersResources(
                        limits={"cpu": str(settings.cpu), "memory": settings.memory},
                        # Explicit: once `resources` is set the provider no longer defaults it.
                        cpu_idle=settings.cpu_idle,
                        startup_cpu_boost=True,
                    ),
                    env=[run.CloudRunV2ServiceTemplateContainersEnv(name=k, value=v)
                         for k, v in sorted(variables.items())] + [
                        run.CloudRunV2ServiceTemplateContainersEnv(
                            name=k,
                            value_source=run.CloudRunV2ServiceTemplateContainersEnvValueSource(
                                secret_key_ref=run.CloudRunV2ServiceTemplateContainersEnvValueSourceSecretKeyRef(
                                    secret=secret, version="latest")),
                        )
                        for k, secret in sorted((secret_env or {}).items())],
                    # Direct VPC egress can take a minute to connect on a cold start: allow 2 minutes.
                    startup_probe=run.CloudRunV2ServiceTemplateContainersStartupProbe(
                        http_get=run.CloudRunV2ServiceTemplateContainersStartupProbeHttpGet(
                            path=settings.startup_probe_path),
                        period_seconds=10,
                        timeout_seconds=5,
                        failure_threshold=12,
                    ),
                )],
            ),
            traffic=[_traffic(split) for split in settings.traffic] or None,
            lifecycle=TerraformResourceLifecycle(ignore_changes=IGNORED_AFTER_CREATE),
            depends_on=[apis.enable("run.googleapis.com")],
        )
        place(self.service, config)
        self._config = config

    @cached_property
    def url(self) -> str:  # read by every caller's wiring and by the outputs: once from jsii
        return self.service.uri

    def wait_for(self, *dependencies) -> None:
        wait_for(self.service, *dependencies)

    def grant_invoker(self, caller: RuntimeIdentity) -> None:
        """Let `caller` invoke this service (roles/run.invoker on this service only)."""
        project, location, name = self._address
        place(cloud_run_v2_service_iam_member.CloudRunV2ServiceIamMember(
            self, f"invoker-{caller.runtime}", project=project, location=location, name=name,
            role="roles/run.invoker", member=caller.member,
        ), self._config)

    @cached_property
    def _address(self) -> tuple[str, str, str]:
        """The service's project, location and name, read once for all its invoker grants."""
        return self.service.project, self.service.location, self.service.name


def _traffic(split) -> run.CloudRunV2ServiceTraffic:
    if split.revision is None:
        return run.CloudRunV2ServiceTraffic(type="TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST", percent=split.percent, tag=split.tag)
    return run.CloudRunV2ServiceTraffic(
        type="TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION", revision=split.revision, percent=split.percent, tag=split.tag
    )


def url_variable(runtime: str) -> str:
    """The environment variable that carries a callee's URL: `bookings` -> `BOOKINGS_URL`."""
    return f"{runtime.upper().replace('-', '_')}_URL"
