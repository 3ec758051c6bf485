"""Where a regional resource lives after a failover, and what happens to the other site's copy.

An environment with a replica has two sites: project.region (`primary`) and project.dr_region
(`dr`); `disaster_recovery.active_region` picks the one that runs the runtimes, their network,
Redis and Kafka. A resource cannot move between regions in place (its location forces a
replacement, and the old region may be down, while production's services carry deletion
protection), so each site has addresses of its own: the primary site's are the resource's usual
address, the DR site's end in `_dr`. When the standby site is forgotten
(`disaster_recovery.standby: forgotten`), a `removed` block takes its address out of Terraform's
state without calling Google, and the plan names it.
"""

from __future__ import annotations

from typing import Optional

from cdktf import TerraformStack

from constructs.shared.protection import keep
from constructs.shared.state_blocks import forget
from environments.config import DR_SITE, EnvironmentConfig

SITE_SUFFIX = {DR_SITE: "_dr"}


def site_address(name: str, site: str) -> str:
    """The Terraform resource name of `name` on `site`: `redis` in the primary region, `redis_dr` in the DR region."""
    return name + SITE_SUFFIX.get(site, "")


def place(resource, config: EnvironmentConfig, pinned: Optional[str] = None) -> None:
    """Put a resource that lives in the active region at that site's address (the `pinned`
    name kept by `keep()` for protected resources), and forget the standby site's address when
    that site was given up. Call it right after creating the resource, before anything reads
    its address."""
    recovery = config.disaster_recovery
    if pinned:
        keep(resource, config, site_address(pinned, recovery.active_site))
        base = pinned
    elif recovery.active_site == DR_SITE or recovery.forgets_standby:
        # The stack's allocation, not `friendly_unique_id`: reading that fixes the id for good.
        # Read only when needed: each read is a jsii round trip, and the primary site keeps the id.
        base = TerraformStack.of(resource).get_logical_id(resource)
        if recovery.active_site == DR_SITE:
            resource.override_logical_id(site_address(base, DR_SITE))
    else:
        return
    if recovery.forgets_standby:
        forget(resource, f"{resource.terraform_resource_type}.{site_address(base, recovery.standby_site)}")
