"""What the provider itself checks in ValidateResourceConfig (helper/schema schemaMap.validate).

Terraform core has already checked names, required attributes, types and block counts against
the served schema. Left to the provider: value validators (`validate` facts), ConflictsWith,
ExactlyOneOf, AtLeastOneOf, RequiredWith and deprecation warnings. As in the SDK, every key in
those lists is resolved from the root of the resource's config ("settings.0.tier"), unknown
values are never judged, and ExactlyOneOf/AtLeastOneOf are checked whether or not the field
itself is set, the others only when it is set.
"""

from __future__ import annotations

import base64
import binascii
import re
from functools import lru_cache

from .codec import Unknown, is_unknown, is_wholly_known
from .diagnostics import Diagnostic, error, sdk_key, warning

# Validator kinds of the schema facts evaluated here; the others are Go text only.
EVALUATED_KINDS = frozenset(
    {"enum", "int_between", "float_between", "int_at_least", "regex", "rfc1035", "string_len_between", "or_empty"}
)
EVALUATED_NAMED = frozenset({"verify.ValidateBase64String"})
NOT_EVALUATED = {
    "named": "named Go functions other than verify.ValidateBase64String (e.g. validateIAMMember, "
    "validateHttpHeaders) are kept as Go text by the facts",
    "inline": "an inline Go closure, kept as text by the facts",
}

_RFC1035_NAME = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")


def validate_config(schema, resource, config) -> list[Diagnostic]:
    """Diagnostics for one resource/data source/provider config value (Python value of its type)."""
    if config is None or is_unknown(config):
        return []
    checker = _Checker(schema, resource, config)
    checker.block(resource.block, config, ())
    return checker.diagnostics


class _Checker:
    def __init__(self, schema, resource, config):
        self.schema = schema
        self.resource = resource
        self.config = config
        self.diagnostics: list[Diagnostic] = []

    def block(self, block: dict, value: dict, path: tuple) -> None:
        for name, attr in block.get("attributes", {}).items():
            self.field(attr, value.get(name), path + (name,), is_block=False)
        for name, nested in block.get("blocks", {}).items():
            self.field(nested, value.get(name), path + (name,), is_block=True)
            elements = value.get(name)
            if elements is None or is_unknown(elements):
                continue
            if nested["nesting"] == "single":
                self.block(nested["block"], elements, path + (name,))
            else:
                # A set element has no index in an attribute path: diagnostics stop at the set.
                for index, element in enumerate(elements):
                    if element is None or is_unknown(element):
                        continue
                    step = (index,) if nested["nesting"] == "list" else ()
                    self.block(nested["block"], element, path + (name,) + step)

    def field(self, fact: dict, value, path: tuple, is_block: bool) -> None:
        key = sdk_key(path)
        is_set = _is_set(value)
        where = self._where(fact)
        exactly = fact.get("exactly_one_of")
        if exactly:
            self._exactly_one_of(key, exactly, path, where)
        at_least = fact.get("at_least_one_of")
        if at_least:
            keys = sorted(set(at_least) | {key})
            if not any(self._lookup(k)[0] for k in keys):
                self._error("Missing required argument", f'"{key}": one of `{",".join(keys)}` must be specified', path, where)
        if not is_set:
            return
        required_with = fact.get("required_with")
        if required_with:
            keys = sorted(set(required_with) | {key})
            if not all(self._lookup(k)[0] for k in keys):
                self._error("Missing required argument", f'"{key}": all of `{",".join(keys)}` must be specified', path, where)
        if not is_wholly_known(value):
            return
        for other in fact.get("conflicts_with", ()):
            found, other_value = self._lookup(other)
            if found and not is_unknown(other_value):
                self._error("Conflicting configuration arguments", f'"{key}": conflicts with {other}', path, where)
                break
        if fact.get("deprecated"):
            self.diagnostics.append(warning("Argument is deprecated", f'{key}: {fact["deprecated"]}', path))
        if not is_block and fact.get("validate"):
            for element_path, element in _primitives(value, path):
                for message in check_value(fact["validate"], sdk_key(element_path), element):
                    self._error(message, "", element_path, where)

    def _exactly_one_of(self, key, listed, path, where) -> None:
        keys = sorted(set(listed) | {key})
        specified, unknown = [], 0
        for k in keys:
            found, value = self._lookup(k)
            if found and is_unknown(value):
                unknown += 1
            elif found:
                specified.append(k)
        if not specified and not unknown:
            self._error("Invalid combination of arguments", f'"{key}": one of `{",".join(keys)}` must be specified', path, where)
        elif len(specified) > 1:
            self._error(
                "Invalid combination of arguments",
                f'"{key}": only one of `{",".join(keys)}` can be specified, but `{",".join(specified)}` were specified.',
                path,
                where,
            )

    def _lookup(self, key: str):
        """SDK ResourceConfig.Get: (found, value) of a flatmap key in the raw config."""
        value = self.config
        for part in key.split("."):
            if is_unknown(value):
                return True, value
            if isinstance(value, dict):
                value = value.get(part)
            elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
                value = value[int(part)]
            else:
                return False, None
            if value is None:
                return False, None
        # An empty block list is left out of the SDK's config map.
        if isinstance(value, list) and not value:
            return False, None
        return True, value

    def _where(self, fact: dict) -> str:
        url = self.schema.source_url(fact.get("source", ""))
        return f" (provider source: {url})" if url else ""

    def _error(self, summary: str, detail: str, path: tuple, where: str) -> None:
        # Terraform prints the resource address beside each diagnostic: the detail need not name it.
        self.diagnostics.append(error(summary, f"{detail}{where}".strip(), path))


