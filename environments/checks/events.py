"""Checks of EventsConfig: the events tier's reserved name, producers and consumers that are
runtimes of the file, pinned Kafka images, container and Managed Kafka sizes."""

from __future__ import annotations

from typing import Iterator

from environments.checks.shared import EVENTS_COMPONENT, memory_for_cpu, unknown_runtimes
from environments.problems import Problem


def events_problems(shown: str, data: dict) -> Iterator[Problem]:
    events = data["events"]
    services = set(data["microservices"]["services"])
    if EVENTS_COMPONENT in services:
        yield Problem(shown, f"microservices.services.{EVENTS_COMPONENT}", f"{EVENTS_COMPONENT!r} names the events tier's "
                      "service, service account and cluster", "give the microservice another name")
    for role in ("producers", "consumers"):
        yield from unknown_runtimes(shown, data, f"events.{role}", events[role])

    kafka = events["cloud_run"]
    for key in ("proxy_image", "broker_image"):
        if kafka[key].endswith(":latest"):
            yield Problem(shown, f"events.cloud_run.{key}", f"{kafka[key]!r} is :latest, which moves under a running broker",
                          "pin a version tag or an @sha256 digest")
    for container in ("proxy", "broker"):
        yield from memory_for_cpu(shown, "events.cloud_run", kafka[f"{container}_memory"], kafka[f"{container}_cpu"],
                                   key=f"{container}_memory", cpu_key=f"{container}_cpu")

    managed = events["managed"]
    # Managed Kafka accepts 1 to 8 GiB per vCPU (managed-service-for-apache-kafka/docs/plan-cluster-size).
    if not managed["vcpu"] <= managed["memory_gib"] <= 8 * managed["vcpu"]:
        yield Problem(shown, "events.managed.memory_gib", f"{managed['memory_gib']} GiB for {managed['vcpu']} vCPU is outside "
                      "Managed Kafka's 1-8 GiB per vCPU", f"use {managed['vcpu']}-{8 * managed['vcpu']} GiB")
