"""Terraform's top-level `removed` and `import` blocks, which cdktf 0.21 has no construct for.

A region failover (disaster_recovery.active_region: dr) uses both: `removed` with
`destroy = false` takes the old region's resources out of state without calling Google (a dead
region is never touched; Terraform >= 1.7), and `import` adopts what already exists under a new
address, such as the databases and users a promoted replica holds (Terraform >= 1.5).
"""

from __future__ import annotations

from cdktf import TerraformStack
from constructs import Construct


def _append(scope: Construct, key: str, block: dict) -> None:
    # An override replaces its value: the stack keeps the list and writes it whole each time.
    stack = TerraformStack.of(scope)
    blocks = stack.__dict__.setdefault(f"_{key}_blocks", [])
    blocks.append(block)
    stack.add_override(key, list(blocks))


def forget(scope: Construct, address: str) -> None:
    """Drop `address` from Terraform's state and leave the resource as it is in Google Cloud."""
    _append(scope, "removed", {"from": address, "lifecycle": {"destroy": False}})


def adopt(scope: Construct, address: str, import_id: str) -> None:
    """Bring the existing resource `import_id` under `address` at the next apply."""
    _append(scope, "import", {"to": address, "id": import_id})
