"""The served schema: the generated schema file, read once per process, and its tfplugin6 messages.

Types stay in Terraform's JSON notation ("string", ["list", T], ["object", {...}]); a block is
handled as the object type Terraform gives it (list/set blocks as lists/sets of objects, a
single block as an object), so one codec serves attributes and blocks alike.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

SCHEMA_FILE = Path(__file__).with_name("google-6.50.0.schema.json")
# Tests serve hand-made schemas in the same format through this variable.
SCHEMA_FILE_ENV = "PROVIDER_STANDIN_SCHEMA"


@dataclass
class ResourceSchema:
    """One resource or data source type of the schema file."""

    type_name: str
    block: dict
    version: int = 0
    source: str = ""
    customize_diff: str | None = None
    _value_type: list | None = field(default=None, repr=False)

    @property
    def value_type(self) -> list:
        if self._value_type is None:
            self._value_type = block_value_type(self.block)
        return self._value_type


class ProviderSchema:
    def __init__(self, document: dict):
        self.document = document
        self.url_template = document.get("url_template", "{file}#L{line}")
        self.provider_config = ResourceSchema("provider", document["provider_config"])
        self.resources = {name: _resource(name, doc) for name, doc in document["resources"].items()}
        self.data_sources = {name: _resource(name, doc) for name, doc in document["data_sources"].items()}

    @classmethod
    def load(cls, path: Path | None = None) -> "ProviderSchema":
        path = path or Path(os.environ.get(SCHEMA_FILE_ENV) or SCHEMA_FILE)
        return cls(json.loads(Path(path).read_bytes()))

    def source_url(self, source: str) -> str:
        """`file#Lline` of a schema fact as a link to the provider's source at the tag."""
        if not source:
            return ""
        file, _, line = source.partition("#L")
        return self.url_template.format(file=file, line=line)


def _resource(name: str, doc: dict) -> ResourceSchema:
    return ResourceSchema(name, doc["block"], doc.get("version", 0), doc.get("source", ""), doc.get("customize_diff"))


def block_value_type(block: dict) -> list:
    members = {name: attr["type"] for name, attr in block.get("attributes", {}).items()}
    for name, nested in block.get("blocks", {}).items():
        members[name] = nested_value_type(nested)
    return ["object", members]


def nested_value_type(nested: dict):
    element = block_value_type(nested["block"])
    if nested["nesting"] == "single":
        return element
    return [nested["nesting"], element]


def to_proto_schema(pb, resource: ResourceSchema):
    return pb.Schema(version=resource.version, block=_proto_block(pb, resource.block))


_NESTING = {"list": "LIST", "set": "SET", "single": "SINGLE"}


def _proto_block(pb, block: dict):
    attributes = [
        pb.Schema.Attribute(
            name=name,
            type=json.dumps(attr["type"], separators=(",", ":")).encode(),
            required=bool(attr.get("required")),
            optional=bool(attr.get("optional")),
            computed=bool(attr.get("computed")),
            sensitive=bool(attr.get("sensitive")),
            deprecated=bool(attr.get("deprecated")),
        )
        for name, attr in sorted(block.get("attributes", {}).items())
    ]
    block_types = [
        pb.Schema.NestedBlock(
            type_name=name,
            block=_proto_block(pb, nested["block"]),
            nesting=getattr(pb.Schema.NestedBlock.NestingMode, _NESTING[nested["nesting"]]),
            # Terraform requires min == max for SINGLE nesting; 0/0 means "optional object".
            min_items=0 if nested["nesting"] == "single" else nested.get("min_items", 0),
            max_items=0 if nested["nesting"] == "single" else nested.get("max_items", 0),
        )
        for name, nested in sorted(block.get("blocks", {}).items())
    ]
    return pb.Schema.Block(attributes=attributes, block_types=block_types)
