"""The events tier: Kafka, as the seed's single broker on Cloud Run or as Managed Kafka.

Why the two backends differ, what each guarantees and costs: docs/decisions/kafka.md.
Either way, runtimes named as producers or consumers get access and one environment
variable with the address (`env_for`), and nobody else gets either.
"""

from __future__ import annotations

import base64
import uuid
from typing import TYPE_CHECKING

from cdktf import Annotations, TerraformResourceLifecycle
from constructs import Construct

from constructs.google import cloud_run_v2_service as run
from constructs.google import (
    cloud_run_v2_service_iam_member,
    managed_kafka_cluster as mk,
    managed_kafka_topic,
    project_iam_member,
    storage_bucket,
    storage_bucket_iam_member,
)
from constructs.shared.runtime import RuntimeIdentity
from constructs.shared.sites import place
from environments.config import EnvironmentConfig

if TYPE_CHECKING:
    from constructs.shared.apis import Apis
    from constructs.shared.network import Network

TIER = "events"
COMPONENT = "kafka"
REST_URL_VARIABLE = "KAFKA_REST_URL"
BOOTSTRAP_VARIABLE = "KAFKA_BOOTSTRAP_SERVERS"
# Identical replicas of a broker would write one log; the loader refuses any other count.
BROKER_INSTANCES = 1
LOG_DIR = "/var/lib/kafka/data"
PROXY_PORT = 8082
# Managed Kafka spreads a cluster over three zones: one replica of each partition per zone.
MANAGED_REPLICATION_FACTOR = 3
GIB = 1024**3

# The official image's own start script (/etc/kafka/docker/run) formats the log directory on
# first start (`kafka-storage format --ignore-formatted`) and runs the broker. Around it: wait
# until the broker answers, create each declared topic if missing and re-apply its retention,
# then wait on the broker. Cloud Run's SIGTERM is passed on so Kafka shuts down cleanly, which
# is when its open segment files are closed and reach Cloud Storage whole. POSIX sh: the image
# is Alpine. BROKER_TOPICS ("name:partitions:retention.ms ...") has no KAFKA_ prefix: the image
# turns KAFKA_* variables into broker settings. No "${": Terraform would read it as interpolation.
BROKER_START = """\
/etc/kafka/docker/run & broker=$!
trap 'kill -TERM "$broker"; wait "$broker"' TERM INT
bin=/opt/kafka/bin
until "$bin/kafka-topics.sh" --bootstrap-server localhost:9092 --list >/dev/null 2>&1; do
  kill -0 "$broker" || exit 1
  sleep 1
done
for topic in $BROKER_TOPICS; do
  name=$(echo "$topic" | cut -d: -f1)
  "$bin/kafka-topics.sh" --bootstrap-server localhost:9092 --create --if-not-exists \\
    --topic "$name" --partitions "$(echo "$topic" | cut -d: -f2)" --replication-factor 1
  "$bin/kafka-configs.sh" --bootstrap-server localhost:9092 --alter --entity-type topics \\
    --entity-name "$name" --add-config "retention.ms=$(echo "$topic" | cut -d: -f3)"
done
wait "$broker"
"""


