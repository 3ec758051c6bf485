"""The policy pack: a cdktf Aspect that judges every resource of a stack against the rules.

Errors become error annotations, which stop synthesis; warnings become warning
annotations. Suppressions are attached to a construct with a reason and hold for its
whole subtree. `report()` lists every rule and every resource as pass, fail or
suppressed; main.py writes it next to the stack as policy-report.json.
"""

from __future__ import annotations

from dataclasses import dataclass

import jsii
from cdktf import (
    Annotations,
    DefaultTokenResolver,
    IAspect,
    StringConcat,
    TerraformResource,
    TerraformStack,
    Tokenization,
)
from constructs import IConstruct

from environments.config import EnvironmentConfig
from policies.rules import ERROR, RULES, RULES_BY_ID, Resource, Rule

SUPPRESSION = "hexproperty:policy-suppression"
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
    scope.node.add_metadata(SUPPRESSION, {"rule": rule_id, "reason": reason.strip(), "path": scope.node.path})


@dataclass(frozen=True)
class Result:
    rule: str
    level: str
    address: str
    path: str
    status: str  # pass | fail | suppressed
    detail: str = ""


def _suppressions(node: IConstruct) -> dict[str, dict]:
    found = {}
    for scope in node.node.scopes:
        for entry in scope.node.metadata:
            if entry.type == SUPPRESSION:
                found.setdefault(entry.data["rule"], entry.data)
    return found


@jsii.implements(IAspect)
class PolicyPack:
    def __init__(self, config: EnvironmentConfig, rules: tuple[Rule, ...] = RULES):
        self.config = config
        self.rules = rules
        self.results: list[Result] = []
        self._seen: set[str] = set()

    def visit(self, node: IConstruct) -> None:
        if not isinstance(node, TerraformResource) or node.node.path in self._seen:
            return  # aspects may visit a node more than once
        self._seen.add(node.node.path)
        resource = self._resource(node)
        suppressed = _suppressions(node)
        for rule in self.rules:
            if not rule.applies_to(resource):
                continue
            problems = rule.check(resource)
            if not problems:
                self.results.append(Result(rule.id, rule.level, resource.address, resource.path, "pass"))
            elif rule.id in suppressed:
                reason = suppressed[rule.id]["reason"]
                self.results.append(Result(rule.id, rule.level, resource.address, resource.path, "suppressed", reason))
            else:
                detail = "; ".join(problems)
                self.results.append(Result(rule.id, rule.level, resource.address, resource.path, "fail", detail))
                message = f"{rule.id} {rule.title}: {resource.address} {detail}. Fix: {rule.fix}"
                if rule.level == ERROR:
                    Annotations.of(node).add_error(message)
                else:
                    Annotations.of(node).add_warning(message)

    def _resource(self, node: TerraformResource) -> Resource:
        resolved = Tokenization.resolve(node.to_terraform(), scope=node, preparing=False,
                                        resolver=DefaultTokenResolver(StringConcat()))
        (type_, bodies), = resolved["resource"].items()
        (logical_id, body), = bodies.items()
        return Resource(
            type=type_,
            address=f"{type_}.{logical_id}",
            path=node.node.path,
            body=body,
            # A binding class with reset_labels has an optional `labels` argument.
            labelable=hasattr(node, "reset_labels"),
            config=self.config,
        )

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
