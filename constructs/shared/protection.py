"""Keeping the resources whose loss is unrecoverable (policies/protected.py): a pinned address and,
in production, deletion protection.

This is the one place that decides what staging gets: a pinned address, and no protection, so
the whole environment can be torn down (`cdktf destroy staging`) and rebuilt from the code.
"""

from __future__ import annotations

import re

from environments.config import EnvironmentConfig
from policies.protected import PROTECTED

# Terraform resource names: a letter or underscore first, then letters, digits, underscores, dashes.
ADDRESS_NAME = re.compile(r"^[a-z_][a-z0-9_-]*$")
_TYPES: dict[type, str] = {}


def _resource_type(resource) -> str:
    """The Terraform type of a binding object, read from its class once (a jsii round trip)."""
    cls = type(resource)
    if cls not in _TYPES:
        _TYPES[cls] = cls.TF_RESOURCE_TYPE
    return _TYPES[cls]


def keep(resource, config: EnvironmentConfig, name: str) -> None:
    """Give a protected resource the Terraform address `<type>.<name>`, whatever its construct
    path (a renamed construct no longer moves it), and protect it in production: the type's own
    deletion protection, which the construct sets from the environment file (Cloud SQL, secrets),
    or else Terraform's lifecycle.prevent_destroy."""
    if not ADDRESS_NAME.match(name):
        raise ValueError(f"{name!r} is not a Terraform resource name (lowercase letters, digits, _ and -)")
    resource.override_logical_id(name)
    if config.is_production and not PROTECTED[_resource_type(resource)].provider_flags:
        resource.add_override("lifecycle.prevent_destroy", True)
