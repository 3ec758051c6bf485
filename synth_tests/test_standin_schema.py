"""The stand-in's schema (provider_standin/google-6.50.0.schema.json): current, and true to the bindings.

The schema is generated from facts read in the provider's source; the bindings' jsii assembly was
generated from the real provider's schema, so where the two disagree on names, optionality, types
or nesting the assembly is right (DESIGN.md section 8). Cost: the assembly is read once per session
(about 1.5 s: gunzip and parse 98 MB, ~280 MB held) and the schema built once (0.1 s); the
comparisons take 0.1 s. The type list comes from the session's shared synth (`stacks`), which other
modules pay for anyway: the module adds about 2 s to the suite (7-9 s alone, synth included).

The assembly cannot tell list from set, optional from optional+computed, nor see force_new,
defaults, validation or sensitivity: those come from the facts alone (cross-checked once against
the provider's source at v6.50.0, all 2,578 fields agreeing). All 74 facts types agree with the
assembly today; the report test warns if one stops agreeing.

How a name is matched: a settable property's docs end with its registry link, `...#<snake_name>`,
which gives its Terraform name exactly. Computed-only attributes are getters without docs: the
schema's name is turned into cdktf's getter name (codemaker's camelCase, then cdktf's
escapeAttributeName) and every getter left over on either side is a mismatch.
"""

from __future__ import annotations

import copy
import re
import warnings

import pytest

from provider_standin import assembly as jsii
from provider_standin.generate import COMMAND, SCHEMA_PATH, build_schema, load_facts, render

IRESOLVABLE = {"fqn": "cdktf.IResolvable"}
# Getter types of computed values that cdktf wraps in its own classes.
GETTER_CLASSES = {
    "cdktf.IResolvable": "bool",
    "cdktf.StringMap": ["map", "string"],
    "cdktf.NumberMap": ["map", "number"],
    "cdktf.BooleanMap": ["map", "bool"],
}


@pytest.fixture(scope="session")
def assembly() -> jsii.Assembly:
    return jsii.load()


@pytest.fixture(scope="session")
def generated(assembly) -> dict:
    return build_schema(load_facts(), assembly)


# --- the assembly's view and the schema's view, in one shape -------------------------------------
# {"attributes": {snake: (mode, type)}, "computed": {getter: (snake or None, type)},
#  "blocks": {snake: {"single": bool, "required": bool, "block": view}}}
# Types: set reads as list (cdktf makes both arrays); object fields are keyed by getter name.


def getter_name(snake: str) -> str:
    """cdktf's property name for a Terraform name (codemaker toCamelCase, escapeAttributeName)."""
    head, *rest = snake.split("_")
    name = head + "".join(part[:1].upper() + part[1:] for part in rest)
    # camelcase upper-cases the letter after a run of digits: detect_md5hash -> detectMd5Hash.
    name = re.sub(r"\d+[a-z]", lambda m: m.group(0).upper(), name)
    if name in ("self", "build", "node", "system", "software", "tfResourceType", "importFrom", "moveTo"):
        return name + "Attribute"
    if name == "equals":
        return "equalTo"
    return re.sub(r"^get(?=[A-Za-z])", "fetch", name)


def schema_type(cty):
    if isinstance(cty, str):
        return cty
    kind, elem = cty
    if kind == "object":
        return ["object", {getter_name(k): schema_type(v) for k, v in elem.items()}]
    return ["list" if kind == "set" else kind, schema_type(elem)]


def schema_view(blk: dict, provider: bool = False) -> dict:
    view = {"attributes": {}, "computed": {}, "blocks": {}}
    for name, attr in blk["attributes"].items():
        if attr.get("computed") and not attr.get("optional"):
            view["computed"][getter_name(name)] = (name, schema_type(attr["type"]))
        else:
            view["attributes"][name] = ("required" if attr.get("required") else "optional", schema_type(attr["type"]))
    for name, nested in blk["blocks"].items():
        view["blocks"][name] = {
            # cdktf makes every provider block an array, whatever its max_items.
            "single": not provider and (nested["nesting"] == "single" or nested["max_items"] == 1),
            "required": nested["min_items"] > 0,
            "block": schema_view(nested["block"], provider),
        }
    return view


def _own_getters(asm: jsii.Assembly, cls: dict) -> dict[str, dict]:
    return {p["name"]: p for p in cls.get("properties", []) if not p.get("static") and p["name"] != "internalValue"}


def _element_reference(asm: jsii.Assembly, fqn: str) -> dict:
    """The OutputReference class behind a getter: itself, or what a List class's get() returns."""
    cls = asm.types[fqn]
    if cls.get("base") == "cdktf.ComplexList":
        (get,) = [m for m in cls["methods"] if m["name"] == "get"]
        cls = asm.types[get["returns"]["type"]["fqn"]]
    return cls


