"""Every name the stacks derive from the file, held to Google's length and character limits
(DESIGN.md section 4), so a long name fails here rather than at apply time."""

from __future__ import annotations

import re
from typing import Iterator

from environments.checks.shared import EVENTS_COMPONENT, RUNTIMES
from environments.config import APP, DR_BUCKET_SUFFIX, SHORT_APP, DataNames
from environments.problems import Problem

# Google's limits on names the stacks derive from the file (DESIGN.md section 4).
NAME_RULES = {
    "service account id": (re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$"), 6, 30),
    "VPC Access connector name": (re.compile(r"^[a-z][-a-z0-9]{0,23}[a-z0-9]$"), 2, 25),
    "resource name": (re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$"), 1, 63),
    "Cloud Run service name": (re.compile(r"^[a-z]([-a-z0-9]{0,47}[a-z0-9])?$"), 1, 49),
    "bucket name": (re.compile(r"^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$"), 3, 63),
    "Memorystore instance id": (re.compile(r"^[a-z]([-a-z0-9]{0,38}[a-z0-9])?$"), 1, 40),
    "custom role id": (re.compile(r"^[a-zA-Z0-9_.]{3,64}$"), 3, 64),
    # The `gcp-` prefix is reserved by Google.
    "workload identity pool id": (re.compile(r"^(?!gcp-)[a-z0-9][a-z0-9-]{2,30}[a-z0-9]$"), 4, 32),
}


def derived_names(data: dict, name: str) -> Iterator[tuple[str, str, str]]:
    """(key path that produced it, name, kind) for every name the stacks derive from the file."""
    yield "state.bucket", data["state"]["bucket"], "bucket name"
    yield "(file name)", f"{APP}-{name}-vpc", "resource name"
    yield "(file name)", f"{SHORT_APP}-{name}-conn", "VPC Access connector name"
    yield "(file name)", f"{APP}-{name}-function-sources", "bucket name"
    yield "(file name)", f"{SHORT_APP}-{name}-api-build", "service account id"
    for runtime in RUNTIMES:
        yield runtime, f"{SHORT_APP}-{name}-{runtime}", "service account id"
    yield "frontend", f"{APP}-{name}-frontend", "Cloud Run service name"
    for service in data["microservices"]["services"]:
        key = f"microservices.services.{service}"
        yield key, f"{SHORT_APP}-{name}-{service}", "service account id"
        yield key, f"{APP}-{name}-{service}", "Cloud Run service name"
    pg = data["data"]["postgres"]
    instances = data["disaster_recovery"]["sql_instances"]
    yield "disaster_recovery.sql_instances.primary", f"{APP}-{name}-{instances['primary']}", "resource name"
    yield "(file name)", f"{APP}-{name}-{DataNames.REDIS}", "Memorystore instance id"
    yield "(file name)", f"{APP}-{name}-{DataNames.REDIS_AUTH}", "resource name"
    if "replica" in pg:
        yield "disaster_recovery.sql_instances.dr", f"{APP}-{name}-{instances['dr']}", "resource name"
        # The DR site's buckets: bucket names are global, so a site's copy carries the suffix.
        yield "(file name)", f"{APP}-{name}-function-sources{DR_BUCKET_SUFFIX}", "bucket name"
        if data["events"]["backend"] == "cloud-run":
            yield "events", f"{APP}-{name}-{EVENTS_COMPONENT}-log{DR_BUCKET_SUFFIX}", "bucket name"
    if "locked_copy" in pg["backups"]:
        key = "data.postgres.backups.locked_copy"
        yield key, f"{APP}-{name}-{DataNames.SQL_COPY}", "bucket name"
        yield key, f"{APP}-{name}-{DataNames.SQL_COPY}", "Cloud Run service name"
        yield key, f"{SHORT_APP}-{name}-{DataNames.SQL_COPY}", "service account id"
        yield key, DataNames.custom_role_id(f"{APP}-{name}-{DataNames.SQL_COPY}"), "custom role id"
    if "auto_pause" in pg:
        yield "data.postgres.auto_pause", f"{APP}-{name}-{DataNames.PAUSE_SOURCE}", "bucket name"
        yield "data.postgres.auto_pause", f"{APP}-{name}-{DataNames.PAUSE_FUNCTION}", "Cloud Run service name"
        yield "data.postgres.auto_pause", f"{SHORT_APP}-{name}-{DataNames.PAUSE_ACCOUNT}", "service account id"
        yield "data.postgres.auto_pause", f"{SHORT_APP}-{name}-{DataNames.PAUSE_PUSH_ACCOUNT}", "service account id"
        yield "data.postgres.auto_pause", f"{SHORT_APP}-{name}-{DataNames.PAUSE_ACCOUNT}-build", "service account id"
        yield ("data.postgres.auto_pause", DataNames.custom_role_id(f"{APP}-{name}-{DataNames.PAUSE_ACCOUNT}"),
               "custom role id")
    yield "(file name)", f"{SHORT_APP}-{name}-github", "workload identity pool id"
    yield "(file name)", f"{SHORT_APP}-{name}-deployer", "service account id"
    yield "(file name)", f"{SHORT_APP}-{name}-planner", "service account id"
    if data["events"]["backend"] == "cloud-run":
        yield "events", f"{SHORT_APP}-{name}-{EVENTS_COMPONENT}", "service account id"
        yield "events", f"{APP}-{name}-{EVENTS_COMPONENT}", "Cloud Run service name"
        yield "events", f"{APP}-{name}-{EVENTS_COMPONENT}-log", "bucket name"
    else:
        yield "events", f"{APP}-{name}-{EVENTS_COMPONENT}", "resource name"


def name_problems(shown: str, data: dict, name: str) -> Iterator[Problem]:
    for key, value, kind in derived_names(data, name):
        pattern, low, high = NAME_RULES[kind]
        if not (low <= len(value) <= high) or not pattern.match(value):
            yield Problem(shown, key, f"derives the {kind} {value!r} ({len(value)} characters), outside Google's "
                          f"limit of {low}-{high} lowercase letters, digits and hyphens",
                          f"shorten it by {max(len(value) - high, 0) or 'the offending characters'}")
