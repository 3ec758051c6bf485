"""msgpack <-> Python values, driven by the schema's types (the cty msgpack encoding Terraform uses).

Python values: None (null), str, bool, int or float, list (lists and sets), dict (maps and
objects), and `Unknown` for values not known until apply. Terraform sends unknowns as msgpack
extension 0, or extension 12 when it carries refinements (Terraform 1.6+: "not null", a string
prefix, ...); a decoded unknown keeps its extension so it is echoed back as it came.
"""

from __future__ import annotations

import json

import msgpack

_PLAIN_UNKNOWN_EXT = 0
_REFINED_UNKNOWN_EXT = 12


class Unknown:
    """A value Terraform (or this plan) does not know yet."""

    __slots__ = ("ext",)

    def __init__(self, ext: msgpack.ExtType):
        self.ext = ext

    def __repr__(self) -> str:
        return "Unknown" if self.ext.code == _PLAIN_UNKNOWN_EXT else f"Unknown(refined {self.ext.data!r})"

    def __eq__(self, other) -> bool:
        return isinstance(other, Unknown)

    def __hash__(self) -> int:
        return hash(Unknown)


UNKNOWN = Unknown(msgpack.ExtType(_PLAIN_UNKNOWN_EXT, b"\x00"))


def is_unknown(value) -> bool:
    return isinstance(value, Unknown)


def is_wholly_known(value) -> bool:
    if isinstance(value, Unknown):
        return False
    if isinstance(value, list):
        return all(is_wholly_known(v) for v in value)
    if isinstance(value, dict):
        return all(is_wholly_known(v) for v in value.values())
    return True


def _ext_hook(code: int, data: bytes):
    if code in (_PLAIN_UNKNOWN_EXT, _REFINED_UNKNOWN_EXT):
        return Unknown(msgpack.ExtType(code, data))
    raise ValueError(f"unexpected msgpack extension {code}")


def decode(raw: bytes, value_type):
    """A msgpack DynamicValue of `value_type` -> Python value."""
    if not raw:
        return None
    return _normalize(msgpack.unpackb(raw, ext_hook=_ext_hook, raw=False, strict_map_key=False), value_type)


def decode_json(raw: bytes, value_type):
    """A JSON DynamicValue or raw state (no unknowns in JSON) -> Python value."""
    if not raw:
        return None
    return _normalize(json.loads(raw), value_type)


def _normalize(value, value_type):
    # cty sends numbers that do not fit int64/float64 as decimal strings.
    if value is None or isinstance(value, Unknown):
        return value
    if value_type == "number":
        return _number(value)
    if isinstance(value_type, list):
        kind, inner = value_type
        if kind in ("list", "set"):
            return [_normalize(v, inner) for v in value]
        if kind == "map":
            return {k: _normalize(v, inner) for k, v in value.items()}
        if kind == "object":
            return {k: _normalize(value.get(k), t) for k, t in inner.items()}
    return value


def _number(value):
    if isinstance(value, bool):
        raise TypeError(f"expected a number, got {value!r}")
    if isinstance(value, str):
        value = float(value) if any(c in value for c in ".eE") else int(value)
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**63:
        return int(value)
    return value


def encode(value, value_type) -> bytes:
    """Python value of `value_type` -> msgpack DynamicValue bytes."""
    return msgpack.packb(_shape(value, value_type), use_bin_type=True)


def _shape(value, value_type):
    if value is None:
        return None
    if isinstance(value, Unknown):
        return value.ext
    if value_type == "number":
        return _number(value)
    if value_type == "string":
        if not isinstance(value, str):
            raise TypeError(f"expected a string, got {value!r}")
        return value
    if value_type == "bool":
        if not isinstance(value, bool):
            raise TypeError(f"expected a bool, got {value!r}")
        return value
    kind, inner = value_type
    if kind in ("list", "set"):
        return [_shape(v, inner) for v in value]
    if kind == "map":
        return {k: _shape(v, inner) for k, v in value.items()}
    if kind == "object":
        # cty objects are complete: every attribute of the type, null where absent.
        unexpected = set(value) - set(inner)
        if unexpected:
            raise KeyError(f"attributes not in the type: {sorted(unexpected)}")
        return {k: _shape(value.get(k), t) for k, t in inner.items()}
    raise TypeError(f"unsupported type {value_type!r}")
