"""What Terraform's plan does to one stack, in review terms: the `make diff` verdict.

Reads the JSON of `terraform show -json <plan>` (its `resource_changes` and `output_changes`),
classifies every change as create, update in place, delete, replace (with the attribute paths
that force the replacement), forget (a `removed` block with `destroy = false`: the resource leaves
Terraform's state and stays in Google Cloud, as region failover does with the old region) or import
(an `import` block adopts an existing resource: tools/plan_diff.py plans it as a create, since the
provider stand-in cannot read Google), and marks each delete or replacement of a protected resource
(policies/protected.py), plus the in-place updates Google's API refuses on protected resources.
Pure functions: tools/plan_diff.py runs Terraform, this judges what it planned.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator

from policies.protected import protection

# Attributes that name a resource in Google Cloud: a delete and a create of one type with the
# same value is the same resource moving to a new Terraform address (a renamed construct).
NAME_KEYS = ("name", "account_id", "secret_id", "repository_id", "bucket_id", "topic_id", "cluster_id",
             "workload_identity_pool_id", "workload_identity_pool_provider_id")


@dataclass(frozen=True)
class Refusal:
    """An in-place update the provider plans but Google's API refuses."""

    type: str
    attribute: str
    refused: Callable[[Any, Any], bool]
    why: str


REFUSED_UPDATES = (
    Refusal("google_managed_kafka_topic", "partition_count",
            lambda before, after: isinstance(before, (int, float)) and isinstance(after, (int, float)) and after < before,
            "Kafka cannot reduce a topic's partitions: the API refuses the update, and the only way through "
            "deletes the topic with its messages"),
)


@dataclass
class Change:
    address: str
    type: str
    action: str  # "create", "update", "delete", "replace", "forget" or "import"
    paths: list[str] = field(default_factory=list)  # changed paths (update) or those forcing replacement
    risk: str = ""  # why a protected resource is at risk; empty when it is not


def path_text(steps: Iterable[Any]) -> str:
    """Terraform's path steps as written in configuration: ["settings", 0, "tier"] -> settings[0].tier."""
    text = ""
    for step in steps:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else str(step))
    return text


def changed_paths(before: Any, after: Any, unknown: Any, path: tuple = ()) -> Iterator[str]:
    """Leaf paths whose value differs between `before` and `after` (or becomes known only at apply)."""
    if unknown is True:
        if before is not None:
            yield path_text(path) + " (known after apply)"
        return
    if isinstance(before, dict) and isinstance(after, dict):
        for key in sorted(set(before) | set(after)):
            yield from changed_paths(before.get(key), after.get(key),
                                     unknown.get(key) if isinstance(unknown, dict) else None, (*path, key))
    elif isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        for index, (old, new) in enumerate(zip(before, after)):
            yield from changed_paths(old, new, unknown[index] if isinstance(unknown, list) and index < len(unknown)
                                     else None, (*path, index))
    elif before != after and path:
        yield path_text(path)


def _action(actions: list[str]) -> str | None:
    if actions in (["delete", "create"], ["create", "delete"]):
        return "replace"
    if len(actions) == 1 and actions[0] in ("create", "update", "delete", "forget"):
        return actions[0]
    return None  # no-op, read


def classify(plan: dict, prevent_destroy: frozenset[str] = frozenset(),
             imports: frozenset[str] = frozenset()) -> list[Change]:
    """Every managed resource the plan creates, updates, deletes, replaces or forgets, in address order.
    `prevent_destroy`: addresses whose lifecycle.prevent_destroy was set aside so Terraform could plan;
    `imports`: addresses of import blocks set aside, whose create is the import of an existing resource."""
    changes = []
    for rc in plan.get("resource_changes") or []:
        if rc.get("mode") != "managed":
            continue
        detail = rc.get("change") or {}
        action = _action(detail.get("actions") or [])
        # Terraform's own plan of an import block: `importing`, with no-op or an update after it.
        if (action == "create" and rc["address"] in imports) or (detail.get("importing") and action in (None, "update")):
            action = "import"
        if action is None:
            continue
        change = Change(rc["address"], rc["type"], action)
        if action == "update":
            change.paths = list(changed_paths(detail.get("before"), detail.get("after"), detail.get("after_unknown")))
        elif action == "replace":
            change.paths = sorted({path_text(p) for p in detail.get("replace_paths") or []})
        _judge(change, detail)
        if change.risk and change.action in ("delete", "replace") and change.address in prevent_destroy:
            change.risk += "; lifecycle.prevent_destroy is set, so Terraform refuses this apply until the code drops it"
        changes.append(change)
    _explain_renames(changes, plan)
    return sorted(changes, key=lambda c: c.address)


