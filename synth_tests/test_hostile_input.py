"""Property-based: random mutations of the real environment files never end in a traceback;
each yields a valid config or clear problems naming the file."""

from __future__ import annotations

import copy
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from environments.config import EnvironmentConfig
from environments.loader import ENVIRONMENTS_DIR, ConfigError, load_environment, load_schema

SCHEMA = load_schema()
ORIGINALS = {name: yaml.safe_load((ENVIRONMENTS_DIR / f"{name}.yaml").read_text()) for name in ("staging", "production")}

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-10**12, max_value=10**12),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=40),
    st.sampled_from(["512Mi", "1Gi", "nodejs18", "10.0.0.0/8", "europe-west1", "ALLOW_ALL", "", "-1", "0"]),
)
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                       st.dictionaries(st.text(max_size=12), inner, max_size=4)),
                      max_leaves=12)


def paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for key, child in node.items():
            yield from paths(child, prefix + (key,))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            yield from paths(child, prefix + (index,))


@st.composite
def mutated(draw):
    name = draw(st.sampled_from(sorted(ORIGINALS)))
    data = copy.deepcopy(ORIGINALS[name])
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        all_paths = [p for p in paths(data) if p]
        if not all_paths:
            break
        path = draw(st.sampled_from(all_paths))
        parent = data
        for part in path[:-1]:
            parent = parent[part]
        action = draw(st.sampled_from(["replace", "delete", "add"]))
        if action == "replace":
            parent[path[-1]] = draw(values)
        elif action == "delete":
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[draw(st.text(min_size=1, max_size=12))] = draw(values)
    return name, data


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(case=mutated())
def test_mutations_never_raise_anything_but_clear_problems(tmp_path_factory, case):
    name, data = case
    path = tmp_path_factory.mktemp("env") / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    try:
        config = load_environment(path, SCHEMA)
    except ConfigError as error:
        assert error.problems
        for problem in error.problems:
            line = str(problem)
            assert line.startswith(str(problem.file) + ": ") and problem.file.endswith(f"{name}.yaml")
            assert "Fix: " in line and "\n" not in line
    else:
        assert isinstance(config, EnvironmentConfig)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=300))
def test_arbitrary_text_never_raises_anything_but_clear_problems(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("env") / "staging.yaml"
    path.write_text(text)
    try:
        load_environment(path, SCHEMA)
    except ConfigError as error:
        assert error.problems and all("Fix: " in str(p) for p in error.problems)
