"""Checks of NetworkConfig: private IPv4 ranges of the sizes Google requires, none overlapping
(the DR region's included: one VPC holds both), the connector's instance range, and the DR
region's ranges wherever a replica makes a failover possible."""

from __future__ import annotations

import ipaddress
from typing import Iterator

from environments.checks.shared import min_max
from environments.problems import Problem, value_at


def network_problems(shown: str, data: dict) -> Iterator[Problem]:
    ranges = {}
    keys = [("network.subnet_cidr", 26, None), ("network.private_services_cidr", None, (16, 20, 24)),
            ("network.connector.cidr", None, (28,))]
    if "dr" in data["network"]:
        keys += [("network.dr.subnet_cidr", 26, None), ("network.dr.connector_cidr", None, (28,))]
    elif "replica" in data["data"]["postgres"]:
        yield Problem(shown, "network.dr", "a file with data.postgres.replica has no ranges for the DR region, where a "
                      "failover runs the environment", "add network.dr: {subnet_cidr: <a /26 or larger>, "
                      "connector_cidr: <a /28>}, each apart from the other ranges")
    for key, smallest, exact in keys:
        value = value_at(data, key)
        try:
            net = ipaddress.IPv4Network(value)
        except ValueError as error:
            yield Problem(shown, key, f"{value!r} is not an IPv4 range ({error})",
                          "write an IPv4 CIDR such as 10.10.0.0/24 with no host bits set")
            continue
        if not net.is_private:
            yield Problem(shown, key, f"{value} is not a private (RFC 1918) range", "use a range inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16")
        if smallest is not None and net.prefixlen > smallest:
            yield Problem(shown, key, f"{value} is smaller than /{smallest}",
                          f"use a /{smallest} or larger range: Direct VPC egress needs at least /{smallest}")
        if exact is not None and net.prefixlen not in exact:
            allowed = ", ".join(f"/{p}" for p in exact)
            yield Problem(shown, key, f"{value} has prefix /{net.prefixlen}", f"use a {allowed} range")
        ranges[key] = net
    keys = sorted(ranges)
    for i, first in enumerate(keys):
        for second in keys[i + 1:]:
            if ranges[first].overlaps(ranges[second]):
                yield Problem(shown, second, f"{ranges[second]} overlaps {first} ({ranges[first]})",
                              "give each range its own addresses")

    yield from min_max(shown, data["network"]["connector"], "network.connector")
