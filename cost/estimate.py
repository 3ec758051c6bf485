"""An environment's estimate (a line per resource, tier subtotals, totals) and the
difference between the estimates of two stacks."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from cost.prices import PriceBook
from cost.rules import PROJECT_COSTS, RULES, Context, Cost, Unpriced
from cost.stack import Resource, resources, tier_of
from environments.config import LoadProfileConfig

PROJECT = "(project)"
CENT = 0.005  # differences below half a cent are rounding, not change


@dataclass(frozen=True)
class Line:
    ref: str  # Terraform address (type.name), or "(project).<charge>"
    name: str
    tier: str
    idle: float | None  # None: unpriced, never counted as zero
    load: float | None
    basis: str  # how the figure was reached, or why it could not be
    notes: tuple[str, ...] = ()
    prices: tuple[str, ...] = ()  # keys in pricing/prices.yaml the figure rests on

    @property
    def priced(self) -> bool:
        return self.idle is not None


@dataclass(frozen=True)
class Estimate:
    env: str
    lines: tuple[Line, ...]
    no_charge: tuple[str, ...]  # addresses of resources with no charge of their own

    @property
    def priced(self) -> tuple[Line, ...]:
        return tuple(line for line in self.lines if line.priced)

    @property
    def unpriced(self) -> tuple[Line, ...]:
        return tuple(line for line in self.lines if not line.priced)

    @property
    def idle(self) -> float:
        return sum(line.idle for line in self.priced)

    @property
    def load(self) -> float:
        return sum(line.load for line in self.priced)

    def tiers(self) -> dict[str, tuple[float, float]]:
        """tier -> (idle, under load), tiers in name order."""
        sums: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
        for line in self.priced:
            sums[line.tier][0] += line.idle
            sums[line.tier][1] += line.load
        return {tier: (idle, load) for tier, (idle, load) in sorted(sums.items())}


def estimate(stack: dict, env: str, profile: LoadProfileConfig, book: PriceBook) -> Estimate:
    ctx = Context(stack=stack, profile=profile, book=book)
    lines, no_charge = [], []
    for resource in resources(stack):
        rule = RULES.get(resource.type)
        ctx.used.clear()
        tier = tier_of(stack, resource)
        if rule is None:
            lines.append(_unpriced(resource, tier, f"no pricing rule for {resource.type}"))
            continue
        try:
            cost = rule(resource, ctx)
        except Unpriced as reason:
            lines.append(_unpriced(resource, tier, str(reason)))
            continue
        if cost is None:
            no_charge.append(resource.ref)
        else:
            lines.append(_line(resource.ref, resource.display_name, tier, cost, ctx, _region_note(resource, ctx)))
    for name, tier, rule in PROJECT_COSTS:
        ctx.used.clear()
        lines.append(_line(f"{PROJECT}.{name.replace(' ', '_')}", name, tier, rule(ctx), ctx, ()))
    return Estimate(env=env, lines=tuple(lines), no_charge=tuple(no_charge))


def _line(ref: str, name: str, tier: str, cost: Cost, ctx: Context, extra: tuple[str, ...]) -> Line:
    return Line(ref, name, tier, cost.idle, cost.load, cost.basis, cost.notes + extra, tuple(dict.fromkeys(ctx.used)))


def _unpriced(resource: Resource, tier: str, reason: str) -> Line:
    return Line(resource.ref, resource.display_name, tier, None, None, reason)


def _region_note(resource: Resource, ctx: Context) -> tuple[str, ...]:
    """Prices are for one region; say so when a resource (a DR replica) lives elsewhere."""
    where = resource.body.get("region") or resource.body.get("location")
    priced_in = {ctx.book[key].region for key in ctx.used}
    if isinstance(where, str) and "${" not in where and priced_in and where not in priced_in:
        return (f"in {where}, priced at {', '.join(sorted(priced_in))} rates",)
    return ()


@dataclass(frozen=True)
class Change:
    ref: str
    name: str
    tier: str
    before: Line | None  # None: the resource is new
    after: Line | None  # None: the resource is gone

    def delta(self, kind: str) -> float:
        """Change in `kind` ('idle' or 'load'); an unpriced side counts as no figure, not zero."""
        old = getattr(self.before, kind) if self.before and self.before.priced else 0.0
        new = getattr(self.after, kind) if self.after and self.after.priced else 0.0
        return new - old

    @property
    def status(self) -> str:
        if self.before is None:
            return "added"
        if self.after is None:
            return "removed"
        if self.before.priced != self.after.priced:
            return "now priced" if self.after.priced else "now unpriced"
        return "changed"


@dataclass(frozen=True)
class CostDiff:
    env: str
    before: Estimate
    after: Estimate
    changes: tuple[Change, ...]  # largest move under load first

    def delta(self, kind: str) -> float:
        return getattr(self.after, kind) - getattr(self.before, kind)


def diff(before: Estimate, after: Estimate) -> CostDiff:
    """The lines whose cost moved, appeared, vanished, or lost or gained a price."""
    old = {line.ref: line for line in before.lines}
    new = {line.ref: line for line in after.lines}
    changes = []
    for ref in sorted(old.keys() | new.keys()):
        a, b = old.get(ref), new.get(ref)
        if a and b and a.priced == b.priced and (not a.priced or (
                abs(a.idle - b.idle) < CENT and abs(a.load - b.load) < CENT)):
            continue
        line = b or a
        changes.append(Change(ref, line.name, line.tier, a, b))
    changes.sort(key=lambda c: (-abs(c.delta("load")), -abs(c.delta("idle")), c.ref))
    return CostDiff(after.env, before, after, tuple(changes))
