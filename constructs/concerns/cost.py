"""Cost: billing budgets for the environment and for each tier (seed: Cost Monitoring).

A budget lives on the billing account, not in the project; it only notifies and never caps
spend. Each one alerts at 50, 80 and 90 % of actual spend (the seed's numbers) and at 100 % of
forecast spend, by email through this construct's own channels and as a feed on a Pub/Sub topic
that a cost-control function could subscribe to. Cost anomaly detection has no Terraform
resource: docs/runbooks/cost-and-compliance.md says where it is switched on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from constructs import Construct

from constructs.google import (
    billing_budget,
    data_google_project,
    pubsub_topic,
    pubsub_topic_iam_member,
)
from constructs.shared.notices import email_channels
from environments.config import EnvironmentConfig

if TYPE_CHECKING:
    from constructs.shared.apis import Apis

TIER = "operations"
SERVICE = "budgets"
# Seed: "Alerts at 50%, 80%, 90% of budget", plus a warning before the month ends over budget.
CURRENT_SPEND_THRESHOLDS = (0.5, 0.8, 0.9)
FORECAST_THRESHOLD = 1.0
# The identity Cloud Billing publishes budget notifications as. The Budget API grants it on a
# topic when a budget is connected; owning the binding here keeps it in plans and reviews.
BUDGET_PUBLISHER = "serviceAccount:billing-budget-alert@system.gserviceaccount.com"


class Cost(Construct):
    """The environment's budget and one per tier in `cost.tier_amounts`; `topic` carries every update."""

    def __init__(self, scope: Construct, id_: str, *, config: EnvironmentConfig, apis: "Apis"):
        super().__init__(scope, id_)
        cost = config.cost
        labels = config.labels(TIER, SERVICE)
        monitoring = apis.enable("monitoring.googleapis.com")
        budgets = apis.enable("billingbudgets.googleapis.com")

        # The budget's own recipients: alerting channels belong to the monitoring tier.
        channels = email_channels(self, config=config, emails=cost.notification_emails, purpose="Budget alerts",
                                  labels=labels, depends_on=[monitoring])
        self.topic = pubsub_topic.PubsubTopic(
            self, "topic", name=config.resource_name("budget-alerts"), labels=labels,
            depends_on=[apis.enable("pubsub.googleapis.com")])
        publisher = pubsub_topic_iam_member.PubsubTopicIamMember(
            self, "billing-publishes", topic=self.topic.name, role="roles/pubsub.publisher", member=BUDGET_PUBLISHER)

        # Budgets filter on the project number, which only the API knows.
        number = data_google_project.DataGoogleProject(self, "project", project_id=config.project_id).number
        b = billing_budget
        # Read once (each read is a round trip into jsii), shared by every budget.
        channel_names = [c.name for c in channels]
        topic_id = self.topic.id

        def budget(id_: str, display_name: str, amount: int, tier: str | None) -> billing_budget.BillingBudget:
            return b.BillingBudget(
                self,
                id_,
                billing_account=cost.billing_account,
                display_name=display_name,
                amount=b.BillingBudgetAmount(specified_amount=b.BillingBudgetAmountSpecifiedAmount(
                    currency_code=cost.currency, units=str(amount))),
                budget_filter=b.BillingBudgetBudgetFilter(
                    projects=[f"projects/{number}"],
                    calendar_period="MONTH",
                    # A budget filter takes a single label pair: one budget per tier.
                    labels={"tier": tier} if tier else None,
                ),
                threshold_rules=[
                    *(b.BillingBudgetThresholdRules(threshold_percent=t, spend_basis="CURRENT_SPEND")
                      for t in CURRENT_SPEND_THRESHOLDS),
                    b.BillingBudgetThresholdRules(threshold_percent=FORECAST_THRESHOLD, spend_basis="FORECASTED_SPEND"),
                ],
                all_updates_rule=b.BillingBudgetAllUpdatesRule(
                    monitoring_notification_channels=channel_names,
                    pubsub_topic=topic_id,
                    schema_version="1.0",
                ),
                depends_on=[budgets, publisher],
            )

        self.budget = budget("budget", config.resource_name("monthly"), cost.monthly_amount, None)
        self.tier_budgets = {
            tier: budget(f"budget-{tier}", config.resource_name(f"{tier}-monthly"), amount, tier)
            for tier, amount in cost.tier_amounts.items()
        }
