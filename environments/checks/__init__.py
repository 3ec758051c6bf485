"""Gate 3: the semantic checks a schema cannot express, one module per section of the file.

Each module is named after the section it checks, and its docstring names the config classes
that section becomes (environments/config.py). Across sections: names.py (every derived name
within Google's limits), retention.py (production's retention floors), and shared.py (what
several sections' checks use).
"""

from __future__ import annotations

from typing import Iterator

from environments.checks.application import application_problems
from environments.checks.compliance import compliance_problems
from environments.checks.cost import cost_problems
from environments.checks.data import data_problems
from environments.checks.delivery import delivery_problems
from environments.checks.disaster_recovery import disaster_recovery_problems
from environments.checks.edge import edge_problems
from environments.checks.events import events_problems
from environments.checks.load_profile import load_profile_problems
from environments.checks.monitoring import monitoring_problems
from environments.checks.names import name_problems
from environments.checks.network import network_problems
from environments.checks.project import project_problems
from environments.checks.retention import retention_floor_problems
from environments.checks.shared import PRODUCTION
from environments.problems import Problem


def semantic_problems(data: dict, shown: str, name: str) -> Iterator[Problem]:
    """Every section's problems, in the order the file's reader meets them."""
    yield from project_problems(shown, data["project"])
    yield from network_problems(shown, data)
    yield from application_problems(shown, data, name)
    yield from data_problems(shown, data["data"], name)
    yield from delivery_problems(shown, data)
    yield from events_problems(shown, data)
    yield from load_profile_problems(shown, data)
    yield from monitoring_problems(shown, data["monitoring"], name)
    yield from cost_problems(shown, data["cost"])
    yield from compliance_problems(shown, data["compliance"], name)
    yield from disaster_recovery_problems(shown, data)
    yield from edge_problems(shown, data["edge"], data["api"])
    if name == PRODUCTION:
        yield from retention_floor_problems(shown, data)
    yield from name_problems(shown, data, name)
