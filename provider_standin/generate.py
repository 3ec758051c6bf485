"""Generate the stand-in's Terraform schema, `google-6.50.0.schema.json`, from the provider facts.

    python -m provider_standin.generate           write it
    python -m provider_standin.generate --check   exit 1 when the checked-in file is stale

The facts (`facts/google-6.50.0-schema-facts.json`, read from the provider's source at v6.50.0)
give each type's SDKv2 schema; `build_schema` lowers it to Terraform's schema as the SDK does
(helper/schema/core_schema.go). The bindings' assembly supplies what the facts lack: the
attributes of each timeouts block and the provider block.

Keys beyond the shared format, for the server to use or ignore: `write_only` (Terraform keeps the
value out of plan and state), `elem_validate` (a collection's element validator) and, on list and
set attributes, `min_items`/`max_items` (the SDK checks them; Terraform's attribute schema cannot).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from provider_standin import assembly as jsii

HERE = Path(__file__).resolve().parent
FACTS_PATH = HERE / "facts" / "google-6.50.0-schema-facts.json"
SCHEMA_PATH = HERE / "google-6.50.0.schema.json"
COMMAND = "python -m provider_standin.generate"
# The facts name the tag; their README names its commit.
COMMIT = "956f510990a78614a06730c34e93779171c5e8f7"

PRIMITIVES = {"TypeString": "string", "TypeInt": "number", "TypeFloat": "number", "TypeBool": "bool"}
COLLECTIONS = {"TypeList": "list", "TypeSet": "set", "TypeMap": "map"}
RELATIONS = ("conflicts_with", "exactly_one_of", "at_least_one_of", "required_with")

# What follows are facts the facts file does not carry, read from the provider at v6.50.0.

# Schema versions other than 0; Terraform records them in state.
SCHEMA_VERSIONS = {
    "google_billing_budget": 1,  # google/services/billing/resource_billing_budget.go#L67
    "google_certificate_manager_certificate": 1,  # .../certificatemanager/resource_certificate_manager_certificate.go#L62
    "google_compute_backend_service": 1,  # google/services/compute/resource_compute_backend_service.go#L206
    "google_compute_firewall": 1,  # google/services/compute/resource_compute_firewall.go#L160
    "google_kms_crypto_key": 1,  # google/services/kms/resource_kms_crypto_key.go#L57
    "google_project": 1,  # google/services/resourcemanager/resource_google_project.go#L54
    "google_sql_user": 1,  # google/services/sql/resource_sql_user.go#L81
    "google_storage_bucket": 3,  # google/services/storage/resource_storage_bucket.go#L65
}

# WriteOnly attributes: Terraform keeps their values out of plan and state.
WRITE_ONLY = (
    ("google_monitoring_uptime_check_config", "http_check", "auth_info", "password_wo"),  # ...uptime_check_config.go#L185
    ("google_secret_manager_secret_version", "secret_data_wo"),  # ...secret_manager_secret_version.go#L112
    ("google_sql_user", "password_wo"),  # google/services/sql/resource_sql_user.go#L120
)

# The data source google_project is the resource's schema made computed, with project_id optional.
DATA_PROJECT_FILE = "google/services/resourcemanager/data_source_google_project.go"
DATA_PROJECT_ID_VALIDATE = {
    "kind": "named",
    "name": "verify.ValidateDSProjectID",
    "text": "verify.ValidateDSProjectID()",
    "file": DATA_PROJECT_FILE,
    "line": 34,
}

# The provider's nested blocks are MaxItems 1 (google/provider/provider.go#L68, #L142); cdktf
# renders every provider block as an array, so the assembly does not say so.
PROVIDER_MAX_ITEMS = {"external_credentials": 1, "batching": 1}


def load_facts(path: Path = FACTS_PATH) -> dict:
    return json.loads(path.read_text())


def _source(field: dict) -> str:
    return f"{field['file']}#L{field['line']}"


def _is_resource_collection(field: dict) -> bool:
    return field["type"] in ("TypeList", "TypeSet") and "resource" in field.get("elem", {})


def cty_type(field: dict):
    if field["type"] in PRIMITIVES:
        return PRIMITIVES[field["type"]]
    kind = COLLECTIONS[field["type"]]
    elem = field.get("elem", {})
    if _is_resource_collection(field):
        return [kind, ["object", {name: cty_type(sub) for name, sub in elem["resource"].items()}]]
    # A map's resource elem is read as strings, and a collection without elem holds strings.
    return [kind, cty_type(elem["schema"]) if "schema" in elem else "string"]


def _schema_fields(field: dict, keys) -> dict:
    out = {key: True for key in ("required", "optional", "computed", "force_new") if field.get(key)}
    out.update({key: field[key] for key in keys if key in field})
    # The provider writes `ExactlyOneOf: []string{}` in places; an empty list constrains nothing.
    out.update({key: field[key] for key in RELATIONS if field.get(key)})
    out["source"] = _source(field)
    return out


def attribute(field: dict) -> dict:
    out = {"type": cty_type(field), **_schema_fields(field, ("deprecated", "default", "validate"))}
    if field.get("sensitive"):
        out["sensitive"] = True
    computed_only = field.get("computed") and not field.get("optional")
    if field["type"] in ("TypeList", "TypeSet") and not computed_only:
        # The SDK checks these counts itself; Terraform's attribute schema has no place for them.
        out.update({key: field[key] for key in ("min_items", "max_items") if field.get(key)})
    if "validate" in field.get("elem", {}).get("schema", {}):
        out["elem_validate"] = field["elem"]["schema"]["validate"]
    return out


def nested_block(field: dict) -> dict:
    min_items, max_items = field.get("min_items", 0), field.get("max_items", 0)
    # core_schema.go: a required block needs one item, an optional one ignores MinItems.
    if field.get("required") and min_items == 0:
        min_items = 1
    if field.get("optional"):
        min_items = 0
    return {
        "nesting": COLLECTIONS[field["type"]],
        "min_items": min_items,
        "max_items": max_items,
        "block": block(field["elem"]["resource"]),
        **_schema_fields(field, ("deprecated",)),
    }


def block(schema: dict) -> dict:
    out = {"attributes": {}, "blocks": {}}
    for name, field in schema.items():
            # Computed-only collections of resources never appear in configuration: they are attributes.
        if _is_resource_collection(field) and not (field.get("computed") and not field.get("optional")):
            out["blocks"][name] = nested_block(field)
        else:
            out["attributes"][name] = attribute(field)
    return out


def _with_id(blk: dict) -> dict:
    # The SDK adds `id` to every resource and data source that does not declare it.
    blk["attributes"].setdefault("id", {"type": "string", "optional": True, "computed": True})
    return blk


def timeouts_block(asm: jsii.Assembly, type_name: str) -> dict:
    config = asm.config_struct(asm.resource_class("resources", type_name))
    (prop,) = [p for p in config["properties"] if asm.terraform_name(p) == "timeouts"]
    fqn, _ = asm.block_type(prop["type"])
    names = [asm.terraform_name(p) for p in asm.types[fqn]["properties"]]
    return {
        "nesting": "single",
        "min_items": 0,
        "max_items": 0,
        "block": {"attributes": {n: {"type": "string", "optional": True} for n in names}, "blocks": {}},
    }


def resource(type_name: str, facts: dict, asm: jsii.Assembly) -> dict:
    blk = _with_id(block(facts["schema"]))
    config = asm.config_struct(asm.resource_class("resources", type_name))
    has_timeouts = any(asm.terraform_name(p) == "timeouts" for p in config["properties"])
    if has_timeouts != facts["timeouts"]:
        raise ValueError(f"{type_name}: the facts say timeouts={facts['timeouts']}, the assembly {has_timeouts}")
    if has_timeouts:
        blk["blocks"]["timeouts"] = timeouts_block(asm, type_name)
    out = {"block": blk, "version": SCHEMA_VERSIONS.get(type_name, 0), "source": _source(facts)}
    if "customize_diff" in facts:
        out["customize_diff"] = facts["customize_diff"]
    return out


def datasource_fields(schema: dict) -> dict:
    """tpgresource.DatasourceSchemaFromResourceSchema (google/tpgresource/datasource_helpers.go#L29):
    only type, elem and description are kept, and every field becomes computed."""
    out = {}
    for name, field in schema.items():
        kept = {"type": field["type"], "computed": True, "file": field["file"], "line": field["line"]}
        if _is_resource_collection(field):
            kept["elem"] = {"resource": datasource_fields(field["elem"]["resource"])}
        elif "elem" in field:
            kept["elem"] = field["elem"]
        out[name] = kept
    return out


def data_google_project(facts: dict) -> dict:
    fields = datasource_fields(facts["resources"]["google_project"]["schema"])
    # AddOptionalFieldsToSchema(dsSchema, "project_id") and its validator (data_source_google_project.go#L32-L34).
    project_id = fields["project_id"]
    del project_id["computed"]
    project_id.update(optional=True, validate=DATA_PROJECT_ID_VALIDATE)
    return {"block": _with_id(block(fields)), "version": 0, "source": f"{DATA_PROJECT_FILE}#L28"}


def _assembly_block(asm: jsii.Assembly, struct: dict) -> dict:
    out = {"attributes": {}, "blocks": {}}
    for prop in struct["properties"]:
        name = asm.terraform_name(prop)
        flag = "optional" if prop.get("optional") else "required"
        nested = asm.block_type(prop["type"])
        if nested is None:
            out["attributes"][name] = {"type": asm.value_type(prop["type"]), flag: True}
            continue
        out["blocks"][name] = {
            "nesting": "list",
            "min_items": 1 if flag == "required" else 0,
            "max_items": PROVIDER_MAX_ITEMS[name],
            "block": _assembly_block(asm, asm.types[nested[0]]),
            flag: True,
        }
    return out


def provider_config(asm: jsii.Assembly) -> dict:
    config = asm.provider_config()
    # `alias` is Terraform's meta-argument, which cdktf adds to every provider's config.
    struct = {**config, "properties": [p for p in config["properties"] if p["name"] != "alias"]}
    return _assembly_block(asm, struct)


def _mark_write_only(resources: dict) -> None:
    for type_name, *parents, name in WRITE_ONLY:
        blk = resources[type_name]["block"]
        for parent in parents:
            blk = blk["blocks"][parent]["block"]
        blk["attributes"][name]["write_only"] = True


def build_schema(facts: dict, asm: jsii.Assembly) -> dict:
    resources = {name: resource(name, spec, asm) for name, spec in facts["resources"].items()}
    _mark_write_only(resources)
    return {
        "provider": "registry.terraform.io/hashicorp/google",
        "version": facts["provider_version"].removeprefix("v"),
        "source": f"{facts['source']}, commit {COMMIT}",
        "url_template": facts["url_template"],
        "provider_config": provider_config(asm),
        "resources": resources,
        "data_sources": {"google_project": data_google_project(facts)},
    }


def render(schema: dict) -> str:
    return json.dumps(schema, indent=1, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=COMMAND, description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the checked-in schema is stale")
    args = parser.parse_args(argv)
    text = render(build_schema(load_facts(), jsii.load()))
    if args.check:
        if not SCHEMA_PATH.exists() or SCHEMA_PATH.read_text() != text:
            print(f"{SCHEMA_PATH.name} is stale: run `{COMMAND}`", file=sys.stderr)
            return 1
        return 0
    SCHEMA_PATH.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
