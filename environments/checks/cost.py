"""Checks of CostConfig: the billing account id, tier labels, tier budgets within the total."""

from __future__ import annotations

import difflib
import re
from typing import Iterator

from environments.config import TIERS
from environments.problems import Problem, short_repr

# Cloud Billing account ids: three groups of six uppercase hexadecimal characters.
BILLING_ACCOUNT = re.compile(r"^[0-9A-F]{6}-[0-9A-F]{6}-[0-9A-F]{6}$")

# The committed files' stand-in id: synthesis accepts it, plan and deploy refuse it (tools/deploy_preflight.py).
PLACEHOLDER_BILLING_ACCOUNT = "000000-000000-000000"


def cost_problems(shown: str, cost: dict) -> Iterator[Problem]:
    if not BILLING_ACCOUNT.match(cost["billing_account"]):
        yield Problem(shown, "cost.billing_account", f"{short_repr(cost['billing_account'])} is not a billing account id",
                      "write XXXXXX-XXXXXX-XXXXXX with digits and A-F (gcloud billing projects describe <project>)")
    for tier in sorted(cost["tier_amounts"]):
        if tier not in TIERS:
            close = difflib.get_close_matches(tier, TIERS, n=1)
            yield Problem(shown, f"cost.tier_amounts.{tier}", f"{tier!r} is not a tier label of the stack",
                          (f"did you mean {close[0]!r}? " if close else "") + f"tiers: {', '.join(TIERS)}")
    total = sum(cost["tier_amounts"].values())
    if total > cost["monthly_amount"]:
        yield Problem(shown, "cost.tier_amounts", f"the tiers' budgets add up to {total}, above monthly_amount "
                      f"{cost['monthly_amount']}", "lower the tier budgets or raise monthly_amount: tiers share the project")
