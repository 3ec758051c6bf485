"""One HexProperty environment as a TerraformStack: provider, state backend, APIs, tiers."""

from __future__ import annotations

from collections import defaultdict

from cdktf import GcsBackend, TerraformOutput, TerraformStack, Token
from constructs import Construct

from constructs.concerns.compliance import Compliance
from constructs.concerns.cost import Cost
from constructs.concerns.delivery import account_email
from constructs.concerns.dr_drill import DrDrill
from constructs.concerns.registry import ImageRepository
from constructs.google import provider
from constructs.shared.apis import Apis
from constructs.shared.cloud_run import RuntimeWiring, url_variable
from constructs.shared.network import Network
from constructs.tiers.api import Api
from constructs.tiers.data import Data
from constructs.tiers.edge import Edge
from constructs.tiers.error_tracking import ErrorTracking
from constructs.tiers.events import Events
from constructs.tiers.frontend import Frontend
from constructs.tiers.microservices import Microservices
from constructs.tiers.monitoring import Monitoring
from environments.config import EnvironmentConfig
from policies.pack import PolicyPack


class HexPropertyStack(TerraformStack):
    def __init__(self, scope: Construct, config: EnvironmentConfig):
        super().__init__(scope, config.name)
        self.config = config
        self.policies = PolicyPack(config)
        self.policies.attach(self)
        # Budgets live on the billing account: with user credentials the Budget API needs a quota
        # project, and these send this one (gcp-facts section 6); harmless for service accounts.
        google = provider.GoogleProvider(self, "google", project=config.project_id, region=config.region,
                                         billing_project=config.project_id, user_project_override=True)
        # A backstop: every construct also sets its full label set (with tier and service).
        # Set by override because cdktf snake-cases the keys of provider map arguments
        # (measured: `managed-by` came out as `managed_by`).
        google.add_override("default_labels", dict(config.base_labels))
        GcsBackend(self, bucket=config.state_bucket, prefix=config.name)
        self.apis = Apis(self, "apis", config=config)
        self.network = Network(self, "network", config=config, apis=self.apis)
        # Before the runtimes: the API's secrets rotate on its topic.
        self.compliance = Compliance(self, "compliance", config=config, apis=self.apis)
        self.cost = Cost(self, "cost", config=config, apis=self.apis)
        if config.is_production:  # the drill is production's recovery; staging has no DR copy to drill
            DrDrill(self, "dr-drill", config=config, apis=self.apis, channels=self.compliance.channels)
        self.images = ImageRepository(self, "images", config=config, apis=self.apis)
        # Data and events before the runtimes: environment variables are fixed when a service is
        # built, so clients are built knowing where the database, the cache and Kafka are.
        self.data = Data(self, "data", config=config, apis=self.apis, network=self.network)
        self.events = Events(self, "events", config=config, network=self.network, apis=self.apis)
        self.error_tracking = ErrorTracking(self, "error-tracking", config=config, apis=self.apis)
        wiring = self._wiring()

        # Callees before callers: each caller is built with the URLs of what it calls.
        self.microservices = Microservices(self, "microservices", config=config, network=self.network, apis=self.apis,
                                           wiring=wiring)
        services = self.microservices.services
        self.api = Api(self, "api", config=config, network=self.network, apis=self.apis, wiring=wiring["api"],
                       rotation=self.compliance.rotation,
                       callee_urls={url_variable(c): services[c].url for c in config.api.calls})
        callees = {"api": self.api, **services}
        self.frontend = Frontend(self, "frontend", config=config, network=self.network, apis=self.apis,
                                 wiring=wiring["frontend"],
                                 callee_urls={url_variable(c): callees[c].url for c in config.frontend.calls})
        for callee in config.api.calls:
            callees[callee].grant_invoker(self.api.identity)
        for callee in config.frontend.calls:
            callees[callee].grant_invoker(self.frontend.identity)
        runtimes = {"frontend": self.frontend, **callees}
        self._grant_data(runtimes)
        for client in config.events.clients:
            self.events.grant_client(runtimes[client].identity)
        self._grant_error_tracking(runtimes)
        # Users reach the first domain when the edge is on: the uptime check probes it there.
        frontend_url = self.frontend.url
        if config.edge.enabled:
            self.edge = Edge(self, "edge", config=config, apis=self.apis, frontend_service=self.frontend.service.name)
            frontend_url = f"https://{config.edge.domains[0]}"
            TerraformOutput(self, "edge-address", value=self.edge.address.address,
                            description="Point the A record of every edge domain here (docs/runbooks/deploy.md)")
        # Behind the edge the API answers the VPC only (the frontend's calls): nothing outside probes it.
        api_answers_internet = not config.edge.enabled
        self.monitoring = Monitoring(
            self, "monitoring", config=config, apis=self.apis, runtimes=self._monitored(), frontend_url=frontend_url,
            api_uri=self.api.function.service_config.uri if api_answers_internet else None,
            api_function_name=self.api.function.name)

        TerraformOutput(self, "frontend-url", value=frontend_url)
        TerraformOutput(self, "api-url", value=self.api.url)
        TerraformOutput(self, "image-repository", value=self.images.url,
                        description="Where the runtimes pull from: the active region's repository")
        if self.images.standby_url:
            TerraformOutput(self, "standby-image-repository", value=self.images.standby_url,
                            description="CI pushes every image here too, so a failover finds it in the other region")
        TerraformOutput(self, "kafka-address", value=self.events.address)
        # The smoke tests after each apply call the API as the bootstrap stack's smoke account, where
        # it answers the internet; `smoke-api-url` is empty where it does not.
        TerraformOutput(self, "smoke-api-url", value=self.api.url if api_answers_internet else "")
        if api_answers_internet:
            self.api.allow_invoker("smoke-tests", f"serviceAccount:{account_email(config, config.short_name('smoke'))}")

    def _wiring(self) -> dict[str, RuntimeWiring]:
        """Where each runtime finds the database, the cache and Kafka (never a secret value)."""
        postgres, redis, data = self.data.postgres, self.data.redis, self.config.data
        wiring: dict[str, RuntimeWiring] = defaultdict(RuntimeWiring)
        # Each attribute read is a round trip into jsii: read once, hand the same values to every client.
        database = dict(DB_HOST=postgres.instance.private_ip_address,
                        DB_CONNECTION_NAME=postgres.instance.connection_name,
                        DB_NAMES=",".join(data.postgres.databases)) if data.postgres.clients else {}
        for client in data.postgres.clients:
            wiring[client].env.update(database)
        cache = dict(REDIS_HOST=redis.instance.host,
                     REDIS_PORT=Token.as_string(redis.instance.port)) if data.redis.clients else {}
        auth_secret = redis.auth_secret.secret_id if data.redis.clients else None
        for client in data.redis.clients:
            wiring[client].env.update(cache)
            wiring[client].secret_env["REDIS_AUTH"] = auth_secret
        for client in self.config.events.clients:
            wiring[client].env.update(self.events.env_for(client))
        for runtime in ("frontend", "api", *(s.name for s in self.config.microservices)):
            wiring[runtime].env.update(self.error_tracking.env)
            wiring[runtime].secret_env.update(self.error_tracking.secret_env)
        return wiring

    def _grant_error_tracking(self, runtimes: dict) -> None:
        # Every runtime reads the Sentry DSN when it deploys: all grants and the version come first.
        for runtime in runtimes.values():
            self.error_tracking.grant(runtime.identity)
        for runtime in runtimes.values():
            runtime.wait_for(*self.error_tracking.dependables)

    def _monitored(self) -> dict[str, tuple[str, int | None]]:
        """Runtime -> (its Cloud Run service name, its instance cap, or None where the cap is no signal)."""
        config = self.config
        services = {"frontend": config.frontend, **{s.name: s for s in config.microservices}}
        monitored = {name: (config.resource_name(name), s.max_instances) for name, s in services.items()}
        # A 2nd gen function is served by the Cloud Run service of the same name.
        monitored["api"] = (config.resource_name("api"), config.api.max_instances)
        if config.events.backend == "cloud-run":
            # Always exactly one instance: at its cap whenever it runs.
            monitored["kafka"] = (config.resource_name("kafka"), None)
        return monitored

    def _grant_data(self, runtimes: dict) -> None:
        data = self.config.data
        for client in data.postgres.clients:
            self.data.postgres.grant_connect(runtimes[client].identity)
        for client in data.redis.clients:
            # The runtime reads the AUTH secret when it deploys: access and the version come first.
            runtimes[client].wait_for(self.data.redis.grant_access(runtimes[client].identity.account),
                                      self.data.redis.auth_secret_version)
