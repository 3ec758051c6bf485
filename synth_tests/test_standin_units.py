"""The google provider stand-in's pieces without Terraform, on small hand-made schemas."""

from __future__ import annotations

import json
import re

import msgpack
import pytest

from provider_standin import codec
from provider_standin.apply_values import fill_unknowns, project_number
from provider_standin.planning import ProviderConfig, plan_resource_change
from provider_standin.rules import NOT_MODELLED, RULES, rules_for
from provider_standin.schema import SCHEMA_FILE, ProviderSchema
from provider_standin.validation import validate_config

SRC = "google/services/demo/resource_demo.go#L{}"

DEMO = {
    "provider": "registry.terraform.io/hashicorp/google",
    "version": "6.50.0",
    "url_template": "https://example.test/{file}#L{line}",
    "provider_config": {"attributes": {"project": {"optional": True, "type": "string"}}, "blocks": {}},
    "data_sources": {},
    "resources": {
        "google_demo": {
            "version": 0,
            "source": SRC.format(1),
            "block": {
                "attributes": {
                    "id": {"optional": True, "computed": True, "type": "string"},
                    "name": {"required": True, "force_new": True, "type": "string"},
                    "tier": {
                        "optional": True, "default": "BASIC", "force_new": True, "type": "string", "source": SRC.format(10),
                        "validate": {"kind": "enum", "values": ["BASIC", "STANDARD_HA", ""], "ignore_case": False,
                                     "file": "google/services/demo/resource_demo.go", "line": 11},
                    },
                    "mode": {
                        "optional": True, "type": "string",
                        "validate": {"kind": "enum", "values": ["on", "off"], "ignore_case": True},
                    },
                    "size": {"optional": True, "type": "number", "validate": {"kind": "int_between", "min": 1, "max": 10}},
                    "tags": {"optional": True, "type": ["list", "string"], "conflicts_with": ["accounts"]},
                    "accounts": {"optional": True, "type": ["set", "string"], "conflicts_with": ["tags"]},
                    "old": {"optional": True, "type": "string", "deprecated": "use name"},
                    "self_link": {"computed": True, "type": "string"},
                    "labels": {"optional": True, "type": ["map", "string"]},
                },
                "blocks": {
                    "settings": {
                        "nesting": "list", "min_items": 1, "max_items": 1,
                        "block": {
                            "attributes": {
                                "disk_size": {"optional": True, "computed": True, "type": "number"},
                                "disk_type": {"optional": True, "default": "PD_SSD", "force_new": True, "type": "string"},
                                "edition": {"optional": True, "computed": True, "type": "string"},
                                "http": {"optional": True, "type": "bool", "exactly_one_of": ["settings.0.http", "settings.0.grpc"]},
                                "grpc": {"optional": True, "type": "bool", "exactly_one_of": ["settings.0.http", "settings.0.grpc"]},
                            },
                            "blocks": {},
                        },
                    },
                    "network": {
                        "nesting": "list", "min_items": 0, "max_items": 1, "optional": True, "computed": True,
                        "block": {"attributes": {"cidr": {"optional": True, "type": "string"}}, "blocks": {}},
                    },
                },
            },
        }
    },
}


@pytest.fixture(scope="module")
def schema():
    return ProviderSchema(json.loads(json.dumps(DEMO)))


@pytest.fixture(scope="module")
def demo(schema):
    return schema.resources["google_demo"]


def _config(**values):
    base = {name: None for name in DEMO["resources"]["google_demo"]["block"]["attributes"]}
    base.update(settings=[{"disk_size": None, "disk_type": None, "edition": None, "http": True, "grpc": None}], network=[])
    base.update(values)
    return base


# --- codec ------------------------------------------------------------------------------


def test_codec_echoes_plain_and_refined_unknowns(demo):
    refined = msgpack.ExtType(12, b"\x81\x01\xc3")  # Terraform 1.6+: unknown, refined "not null"
    raw = msgpack.packb({"name": refined, "tags": [msgpack.ExtType(0, b"\x00")]})
    value = codec.decode(raw, demo.value_type)
    assert codec.is_unknown(value["name"]) and codec.is_unknown(value["tags"][0])
    again = msgpack.unpackb(codec.encode(value, demo.value_type), ext_hook=lambda code, data: (code, data))
    assert again["name"] == (12, b"\x81\x01\xc3")
    assert again["tags"] == [(0, b"\x00")]


