"""The provider process: go-plugin handshake, TLS, and the tfplugin6 Provider service.

Terraform starts this process (about three times per command), reads one handshake line from
stdout, connects over the unix socket named there with TLS (trusting the certificate printed
in the line) and calls the Provider service. Every handler answers with diagnostics, never an
exception: a failure inside a handler becomes an error naming the type and what failed.
"""

from __future__ import annotations

import base64
import datetime
import os
import sys
import tempfile
import threading
import traceback
from concurrent import futures

import grpc
from tf.gen import grpc_controller_pb2 as controller_pb
from tf.gen import grpc_controller_pb2_grpc as controller_grpc
from tf.gen import grpc_stdio_pb2_grpc as stdio_grpc
from tf.gen import tfplugin_pb2 as pb
from tf.gen import tfplugin_pb2_grpc as pb_grpc

from . import codec
from .apply_values import fill_unknowns, read_google_project
from .diagnostics import ERROR, Diagnostic, MapKey, error
from .planning import ProviderConfig, plan_resource_change
from .rules import rules_for
from .schema import ProviderSchema, to_proto_schema
from .validation import validate_config

# go-plugin's handshake config for Terraform providers (plugin.HandshakeConfig in terraform-plugin-go).
MAGIC_COOKIE_KEY = "TF_PLUGIN_MAGIC_COOKIE"
MAGIC_COOKIE_VALUE = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2"
CORE_PROTOCOL_VERSION = 1
PLUGIN_PROTOCOL_VERSION = 6


def to_proto_diagnostics(diagnostics: list[Diagnostic]) -> list:
    result = []
    for diagnostic in diagnostics:
        steps = []
        for step in diagnostic.path:
            if isinstance(step, int):
                steps.append(pb.AttributePath.Step(element_key_int=step))
            elif isinstance(step, MapKey):
                steps.append(pb.AttributePath.Step(element_key_string=step))
            else:
                steps.append(pb.AttributePath.Step(attribute_name=step))
        severity = pb.Diagnostic.ERROR if diagnostic.severity == ERROR else pb.Diagnostic.WARNING
        message = pb.Diagnostic(severity=severity, summary=diagnostic.summary, detail=diagnostic.detail)
        if steps:
            message.attribute.CopyFrom(pb.AttributePath(steps=steps))
        result.append(message)
    return result


def _attribute_path(path: tuple):
    return to_proto_diagnostics([Diagnostic(ERROR, "", "", path)])[0].attribute


def _guarded(method):
    """Turn an exception inside a handler into an error diagnostic of its response."""

    def handler(self, request, context):
        try:
            return method(self, request, context)
        except Exception as failure:  # noqa: BLE001 - every failure must reach Terraform as a diagnostic
            response_type = getattr(pb, method.__name__).Response
            type_name = getattr(request, "type_name", "") or "provider"
            detail = f"{type(failure).__name__}: {failure}\n\n{traceback.format_exc(limit=6)}"
            return response_type(
                diagnostics=to_proto_diagnostics([error(f"google stand-in: {method.__name__} of {type_name} failed", detail)])
            )

    handler.__name__ = method.__name__
    return handler


