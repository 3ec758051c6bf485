"""Gate 1: reading an environment file as YAML.

Size, encoding and syntax, and what PyYAML would silently accept: duplicate keys, anchors,
aliases and merge keys, tags, a top level that is not a mapping. Each stops the file here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import yaml

from environments.problems import ConfigError, Problem, join_key, type_name

MAX_FILE_BYTES = 1_000_000

# libyaml's parser when PyYAML was built with it (the wheels are): ten times the pure-Python one.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _ReadError(ConfigError):
    pass


def read_yaml(path: Path, shown: str) -> dict:
    def fail(message: str, fix: str, where: str = "") -> _ReadError:
        return _ReadError([Problem(shown, where, message, fix)])

    try:
        raw = path.read_bytes()
    except OSError as error:
        raise fail(f"cannot be read ({error.strerror})", "check the path and its permissions") from None
    if len(raw) > MAX_FILE_BYTES:
        raise fail(f"is {len(raw)} bytes; an environment file is at most {MAX_FILE_BYTES}", "trim the file")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise fail(f"is not UTF-8 text (byte {error.start})", "save the file as UTF-8") from None
    # One parse: the node tree is checked for duplicate keys and aliases, then turned into data.
    loader = _YAML_LOADER(text)
    try:
        root = loader.get_single_node()
        if root is None:
            raise fail("is empty", "write a mapping with the keys project, state and network "
                       "(copy environments/staging.yaml as a start)")
        problems = list(_node_problems(root, shown))
        if problems:
            raise _ReadError(problems)
        data = loader.construct_document(root)  # raises on tags such as !!python/name or !custom
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        what = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise fail(f"is not valid YAML{where}: {what}",
                   "fix the YAML syntax (indentation, quoting, colons); tags such as !name are not supported") from None
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        raise fail(f"its top level is a {type_name(data)}, not a mapping",
                   "write `key: value` lines at the top level (project, state, network, ...)")
    return data


def _node_problems(node: yaml.Node, shown: str, path: str = "", seen_nodes: set[int] | None = None) -> Iterator[Problem]:
    """Duplicate keys and aliases: PyYAML silently keeps the last duplicate and expands aliases."""
    seen_nodes = set() if seen_nodes is None else seen_nodes
    if id(node) in seen_nodes:  # the composer hands an alias back as the anchored node itself
        yield Problem(shown, path, f"is a YAML alias (line {node.start_mark.line + 1})",
                      "write the values out; anchors and aliases are not supported in environment files")
        return
    seen_nodes.add(id(node))
    if isinstance(node, yaml.MappingNode):
        seen: dict[Any, int] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else "?"
            line = key_node.start_mark.line + 1
            child = join_key(path, key)
            if key == "<<":
                yield Problem(shown, child, f"uses a YAML merge key (line {line})",
                              "write the values out; merge keys are not supported in environment files")
                continue
            if key in seen:
                yield Problem(shown, child, f"is defined twice (lines {seen[key]} and {line}); YAML would keep the last",
                              "keep one definition of the key")
            seen[key] = line
            yield from _node_problems(value_node, shown, child, seen_nodes)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            yield from _node_problems(item, shown, f"{path}[{index}]", seen_nodes)
