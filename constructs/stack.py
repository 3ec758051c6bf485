"""One HexProperty environment as a TerraformStack: provider, state backend, APIs, tiers."""

from __future__ import annotations

from cdktf import GcsBackend, TerraformOutput, TerraformStack
from constructs import Construct

from constructs.api import Api
from constructs.cloud_run import url_variable
from constructs.events import Events
from constructs.frontend import Frontend
from constructs.google import project_service, provider
from constructs.microservices import Microservices
from constructs.network import Network
from constructs.registry import ImageRepository
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
        self.images = ImageRepository(self, "images", config=config, apis=self.apis)

        # Events before the runtimes: environment variables are fixed when a service is built,
        # so producers and consumers are built with the Kafka address, as callers with URLs.
        self.events = Events(self, "events", config=config, network=self.network, apis=self.apis)
        events = self.events

        # Callees before callers: each caller is built with the URLs of what it calls.
        self.microservices = Microservices(self, "microservices", config=config, network=self.network, apis=self.apis,
                                           env={s.name: events.env_for(s.name) for s in config.microservices})
        services = self.microservices.services
        self.api = Api(self, "api", config=config, network=self.network, apis=self.apis,
                       callee_urls={url_variable(c): services[c].url for c in config.api.calls},
                       env=events.env_for("api"))
        callees = {"api": self.api, **services}
        self.frontend = Frontend(self, "frontend", config=config, network=self.network, apis=self.apis,
                                 callee_urls={url_variable(c): callees[c].url for c in config.frontend.calls},
                                 env=events.env_for("frontend"))
        for callee in config.api.calls:
            callees[callee].grant_invoker(self.api.identity)
        for callee in config.frontend.calls:
            callees[callee].grant_invoker(self.frontend.identity)
        identities = {"frontend": self.frontend.identity, "api": self.api.identity,
                      **{name: service.identity for name, service in services.items()}}
        for client in config.events.clients:
            events.grant_client(identities[client])

        TerraformOutput(self, "frontend-url", value=self.frontend.url)
        TerraformOutput(self, "api-url", value=self.api.url)
        TerraformOutput(self, "image-repository", value=self.images.url)
        TerraformOutput(self, "kafka-address", value=self.events.address)
