"""Error tracking with Sentry (seed: "Error Tracking: Sentry (free tier)").

Sentry is a SaaS: what the infrastructure owns is where each runtime finds its DSN. The DSN
lives in one Secret Manager secret per environment; its value is added outside Terraform
(docs/runbooks/monitoring.md), so it never appears in the synthesized JSON or the plan.
Every runtime gets it as the secret variable SENTRY_DSN, plus SENTRY_ENVIRONMENT=<env> so
Sentry tells staging's events from production's in one project.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from constructs import Construct

from constructs.shared.secrets import AppSecret
from environments.config import EnvironmentConfig

if TYPE_CHECKING:
    from constructs.shared.apis import Apis
    from constructs.shared.runtime import RuntimeIdentity

TIER = "monitoring"
SERVICE = "sentry"
DSN_VARIABLE = "SENTRY_DSN"
ENVIRONMENT_VARIABLE = "SENTRY_ENVIRONMENT"
SECRET_COMPONENT = "sentry-dsn"


class ErrorTracking(Construct):
    """Built before the runtimes (their environment is fixed when they are built): `env` and
    `secret_env` for the wiring, then `grant(identity)` once each runtime exists."""

    def __init__(self, scope: Construct, id_: str, *, config: EnvironmentConfig, apis: "Apis"):
        super().__init__(scope, id_)
        self.dsn = AppSecret(self, "dsn", config=config, apis=apis, secret_id=config.resource_name(SECRET_COMPONENT),
                             tier=TIER, service=SERVICE, address="secret_sentry_dsn")
        self.env = {ENVIRONMENT_VARIABLE: config.name}
        self.secret_env = {DSN_VARIABLE: self.dsn.secret_id}

    def grant(self, identity: "RuntimeIdentity") -> None:
        """Let one runtime read the DSN."""
        self.dsn.grant_access(identity.member, id_=identity.runtime)

    @property
    def dependables(self) -> list:
        """What a runtime referencing the DSN waits for: the placeholder version and the grants."""
        return list(self.dsn.dependables)