class ProviderService(pb_grpc.ProviderServicer):
    def __init__(self, schema: ProviderSchema, stop: threading.Event):
        self.schema = schema
        self.stop = stop
        self.provider = ProviderConfig()
        self._schema_response = None
        self._schema_lock = threading.Lock()

    def _resource(self, type_name: str):
        resource = self.schema.resources.get(type_name)
        if resource is None:
            raise KeyError(f"resource type {type_name} is not in the stand-in's schema")
        return resource

    @_guarded
    def GetMetadata(self, request, context):
        return pb.GetMetadata.Response(
            server_capabilities=pb.ServerCapabilities(plan_destroy=True),
            resources=[pb.GetMetadata.ResourceMetadata(type_name=n) for n in sorted(self.schema.resources)],
            data_sources=[pb.GetMetadata.DataSourceMetadata(type_name=n) for n in sorted(self.schema.data_sources)],
        )

    @_guarded
    def GetProviderSchema(self, request, context):
        with self._schema_lock:
            if self._schema_response is None:
                self._schema_response = pb.GetProviderSchema.Response(
                    provider=to_proto_schema(pb, self.schema.provider_config),
                    resource_schemas={n: to_proto_schema(pb, r) for n, r in self.schema.resources.items()},
                    data_source_schemas={n: to_proto_schema(pb, r) for n, r in self.schema.data_sources.items()},
                    server_capabilities=pb.ServerCapabilities(plan_destroy=True),
                )
            return self._schema_response

    @_guarded
    def ValidateProviderConfig(self, request, context):
        resource = self.schema.provider_config
        config = codec.decode(request.config.msgpack, resource.value_type)
        return pb.ValidateProviderConfig.Response(
            diagnostics=to_proto_diagnostics(validate_config(self.schema, resource, config))
        )

    @_guarded
    def ValidateResourceConfig(self, request, context):
        resource = self._resource(request.type_name)
        config = codec.decode(request.config.msgpack, resource.value_type)
        return pb.ValidateResourceConfig.Response(
            diagnostics=to_proto_diagnostics(validate_config(self.schema, resource, config))
        )

    @_guarded
    def ValidateDataResourceConfig(self, request, context):
        resource = self.schema.data_sources[request.type_name]
        config = codec.decode(request.config.msgpack, resource.value_type)
        return pb.ValidateDataResourceConfig.Response(
            diagnostics=to_proto_diagnostics(validate_config(self.schema, resource, config))
        )

    @_guarded
    def ConfigureProvider(self, request, context):
        config = codec.decode(request.config.msgpack, self.schema.provider_config.value_type)
        self.provider = ProviderConfig.from_config(config)
        return pb.ConfigureProvider.Response()

    @_guarded
    def UpgradeResourceState(self, request, context):
        resource = self._resource(request.type_name)
        if not request.raw_state.json:
            raise ValueError("the state has no JSON form (a flatmap state from Terraform < 0.12 is not supported)")
        state = codec.decode_json(request.raw_state.json, resource.value_type)
        return pb.UpgradeResourceState.Response(
            upgraded_state=pb.DynamicValue(msgpack=codec.encode(state, resource.value_type))
        )

    @_guarded
    def ReadResource(self, request, context):
        # No Google to read: the state stays as it was applied (no drift).
        return pb.ReadResource.Response(new_state=request.current_state, private=request.private)

    @_guarded
    def PlanResourceChange(self, request, context):
        resource = self._resource(request.type_name)
        value_type = resource.value_type
        prior = codec.decode(request.prior_state.msgpack, value_type)
        proposed = codec.decode(request.proposed_new_state.msgpack, value_type)
        config = codec.decode(request.config.msgpack, value_type)
        planned, replace, diagnostics = plan_resource_change(
            self.schema, resource, prior, proposed, config, self.provider, rules_for(resource)
        )
        return pb.PlanResourceChange.Response(
            planned_state=pb.DynamicValue(msgpack=codec.encode(planned, value_type)),
            requires_replace=[_attribute_path(path) for path in replace],
            planned_private=request.prior_private,
            diagnostics=to_proto_diagnostics(diagnostics),
            # SDKv2 providers plan defaults Terraform's stricter checks would reject.
            legacy_type_system=True,
        )

    @_guarded
    def ApplyResourceChange(self, request, context):
        resource = self._resource(request.type_name)
        value_type = resource.value_type
        planned = codec.decode(request.planned_state.msgpack, value_type)
        new_state = None if planned is None else fill_unknowns(resource, planned, self.provider)
        return pb.ApplyResourceChange.Response(
            new_state=pb.DynamicValue(msgpack=codec.encode(new_state, value_type)),
            private=request.planned_private,
            legacy_type_system=True,
        )

    @_guarded
    def ImportResourceState(self, request, context):
        return pb.ImportResourceState.Response(
            diagnostics=to_proto_diagnostics(
                [
                    error(
                        "The google provider stand-in refuses imports",
                        f"Cannot import {request.type_name} with id {request.id!r}: only the real google provider can "
                        "read a resource from Google. The stand-in validates, plans and applies to a scratch state offline.",
                    )
                ]
            )
        )

    @_guarded
    def MoveResourceState(self, request, context):
        return pb.MoveResourceState.Response(
            diagnostics=to_proto_diagnostics(
                [error("Move resource state is not supported", f"The google provider stand-in cannot move state into {request.target_type_name}.")]
            )
        )

    @_guarded
    def ReadDataSource(self, request, context):
        resource = self.schema.data_sources.get(request.type_name)
        if request.type_name != "google_project" or resource is None:
            raise KeyError(f"data source {request.type_name} is not modelled by the stand-in (only google_project)")
        config = codec.decode(request.config.msgpack, resource.value_type)
        state = read_google_project(resource, config, self.provider)
        return pb.ReadDataSource.Response(state=pb.DynamicValue(msgpack=codec.encode(state, resource.value_type)))

    @_guarded
    def GetFunctions(self, request, context):
        return pb.GetFunctions.Response()

    def StopProvider(self, request, context):
        self.stop.set()
        return pb.StopProvider.Response()


