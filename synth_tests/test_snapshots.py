"""Whole-stack snapshots: any change to the synthesized JSON is reviewed like code.

Snapshots are sorted and carry no `//` metadata, absolute paths or timestamps. When a
change is intended, review the diff, then run: make test ARGS=--snapshot-update
"""

import json

import pytest
from syrupy.extensions.json import JSONSnapshotExtension

from synth_tests.helpers import ENVS, without_metadata

UPDATE = "intended? review the diff above, then run: make test ARGS=--snapshot-update"


@pytest.fixture
def snapshot_json(snapshot):
    return snapshot.use_extension(JSONSnapshotExtension)


@pytest.mark.parametrize("env", ENVS)
def test_stack_matches_snapshot(stacks, env, snapshot_json):
    stack = without_metadata(stacks[env])
    text = json.dumps(stack)
    assert "/work/" not in text and "/tmp/" not in text, "absolute path in the synthesized JSON"
    assert stack == snapshot_json, UPDATE
