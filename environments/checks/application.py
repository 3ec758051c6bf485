"""Checks of the runtimes (FrontendConfig and the microservices' RunServiceConfig, ApiConfig):
reserved names, calls and their cycles, function runtimes and memory, Cloud Run memory for CPU,
traffic splits, production's pinned images."""

from __future__ import annotations

import difflib
import re
from typing import Iterator

from environments.checks.shared import (
    PRODUCTION,
    RUNTIMES,
    memory_for_cpu,
    min_max,
    run_services,
    unknown_runtimes,
)
from environments.config import APP
from environments.problems import Problem

# Cloud Functions runtimes Google no longer deploys (docs: functions/docs/runtime-support).
DECOMMISSIONED_RUNTIMES = {
    "nodejs6": "2020-08-01", "nodejs8": "2021-02-03", "nodejs10": "2024-01-30", "nodejs12": "2024-01-30",
    "nodejs14": "2025-01-30", "nodejs16": "2025-01-30", "nodejs18": "2025-10-30", "nodejs20": "2026-10-30",
}
SUPPORTED_RUNTIMES = ("nodejs22", "nodejs24")


def application_problems(shown: str, data: dict, name: str) -> Iterator[Problem]:
    services = dict(data["microservices"]["services"])
    for reserved in RUNTIMES:
        if reserved in services:
            yield Problem(shown, f"microservices.services.{reserved}", f"{reserved!r} is the name of another tier",
                          "give the microservice another name")

    merged = {name_: settings for name_, _, settings in run_services(data) if name_ != "frontend"}
    cycle = _call_cycle(merged)
    if cycle:
        yield Problem(shown, f"microservices.services.{cycle[0]}.calls", f"calls go round in a circle: {' -> '.join(cycle)}",
                      "break the cycle (for example with an event on Kafka instead of a call)")

    for store in ("postgres", "redis"):
        yield from unknown_runtimes(shown, data, f"data.{store}.clients", data["data"][store]["clients"])

    api = data["api"]
    runtime = api["runtime"]
    if runtime in DECOMMISSIONED_RUNTIMES:
        yield Problem(shown, "api.runtime", f"{runtime} was decommissioned on Cloud Functions on "
                      f"{DECOMMISSIONED_RUNTIMES[runtime]}; new deploys and updates are refused",
                      f"use {' or '.join(SUPPORTED_RUNTIMES)} (nodejs24 is supported into 2028)")
    elif runtime not in SUPPORTED_RUNTIMES:
        yield Problem(shown, "api.runtime", f"{runtime} is not a Cloud Functions runtime this project knows",
                      f"use one of: {', '.join(SUPPORTED_RUNTIMES)}")
    yield from min_max(shown, api, "api")
    megabytes = _function_memory_mb(api["memory"])
    if not 128 <= megabytes <= 32 * 1024:
        yield Problem(shown, "api.memory", f"{api['memory']} is outside 128M-32Gi", "use for example 256M or 512M")
    yield from _calls(shown, "api.calls", api["calls"], "api", set(services))

    for runtime_name, path, service in run_services(data):
        yield from min_max(shown, service, path)
        yield from memory_for_cpu(shown, path, service["memory"], service["cpu"])
        # The frontend calls the API and services; services call services; nothing calls the frontend.
        callable_ = set(services) | ({"api"} if runtime_name == "frontend" else set())
        yield from _calls(shown, f"{path}.calls", service["calls"], runtime_name, callable_)
        if "traffic" in service:
            yield from _traffic(shown, f"{path}.traffic", service["traffic"], data_name=f"{APP}-{name}-{runtime_name}")
        image = service["image"]
        if name == PRODUCTION and ("@sha256:" not in image and (":" not in image.rsplit("/", 1)[-1] or image.endswith(":latest"))):
            yield Problem(shown, f"{path}.image", f"{image!r} is untagged or :latest, which production never deploys",
                          "pin a version tag or an @sha256 digest")


def _calls(shown: str, path: str, calls: list, caller: str, callable_: set) -> Iterator[Problem]:
    for index, callee in enumerate(calls):
        if callee == caller:
            yield Problem(shown, f"{path}[{index}]", f"{caller} calls itself", "remove it: a runtime needs no grant on itself")
        elif callee not in callable_:
            options = sorted(callable_ - {caller})
            close = difflib.get_close_matches(callee, options, n=1)
            fix = (f"did you mean {close[0]!r}? " if close else "") + f"{caller} may call: {', '.join(options)}"
            yield Problem(shown, f"{path}[{index}]", f"{callee!r} is not a runtime {caller} can call", fix)


def _call_cycle(services: dict) -> list[str] | None:
    """A cycle among microservice calls, if any: URLs are passed as Terraform references,
    which cannot go round in a circle."""
    state: dict[str, str] = {}

    def visit(node: str, trail: list[str]) -> list[str] | None:
        state[node] = "open"
        for callee in services.get(node, {}).get("calls", []):
            if state.get(callee) == "open":
                return trail[trail.index(callee):] + [callee] if callee in trail else [node, callee]
            if callee in services and callee not in state:
                found = visit(callee, trail + [callee])
                if found:
                    return found
        state[node] = "done"
        return None

    for start in sorted(services):
        if start not in state:
            found = visit(start, [start])
            if found:
                return found
    return None


def _traffic(shown: str, path: str, splits: list, data_name: str) -> Iterator[Problem]:
    total = sum(split["percent"] for split in splits)
    if total != 100:
        yield Problem(shown, path, f"percentages sum to {total}", "make the percentages sum to exactly 100")
    tags = [split["tag"] for split in splits if "tag" in split]
    for tag in sorted({t for t in tags if tags.count(t) > 1}):
        yield Problem(shown, path, f"tag {tag!r} is used twice", "give every split its own tag")
    targets = [split.get("revision", "(latest)") for split in splits]
    for target in sorted({t for t in targets if targets.count(t) > 1}):
        yield Problem(shown, path, f"{target} appears twice", "list each revision once")
    for index, split in enumerate(splits):
        revision = split.get("revision")
        if revision is not None and not revision.startswith(f"{data_name}-"):
            yield Problem(shown, f"{path}[{index}].revision", f"{revision!r} is not a revision of {data_name}",
                          f"revision names start with {data_name}- (see `gcloud run revisions list`)")


def _function_memory_mb(memory: str) -> float:
    number, unit = re.match(r"^(\d+)(M|Mi|G|Gi)$", memory).groups()
    return int(number) * {"M": 1 / 1.048576, "Mi": 1, "G": 1000 / 1.048576, "Gi": 1024}[unit]
