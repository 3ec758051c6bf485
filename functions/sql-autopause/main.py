"""Cloud Run function: Eventarc delivers the idle alert's Pub/Sub message as a CloudEvent."""

import os

import functions_framework

import pause


@functions_framework.cloud_event
def on_idle_alert(event):
    # Raising makes Eventarc retry; pause.handle raises only when the SQL Admin API fails.
    print(pause.handle(event.data, project=os.environ["PROJECT_ID"], instance=os.environ["INSTANCE"]))