def _judge(change: Change, detail: dict) -> None:
    before = detail.get("before")
    guarded = protection(change.type, before)
    if guarded is None:
        return
    if change.action == "delete":
        change.risk = f"DELETED: {guarded.why}"
    elif change.action == "replace":
        forced = f" (forced by {', '.join(change.paths)})" if change.paths else ""
        change.risk = f"REPLACED, destroyed then created empty{forced}: {guarded.why}"
    elif change.action == "update":
        after = detail.get("after") or {}
        for refusal in REFUSED_UPDATES:
            if refusal.type == change.type and refusal.refused((before or {}).get(refusal.attribute),
                                                              after.get(refusal.attribute)):
                change.risk = (f"REFUSED in place ({refusal.attribute} {before.get(refusal.attribute)} -> "
                               f"{after.get(refusal.attribute)}): {refusal.why}")


def _name(values: Any) -> tuple[str, Any] | None:
    if not isinstance(values, dict):
        return None
    return next(((key, values[key]) for key in NAME_KEYS if isinstance(values.get(key), str)), None)


def _explain_renames(changes: list[Change], plan: dict) -> None:
    """A protected delete paired with a create of the same type and name is a moved address."""
    values = {rc["address"]: rc.get("change") or {} for rc in plan.get("resource_changes") or []}
    created = {(c.type, _name(values[c.address].get("after"))): c.address for c in changes if c.action == "create"}
    for change in changes:
        if change.action != "delete" or not change.risk:
            continue
        name = _name(values[change.address].get("before"))
        new = created.get((change.type, name)) if name else None
        if new:
            change.risk += (f"; {new} creates it again under a new address (a renamed construct id). Keep the "
                            f"construct id, or write a `moved` block: call move_from_id(\"{change.address}\") on the "
                            "new resource in its construct")


def output_paths(plan: dict) -> list[str]:
    """Outputs whose value the plan changes."""
    out = []
    for name, detail in sorted((plan.get("output_changes") or {}).items()):
        actions = detail.get("actions") or []
        if actions and actions != ["no-op"]:
            out.append(f"output.{name} ({'/'.join(actions)})")
    return out


MARKS = {"create": "+", "update": "~", "delete": "-", "replace": "-/+", "forget": ".", "import": "<="}


def report(name: str, plan: dict, allowed: frozenset[str] = frozenset(), github: bool = False,
           prevent_destroy: frozenset[str] = frozenset(), imports: frozenset[str] = frozenset()) -> tuple[str, list[Change]]:
    """The text block of one stack, and every change that puts a protected resource at risk
    (those in `allowed`, ALLOW_REPLACE's addresses, are shown as allowed but still returned)."""
    changes = classify(plan, prevent_destroy, imports)
    lines = [f"== {name} =="]
    for change in changes:
        suffix = f": {', '.join(change.paths)}" if change.paths else ""
        lines.append(f"  {MARKS[change.action]} {change.address}{suffix}")
    outputs = output_paths(plan)
    lines += [f"  ~ {path}" for path in outputs]
    risky = [c for c in changes if c.risk]
    blocking = 0
    for change in risky:
        if change.address in allowed:
            lines.append(f"  (allowed by ALLOW_REPLACE) {change.address} would be {change.risk}")
            continue
        blocking += 1
        lines.append(f"  !!! PROTECTED {change.address} would be {change.risk}")
        if github:
            lines.append(f"::error title=Protected resource at risk ({name})::{change.address} would be {change.risk}")
    if changes or outputs:
        count = {action: sum(c.action == action for c in changes) for action in MARKS}
        lines.append(f"  {count['create']} to add, {count['import']} to import, {count['update']} to change, "
                     f"{count['replace']} to replace, {count['delete']} to destroy, "
                     f"{count['forget']} to forget (left in Google Cloud); {blocking} protected resource(s) at risk")
    else:
        lines.append("  no changes")
    return "\n".join(lines), risky