def test_codec_objects_carry_every_attribute_and_numbers_stay_numbers(demo):
    encoded = codec.encode({"name": "a", "size": 3.0, "settings": [{"disk_size": "20"}]}, demo.value_type)
    value = msgpack.unpackb(encoded)
    assert set(value) == set(demo.value_type[1])
    assert value["tier"] is None and value["size"] == 3 and isinstance(value["size"], int)
    assert value["settings"][0] == {"disk_size": 20, "disk_type": None, "edition": None, "http": None, "grpc": None}
    with pytest.raises(KeyError):
        codec.encode({"nmae": "typo"}, demo.value_type)


# --- validation -------------------------------------------------------------------------


def _details(diagnostics):
    return [(d.severity, d.summary, d.detail, d.path) for d in diagnostics]


def test_enum_names_the_attribute_values_and_source(schema, demo):
    (diagnostic,) = validate_config(schema, demo, _config(name="a", tier="PREMIUM"))
    assert diagnostic.path == ("tier",)
    assert '"BASIC", "STANDARD_HA", ""' in diagnostic.summary and "got PREMIUM" in diagnostic.summary
    assert "https://example.test/google/services/demo/resource_demo.go#L10" in diagnostic.detail
    assert validate_config(schema, demo, _config(name="a", tier="")) == []


def test_enum_ignore_case_and_int_range(schema, demo):
    assert validate_config(schema, demo, _config(name="a", mode="ON")) == []
    (diagnostic,) = validate_config(schema, demo, _config(name="a", size=11))
    assert "range (1 - 10), got 11" in diagnostic.summary and diagnostic.path == ("size",)


def test_conflicts_with_and_unknowns_are_not_judged(schema, demo):
    diagnostics = validate_config(schema, demo, _config(name="a", tags=["x"], accounts=["y"]))
    assert {d.summary for d in diagnostics} == {"Conflicting configuration arguments"}
    assert '"tags": conflicts with accounts' in " ".join(d.detail for d in diagnostics)
    assert validate_config(schema, demo, _config(name="a", tags=["x"], accounts=codec.UNKNOWN)) == []
    assert validate_config(schema, demo, _config(name=codec.UNKNOWN, tier=codec.UNKNOWN)) == []


def test_exactly_one_of_resolves_sdk_paths_from_the_root(schema, demo):
    none = _config(name="a", settings=[{"disk_size": None, "disk_type": None, "edition": None, "http": None, "grpc": None}])
    diagnostics = validate_config(schema, demo, none)
    assert diagnostics and all(d.summary == "Invalid combination of arguments" for d in diagnostics)
    assert "one of `settings.0.grpc,settings.0.http` must be specified" in diagnostics[0].detail
    assert diagnostics[0].path[:2] == ("settings", 0)
    both = _config(name="a", settings=[{"disk_size": None, "disk_type": None, "edition": None, "http": True, "grpc": True}])
    assert "only one of" in validate_config(schema, demo, both)[0].detail


def test_deprecated_argument_warns(schema, demo):
    (diagnostic,) = validate_config(schema, demo, _config(name="a", old="x"))
    assert diagnostic.severity == "WARNING" and "use name" in diagnostic.detail


# --- planning ---------------------------------------------------------------------------


def _plan(schema, demo, prior, config, rules=()):
    proposed = json.loads(json.dumps(config))
    if prior:  # Terraform's proposed new state keeps prior values of computed attributes left null
        for name in ("id", "self_link"):
            proposed[name] = prior[name]
        proposed["network"] = config["network"]
        for new, old in zip(proposed["settings"], prior["settings"]):
            for name in ("disk_size", "edition"):
                if new[name] is None:
                    new[name] = old[name]
    return plan_resource_change(schema, demo, prior, proposed, config, ProviderConfig(project="p"), rules)


def test_create_plans_defaults_nested_too_and_unknown_computed(schema, demo):
    planned, replace, diagnostics = _plan(schema, demo, None, _config(name="a"))
    assert planned["tier"] == "BASIC" and planned["settings"][0]["disk_type"] == "PD_SSD"
    assert codec.is_unknown(planned["id"]) and codec.is_unknown(planned["self_link"])
    assert codec.is_unknown(planned["settings"][0]["disk_size"])
    assert codec.is_unknown(planned["network"]), "a computed block absent from config is unknown on create"
    assert replace == [] and diagnostics == []


def _applied(schema, demo, config):
    planned, _, _ = _plan(schema, demo, None, config)
    return fill_unknowns(demo, planned, ProviderConfig(project="p"))


def test_apply_is_deterministic_and_update_keeps_computed(schema, demo):
    state = _applied(schema, demo, _config(name="a"))
    assert state == _applied(schema, demo, _config(name="a"))
    assert state["network"] == [] and isinstance(state["settings"][0]["disk_size"], int)
    planned, replace, _ = _plan(schema, demo, state, _config(name="a"))
    assert planned == state and replace == []


