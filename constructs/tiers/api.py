"""The API layer: a Cloud Functions (2nd gen) HTTP function and its source bucket."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Mapping, Optional

from constructs import Construct

from constructs.google import (
    cloud_run_v2_service_iam_member,
    cloudfunctions2_function as fn,
    storage_bucket_object,
)
from constructs.shared.cloud_run import RuntimeWiring, wait_for
from constructs.shared.runtime import BuildIdentity, RuntimeIdentity
from constructs.shared.secrets import AppSecret
from constructs.shared.sites import place
from constructs.shared.source_archive import ROOT, SourceArchive, function_source_bucket
from environments.config import EnvironmentConfig

if TYPE_CHECKING:
    from constructs.shared.apis import Apis
    from constructs.shared.network import Network
    from constructs.shared.secrets import SecretRotation

TIER = "api"
PLACEHOLDER_SOURCE = ROOT / "functions" / "api-placeholder"


class Api(Construct):
    """`url`, `identity` and `grant_invoker` for consumers; `secrets[ENV]` for each secret."""

    def __init__(self, scope: Construct, id_: str, *, config: EnvironmentConfig, network: "Network", apis: "Apis",
                 callee_urls: Mapping[str, str], wiring: RuntimeWiring, rotation: Optional["SecretRotation"] = None):
        super().__init__(scope, id_)
        api = config.api
        self._config = config
        self.identity = RuntimeIdentity(self, "identity", config=config, apis=apis, runtime="api")
        self.source_bucket = function_source_bucket(
            self, "source-bucket", config=config, component="function-sources",
            labels=config.labels(TIER, "function-sources"), depends_on=[apis.enable("storage.googleapis.com")],
        )
        builder = BuildIdentity(self, "build-identity", config=config, apis=apis, function="api",
                                source_bucket=self.source_bucket)
        source_object = api.source_object
        if source_object is None:
            archive = SourceArchive(self, "placeholder-source", source_dir=PLACEHOLDER_SOURCE, name="api-placeholder")
            placeholder = storage_bucket_object.StorageBucketObject(
                self, "placeholder-object", bucket=self.source_bucket.name, name=archive.object_name, source=archive.path)
            place(placeholder, config)
            source_object = placeholder.name

        self.secrets = {
            variable: AppSecret(self, f"secret-{variable.lower()}", config=config, apis=apis, secret_id=secret_id,
                                tier=TIER, service="api", address=f"secret_{variable.lower()}", rotation=rotation)
            for variable, secret_id in sorted(api.secrets.items())
        }
        for variable, secret in self.secrets.items():
            secret.grant_access(self.identity.member, id_="api")

        self.function = fn.Cloudfunctions2Function(
            self,
            "function",
            name=config.resource_name("api"),
            location=config.active_region,
            description="HexProperty API layer",
            labels=config.labels(TIER, "api"),
            build_config=fn.Cloudfunctions2FunctionBuildConfig(
                runtime=api.runtime,
                entry_point=api.entry_point,
                service_account=builder.name,
                source=fn.Cloudfunctions2FunctionBuildConfigSource(
                    storage_source=fn.Cloudfunctions2FunctionBuildConfigSourceStorageSource(
                        bucket=self.source_bucket.name, object=source_object)
                ),
            ),
            service_config=fn.Cloudfunctions2FunctionServiceConfig(
                service_account_email=self.identity.email,
                available_memory=api.memory,
                timeout_seconds=api.timeout_seconds,
                min_instance_count=api.min_instances,
                max_instance_count=api.max_instances,
                ingress_settings=api.ingress,
                all_traffic_on_latest_revision=True,
                # Provider 6.50 has no Direct VPC egress for functions: the connector carries all
                # egress, so calls to internal services count as internal and Cloud NAT does the rest.
                vpc_connector=network.connector_id,
                vpc_connector_egress_settings="ALL_TRAFFIC",
                environment_variables={**api.env, **wiring.env, **callee_urls} or None,
                secret_environment_variables=[
                    fn.Cloudfunctions2FunctionServiceConfigSecretEnvironmentVariables(
                        key=variable, project_id=config.project_id, secret=secret_id, version="latest")
                    for variable, secret_id in sorted(
                        {**{v: s.secret_id for v, s in self.secrets.items()}, **wiring.secret_env}.items())
                ] or None,
            ),
            depends_on=[
                apis.enable("cloudfunctions.googleapis.com"), apis.enable("cloudbuild.googleapis.com"),
                apis.enable("run.googleapis.com"), apis.enable("secretmanager.googleapis.com"),
                # The first build fails unless its identity can already read the source and push.
                *builder.grants,
                *(d for secret in self.secrets.values() for d in secret.dependables),
            ],
        )
        place(self.function, config)
        if api.public:
            self._invoker("public", "allUsers")

    @cached_property
    def url(self) -> str:  # read by the callers' wiring and the outputs: once from jsii
        return self.function.url

    def wait_for(self, *dependencies) -> None:
        wait_for(self.function, *dependencies)

    def grant_invoker(self, caller: RuntimeIdentity) -> None:
        """Let `caller` invoke the function: a 2nd gen function is served by a Cloud Run
        service of the same name, and invoking it takes roles/run.invoker there."""
        self._invoker(caller.runtime, caller.member)

    def allow_invoker(self, id_: str, member: str) -> None:
        """Let a principal that is not a runtime of the stack (the CI smoke account) invoke the function."""
        self._invoker(id_, member)

    def _invoker(self, id_: str, member: str) -> None:
        place(cloud_run_v2_service_iam_member.CloudRunV2ServiceIamMember(
            self, f"invoker-{id_}", project=self._config.project_id, location=self._config.active_region,
            name=self.function.name, role="roles/run.invoker", member=member,
        ), self._config)
