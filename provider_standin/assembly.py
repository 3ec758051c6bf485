"""The bindings' jsii assembly: the google provider's schema as cdktf saw it.

cdktf generated `cdktf-cdktf-provider-google` from the real provider's `terraform providers schema
-json`, so its assembly (`package/.jsii` inside the installed package's `.jsii.tgz`) is an
independent record of names, optionality, types and nesting. The generator reads the timeouts
blocks and the provider block from it; the drift test compares the whole schema against it.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import re
import tarfile
from pathlib import Path

PACKAGE = "cdktf_cdktf_provider_google"
MEMBER = "package/.jsii"

# Every schema property's docs end with its registry link, the one exact record of its
# Terraform name: `{@link https://registry.terraform.io/.../docs/resources/redis_instance#memory_size_gb
# RedisInstance#memory_size_gb}` (nested properties link the leaf name only).
_PROPERTY_LINK = re.compile(r"\{@link https://registry\.terraform\.io/providers/hashicorp/google/\S*#(\w+) \w+#\1\}")
# A resource or data source class's summary links its Terraform type.
_CLASS_LINK = re.compile(
    r"\{@link https://registry\.terraform\.io/providers/hashicorp/google/\S*/docs/(resources|data-sources)/\w+ (\w+)\}"
)
_BOOL = {"union": {"types": [{"primitive": "boolean"}, {"fqn": "cdktf.IResolvable"}]}}


def tarball() -> Path:
    """The installed bindings' assembly tarball, found without importing the package (that starts jsii)."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or spec.origin is None:
        raise RuntimeError(f"{PACKAGE} is not installed")
    (path,) = (Path(spec.origin).parent / "_jsii").glob("provider-google@*.jsii.tgz")
    return path


@functools.cache
def load() -> Assembly:
    """Read the assembly once per process (about 1.2 s: 0.2 s to gunzip 98 MB, 1 s to parse it)."""
    with tarfile.open(tarball(), "r:gz") as archive:
        # Walk to the member rather than look it up by name: a lookup lists the whole
        # archive first, and `.jsii` is its first member.
        for member in archive:
            if member.name == MEMBER:
                data = archive.extractfile(member).read()
                break
        else:
            raise RuntimeError(f"{MEMBER} is missing from {archive.name}")
    return Assembly(json.loads(data))


class Assembly:
    def __init__(self, raw: dict):
        self.types: dict[str, dict] = raw["types"]
        self.classes: dict[tuple[str, str], str] = {}
        for fqn, spec in self.types.items():
            if spec.get("base") in ("cdktf.TerraformResource", "cdktf.TerraformDataSource"):
                kind, name = _CLASS_LINK.search(spec["docs"]["summary"]).groups()
                self.classes[(kind, name)] = fqn

    def resource_class(self, kind: str, type_name: str) -> dict:
        """The class of a Terraform type; kind is "resources" or "data-sources"."""
        return self.types[self.classes[(kind, type_name)]]

    def config_struct(self, cls: dict) -> dict:
        (config,) = [p for p in cls["initializer"]["parameters"] if p["name"] == "config"]
        return self.types[config["type"]["fqn"]]

    def provider_config(self) -> dict:
        return self.types["@cdktf/provider-google.provider.GoogleProviderConfig"]

    @staticmethod
    def terraform_name(prop: dict) -> str:
        docs = prop["docs"]
        # jsii files doc text after an `@tag` of the provider's description under `custom`.
        text = " ".join([docs.get("summary", ""), docs.get("remarks", ""), *docs.get("custom", {}).values()])
        names = _PROPERTY_LINK.findall(text)
        if names:
            return names[-1]
        # A description holding `*/` (pubsub's message_transforms.javascript_udf.code) cuts the
        # doc comment short, link and all; a one-word lower-case name is its own Terraform name.
        if re.fullmatch(r"[a-z]+", prop["name"]):
            return prop["name"]
        raise ValueError(f"property {prop['name']} has no registry link")

    def block_type(self, ref: dict) -> tuple[str, bool] | None:
        """(struct fqn, single) when a struct property's type is a nested block, else None.

        cdktf makes a list or set block with max_items 1 a single struct and other blocks arrays.
        """
        if "union" in ref:
            ref = next((t for t in ref["union"]["types"] if t != {"fqn": "cdktf.IResolvable"}), ref)
        if "fqn" in ref and self.types.get(ref["fqn"], {}).get("datatype"):
            return ref["fqn"], True
        elem = ref.get("collection", {}).get("elementtype", {})
        if ref.get("collection", {}).get("kind") == "array" and "fqn" in elem:
            return elem["fqn"], False
        return None

    @staticmethod
    def value_type(ref: dict) -> str | list:
        """Terraform's type of a settable property (a struct's); set and list are both arrays."""
        if ref == _BOOL:
            return "bool"
        if "union" in ref:
            (ref,) = [t for t in ref["union"]["types"] if t != {"fqn": "cdktf.IResolvable"}]
        if "primitive" in ref:
            return {"boolean": "bool"}.get(ref["primitive"], ref["primitive"])
        collection = ref["collection"]
        kind = {"array": "list", "map": "map"}[collection["kind"]]
        return [kind, Assembly.value_type(collection["elementtype"])]
