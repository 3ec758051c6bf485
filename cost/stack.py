"""Reading a synthesized stack: its resources, their tier, references and quantities.

Works on cdktf's JSON as written and on the snapshots (sorted, no `//` metadata), so it
never reads `//`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

REFERENCE = re.compile(r"^\$\{([a-z0-9_]+)\.([^.}]+)\.[a-z_]+\}$")
# Kubernetes-style quantities, as Cloud Run and Cloud Functions take them.
QUANTITY = re.compile(r"^([0-9]+(?:\.[0-9]+)?)(k|M|G|T|Ki|Mi|Gi|Ti|m)?$")
SCALE = {None: 1, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}
GIB = 2**30


@dataclass(frozen=True)
class Resource:
    type: str
    address: str  # the Terraform resource name inside its type, e.g. network_connector_88494031
    body: dict

    @property
    def ref(self) -> str:
        return f"{self.type}.{self.address}"

    @property
    def labels(self) -> dict:
        # Cloud SQL keeps its labels under settings.user_labels.
        return self.body.get("labels") or block(self.body, "settings").get("user_labels") or {}

    @property
    def tier(self) -> str:
        """The `tier` label; for resources Google cannot label (connector, NAT, router), the
        top-level construct id, which the address starts with (network_connector_... -> network)."""
        return self.labels.get("tier") or self.address.split("_", 1)[0]

    @property
    def display_name(self) -> str:
        for key in ("name", "display_name", "bucket_id", "repository_id", "secret_id", "cluster_id", "account_id"):
            value = self.body.get(key)
            if isinstance(value, str) and "${" not in value:
                return value
        return self.address


def resources(stack: dict) -> Iterator[Resource]:
    for type_, by_address in sorted(stack.get("resource", {}).items()):
        for address, body in sorted(by_address.items()):
            yield Resource(type_, address, body)


def tier_of(stack: dict, resource: Resource) -> str:
    """A secret version carries no labels of its own: it bills to its secret's tier."""
    if "tier" not in resource.labels:
        parent = find(stack, resource.body.get("secret"))
        if parent is not None and "tier" in parent.labels:
            return parent.labels["tier"]
    return resource.tier


def find(stack: dict, reference: Any) -> Resource | None:
    """The resource a `${type.address.attribute}` string points at, or None."""
    match = REFERENCE.match(reference) if isinstance(reference, str) else None
    if not match:
        return None
    body = stack.get("resource", {}).get(match.group(1), {}).get(match.group(2))
    return Resource(match.group(1), match.group(2), body) if body is not None else None


def environment_of(stack: dict, path: Path | None = None) -> str | None:
    """The `env` default label of the google provider; else the stack folder's name."""
    for provider in stack.get("provider", {}).get("google", []):
        env = (provider.get("default_labels") or {}).get("env")
        if env:
            return env
    if path is not None and path.name == "cdk.tf.json":
        return path.parent.name
    return None


def block(body: dict, key: str) -> dict:
    """A nested block: cdktf writes a single block as an object, Terraform accepts a list of one."""
    value = body.get(key) or {}
    if isinstance(value, list):
        return value[0] if value else {}
    return value


def quantity(text: str | int | float) -> float:
    """'1' -> 1, '1000m' -> 1, '512Mi' -> 536870912, '256M' -> 256000000."""
    match = QUANTITY.match(str(text).strip())
    if not match:
        raise ValueError(f"{text!r} is not a quantity")
    number, suffix = float(match.group(1)), match.group(2)
    return number / 1000 if suffix == "m" else number * SCALE[suffix]


def gib(text: str) -> float:
    return quantity(text) / GIB
