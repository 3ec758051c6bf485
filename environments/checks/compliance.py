"""Checks of ComplianceConfig: data-access services, production's locked audit bucket."""

from __future__ import annotations

from typing import Iterator

from environments.checks.shared import PRODUCTION
from environments.problems import Problem


def compliance_problems(shown: str, compliance: dict, name: str) -> Iterator[Problem]:
    services = compliance["data_access_services"]
    if "allServices" in services and len(services) > 1:
        yield Problem(shown, "compliance.data_access_services", "names allServices and single services",
                      "write [allServices] alone: it already covers every service")
    if name == PRODUCTION and not compliance["lock_audit_bucket"]:
        yield Problem(shown, "compliance.lock_audit_bucket", "production's audit logs could be deleted or cut short",
                      "set lock_audit_bucket: true (irreversible: retention can then only grow)")