class Events(Construct):
    """`env_for(runtime)` is what a runtime's environment gets; `grant_client(identity)` lets it in."""

    def __init__(self, scope: Construct, id_: str, *, config: EnvironmentConfig, network: "Network", apis: "Apis"):
        super().__init__(scope, id_)
        self._config = config
        self._apis = apis
        events = config.events
        if events.backend == "cloud-run":
            self._service = _broker_service(self, config, network, apis)
            self._env = {REST_URL_VARIABLE: self._service.uri}
            if config.is_production:
                Annotations.of(self).add_warning(
                    "production uses the cloud-run Kafka backend: one broker instance that cannot scale, reachable "
                    "only over HTTP through its REST proxy, its log on a Cloud Storage volume without file locking "
                    "or durable appends. Use events.backend: managed (docs/decisions/kafka.md).")
        else:
            self._cluster = _managed_cluster(self, config, network, apis)
            # Provider 6.50 exports no bootstrap address: this is the DNS name Managed Kafka registers
            # in the VPC (Google calls it the legacy format; docs/decisions/kafka.md says how to
            # confirm it). The reference to the cluster also orders the runtimes after it.
            self._env = {BOOTSTRAP_VARIABLE: f"bootstrap.{self._cluster.cluster_id}.{config.active_region}"
                                             f".managedkafka.{config.project_id}.cloud.goog:9092"}

    @property
    def address(self) -> str:
        """The REST proxy URL (cloud-run) or the bootstrap address (managed)."""
        return next(iter(self._env.values()))

    def env_for(self, runtime: str) -> dict[str, str]:
        """The Kafka address variable for producers and consumers; nothing for other runtimes."""
        return dict(self._env) if runtime in self._config.events.clients else {}

    def grant_client(self, client: RuntimeIdentity) -> None:
        """Let a producer or consumer in: invoke the REST proxy, or connect to the cluster."""
        if self._config.events.backend == "cloud-run":
            place(cloud_run_v2_service_iam_member.CloudRunV2ServiceIamMember(
                self, f"invoker-{client.runtime}", project=self._service.project, location=self._service.location,
                name=self._service.name, role="roles/run.invoker", member=client.member,
            ), self._config)
        else:
            # Project level: provider 6.50 has no IAM resource on a Managed Kafka cluster, and the
            # environment's project holds this one cluster.
            project_iam_member.ProjectIamMember(
                self, f"client-{client.runtime}", project=self._config.project_id,
                role="roles/managedkafka.client", member=client.member,
                depends_on=[self._apis.enable("cloudresourcemanager.googleapis.com")],
            )


