"""Checks of ComplianceConfig: data-access services, production's locked audit bucket and change alerts."""

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
    if name == PRODUCTION and not compliance["change_alerts"]:
        yield Problem(shown, "compliance.change_alerts", "nobody would hear of ownership, IAM, audit, firewall, "
                      "network or Cloud SQL changes made outside Terraform", "set change_alerts: true")