def getter_type(asm: jsii.Assembly, ref: dict):
    if "primitive" in ref:
        return ref["primitive"]
    if "collection" in ref:
        return ["list" if ref["collection"]["kind"] == "array" else "map", getter_type(asm, ref["collection"]["elementtype"])]
    if ref["fqn"] in GETTER_CLASSES:
        return GETTER_CLASSES[ref["fqn"]]
    if asm.types[ref["fqn"]].get("base") == "cdktf.ComplexList":
        fields = _own_getters(asm, _element_reference(asm, ref["fqn"]))
        return ["list", ["object", {name: getter_type(asm, p["type"]) for name, p in fields.items()}]]
    return ["unknown", ref["fqn"]]


def assembly_view(asm: jsii.Assembly, struct: dict, reference: dict | None) -> dict:
    """A config struct's properties, plus the computed-only getters of the class that reads it back
    (the resource class, or the block's OutputReference; None for the provider, which has none)."""
    view = {"attributes": {}, "computed": {}, "blocks": {}}
    settable = {p["name"] for p in struct.get("properties", [])}
    getters = _own_getters(asm, reference) if reference else {}
    for prop in struct.get("properties", []):
        name = asm.terraform_name(prop)
        nested = asm.block_type(prop["type"])
        if nested is None:
            view["attributes"][name] = ("optional" if prop.get("optional") else "required", asm.value_type(prop["type"]))
            continue
        fqn, single = nested
        inner = _element_reference(asm, getters[prop["name"]]["type"]["fqn"]) if reference else None
        view["blocks"][name] = {
            "single": single,
            "required": not prop.get("optional"),
            "block": assembly_view(asm, asm.types[fqn], inner),
        }
    for name, prop in getters.items():
        if name in settable or (name.endswith("Input") and name[: -len("Input")] in settable):
            continue
        view["computed"][name] = (None, getter_type(asm, prop["type"]))
    return view


def compare(schema: dict, assembly: dict, path: str) -> list[str]:
    """Every difference between two views, each naming the attribute path."""
    problems = []
    # An attribute settable on one side and computed-only on the other is one problem, not two.
    crossed = set()
    for name in sorted(schema["attributes"].keys() - assembly["attributes"].keys()):
        if getter_name(name) in assembly["computed"].keys() - schema["computed"].keys():
            crossed.add(name)
            problems.append(f"{path}.{name}: {schema['attributes'][name][0]} in the schema, computed-only in the assembly")
    for getter, (name, _) in sorted(schema["computed"].items()):
        if getter not in assembly["computed"] and name in assembly["attributes"].keys() - schema["attributes"].keys():
            crossed.add(name)
            problems.append(f"{path}.{name}: computed-only in the schema, {assembly['attributes'][name][0]} in the assembly")
    noun = {"attributes": "an attribute", "blocks": "a nested block"}
    for kind, other in (("attributes", "blocks"), ("blocks", "attributes")):
        for name in sorted(schema[kind].keys() - assembly[kind].keys() - crossed):
            where = f"{noun[other]} in the assembly" if name in assembly[other] else "not in the assembly"
            problems.append(f"{path}.{name}: {noun[kind]} in the schema, {where}")
        for name in sorted(assembly[kind].keys() - schema[kind].keys() - crossed):
            if name not in schema[other]:
                problems.append(f"{path}.{name}: {noun[kind]} in the assembly, not in the schema")
    for name in sorted(schema["attributes"].keys() & assembly["attributes"].keys()):
        (mode, kind), (their_mode, their_kind) = schema["attributes"][name], assembly["attributes"][name]
        if mode != their_mode:
            problems.append(f"{path}.{name}: {mode} in the schema, {their_mode} in the assembly")
        if kind != their_kind:
            problems.append(f"{path}.{name}: type {kind} in the schema, {their_kind} in the assembly")
    crossed_getters = {getter_name(name) for name in crossed}
    for getter in sorted((schema["computed"].keys() | assembly["computed"].keys()) - crossed_getters):
        if getter not in assembly["computed"]:
            problems.append(f"{path}.{schema['computed'][getter][0]}: computed in the schema, no getter {getter} in the assembly")
        elif getter not in schema["computed"]:
            problems.append(f"{path}.{getter}: a computed getter in the assembly, not in the schema")
        elif schema["computed"][getter][1] != assembly["computed"][getter][1]:
            problems.append(
                f"{path}.{schema['computed'][getter][0]}: computed type {schema['computed'][getter][1]} in the schema, "
                f"{assembly['computed'][getter][1]} in the assembly"
            )
    for name in sorted(schema["blocks"].keys() & assembly["blocks"].keys()):
        ours, theirs = schema["blocks"][name], assembly["blocks"][name]
        for key, words in (("single", ("single (max_items 1)", "a list")), ("required", ("required", "optional"))):
            if ours[key] != theirs[key]:
                problems.append(
                    f"{path}.{name}: {words[not ours[key]]} in the schema, {words[not theirs[key]]} in the assembly"
                )
        problems += compare(ours["block"], theirs["block"], f"{path}.{name}")
    return problems


