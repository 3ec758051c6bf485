"""The disaster-recovery drill reminder (seed: regular DR testing).

The drills are run by a person (docs/runbooks/disaster-recovery.md says why no restore runs
unattended). What is automated is that nobody has to remember them: Cloud Scheduler publishes
on a topic on the file's schedule, and the notice alert emails the compliance recipients with
a link to the regional drill's checklist, on the repository's default branch (the newest runbook).
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Sequence

from constructs import Construct

from constructs.google import cloud_scheduler_job, pubsub_topic
from constructs.shared.notices import publish_alert
from constructs.shared.sites import place
from environments.config import EnvironmentConfig

if TYPE_CHECKING:
    from constructs.shared.apis import Apis

TIER = "operations"
SERVICE = "dr-drill"
RUNBOOK = "docs/runbooks/disaster-recovery.md"
# The heading `### Regional drill checklist` (synth_tests/test_compliance.py checks it is there).
CHECKLIST_ANCHOR = "regional-drill-checklist"


def checklist_url(config: EnvironmentConfig) -> str:
    return f"https://github.com/{config.delivery.repository}/blob/HEAD/{RUNBOOK}#{CHECKLIST_ANCHOR}"


class DrDrill(Construct):
    def __init__(self, scope: Construct, id_: str, *, config: EnvironmentConfig, apis: "Apis", channels: Sequence):
        super().__init__(scope, id_)
        labels = config.labels(TIER, SERVICE)
        drill = config.disaster_recovery
        link = checklist_url(config)
        topic = pubsub_topic.PubsubTopic(self, "topic", name=config.resource_name(SERVICE), labels=labels,
                                         depends_on=[apis.enable("pubsub.googleapis.com")])
        # Scheduler publishes as its service agent, whose role already allows publishing in the project.
        reminder = cloud_scheduler_job.CloudSchedulerJob(
            self,
            "reminder",
            name=config.resource_name(SERVICE),
            region=config.active_region,
            description=f"Reminds the team that a disaster-recovery drill of {config.name} is due",
            schedule=drill.drill_schedule,
            time_zone=drill.time_zone,
            pubsub_target=cloud_scheduler_job.CloudSchedulerJobPubsubTarget(
                topic_name=topic.id, data=base64.b64encode(f"DR drill due: {link}".encode()).decode()),
            depends_on=[apis.enable("cloudscheduler.googleapis.com")],
        )
        place(reminder, config)
        publish_alert(
            self, "due", topic_name=topic.name, channels=channels, labels=labels,
            subject=f"{config.name}: a disaster-recovery drill is due",
            content=(f"Run this quarter's regional drill from its checklist, {link}, and the other drills "
                     "that page lists; record the measured recovery times there (Measured drills)."),
            depends_on=[apis.enable("monitoring.googleapis.com")])
