"""What the checks of several sections share: the runtimes a file defines, instance ranges,
Cloud Run memory for its CPU, time zones, and the environment held to production's rules."""

from __future__ import annotations

import difflib
import zoneinfo
from typing import Iterable, Iterator

from environments.problems import Problem

RUNTIMES = ("frontend", "api")  # besides the microservices named in the file
EVENTS_COMPONENT = "kafka"  # the events tier's names: its service, service account, bucket, cluster

# The environment held to production's rules: HA, backups, PITR, replica, deletion protection.
PRODUCTION = "production"


def run_services(data: dict) -> Iterator[tuple[str, str, dict]]:
    """(runtime name, key path, merged settings) of every Cloud Run service in the file."""
    yield "frontend", "frontend", data["frontend"]
    defaults = data["microservices"]["defaults"]
    for service, overrides in data["microservices"]["services"].items():
        yield service, f"microservices.services.{service}", {**defaults, **overrides}


def runtime_names(data: dict) -> list[str]:
    return [*RUNTIMES, *data["microservices"]["services"]]


def unknown_runtimes(shown: str, data: dict, path: str, names: Iterable[str], indexed: bool = True) -> Iterator[Problem]:
    """Names that should be runtimes of the file (frontend, api, a microservice) but are not."""
    known = runtime_names(data)
    for index, name in enumerate(names):
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            fix = (f"did you mean {close[0]!r}? " if close else "") + f"runtimes here: {', '.join(known)}"
            yield Problem(shown, f"{path}[{index}]" if indexed else path, f"{name!r} is not a runtime of this file", fix)


def min_max(shown: str, section: dict, path: str) -> Iterator[Problem]:
    low, high = section.get("min_instances"), section.get("max_instances")
    if low is not None and high is not None and low > high:
        yield Problem(shown, f"{path}.min_instances", f"min_instances {low} is above max_instances {high}",
                      f"set min_instances to at most {high}, or raise max_instances")


def memory_for_cpu(shown: str, path: str, memory: str, cpu: int, key: str = "memory",
                    cpu_key: str = "cpu") -> Iterator[Problem]:
    mebibytes = int(memory[:-2]) * (1024 if memory.endswith("Gi") else 1)
    if not 128 <= mebibytes <= 32 * 1024:
        yield Problem(shown, f"{path}.{key}", f"{memory} is outside Cloud Run's 128Mi-32Gi", "use for example 512Mi or 1Gi")
        return
    # Cloud Run's minimum CPU per memory size (cloud.google.com/run/docs/configuring/services/memory-limits).
    for above_gib, needs in ((24, 8), (16, 6), (8, 4), (4, 2)):
        if mebibytes > above_gib * 1024 and cpu < needs:
            yield Problem(shown, f"{path}.{key}", f"{memory} needs at least {needs} CPU on Cloud Run; {cpu_key} is {cpu}",
                          f"set {cpu_key} to {needs} or more, or lower {key} to {above_gib}Gi")
            return


def time_zone_problems(shown: str, path: str, zone: str) -> Iterator[Problem]:
    try:
        zoneinfo.ZoneInfo(zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        # Listing the zones walks the whole tz database (~30 ms): only for a name that failed.
        known = zoneinfo.available_timezones()
        if not known:  # a machine without tz data cannot judge; the scheduler API still will
            return
        close = difflib.get_close_matches(zone, sorted(known), n=1)
        yield Problem(shown, path, f"{zone!r} is not an IANA time zone",
                      f"did you mean {close[0]!r}?" if close else "use a name such as Europe/Brussels or Etc/UTC")
