"""Stop a Cloud SQL instance when Cloud Monitoring reports it idle (standard library only).

The alert's Pub/Sub channel publishes when an incident opens and again when it closes;
only an open incident stops the instance. The instance comes from the function's
environment, never from the message, so a message cannot aim it at another instance.
"""

from __future__ import annotations

import base64
import json
import urllib.request
from typing import Callable, Optional

API = "https://sqladmin.googleapis.com/v1/projects/{project}/instances/{instance}"
TOKEN = "http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/default/token"

Call = Callable[[str, str, Optional[dict]], dict]


def incident_state(event_data: dict) -> str:
    """`open`, `closed`, or `unreadable` for a message that is not a Monitoring notification."""
    try:
        message = json.loads(base64.b64decode(event_data["message"]["data"]))
        return str(message["incident"]["state"]).lower()
    except (KeyError, TypeError, ValueError):
        return "unreadable"


def handle(event_data: dict, *, project: str, instance: str, call: Optional[Call] = None) -> str:
    """Set the activation policy to NEVER when the incident is open; say what was done."""
    call = call or _call
    state = incident_state(event_data)
    if state != "open":
        return f"ignored: incident {state}"
    url = API.format(project=project, instance=instance)
    if call("GET", url, None).get("settings", {}).get("activationPolicy") == "NEVER":
        return f"{instance}: already stopped"
    # A partial update: only the activation policy changes.
    call("PATCH", url, {"settings": {"activationPolicy": "NEVER"}})
    return f"{instance}: activation policy set to NEVER"


def _call(method: str, url: str, body: Optional[dict]) -> dict:
    """One SQL Admin API call as the function's service account (token from the metadata server)."""
    with urllib.request.urlopen(urllib.request.Request(TOKEN, headers={"Metadata-Flavor": "Google"}), timeout=10) as r:
        token = json.load(r)["access_token"]
    request = urllib.request.Request(
        url,
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # HTTPError on failure: Eventarc retries
        return json.load(response)