def _broker_service(scope: Construct, config: EnvironmentConfig, network: "Network", apis: "Apis") -> run.CloudRunV2Service:
    kafka = config.events.cloud_run
    identity = RuntimeIdentity(scope, "identity", config=config, apis=apis, runtime=COMPONENT)
    bucket = storage_bucket.StorageBucket(
        scope,
        "log-bucket",
        name=config.site_bucket_name(f"{COMPONENT}-log", config.disaster_recovery.active_site),
        location=config.active_region,
        uniform_bucket_level_access=True,
        public_access_prevention="enforced",
        versioning=storage_bucket.StorageBucketVersioning(enabled=True),
        # Kafka rewrites checkpoint and index files all the time: bound the old versions kept.
        lifecycle_rule=[
            storage_bucket.StorageBucketLifecycleRule(
                action=storage_bucket.StorageBucketLifecycleRuleAction(type="Delete"),
                condition=storage_bucket.StorageBucketLifecycleRuleCondition(
                    num_newer_versions=kafka.noncurrent_versions_kept, with_state="ARCHIVED"),
            ),
            storage_bucket.StorageBucketLifecycleRule(
                action=storage_bucket.StorageBucketLifecycleRuleAction(type="Delete"),
                condition=storage_bucket.StorageBucketLifecycleRuleCondition(
                    days_since_noncurrent_time=kafka.noncurrent_days),
            ),
        ],
        force_destroy=not config.is_production,
        labels=config.labels(TIER, f"{COMPONENT}-log"),
    )
    # A failover starts the broker in the DR region on an empty log (docs/runbooks/disaster-recovery.md).
    place(bucket, config, "kafka_log_bucket")
    # Cloud Storage FUSE lists, reads, writes and deletes objects; nothing on other buckets.
    log_access = storage_bucket_iam_member.StorageBucketIamMember(
        scope, "log-access", bucket=bucket.name, role="roles/storage.objectUser", member=identity.member,
    )
    place(log_access, config)
    topics = " ".join(f"{t.name}:{t.partitions}:{t.retention_hours * 3_600_000}" for t in config.events.topics)
    broker_env = {
        # KRaft combined mode: this one node is broker and controller; nothing listens beyond localhost.
        "CLUSTER_ID": _cluster_id(config),
        "KAFKA_NODE_ID": "1",
        "KAFKA_PROCESS_ROLES": "broker,controller",
        "KAFKA_LISTENERS": "PLAINTEXT://localhost:9092,CONTROLLER://localhost:9093",
        "KAFKA_ADVERTISED_LISTENERS": "PLAINTEXT://localhost:9092",
        "KAFKA_CONTROLLER_LISTENER_NAMES": "CONTROLLER",
        "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        "KAFKA_CONTROLLER_QUORUM_VOTERS": "1@localhost:9093",
        "KAFKA_LOG_DIRS": LOG_DIR,
        # Only the declared topics exist: a typo'd name fails instead of appearing with defaults.
        "KAFKA_AUTO_CREATE_TOPICS_ENABLE": "false",
        # One node, so internal topics have one replica; one offsets partition instead of 50,
        # since every partition is a set of files (and requests) on Cloud Storage.
        "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR": "1",
        "KAFKA_OFFSETS_TOPIC_NUM_PARTITIONS": "1",
        "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR": "1",
        "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR": "1",
        # An open segment reaches Cloud Storage only when Kafka closes it, and is staged in
        # instance memory until then: small segments, rolled at least every 10 minutes.
        "KAFKA_LOG_SEGMENT_BYTES": str(64 * 1024 * 1024),
        "KAFKA_LOG_ROLL_MS": str(10 * 60 * 1000),
        "BROKER_TOPICS": topics,
    }
    proxy_env = {
        "KAFKA_REST_BOOTSTRAP_SERVERS": "localhost:9092",
        "KAFKA_REST_LISTENERS": f"http://0.0.0.0:{PROXY_PORT}",
        "KAFKA_REST_HOST_NAME": "localhost",
    }
    service = run.CloudRunV2Service(
        scope,
        "service",
        name=config.resource_name(COMPONENT),
        location=config.active_region,
        ingress="INGRESS_TRAFFIC_INTERNAL_ONLY",
        deletion_protection=config.is_production,
        labels=config.labels(TIER, COMPONENT),
        template=run.CloudRunV2ServiceTemplate(
            service_account=identity.email,
            # Cloud Storage volumes were introduced for the second generation; set it explicitly.
            execution_environment="EXECUTION_ENVIRONMENT_GEN2",
            scaling=run.CloudRunV2ServiceTemplateScaling(
                min_instance_count=kafka.min_instances, max_instance_count=BROKER_INSTANCES),
            vpc_access=run.CloudRunV2ServiceTemplateVpcAccess(
                egress="ALL_TRAFFIC",
                network_interfaces=[run.CloudRunV2ServiceTemplateVpcAccessNetworkInterfaces(
                    network=network.vpc_id, subnetwork=network.subnet_id)],
            ),
            volumes=[run.CloudRunV2ServiceTemplateVolumes(
                name="log", gcs=run.CloudRunV2ServiceTemplateVolumesGcs(bucket=bucket.name, read_only=False))],
            containers=[
                run.CloudRunV2ServiceTemplateContainers(
                    name="proxy",
                    image=kafka.proxy_image,
                    depends_on=["broker"],
                    ports=run.CloudRunV2ServiceTemplateContainersPorts(container_port=PROXY_PORT),
                    resources=_resources(kafka.proxy_cpu, kafka.proxy_memory),
                    env=_env(proxy_env),
                    startup_probe=run.CloudRunV2ServiceTemplateContainersStartupProbe(
                        http_get=run.CloudRunV2ServiceTemplateContainersStartupProbeHttpGet(path="/", port=PROXY_PORT),
                        period_seconds=5, timeout_seconds=3, failure_threshold=24,
                    ),
                ),
                run.CloudRunV2ServiceTemplateContainers(
                    name="broker",
                    image=kafka.broker_image,
                    command=["/bin/sh", "-c", BROKER_START],
                    resources=_resources(kafka.broker_cpu, kafka.broker_memory),
                    env=_env(broker_env),
                    volume_mounts=[run.CloudRunV2ServiceTemplateContainersVolumeMounts(name="log", mount_path=LOG_DIR)],
                    # The proxy starts once the broker accepts connections. A cold start replays
                    # the log from Cloud Storage: allow 4 minutes, Cloud Run's longest probe window.
                    startup_probe=run.CloudRunV2ServiceTemplateContainersStartupProbe(
                        tcp_socket=run.CloudRunV2ServiceTemplateContainersStartupProbeTcpSocket(port=9092),
                        period_seconds=10, timeout_seconds=5, failure_threshold=24,
                    ),
                ),
            ],
        ),
        # The images are pinned in the environment file and owned here: no CI deploys this service.
        lifecycle=TerraformResourceLifecycle(ignore_changes=["client", "client_version"]),
        depends_on=[apis.enable("run.googleapis.com"), log_access, *identity.grants],
    )
    place(service, config)
    return service