class ControllerService(controller_grpc.GRPCControllerServicer):
    def __init__(self, stop: threading.Event):
        self.stop = stop

    def Shutdown(self, request, context):
        self.stop.set()
        return controller_pb.Empty()


class StdioService(stdio_grpc.GRPCStdioServicer):
    def StreamStdio(self, request, context):
        # Nothing is forwarded: the process writes nothing but the handshake to stdout.
        return iter(())


def _self_signed_certificate() -> tuple[bytes, bytes, bytes]:
    """(key PEM, certificate PEM, certificate DER) for "localhost", as go-plugin makes its own."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost"), x509.NameAttribute(NameOID.ORGANIZATION_NAME, "HashiCorp")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(seconds=30))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=True, data_encipherment=False,
                key_agreement=True, key_cert_sign=True, crl_sign=False, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return key_pem, certificate.public_bytes(serialization.Encoding.PEM), certificate.public_bytes(serialization.Encoding.DER)


def serve() -> int:
    if os.environ.get(MAGIC_COOKIE_KEY) != MAGIC_COOKIE_VALUE:
        sys.stderr.write(
            "This is the google provider stand-in, a Terraform plugin: Terraform starts it (see provider_standin/terraform.py).\n"
        )
        return 1
    stop = threading.Event()
    schema = ProviderSchema.load()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=16))
    pb_grpc.add_ProviderServicer_to_server(ProviderService(schema, stop), server)
    controller_grpc.add_GRPCControllerServicer_to_server(ControllerService(stop), server)
    stdio_grpc.add_GRPCStdioServicer_to_server(StdioService(), server)

    key_pem, cert_pem, cert_der = _self_signed_certificate()
    # Terraform's AutoMTLS client certificate (PLUGIN_CLIENT_CERT) is ECDSA P-521 signed with
    # SHA-512, a signature grpcio's BoringSSL does not offer to verify; Go's TLS client then sends
    # no certificate at all, so requiring it fails every handshake. Only the owner can reach the
    # socket instead: it lives in a mode-0700 temporary directory.
    credentials = grpc.ssl_server_credentials([(key_pem, cert_pem)])
    with tempfile.TemporaryDirectory(prefix="google-standin-") as socket_dir:
        socket_path = os.path.join(socket_dir, "plugin.sock")
        server.add_secure_port(f"unix://{socket_path}", credentials)
        server.start()
        certificate = base64.b64encode(cert_der).decode().rstrip("=")
        handshake = f"{CORE_PROTOCOL_VERSION}|{PLUGIN_PROTOCOL_VERSION}|unix|{socket_path}|grpc|{certificate}\n"
        sys.stdout.write(handshake)
        sys.stdout.flush()
        stop.wait()
        # Let the Shutdown/StopProvider answer leave before the server goes.
        server.stop(grace=0.2).wait()
    return 0
