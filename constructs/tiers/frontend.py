"""The frontend tier: the public Next.js app on Cloud Run."""

from __future__ import annotations

from typing import TYPE_CHECKING, Mapping

from constructs import Construct

from constructs.shared.cloud_run import CloudRunService, RuntimeWiring
from environments.config import EnvironmentConfig

if TYPE_CHECKING:
    from constructs.shared.apis import Apis
    from constructs.shared.network import Network

TIER = "frontend"


class Frontend(CloudRunService):
    """Reachable by anyone: through the edge's load balancer only when `edge.enabled` (then
    `*.run.app` no longer answers the internet), else directly. It calls the API and services with
    its own identity.

    `callee_urls` carries the URL of every runtime it calls (`API_URL`, `SEARCH_URL`, ...);
    `env` what other tiers hand it (for example the Kafka address).
    """

    def __init__(self, scope: Construct, id_: str, *, config: EnvironmentConfig, network: "Network", apis: "Apis",
                 callee_urls: Mapping[str, str], wiring: RuntimeWiring):
        super().__init__(
            scope,
            id_,
            config=config,
            settings=config.frontend,
            tier=TIER,
            ingress="INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER" if config.edge.enabled else "INGRESS_TRAFFIC_ALL",
            public=True,
            network=network,
            apis=apis,
            env={**wiring.env, **callee_urls},
            secret_env=wiring.secret_env,
        )