def _managed_cluster(scope: Construct, config: EnvironmentConfig, network: "Network", apis: "Apis") -> mk.ManagedKafkaCluster:
    managed = config.events.managed
    cluster = mk.ManagedKafkaCluster(
        scope,
        "cluster",
        cluster_id=config.resource_name(COMPONENT),
        location=config.active_region,
        # The API takes both as strings (int64 in JSON).
        capacity_config=mk.ManagedKafkaClusterCapacityConfig(
            vcpu_count=str(managed.vcpu), memory_bytes=str(managed.memory_gib * GIB)),
        # Brokers and the bootstrap address get Private Service Connect addresses in this subnet.
        gcp_config=mk.ManagedKafkaClusterGcpConfig(access_config=mk.ManagedKafkaClusterGcpConfigAccessConfig(
            network_configs=[mk.ManagedKafkaClusterGcpConfigAccessConfigNetworkConfigs(subnet=network.subnet_id)])),
        rebalance_config=mk.ManagedKafkaClusterRebalanceConfig(mode="AUTO_REBALANCE_ON_SCALE_UP"),
        labels=config.labels(TIER, COMPONENT),
        depends_on=[apis.enable("managedkafka.googleapis.com")],
    )
    # A failover builds the cluster and its topics in the DR region, empty (docs/runbooks/disaster-recovery.md).
    place(cluster, config, "kafka_cluster")
    for topic in config.events.topics:
        place(managed_kafka_topic.ManagedKafkaTopic(
            scope,
            f"topic-{topic.name}",
            cluster=cluster.cluster_id,
            location=config.active_region,
            topic_id=topic.name,
            partition_count=topic.partitions,
            replication_factor=MANAGED_REPLICATION_FACTOR,
            configs={"retention.ms": str(topic.retention_hours * 3_600_000)},
        ), config, f"kafka_topic_{topic.name.replace('-', '_')}")
    return cluster


def _cluster_id(config: EnvironmentConfig) -> str:
    """A stable KRaft cluster id (16 bytes, URL-safe base64): the formatted log on Cloud Storage
    carries it, and a broker started with another id refuses that log."""
    digest = uuid.uuid5(uuid.NAMESPACE_DNS, f"{config.resource_name(COMPONENT)}.{config.project_id}")
    return base64.urlsafe_b64encode(digest.bytes).decode().rstrip("=")


def _resources(cpu: int, memory: str) -> run.CloudRunV2ServiceTemplateContainersResources:
    # cpu_idle false: a broker works between requests (log flushes, checkpoints, consumer
    # sessions), so CPU stays allocated while the instance runs (instance-based billing).
    return run.CloudRunV2ServiceTemplateContainersResources(
        limits={"cpu": str(cpu), "memory": memory}, cpu_idle=False, startup_cpu_boost=True)


def _env(variables: dict[str, str]) -> list[run.CloudRunV2ServiceTemplateContainersEnv]:
    return [run.CloudRunV2ServiceTemplateContainersEnv(name=k, value=v) for k, v in sorted(variables.items())]
