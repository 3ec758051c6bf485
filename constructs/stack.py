"""One HexProperty environment as a TerraformStack: provider, state backend, APIs, tiers."""

from __future__ import annotations

from cdktf import GcsBackend, TerraformStack
from constructs import Construct

from constructs.delivery import Delivery
from constructs.google import project_service, provider
from constructs.network import Network
from environments.config import EnvironmentConfig


class Apis(Construct):
    """The Google APIs the stack uses, each enabled once and left on when the stack is destroyed."""

    def __init__(self, scope: Construct, id_: str, *, config: EnvironmentConfig):
        super().__init__(scope, id_)
        self._config = config
        self._enabled: dict[str, project_service.ProjectService] = {}

    def enable(self, service: str) -> project_service.ProjectService:
        """The `google_project_service` for `service`; resources that need the API depend on it."""
        if service not in self._enabled:
            self._enabled[service] = project_service.ProjectService(
                self,
                service.split(".")[0],
                project=self._config.project_id,
                service=service,
                # Turning an API off on destroy breaks whatever else in the project uses it.
                disable_on_destroy=False,
                disable_dependent_services=False,
            )
        return self._enabled[service]

    @property
    def services(self) -> list[str]:
        return sorted(self._enabled)


class HexPropertyStack(TerraformStack):
    def __init__(self, scope: Construct, config: EnvironmentConfig):
        super().__init__(scope, config.name)
        self.config = config
        google = provider.GoogleProvider(self, "google", project=config.project_id, region=config.region)
        # A backstop: every construct also sets its full label set (with tier and service).
        # Set by override because cdktf snake-cases the keys of provider map arguments
        # (measured: `managed-by` came out as `managed_by`).
        google.add_override("default_labels", dict(config.base_labels))
        GcsBackend(self, bucket=config.state_bucket, prefix=config.name)
        self.apis = Apis(self, "apis", config=config)
        self.network = Network(self, "network", config=config, apis=self.apis)
        # Last: the deployer's roles follow every API the tiers above enabled.
        self.delivery = Delivery(self, "delivery", config=config, apis=self.apis)