def test_force_new_paths_top_level_and_nested(schema, demo):
    state = _applied(schema, demo, _config(name="a"))
    changed = _config(name="a", tier="STANDARD_HA")
    changed["settings"][0]["disk_type"] = "PD_HDD"
    _, replace, _ = _plan(schema, demo, state, changed)
    assert sorted(replace, key=str) == [("settings", 0, "disk_type"), ("tier",)]


def test_sql_disk_shrink_replaces_growth_updates(schema, demo):
    rule = next(r for r in RULES["google_sql_database_instance"] if "disk_size" in r.name)
    state = _applied(schema, demo, _config(name="a"))
    for new_size, expected in ((state["settings"][0]["disk_size"] - 1, [("settings", 0, "disk_size")]),
                               (state["settings"][0]["disk_size"] + 1, [])):
        config = _config(name="a")
        config["settings"][0]["disk_size"] = new_size
        _, replace, _ = _plan(schema, demo, state, config, [rule])
        assert replace == expected


def test_delete_plans_null(schema, demo):
    assert plan_resource_change(schema, demo, {"name": "a"}, None, None, ProviderConfig(), ()) == (None, [], [])


def test_project_number_is_twelve_digits_and_stable():
    assert re.fullmatch(r"[1-9]\d{11}", project_number("hexproperty-staging"))
    assert project_number("hexproperty-staging") == project_number("hexproperty-staging")


# --- the customize_diff registry against the real schema ----------------------------------

_RULE_NAME = re.compile(
    r"customdiff\.ForceNewIfChange\(\"(?P<change>[^\"]+)\",\s*(?P<change_fn>[\w.]+)\)"
    r"|customdiff\.ForceNewIf\(\"(?P<if>[^\"]+)\""
    r"|customdiff\.IfValueChange\(\"(?P<value>[^\"]+)\",\s*(?P<value_fn>\w+)"
    r"|(?P<plain>(?:tpgresource\.)?[A-Za-z]\w*)\s*(?:,|\)|$)",
    re.M,
)


def customize_diff_names(text: str) -> set[str]:
    """The rule names of a `customize_diff` Go text, as the registry names them."""
    names = set()
    text = re.sub(r"//[^\n]*", "", text.replace("customdiff.All(", ""))
    # An inline predicate's body (possibly cut short in the facts) names no rule.
    text = re.sub(r"func\(.*?(?:\n\s*\}\)|\Z)", ")", text, flags=re.S)
    for match in _RULE_NAME.finditer(text):
        if match["change"]:
            names.add(f"ForceNewIfChange({match['change']}, {match['change_fn']})")
        elif match["if"]:
            names.add(f"ForceNewIf({match['if']})")
        elif match["value"]:
            names.add(f"IfValueChange({match['value']}, {match['value_fn']})")
        elif match["plain"] not in ("bool", "error", "nil", "true", "false"):
            names.add(match["plain"])
    return names


def test_customize_diff_names_are_read_from_go_text():
    text = 'customdiff.All(\n\t\ttpgresource.DefaultProviderProject,\n\t\tcustomdiff.ForceNewIfChange("settings.0.disk_size", compute.IsDiskShrinkage),\n\t\tvalidateAuthHeaders,\n\t)'
    assert customize_diff_names(text) == {
        "tpgresource.DefaultProviderProject",
        "ForceNewIfChange(settings.0.disk_size, compute.IsDiskShrinkage)",
        "validateAuthHeaders",
    }
    inline = 'customdiff.All(\n\tcustomdiff.ForceNewIf("master_instance_name", func(_ context.Context, d *schema.ResourceDiff, meta interface{}) bool {\n\t\t// If we set master\n\t\treturn !isSwitchoverFromOldPrim'
    assert customize_diff_names(inline) == {"ForceNewIf(master_instance_name)"}
    assert customize_diff_names("resourceStorageBucketObjectCustomizeDiff") == {"resourceStorageBucketObjectCustomizeDiff"}


@pytest.mark.skipif(not SCHEMA_FILE.exists(), reason="the generated schema file is not in this checkout")
def test_every_customize_diff_rule_of_a_used_type_is_modelled_or_explained():
    schema = ProviderSchema.load(SCHEMA_FILE)
    missing = {}
    for type_name in RULES:
        resource = schema.resources[type_name]
        modelled = {rule.name for rule in rules_for(resource)}
        unexplained = customize_diff_names(resource.customize_diff or "") - modelled - set(NOT_MODELLED)
        if unexplained:
            missing[type_name] = sorted(unexplained)
    assert missing == {}
    for rules in RULES.values():
        for rule in rules:
            assert re.fullmatch(r"google/[\w/]+\.go#L\d+", rule.source), rule
