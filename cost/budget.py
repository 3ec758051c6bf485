"""The estimate against the environment's budgets (environments/<env>.yaml `cost`): the whole
environment and each tier budget, under load, in the budget's currency at the price file's rate.

A budget is passed when the estimate under load is above it: the monthly estimate, or for an
environment that exists only for runs of a few hours (`cost.run_hours`, the drill) one run's share
of it, so that a run left standing passes its budget within days. `make cost` warns; a change that
takes an environment or a tier from within its budget to past it is what `make diff` and
`make cost-diff` fail on (EXIT_BUDGET).
"""

from __future__ import annotations

from dataclasses import dataclass

from cost.estimate import Estimate, diff, estimate
from cost.prices import PriceBook
from cost.report import diff_text
from environments.config import CostConfig, LoadProfileConfig

EXIT_BUDGET = 4  # a change pushes an environment or a tier past its budget
ENVIRONMENT = "(environment)"


@dataclass(frozen=True)
class BudgetLine:
    scope: str  # ENVIRONMENT or a tier
    amount: float  # in `currency`
    currency: str
    usd_per_unit: float
    load_usd: float  # the estimate under load: a month's, or one run's (run_hours)
    run_hours: int | None = None

    @property
    def load(self) -> float:
        """The estimate under load in the budget's currency."""
        return self.load_usd / self.usd_per_unit

    @property
    def over(self) -> bool:
        return self.load > self.amount

    @property
    def share(self) -> float:
        return self.load / self.amount if self.amount else float("inf")


def run_share(run_hours: int | None, book: PriceBook) -> float:
    """The part of a month's estimate one run costs (1 for an environment that is always up)."""
    return run_hours / book.hours_per_month if run_hours else 1.0


def budget_lines(result: Estimate, budget: CostConfig, book: PriceBook) -> tuple[BudgetLine, ...]:
    """The environment's budget first, then each tier budget in the file's order."""
    rate = book.rate(budget.currency).usd_per_unit
    share, hours = run_share(budget.run_hours, book), budget.run_hours
    tiers = result.tiers()
    lines = [BudgetLine(ENVIRONMENT, budget.monthly_amount, budget.currency, rate, result.load * share, hours)]
    lines += [BudgetLine(tier, amount, budget.currency, rate, tiers.get(tier, (0.0, 0.0))[1] * share, hours)
              for tier, amount in budget.tier_amounts.items()]
    return tuple(lines)


def _basis(line: BudgetLine) -> str:
    return f"for one run of {line.run_hours} h" if line.run_hours else "a month"


def budget_text(lines: tuple[BudgetLine, ...], book: PriceBook) -> str:
    if not lines:
        return ""
    currency = lines[0].currency
    rate = book.rate(currency)
    source = f" ({rate.rate_date}, {rate.source})" if rate.rate_date else ""
    basis = f"{_basis(lines[0])} " if lines[0].run_hours else ""
    out = [f"budgets, {basis}under load, in {currency} at {rate.usd_per_unit:g} USD per {currency}{source}:"]
    for line in lines:
        flag = "PAST BUDGET" if line.over else "ok"
        out.append(f"  {line.scope:<16}{line.load:>10.2f} of {line.amount:>8,.0f} {currency} ({line.share:>4.0%})  {flag}")
    return "\n".join(out)


def warnings(env: str, lines: tuple[BudgetLine, ...]) -> list[str]:
    return [f"warning: {env} {'as a whole' if line.scope == ENVIRONMENT else 'tier ' + line.scope} is estimated at "
            f"{line.load:,.2f} {line.currency} {_basis(line)} under load, past its budget of {line.amount:,.0f} {line.currency}"
            for line in lines if line.over]


@dataclass(frozen=True)
class BudgetDelta:
    text: str  # the cost change and where each budget stands after it
    newly_exceeded: tuple[str, ...]  # scopes within budget before the change and past it after


def budget_delta(env: str, base_stack: dict, head_stack: dict, profile: LoadProfileConfig, book: PriceBook,
                 budget: CostConfig) -> BudgetDelta:
    """What a change (base stack JSON to head stack JSON) does to one environment's cost and its
    budgets. Both stacks are priced with the same load profile, so the difference is the change's."""
    head_stack, forgotten = with_forgotten(base_stack, head_stack)
    before, after = estimate(base_stack, env, profile, book), estimate(head_stack, env, profile, book)
    old = {line.scope: line for line in budget_lines(before, budget, book)}
    new = budget_lines(after, budget, book)
    pushed = tuple(line.scope for line in new if line.over and not old[line.scope].over)
    out = [diff_text(diff(before, after)), budget_text(new, book)]
    out += [f"  {scope}: this change takes it past its budget" for scope in pushed]
    if forgotten:
        out.append(f"  still billed, forgotten by Terraform until deleted by hand: {', '.join(forgotten)}")
    return BudgetDelta("\n".join(out), pushed)


def with_forgotten(base_stack: dict, head_stack: dict) -> tuple[dict, list[str]]:
    """The head stack plus the base resources its `removed` blocks forget: Terraform leaves them
    running in Google Cloud (a region failover's old primary), so they keep their cost."""
    kept = {block["from"] for block in head_stack.get("removed") or [] if not block["lifecycle"]["destroy"]}
    resources = {type_: dict(group) for type_, group in (head_stack.get("resource") or {}).items()}
    forgotten = []
    for address in sorted(kept):
        type_, name = address.split(".", 1)
        body = (base_stack.get("resource") or {}).get(type_, {}).get(name)
        if body is not None and name not in resources.get(type_, {}):
            resources.setdefault(type_, {})[name] = body
            forgotten.append(address)
    return {**head_stack, "resource": resources}, forgotten