def _is_set(value) -> bool:
    return value is not None and not (isinstance(value, list) and not value)


def _primitives(value, path):
    """(path, value) of each known primitive inside an attribute value (lists, sets and maps)."""
    if isinstance(value, Unknown) or value is None:
        return
    if isinstance(value, list):
        for index, element in enumerate(value):
            yield from _primitives(element, path + (index,))
    elif isinstance(value, dict):
        for key, element in value.items():
            yield from _primitives(element, path + (key,))
    else:
        yield path, value


def check_value(validate: dict, key: str, value) -> list[str]:
    """Error messages (worded as the SDK/provider words them) of one validator on one value."""
    kind = validate["kind"]
    if kind == "enum" and isinstance(value, str):
        allowed = validate["values"]
        if validate.get("ignore_case"):
            ok = value.lower() in (v.lower() for v in allowed)
        else:
            ok = value in allowed
        if not ok:
            shown = ", ".join(f'"{v}"' for v in allowed)
            return [f"expected {key} to be one of [{shown}], got {value}"]
    elif kind == "int_between" and isinstance(value, (int, float)):
        if not validate["min"] <= value <= validate["max"]:
            return [f"expected {key} to be in the range ({validate['min']} - {validate['max']}), got {value}"]
    elif kind == "float_between" and isinstance(value, (int, float)):
        if not validate["min"] <= value <= validate["max"]:
            return [f"expected {key} to be in the range ({validate['min']} - {validate['max']}), got {value}"]
    elif kind == "int_at_least" and isinstance(value, (int, float)):
        if value < validate["min"]:
            return [f"expected {key} to be at least ({validate['min']}), got {value}"]
    elif kind == "regex" and isinstance(value, str):
        pattern = _compiled(validate["pattern"])
        if pattern is not None and not pattern.search(value):
            return [f'"{key}" ("{value}") doesn\'t match regexp "{validate["pattern"]}"']
    elif kind == "rfc1035" and isinstance(value, str):
        messages = []
        if not validate["min"] <= len(value) <= validate["max"]:
            messages.append(f'"{key}" ("{value}") must be between {validate["min"]} and {validate["max"]} characters long')
        if not _RFC1035_NAME.match(value):
            messages.append(f'"{key}" ("{value}") must match regex "{_RFC1035_NAME.pattern}"')
        return messages
    elif kind == "string_len_between" and isinstance(value, str):
        if not validate["min"] <= len(value) <= validate["max"]:
            return [f"expected length of {key} to be in the range ({validate['min']} - {validate['max']}), got {value}"]
    elif kind == "or_empty":
        if value == "":
            return []
        return check_value(validate["inner"], key, value)
    elif kind == "named" and validate.get("name") == "verify.ValidateBase64String" and isinstance(value, str):
        try:
            base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            return [
                f'could not decode "{key}" as a valid base64 value. Please use the terraform base64 functions '
                "such as base64encode() or filebase64() to supply a valid base64 string"
            ]
    return []


@lru_cache(maxsize=None)
def _compiled(pattern: str):
    # Go RE2 syntax; the few patterns Python's re cannot read are not judged.
    try:
        return re.compile(pattern)
    except re.error:
        return None
