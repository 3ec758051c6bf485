"""PlanResourceChange as an SDKv2 provider answers it (helper/schema: schemaMap.Diff, then CustomizeDiff).

Terraform's proposed new state is the config with prior values kept for computed attributes the
config leaves null. On top of that the SDK: fills `Default`s of unset attributes (also inside
nested blocks that are present), leaves computed attributes unknown where there is nothing to
keep (a new resource or a new block element), keeps a computed block the config omits, runs the
type's CustomizeDiff rules (`rules.py`) and reports every ForceNew attribute whose value changes.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from .codec import UNKNOWN, is_unknown
from .diagnostics import Diagnostic


@dataclass
class ProviderConfig:
    """What ConfigureProvider remembers: the provider block's values the rules read."""

    project: str | None = None
    region: str | None = None
    zone: str | None = None
    default_labels: dict = field(default_factory=dict)
    # add_terraform_attribution_label defaults to true, its strategy to CREATION_ONLY
    # (provider/provider.go:179 and :1098).
    add_attribution_label: bool = True
    attribution_strategy: str = "CREATION_ONLY"

    @classmethod
    def from_config(cls, config: dict | None) -> "ProviderConfig":
        config = config or {}

        def known(name):
            value = config.get(name)
            return None if is_unknown(value) else value

        add_attribution = known("add_terraform_attribution_label")
        return cls(
            project=known("project"),
            region=known("region"),
            zone=known("zone"),
            default_labels=dict(known("default_labels") or {}),
            add_attribution_label=add_attribution is not False,
            attribution_strategy=known("terraform_attribution_label_addition_strategy") or "CREATION_ONLY",
        )


@dataclass
class PlanContext:
    """One PlanResourceChange call, as the CustomizeDiff rules see it."""

    schema: object
    resource: object
    prior: dict | None
    config: dict
    planned: dict
    provider: ProviderConfig
    requires_replace: list = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def creating(self) -> bool:
        return self.prior is None

    def old(self, key: str):
        return get_key(self.prior, key)

    def new(self, key: str):
        return get_key(self.planned, key)

    def has_change(self, key: str) -> bool:
        """schema.ResourceDiff.HasChange: null and the zero value are the same to the SDK."""
        return differs(self.old(key), self.new(key))

    def force_new(self, key: str) -> None:
        path = key_path(key)
        if path not in self.requires_replace:
            self.requires_replace.append(path)

    def set_new(self, key: str, value) -> None:
        set_key(self.planned, key, value)


def plan_resource_change(schema, resource, prior, proposed, config, provider: ProviderConfig, rules):
    """(planned state, requires_replace paths, diagnostics) of one resource instance."""
    if proposed is None:
        return None, [], []
    planned = copy.deepcopy(proposed)
    _plan_block(resource.block, planned, config or {}, prior)
    if prior is None and "id" in resource.block.get("attributes", {}) and planned.get("id") is None:
        planned["id"] = UNKNOWN
    context = PlanContext(schema, resource, prior, config or {}, planned, provider)
    for rule in rules:
        rule.apply(context)
    if prior is not None:
        for path in force_new_paths(resource.block, prior, planned, ()):
            if path not in context.requires_replace:
                context.requires_replace.append(path)
    return planned, context.requires_replace, context.diagnostics


def _plan_block(block: dict, planned: dict, config: dict, prior: dict | None) -> None:
    """Defaults and unknown computed values of one object; `prior` is None for a new object."""
    for name, attr in block.get("attributes", {}).items():
        if config.get(name) is not None:
            continue
        if "default" in attr:
            planned[name] = copy.deepcopy(attr["default"])
        elif attr.get("computed") and planned.get(name) is None and prior is None:
            planned[name] = UNKNOWN
    for name, nested in block.get("blocks", {}).items():
        value = planned.get(name)
        configured = config.get(name)
        prior_value = prior.get(name) if prior else None
        if nested.get("computed") and _empty(configured):
            # An Optional+Computed block the config omits: what the API chose, known after create.
            planned[name] = copy.deepcopy(prior_value) if prior is not None else UNKNOWN
            continue
        if value is None or is_unknown(value):
            continue
        if nested["nesting"] == "single":
            _plan_block(nested["block"], value, configured or {}, prior_value)
        elif nested["nesting"] == "list":
            for index, element in enumerate(value):
                if element is None or is_unknown(element):
                    continue
                _plan_block(nested["block"], element, _at(configured, index) or {}, _at(prior_value, index))
        else:
            for element in value:
                if element is None or is_unknown(element):
                    continue
                _plan_block(nested["block"], element, _configured_part(nested["block"], element),
                            _matching_prior(nested["block"], element, prior_value))


