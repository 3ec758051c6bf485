"""Diagnostics as plain data; the server turns them into tfplugin6 messages.

An attribute path is a tuple of steps: a str is an attribute name, an int a list index and a
`MapKey` a map key (Terraform's AttributeName / ElementKeyInt / ElementKeyString).
"""

from __future__ import annotations

from dataclasses import dataclass


class MapKey(str):
    """A map key step of an attribute path (a plain str step is an attribute name)."""


ERROR = "ERROR"
WARNING = "WARNING"


@dataclass(frozen=True)
class Diagnostic:
    severity: str
    summary: str
    detail: str = ""
    path: tuple = ()


def error(summary: str, detail: str = "", path: tuple = ()) -> Diagnostic:
    return Diagnostic(ERROR, summary, detail, tuple(path))


def warning(summary: str, detail: str = "", path: tuple = ()) -> Diagnostic:
    return Diagnostic(WARNING, summary, detail, tuple(path))


def sdk_key(path: tuple) -> str:
    """The SDKv2 flatmap key of a path, e.g. ("settings", 0, "tier") -> "settings.0.tier"."""
    return ".".join(str(step) for step in path)
