"""The Google APIs a stack enables: every tier asks for the ones it uses."""

from __future__ import annotations

from constructs import Construct

from constructs.google import project_service
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
