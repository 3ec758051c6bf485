#!/usr/bin/env python
"""`make forgotten ENV=<env>`: what a failover or failback left running in Google Cloud, as the
gcloud commands that delete it.

A `removed` block with `destroy = false` takes a resource out of Terraform's state and leaves it
as it is: the old region's services, Redis, Kafka, network and Cloud SQL instance keep running,
and billing, until someone deletes them (docs/runbooks/disaster-recovery.md, Failback step 0;
the drill's teardown). This reads the `removed` blocks of the synthesized stack
(`cdktf.out/stacks/<env>`), synthesizes the environment as it was before the flip (the standby
site active, under the file's instance names) to learn each forgotten resource's name and region,
and prints one delete command per resource, in an order Google accepts (what uses the subnet
before the subnet). Grants, topics, objects, NAT, databases and users go with their parent.

Prints nothing to delete (exit 0) when the file forgets nothing; exit 2 on a bad file or a
missing synthesis.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from environments.config import EnvironmentConfig  # noqa: E402
from tools.environment_arg import one_environment  # noqa: E402

STACKS = ROOT / "cdktf.out" / "stacks"

# type -> (delete command, with {name}, {region}, {project}), in the order they run. Types absent
# here go with a parent in this table (PARENTS).
DELETE = {
    "google_cloud_scheduler_job": "gcloud scheduler jobs delete {name} --location={region} --project={project} --quiet",
    "google_cloud_run_v2_job": "gcloud run jobs delete {name} --region={region} --project={project} --quiet",
    "google_cloudfunctions2_function": "gcloud functions delete {name} --gen2 --region={region} --project={project} --quiet",
    "google_cloud_run_v2_service": "gcloud run services delete {name} --region={region} --project={project} --quiet",
    "google_compute_region_network_endpoint_group":
        "gcloud compute network-endpoint-groups delete {name} --region={region} --project={project} --quiet",
    "google_redis_instance": "gcloud redis instances delete {name} --region={region} --project={project} --quiet",
    "google_managed_kafka_cluster":
        "gcloud managed-kafka clusters delete {name} --location={region} --project={project} --quiet",
    # Export first what the promotion may have lost (the replica lag at the flip): runbook, Failback step 0.
    "google_sql_database_instance": "gcloud sql instances patch {name} --no-deletion-protection --project={project} "
                                    "--quiet && gcloud sql instances delete {name} --project={project} --quiet",
    "google_vpc_access_connector":
        "gcloud compute networks vpc-access connectors delete {name} --region={region} --project={project} --quiet",
    "google_compute_router": "gcloud compute routers delete {name} --region={region} --project={project} --quiet",
    "google_compute_subnetwork": "gcloud compute networks subnets delete {name} --region={region} --project={project} --quiet",
    "google_storage_bucket": "gcloud storage rm --recursive gs://{name} --project={project}",
}
# What goes with its parent's deletion.
PARENTS = {
    "google_cloud_run_v2_service_iam_member": "google_cloud_run_v2_service",
    "google_managed_kafka_topic": "google_managed_kafka_cluster",
    "google_compute_router_nat": "google_compute_router",
    "google_sql_database": "google_sql_database_instance",
    "google_sql_user": "google_sql_database_instance",
    "google_storage_bucket_object": "google_storage_bucket",
    "google_storage_bucket_iam_member": "google_storage_bucket",
}
NAME_KEYS = ("name", "cluster_id")


class ForgottenError(Exception):
    """What is missing, and the command that makes it."""


def forgotten_addresses(stack: dict) -> list[str]:
    return [block["from"] for block in stack.get("removed", [])]


def before_the_flip(config: EnvironmentConfig) -> EnvironmentConfig:
    """The environment with its standby site active and replicated: where the forgotten resources
    were built, under the names the file gives each site."""
    recovery = config.disaster_recovery
    return dataclasses.replace(config, disaster_recovery=dataclasses.replace(
        recovery, active_region=recovery.standby_site, standby="replica"))


def delete_commands(config: EnvironmentConfig, forgotten: list[str], before: dict) -> list[str]:
    """One command per forgotten resource that has its own, in DELETE's order."""
    resources = before.get("resource", {})
    found = []
    for address in forgotten:
        type_, name = address.split(".", 1)
        body = resources.get(type_, {}).get(name)
        if body is None:
            raise ForgottenError(f"{address} is forgotten but the stack before the flip has no such resource: "
                                 "was the file changed since? Read the address's last state with `terraform "
                                 "state show` in an older state version (gs://<state bucket>, versioned)")
        if type_ in PARENTS:
            continue
        if type_ not in DELETE:
            raise ForgottenError(f"{address}: no delete command for {type_}: add one to DELETE or PARENTS "
                                 "in tools/forgotten.py")
        resource_name = next(body[k] for k in NAME_KEYS if k in body)
        region = body.get("region") or body.get("location") or ""
        found.append((list(DELETE).index(type_), resource_name,
                      DELETE[type_].format(name=resource_name, region=region, project=config.project_id)))
    return [command for _, _, command in sorted(found)]


def main(argv: list[str]) -> int:
    config = one_environment(argv, "tools/forgotten.py <environment> (after make synth)")
    current = STACKS / config.name / "cdk.tf.json"
    if not current.exists():
        print(f"{current.relative_to(ROOT)} is missing: run make synth ENV={config.name} first", file=sys.stderr)
        return 2
    forgotten = forgotten_addresses(json.loads(current.read_text()))
    if not forgotten:
        print(f"# {config.name}: the file forgets nothing (disaster_recovery.standby is not `forgotten`)")
        return 0
    from main import synthesize  # late: loading the bindings takes seconds

    with tempfile.TemporaryDirectory() as tmp:
        synthesize([before_the_flip(config)], Path(tmp) / "out")
        before = json.loads((Path(tmp) / "out" / "stacks" / config.name / "cdk.tf.json").read_text())
    try:
        commands = delete_commands(config, forgotten, before)
    except ForgottenError as error:
        print(f"tools/forgotten.py: {error}", file=sys.stderr)
        return 2
    site = config.disaster_recovery.standby_site
    print(f"# {config.name}: {len(forgotten)} addresses forgotten in {config.region_of(site)} ({site} site), "
          f"{len(commands)} resources to delete by hand once their data is no longer needed")
    print("\n".join(commands))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
