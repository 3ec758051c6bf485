"""Small readers over synthesized Terraform JSON."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from environments.loader import environment_files

# Every environment file's name (environments/*.yaml): the tests that hold for each loop over these.
ENVS = [path.stem for path in environment_files()]


def resources(stack: dict, type_: str) -> dict[str, dict]:
    """address -> body of every resource of `type_`."""
    return stack.get("resource", {}).get(type_, {})


def under(stack: dict, type_: str, construct_path: str) -> dict[str, dict]:
    """address -> body of the `type_` resources created under a construct path (`compliance`,
    `data/redis`): pinned addresses (constructs/shared/protection.py) no longer carry their tier."""
    def path(body: dict) -> str:
        return body["//"]["metadata"]["path"].split("/", 1)[1]
    return {a: b for a, b in resources(stack, type_).items() if path(b).startswith(construct_path + "/")}


def only(stack: dict, type_: str) -> dict:
    found = resources(stack, type_)
    assert len(found) == 1, f"expected one {type_}, found {sorted(found)}"
    return next(iter(found.values()))


def only_address(stack: dict, type_: str) -> str:
    found = resources(stack, type_)
    assert len(found) == 1, f"expected one {type_}, found {sorted(found)}"
    return next(iter(found))


def ref(type_: str, address: str, attribute: str = "id") -> str:
    return "${" + f"{type_}.{address}.{attribute}" + "}"


def address_of(stack: dict, type_: str, name: str) -> str:
    """The Terraform address of the `type_` resource whose `name` is `name`."""
    matches = [a for a, body in resources(stack, type_).items() if body.get("name") == name]
    assert len(matches) == 1, f"expected one {type_} named {name}, found {matches}"
    return matches[0]


def without_metadata(value: Any) -> Any:
    """Drop cdktf's `//` metadata (paths, versions): snapshots compare what Terraform reads."""
    if isinstance(value, dict):
        return {k: without_metadata(v) for k, v in sorted(value.items()) if k != "//"}
    if isinstance(value, list):
        return [without_metadata(v) for v in value]
    return value


def run_service(stack: dict, name: str) -> dict:
    """The google_cloud_run_v2_service named `name`."""
    return resources(stack, "google_cloud_run_v2_service")[address_of(stack, "google_cloud_run_v2_service", name)]


def service_account_address(stack: dict, account_id: str) -> str:
    return address_of_attr(stack, "google_service_account", "account_id", account_id)


def address_of_attr(stack: dict, type_: str, attribute: str, value: Any) -> str:
    matches = [a for a, body in resources(stack, type_).items() if body.get(attribute) == value]
    assert len(matches) == 1, f"expected one {type_} with {attribute}={value}, found {matches}"
    return matches[0]


def member_of(stack: dict, account_id: str) -> str:
    """The Terraform reference to a service account's IAM member string."""
    return ref("google_service_account", service_account_address(stack, account_id), "member")


def api_function_address(stack: dict) -> str:
    """The API layer's function (other tiers run functions too, such as staging's SQL auto-pause)."""
    return next(a for a, b in resources(stack, "google_cloudfunctions2_function").items() if b["name"].endswith("-api"))


def api_function(stack: dict) -> dict:
    return resources(stack, "google_cloudfunctions2_function")[api_function_address(stack)]


def modified_stack(synth_dir: Path, tmp_path: Path, name: str, change) -> Path:
    """A copy of a synthesized stack folder (assets included) with `change` applied to its resources."""
    folder = tmp_path / "stacks" / name
    shutil.copytree(synth_dir / "stacks" / name, folder, symlinks=True)
    stack = json.loads((folder / "cdk.tf.json").read_text())
    change(stack["resource"])
    (folder / "cdk.tf.json").write_text(json.dumps(stack))
    return folder