def type_problems(schema: dict, asm: jsii.Assembly, kind: str, type_name: str) -> list[str]:
    section = {"resources": "resources", "data-sources": "data_sources"}[kind]
    if type_name not in schema[section]:
        return [f"{type_name}: not in the schema's {section}"]
    cls = asm.resource_class(kind, type_name)
    view = assembly_view(asm, asm.config_struct(cls), cls)
    return compare(schema_view(schema[section][type_name]["block"]), view, type_name)


def provider_problems(schema: dict, asm: jsii.Assembly) -> list[str]:
    config = asm.provider_config()
    struct = {**config, "properties": [p for p in config["properties"] if p["name"] != "alias"]}
    return compare(schema_view(schema["provider_config"], provider=True), assembly_view(asm, struct, None), "provider")


# --- the checked-in file ----------------------------------------------------------------------------


def test_the_checked_in_schema_is_what_the_generator_writes(generated):
    assert SCHEMA_PATH.read_text() == render(generated), f"{SCHEMA_PATH.name} is stale: run `{COMMAND}`"


def test_the_schema_covers_every_facts_type_the_data_source_and_the_provider(generated):
    assert generated["resources"].keys() == load_facts()["resources"].keys()
    assert list(generated["data_sources"]) == ["google_project"]
    assert generated["provider_config"]["attributes"]["project"] == {"type": "string", "optional": True}


# --- agreement with the bindings ----------------------------------------------------------------------


def test_every_type_the_stacks_use_agrees_with_the_assembly(generated, assembly, stacks):
    used = sorted(
        {("resources", t) for stack in stacks.values() for t in stack.get("resource", {})}
        | {("data-sources", t) for stack in stacks.values() for t in stack.get("data", {})}
    )
    problems = [p for kind, name in used for p in type_problems(generated, assembly, kind, name)]
    assert not problems, "the stand-in schema disagrees with the bindings:\n" + "\n".join(problems)


def test_the_provider_block_agrees_with_the_assembly(generated, assembly):
    problems = provider_problems(generated, assembly)
    assert not problems, "\n".join(problems)


def test_report_the_facts_types_the_stacks_do_not_use(generated, assembly, stacks):
    used = {t for stack in stacks.values() for t in stack.get("resource", {})}
    problems = [
        p for name in sorted(generated["resources"].keys() - used) for p in type_problems(generated, assembly, "resources", name)
    ]
    if problems:
        warnings.warn("types the stacks do not use disagree with the bindings:\n" + "\n".join(problems), stacklevel=1)


# --- the comparator itself ------------------------------------------------------------------------------


def problems_after(generated, assembly, change) -> list[str]:
    schema = copy.deepcopy(generated)
    change(schema["resources"]["google_redis_instance"]["block"])
    return type_problems(schema, assembly, "resources", "google_redis_instance")


def test_the_comparator_agrees_with_an_unchanged_copy(generated, assembly):
    assert problems_after(generated, assembly, lambda blk: None) == []


def test_the_comparator_names_a_renamed_attribute(generated, assembly):
    def rename(blk):
        blk["attributes"]["tier_name"] = blk["attributes"].pop("tier")

    assert problems_after(generated, assembly, rename) == [
        "google_redis_instance.tier_name: an attribute in the schema, not in the assembly",
        "google_redis_instance.tier: an attribute in the assembly, not in the schema",
    ]


def test_the_comparator_names_an_optional_attribute_made_required(generated, assembly):
    def require(blk):
        attr = blk["blocks"]["maintenance_policy"]["block"]["attributes"]["description"]
        del attr["optional"]
        attr["required"] = True

    assert problems_after(generated, assembly, require) == [
        "google_redis_instance.maintenance_policy.description: required in the schema, optional in the assembly"
    ]


def test_the_comparator_names_a_block_whose_max_items_changed(generated, assembly):
    def unlimit(blk):
        blk["blocks"]["maintenance_policy"]["max_items"] = 0

    assert problems_after(generated, assembly, unlimit) == [
        "google_redis_instance.maintenance_policy: a list in the schema, single (max_items 1) in the assembly"
    ]


def test_the_comparator_names_a_computed_attribute_the_bindings_lack(generated, assembly):
    def add(blk):
        blk["attributes"]["uid"] = {"type": "string", "computed": True}

    assert problems_after(generated, assembly, add) == [
        "google_redis_instance.uid: computed in the schema, no getter uid in the assembly"
    ]
