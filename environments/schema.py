"""Gate 2: the JSON Schema beside this file, its errors explained.

Every error becomes one problem in the file's words (unknown key with the nearest spelling,
a missing key with its description, the wrong type, value or range), and a valid file gets
the schema's defaults filled in, so the schema is the only place defaults live.
"""

from __future__ import annotations

import copy
import difflib
import json
from pathlib import Path
from typing import Any, Iterator

import jsonschema

from environments.problems import Problem, join_key, key_path, short_repr, type_name, with_article

SCHEMA_PATH = Path(__file__).resolve().parent / "environment.schema.json"


def load_schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def schema_problems(data: dict, schema: dict, shown: str) -> Iterator[Problem]:
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path])
    seen = set()
    for error in errors:
        for problem in _explain(error, shown, schema):
            if problem not in seen:  # a key reached through allOf can be reported twice
                seen.add(problem)
                yield problem


def _describe(node: dict, key: str, root: dict) -> str:
    """The description of `key` under `node`, following allOf and $ref."""
    candidates = [node] + [part for part in node.get("allOf", [])]
    for candidate in candidates:
        if "$ref" in candidate:
            candidate = _resolve(candidate["$ref"], root)
        description = candidate.get("properties", {}).get(key, {})
        if "$ref" in description and "description" not in description:
            description = _resolve(description["$ref"], root)
        if description.get("description"):
            return description["description"]
    return "see environments/environment.schema.json"


def _resolve(ref: str, root: dict) -> dict:
    node = root
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def _explain(error: jsonschema.ValidationError, shown: str, root: dict) -> Iterator[Problem]:
    path = key_path(error.absolute_path)
    schema, value, kind = error.schema, error.instance, error.validator
    hint = schema.get("description", "") if isinstance(schema, dict) else ""
    if kind == "additionalProperties":
        allowed = sorted(schema.get("properties", {}))
        for key in sorted(set(value) - set(allowed), key=str):
            close = difflib.get_close_matches(str(key), allowed, n=1)
            fix = f"did you mean {close[0]!r}? " if close else ""
            if allowed:
                fix += f"allowed keys here: {', '.join(allowed)}"
            else:
                fix += "remove the key"
            yield Problem(shown, join_key(path, key), "unknown key", fix)
        # additionalProperties with a schema (maps such as labels) reports its own value errors.
        if isinstance(error.validator_value, dict):
            yield Problem(shown, path, error.message, hint or "see environments/environment.schema.json")
    elif kind == "required":
        for key in error.validator_value:
            if isinstance(value, dict) and key not in value:
                yield Problem(shown, join_key(path, key), "required key is missing",
                              f"add `{key}`: {_describe(schema, key, root)}")
    elif kind == "type":
        expected = error.validator_value
        expected = [expected] if isinstance(expected, str) else expected
        expected = " or ".join(_SCHEMA_TYPES.get(t, t) for t in expected)
        yield Problem(shown, path, f"expected {with_article(expected)}, got {type_name(value)} {short_repr(value)}",
                      hint or f"write {with_article(expected)}")
    elif kind == "enum":
        options = ", ".join(str(o) for o in error.validator_value)
        yield Problem(shown, path, f"{short_repr(value)} is not an allowed value", f"use one of: {options}")
    elif kind in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        word = {"minimum": "below the minimum", "maximum": "above the maximum",
                "exclusiveMinimum": "not above", "exclusiveMaximum": "not below"}[kind]
        yield Problem(shown, path, f"{short_repr(value)} is {word} {error.validator_value}",
                      hint or "use a value within the allowed range")
    elif kind == "pattern":
        yield Problem(shown, path, f"{short_repr(value)} is not in the expected form", hint or error.message)
    elif kind == "propertyNames":
        yield Problem(shown, path, f"a key here is not allowed: {error.message}", hint or "rename the key")
    else:
        yield Problem(shown, path, error.message, hint or "see environments/environment.schema.json")


_SCHEMA_TYPES = {"object": "mapping", "array": "list"}


def with_defaults(schema: dict, data: Any) -> Any:
    """Fill schema defaults into a valid document, so the schema is the only place defaults live."""
    if not isinstance(data, dict) or schema.get("type") != "object":
        return data
    for key, sub in schema.get("properties", {}).items():
        if key not in data and "default" in sub:
            data[key] = copy.deepcopy(sub["default"])
        if key in data:
            data[key] = with_defaults(sub, data[key])
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict):
        for key in set(data) - set(schema.get("properties", {})):
            data[key] = with_defaults(extra, data[key])
    return data
