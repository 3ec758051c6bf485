"""The house layout (DESIGN.md section 2): constructs/ extends the installed library."""

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_constructs_folder_has_no_init_so_the_library_is_not_shadowed():
    assert not (ROOT / "constructs" / "__init__.py").exists()


# One fresh interpreter, started as main.py starts, answers the checks below (each a few seconds).
FRESH_INTERPRETER = """
import json, sys
from constructs import google
google.start_loading()
from cdktf import App, TerraformStack
from constructs import Construct
from constructs.google import project_service, provider
import constructs.shared.network, constructs.stack
load_was_running = google._loader.is_alive()
app = App(outdir=sys.argv[1])  # the first request after start_loading(): it queues behind the load
stack = TerraformStack(app, "probe")
provider.GoogleProvider(stack, "google", project="hexproperty-probe")
project_service.ProjectService(stack, "run", service="run.googleapis.com")
google.finish_loading()
app.synth()
prefix = "cdktf_cdktf_provider_google."
print(json.dumps({
    "load_was_running": load_was_running,
    "library_construct": sys.modules[Construct.__module__].__file__,
    "network": constructs.shared.network.__file__,
    "provider_modules": sorted({m[len(prefix):] for m in sys.modules if m.startswith(prefix) and "." not in m[len(prefix):]}),
    "package_doc": sys.modules["cdktf_cdktf_provider_google"].__doc__,
}))
"""


@pytest.fixture(scope="module")
def fresh(tmp_path_factory) -> dict:
    outdir = tmp_path_factory.mktemp("probe")
    run = subprocess.run([sys.executable, "-c", FRESH_INTERPRETER, str(outdir)], cwd=ROOT, capture_output=True,
                         text=True, timeout=180)
    assert run.returncode == 0, run.stderr
    return {**json.loads(run.stdout), "synthesized": json.loads((outdir / "stacks" / "probe" / "cdk.tf.json").read_text())}


def test_library_construct_and_our_tier_modules_both_resolve(fresh):
    assert "site-packages" in fresh["library_construct"]
    assert Path(fresh["network"]) == ROOT / "constructs" / "shared" / "network.py"


def named_provider_modules() -> set[str]:
    """The submodules the tiers name in `from constructs.google import ...`."""
    names = set()
    for path in (ROOT / "constructs").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module == "constructs.google":
                names.update(alias.name for alias in node.names)
    return names


def test_provider_package_root_is_never_loaded_whole(fresh):
    """Importing the tiers loads only the provider submodules they use (DESIGN.md section 5)."""
    assert set(fresh["provider_modules"]) - {"_jsii"} == named_provider_modules()
    assert "loaded per submodule" in fresh["package_doc"]


def test_no_module_imports_the_provider_package_root():
    offenders = []
    for path in ROOT.glob("**/*.py"):
        if any(part in {".venv", "node_modules", "cdktf.out"} for part in path.parts):
            continue
        for line in path.read_text().splitlines():
            stripped = line.strip()
            if stripped.startswith("from cdktf_cdktf_provider_google import") or stripped == "import cdktf_cdktf_provider_google":
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_the_provider_loads_in_the_background_and_requests_wait_for_it(fresh):
    """main.py imports the tiers while node loads the provider; a request made meanwhile queues
    behind the load instead of reading its answer (the jsii client has one pipe)."""
    assert fresh["load_was_running"]  # the probe's first request was made while the load still ran
    (body,) = fresh["synthesized"]["resource"]["google_project_service"].values()
    assert body["service"] == "run.googleapis.com"


def test_a_failed_background_load_is_raised_by_finish_loading():
    code = (
        "from jsii._runtime import kernel\n"
        "def broken(name, version, tarball):\n"
        "    if name == '@cdktf/provider-google':\n"
        "        raise RuntimeError('assembly is corrupt')\n"
        "import cdktf\n"
        "kernel.load = broken\n"
        "from constructs import google\n"
        "google.start_loading()\n"
        "try:\n"
        "    google.finish_loading()\n"
        "except RuntimeError as error:\n"
        "    print('raised:', error)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "raised: assembly is corrupt"


def test_timings_name_every_phase_once_and_add_up_to_at_most_the_run(tmp_path):
    """`make bench` reads these lines to show where a synth's time goes."""
    import time

    start = time.perf_counter()
    run = subprocess.run([sys.executable, str(ROOT / "main.py"), "staging", "--timings", "--outdir", str(tmp_path / "out")],
                         cwd=ROOT, capture_output=True, text=True, timeout=180)
    wall = time.perf_counter() - start
    assert run.returncode == 0, run.stderr
    phases = [line.removeprefix("timing: ").rsplit(": ", 1) for line in run.stderr.splitlines()
              if line.startswith("timing: ")]
    assert [name for name, _ in phases] == [
        "environment files", "cdktf assembly", "tier modules, imported during the provider load",
        "rest of the provider load", "building the stacks", "synthesis and policy pack", "replacing the output folder"]
    assert 0 < sum(float(seconds) for _, seconds in phases) < wall
