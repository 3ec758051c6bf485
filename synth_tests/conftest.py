"""Shared fixtures: each environment is synthesized once per test run."""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NODE_BIN = ROOT / "node_modules" / ".bin"

# jsii runs `node` from PATH: use the project's pinned LTS when it is installed.
if NODE_BIN.is_dir() and not os.environ.get("PATH", "").startswith(str(NODE_BIN)):
    os.environ["PATH"] = f"{NODE_BIN}{os.pathsep}{os.environ.get('PATH', '')}"


@pytest.fixture(scope="session")
def configs():
    from environments.loader import load_all

    return {c.name: c for c in load_all()}


@pytest.fixture(scope="session")
def synth_dir(tmp_path_factory, configs) -> Path:
    from main import synthesize

    outdir = tmp_path_factory.mktemp("synth") / "cdktf.out"
    synthesize(list(configs.values()), outdir)
    return outdir


@pytest.fixture(scope="session")
def stacks(synth_dir) -> dict[str, dict]:
    """env name -> the synthesized cdk.tf.json of that stack."""
    return {
        path.parent.name: json.loads(path.read_text())
        for path in sorted((synth_dir / "stacks").glob("*/cdk.tf.json"))
    }


@pytest.fixture(scope="session")
def bootstrap_dir(tmp_path_factory, configs) -> Path:
    """The `<env>-bootstrap` stacks (main.py --bootstrap), synthesized once."""
    from main import synthesize

    outdir = tmp_path_factory.mktemp("bootstrap") / "cdktf.out"
    synthesize(list(configs.values()), outdir, bootstrap=True)
    return outdir


@pytest.fixture(scope="session")
def bootstrap_stacks(bootstrap_dir) -> dict[str, dict]:
    """`<env>-bootstrap` -> its cdk.tf.json."""
    return {path.parent.name: json.loads(path.read_text())
            for path in sorted((bootstrap_dir / "stacks").glob("*/cdk.tf.json"))}


@pytest.fixture(scope="session")
def staging(stacks):
    return stacks["staging"]


@pytest.fixture(scope="session")
def production(stacks):
    return stacks["production"]


@pytest.fixture(scope="session")
def terraform_env(tmp_path_factory) -> dict[str, str]:
    """The environment that runs terraform with the google provider stand-in (provider_standin/)."""
    from provider_standin.terraform import write_cli_config

    return write_cli_config(tmp_path_factory.mktemp("standin"))


@pytest.fixture(scope="session")
def applied(synth_dir, terraform_env, tmp_path_factory) -> dict[str, Path]:
    """Each stack applied with the stand-in to a scratch local state: stack name -> its state file."""
    from tools.plan_diff import apply_stack

    names = sorted(p.parent.name for p in (synth_dir / "stacks").glob("*/cdk.tf.json"))
    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip(names, pool.map(lambda name: apply_stack(
            name, synth_dir / "stacks" / name, tmp_path_factory.mktemp(f"applied-{name}"), terraform_env), names)))
