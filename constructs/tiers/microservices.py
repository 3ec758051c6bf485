"""The microservices tier: one internal Cloud Run service per entry in the environment file."""

from __future__ import annotations

from graphlib import TopologicalSorter
from typing import TYPE_CHECKING, Mapping

from constructs import Construct

from constructs.shared.cloud_run import CloudRunService, RuntimeWiring, url_variable
from environments.config import EnvironmentConfig

if TYPE_CHECKING:
    from constructs.shared.apis import Apis
    from constructs.shared.network import Network

TIER = "microservices"


class Microservices(Construct):
    """`services[name]` is each service's CloudRunService. Reachable only from inside the VPC
    (internal ingress), and only by callers granted roles/run.invoker."""

    def __init__(self, scope: Construct, id_: str, *, config: EnvironmentConfig, network: "Network", apis: "Apis",
                 wiring: Mapping[str, RuntimeWiring]):
        super().__init__(scope, id_)
        settings = {service.name: service for service in config.microservices}
        self.services: dict[str, CloudRunService] = {}
        # Callees first, so each caller is built with its callees' URLs (the loader refuses cycles).
        order = TopologicalSorter({name: set(s.calls) for name, s in settings.items()}).static_order()
        for name in order:
            service = settings[name]
            self.services[name] = CloudRunService(
                self,
                name,
                config=config,
                settings=service,
                tier=TIER,
                ingress="INGRESS_TRAFFIC_INTERNAL_ONLY",
                network=network,
                apis=apis,
                env={**wiring[name].env,
                     **{url_variable(callee): self.services[callee].url for callee in service.calls}},
                secret_env=wiring[name].secret_env,
            )
        for name, service in settings.items():
            for callee in service.calls:
                self.services[callee].grant_invoker(self.services[name].identity)
