"""The policy pack: a cdktf Aspect that judges every resource of a stack against the rules.

Errors become error annotations, which stop synthesis; warnings become warning
annotations. Suppressions are attached to a construct with a reason and hold for its
whole subtree. `report()` lists every rule and every resource as pass, fail or
suppressed; main.py writes it next to the stack as policy-report.json.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Iterator

import jsii
from cdktf import Annotations, Aspects, IAspect, TerraformStack
from constructs import Construct, IConstruct

from constructs import google
from environments.config import EnvironmentConfig
from policies.rules import ERROR, RULES, RULES_BY_ID, Resource, Rule

MIN_REASON = 10


class SuppressionError(ValueError):
    pass


def suppress(scope: IConstruct, rule_id: str, reason: str) -> None:
    """Exempt `scope` and everything under it from `rule_id`; the reason lands in the report."""
    if rule_id not in RULES_BY_ID:
        raise SuppressionError(f"{scope.node.path}: unknown policy rule {rule_id!r}; rules: {', '.join(RULES_BY_ID)}")
    if len(reason.strip()) < MIN_REASON:
        raise SuppressionError(
            f"{scope.node.path}: suppressing {rule_id} needs a reason of at least {MIN_REASON} characters, "
            f"got {reason.strip()!r}")
    pack = getattr(TerraformStack.of(scope), "policies", None)
    if not isinstance(pack, PolicyPack):
        raise SuppressionError(f"{scope.node.path}: not inside a stack that carries the policy pack")
    pack.suppressions.append(Suppression(rule_id, reason.strip(), scope.node.path))


@dataclass(frozen=True)
class Suppression:
    rule: str
    reason: str
    path: str

    def covers(self, path: str) -> bool:
        return path == self.path or path.startswith(self.path + "/")


@dataclass(frozen=True)
class Result:
    rule: str
    level: str
    address: str
    path: str
    status: str  # pass | fail | suppressed
    detail: str = ""


@jsii.implements(IAspect)
class PolicyPack:
    """Judges the whole stack from one resolved rendering of it (one call into jsii, not one per
    resource: measured 2.8 s -> 0.2 s for both stacks).

    Attach it with `attach(stack)`: the Aspect goes on an empty child construct, so cdktf calls
    back into Python once per stack instead of once per construct (~370 round trips, ~0.4 s).
    """

    def __init__(self, config: EnvironmentConfig, rules: tuple[Rule, ...] = RULES):
        self.config = config
        self.rules = rules
        self.results: list[Result] = []
        self.suppressions: list[Suppression] = []
        self._judged = False

    def attach(self, stack: TerraformStack) -> None:
        Aspects.of(Construct(stack, "policy-pack")).add(self)

    def visit(self, node: IConstruct) -> None:
        if self._judged:
            return  # aspects may visit a node more than once
        self._judged = True
        stack = TerraformStack.of(node)
        for resource in self._resources(stack):
            self._judge(stack, resource)

    def _resources(self, stack: TerraformStack) -> Iterator[Resource]:
        rendered = stack.to_terraform().get("resource", {})
        for type_, bodies in rendered.items():
            labelable = _labelable(type_)
            for logical_id, body in bodies.items():
                yield Resource(type=type_, address=f"{type_}.{logical_id}", path=body["//"]["metadata"]["path"],
                               body=body, labelable=labelable, config=self.config, stack=rendered)

    def _judge(self, stack: TerraformStack, resource: Resource) -> None:
        for rule in self.rules:
            if not rule.applies_to(resource):
                continue
            problems = rule.check(resource)
            suppressed = next((s for s in self.suppressions if s.rule == rule.id and s.covers(resource.path)), None)
            if not problems:
                self.results.append(Result(rule.id, rule.level, resource.address, resource.path, "pass"))
            elif suppressed:
                self.results.append(Result(rule.id, rule.level, resource.address, resource.path, "suppressed",
                                           suppressed.reason))
            else:
                detail = "; ".join(problems)
                self.results.append(Result(rule.id, rule.level, resource.address, resource.path, "fail", detail))
                message = f"{rule.id} {rule.title}: {resource.address} {detail}. Fix: {rule.fix}"
                annotations = Annotations.of(_construct_at(stack, resource.path))
                if rule.level == ERROR:
                    annotations.add_error(message)
                else:
                    annotations.add_warning(message)

    def failures(self, level: str = ERROR) -> list[Result]:
        return [r for r in self.results if r.status == "fail" and r.level == level]

    def report(self, stack: TerraformStack) -> dict:
        counts = {status: sum(r.status == status for r in self.results) for status in ("pass", "fail", "suppressed")}
        return {
            "stack": stack.node.id,
            "summary": counts,
            "rules": [{"id": r.id, "level": r.level, "title": r.title, "fix": r.fix} for r in self.rules],
            "results": [r.__dict__ for r in sorted(self.results, key=lambda r: (r.rule, r.address))],
            "suppressions": [
                {"rule": r.rule, "address": r.address, "path": r.path, "reason": r.detail}
                for r in self.results if r.status == "suppressed"
            ],
        }


def _construct_at(stack: TerraformStack, path: str) -> IConstruct:
    node: IConstruct = stack
    for part in path.split("/")[1:]:
        node = node.node.find_child(part)
    return node


@lru_cache(maxsize=None)
def _labelable(type_: str) -> bool:
    """Whether the binding of `type_` takes an optional `labels` argument (it has reset_labels)."""
    module = type_.removeprefix("google_")
    try:
        binding = getattr(google, module)
    except AttributeError:
        return False
    return hasattr(getattr(binding, "".join(part.capitalize() for part in module.split("_")), None), "reset_labels")
