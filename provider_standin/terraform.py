"""Run Terraform against the google provider stand-in: CLI config, launcher and scratch directories.

    env = write_cli_config()                      # .gen/provider-standin/{terraform-provider-google,terraformrc}
    workdir = prepare_workdir(stack_dir, scratch) # the stack without its gcs backend, assets beside it
    result = run_terraform(["plan", "-json"], workdir, env)

Terraform loads the stand-in through `dev_overrides` (no `terraform init`, no lock file); the
user's own CLI config is never read or touched because TF_CLI_CONFIG_FILE points at ours.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_GEN_DIR = PROJECT_ROOT / ".gen" / "provider-standin"
PROVIDER_SOURCE = "hashicorp/google"
LAUNCHER_NAME = "terraform-provider-google"


def _write_if_changed(path: Path, text: str, mode: int) -> None:
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
    if path.stat().st_mode & 0o777 != mode:
        path.chmod(mode)


def write_cli_config(directory: Path = DEFAULT_GEN_DIR) -> dict[str, str]:
    """Write the launcher and terraformrc into `directory` (idempotent); return the environment for terraform."""
    directory = Path(directory).resolve()
    directory.mkdir(parents=True, exist_ok=True)
    launcher = (
        "#!/bin/sh\n"
        "# Starts the google provider stand-in; written by provider_standin/terraform.py.\n"
        f'PYTHONPATH="{PROJECT_ROOT}${{PYTHONPATH:+:$PYTHONPATH}}" exec "{sys.executable}" -m provider_standin "$@"\n'
    )
    _write_if_changed(directory / LAUNCHER_NAME, launcher, 0o755)
    rc = (
        "provider_installation {\n"
        "  dev_overrides {\n"
        f"    {json.dumps(PROVIDER_SOURCE)} = {json.dumps(str(directory))}\n"
        "  }\n"
        "  direct {}\n"
        "}\n"
    )
    _write_if_changed(directory / "terraformrc", rc, 0o644)
    env = dict(os.environ)
    env.update(
        TF_CLI_CONFIG_FILE=str(directory / "terraformrc"),
        CHECKPOINT_DISABLE="1",
        TF_IN_AUTOMATION="1",
    )
    return env


def prepare_workdir(stack_dir: Path, workdir: Path) -> Path:
    """A scratch copy of a synthesized stack: cdk.tf.json without `terraform.backend`, `assets/` linked.

    State then stays local (`terraform.tfstate` in `workdir`). Idempotent: the stack file is
    rewritten and the assets link renewed on every call; an existing state is kept.
    """
    stack_dir, workdir = Path(stack_dir).resolve(), Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    stack = json.loads((stack_dir / "cdk.tf.json").read_text())
    stack.get("terraform", {}).pop("backend", None)
    (workdir / "cdk.tf.json").write_text(json.dumps(stack, indent=2) + "\n")
    assets = stack_dir / "assets"
    link = workdir / "assets"
    if link.is_symlink() or link.is_file():
        link.unlink()
    elif link.is_dir():
        shutil.rmtree(link)
    if assets.is_dir():
        link.symlink_to(assets, target_is_directory=True)
    return workdir


def without_imports(config: Path) -> frozenset[str]:
    """Drop the top-level `import` blocks from a stack file; return the addresses they import to.

    Importing reads the resource from Google, which the stand-in refuses offline: without the
    blocks, each such address plans as a create (tools/plan_review.py reports it as an import)."""
    stack = json.loads(config.read_text())
    blocks = stack.pop("import", [])
    config.write_text(json.dumps(stack, indent=2) + "\n")
    return frozenset(block["to"] for block in blocks)


def run_terraform(
    args: list[str], workdir: Path, env: dict[str, str], *, check: bool = False, timeout: float = 600
) -> subprocess.CompletedProcess:
    """`terraform <args>` in `workdir` with the stand-in's environment; output captured as text."""
    return subprocess.run(
        ["terraform", *args],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        check=check,
        timeout=timeout,
    )


def json_messages(stdout: str) -> list[dict]:
    """The machine-readable lines of a `-json` run (plan/apply/validate streams)."""
    messages = []
    for line in stdout.splitlines():
        line = line.strip()
        if line.startswith("{"):
            messages.append(json.loads(line))
    return messages