def _configured_part(block: dict, element: dict) -> dict:
    # Terraform proposes a set element as config plus kept computed values: only the
    # non-computed attributes come from the config.
    return {name: element.get(name) for name, attr in block.get("attributes", {}).items() if not attr.get("computed")}


def _matching_prior(block: dict, element: dict, prior_elements):
    """The prior set element with the same configured attributes, None for a new element."""
    wanted = _configured_part(block, element)
    for candidate in prior_elements or []:
        if isinstance(candidate, dict) and _configured_part(block, candidate) == wanted:
            return candidate
    return None


def force_new_paths(block: dict, prior, planned, path: tuple) -> list[tuple]:
    """Paths of ForceNew attributes/blocks whose planned value differs from prior (helper/schema diff).

    A list element is addressed by its index; a set cannot be, so a change inside a set stops
    at the set.
    """
    prior = prior or {}
    planned = planned or {}
    found = []
    for name, attr in block.get("attributes", {}).items():
        if attr.get("force_new") and differs(prior.get(name), planned.get(name)):
            found.append(path + (name,))
    for name, nested in block.get("blocks", {}).items():
        old, new = prior.get(name), planned.get(name)
        if nested.get("force_new") and differs(old, new):
            found.append(path + (name,))
        elif is_unknown(old) or is_unknown(new):
            continue
        elif nested["nesting"] == "single":
            found += force_new_paths(nested["block"], old, new, path + (name,))
        elif nested["nesting"] == "list":
            for index in range(max(len(old or []), len(new or []))):
                found += force_new_paths(nested["block"], _at(old, index), _at(new, index), path + (name, index))
        elif _has_force_new(nested["block"]) and differs(old, new):
            if _force_new_projection(nested["block"], old) != _force_new_projection(nested["block"], new):
                found.append(path + (name,))
    return found


def _has_force_new(block: dict) -> bool:
    return any(a.get("force_new") for a in block.get("attributes", {}).values()) or any(
        n.get("force_new") or _has_force_new(n["block"]) for n in block.get("blocks", {}).values()
    )


def _force_new_projection(block: dict, elements) -> list:
    return sorted(repr(_project(block, e)) for e in elements or [])


def _project(block: dict, element):
    if not isinstance(element, dict):
        return element
    projected = {n: _zero(element.get(n)) for n, a in block.get("attributes", {}).items() if a.get("force_new")}
    for name, nested in block.get("blocks", {}).items():
        value = element.get(name)
        if nested.get("force_new"):
            projected[name] = value
        elif isinstance(value, list):
            projected[name] = [_project(nested["block"], v) for v in value]
        elif isinstance(value, dict):
            projected[name] = _project(nested["block"], value)
    return projected


def differs(old, new) -> bool:
    """SDKv2 sees null and the zero value ("", 0, false, empty list or map) as the same."""
    if is_unknown(old) or is_unknown(new):
        return is_unknown(old) != is_unknown(new)
    return _zero(old) != _zero(new)


def _zero(value):
    if value is None or value == "" or value is False or (isinstance(value, (int, float)) and value == 0):
        return None
    if isinstance(value, dict):
        normalized = {k: _zero(v) for k, v in value.items()}
        return {k: v for k, v in normalized.items() if v is not None} or None
    if isinstance(value, list):
        return [_zero(v) for v in value] or None
    return value


def _empty(value) -> bool:
    return value is None or (isinstance(value, list) and not value)


def _at(values, index: int):
    if isinstance(values, list) and index < len(values):
        return values[index]
    return None


def key_path(key: str) -> tuple:
    return tuple(int(part) if part.isdigit() else part for part in key.split("."))


def get_key(value, key: str):
    """The value at an SDK key ("settings.0.disk_size") or None (unknown stays unknown)."""
    for step in key_path(key):
        if is_unknown(value):
            return value
        if isinstance(step, int):
            value = _at(value, step)
        elif isinstance(value, dict):
            value = value.get(step)
        else:
            return None
    return value


def set_key(value: dict, key: str, new) -> None:
    *parents, last = key_path(key)
    for step in parents:
        value = value[step]
    value[last] = new
