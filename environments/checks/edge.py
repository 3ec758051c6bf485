"""Checks of EdgeConfig: the domains' form, the address ranges, a domain and an internal API whenever the edge is on."""

from __future__ import annotations

import ipaddress
import re
from typing import Iterator

from environments.problems import Problem

# A hostname of at least two labels; each label 1-63 letters, digits or inner hyphens.
HOSTNAME = re.compile(r"^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$")


def edge_problems(shown: str, edge: dict, api: dict) -> Iterator[Problem]:
    if edge["enabled"] and api["ingress"] != "ALLOW_INTERNAL_ONLY":
        yield Problem(shown, "api.ingress", f"{api['ingress']} is wider than the frontend needs: with the edge on, "
                      "only the frontend calls the API, from inside the VPC", "set ingress: ALLOW_INTERNAL_ONLY")
    if edge["enabled"] and not edge["domains"]:
        yield Problem(shown, "edge.domains", "is empty while the edge is on: the certificate needs a domain",
                      "list the hostnames users reach, for example [www.example.com]")
    for index, domain in enumerate(edge["domains"]):
        key = f"edge.domains[{index}]"
        if domain.startswith("*."):
            yield Problem(shown, key, f"{domain!r} is a wildcard: Google-managed load balancer certificates cover "
                          "named hosts only", f"list each host instead, for example {domain[2:]!r} and 'www.{domain[2:]}'")
        elif not HOSTNAME.match(domain):
            fix = f"write it in lowercase: {domain.lower()!r}" if HOSTNAME.match(domain.lower()) else (
                "write a hostname such as www.example.com: no scheme, path, port or trailing dot")
            yield Problem(shown, key, f"{domain!r} is not a hostname", fix)
    for list_key in ("allowed_ips", "denied_ips"):
        for index, cidr in enumerate(edge[list_key]):
            try:
                ipaddress.ip_network(cidr, strict=True)
            except ValueError as error:
                yield Problem(shown, f"edge.{list_key}[{index}]", f"{cidr!r} is not an address range ({error})",
                              "write an address or a CIDR range such as 203.0.113.0/24")
