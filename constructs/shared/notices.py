"""Operations notices: an email whenever something publishes on a topic.

Pub/Sub drops messages on a topic nobody subscribes to, so a notice that only publishes (a
secret's SECRET_ROTATE, the DR drill reminder) would reach no one. An alert on the topic's
publish count turns each one into an email, with the runbook step in the alert's text.
"""

from __future__ import annotations

from typing import Sequence

from constructs import Construct

from constructs.google import monitoring_alert_policy, monitoring_notification_channel
from environments.config import EnvironmentConfig

METRIC = "pubsub.googleapis.com/topic/send_message_operation_count"


def email_channels(scope: Construct, *, config: EnvironmentConfig, emails: Sequence[str], purpose: str,
                   labels: dict, depends_on: list) -> list[monitoring_notification_channel.MonitoringNotificationChannel]:
    return [
        monitoring_notification_channel.MonitoringNotificationChannel(
            scope, f"email-{index}", type="email", display_name=f"{purpose} {config.name}: {email}",
            labels={"email_address": email}, user_labels=labels, depends_on=depends_on)
        for index, email in enumerate(emails)
    ]


def publish_alert(scope: Construct, id_: str, *, topic_name: str, channels: Sequence, subject: str, content: str,
                  labels: dict, depends_on: list) -> monitoring_alert_policy.MonitoringAlertPolicy:
    """Email `channels` when a message is published on `topic_name` (Pub/Sub reports within minutes)."""
    a = monitoring_alert_policy
    return a.MonitoringAlertPolicy(
        scope,
        id_,
        display_name=subject,
        combiner="OR",
        conditions=[a.MonitoringAlertPolicyConditions(
            display_name=f"A message on {topic_name}",
            condition_threshold=a.MonitoringAlertPolicyConditionsConditionThreshold(
                filter=(f'resource.type = "pubsub_topic" AND resource.labels.topic_id = "{topic_name}" '
                        f'AND metric.type = "{METRIC}"'),
                aggregations=[a.MonitoringAlertPolicyConditionsConditionThresholdAggregations(
                    alignment_period="300s", per_series_aligner="ALIGN_SUM")],
                comparison="COMPARISON_GT",
                threshold_value=0,
                duration="0s",
                # No publishes is the normal state, not missing data to alert on.
                evaluation_missing_data="EVALUATION_MISSING_DATA_INACTIVE",
            ),
        )],
        notification_channels=[c.name for c in channels],
        alert_strategy=a.MonitoringAlertPolicyAlertStrategy(auto_close="86400s"),
        documentation=a.MonitoringAlertPolicyDocumentation(mime_type="text/markdown", subject=subject, content=content),
        user_labels=labels,
        depends_on=depends_on,
    )
