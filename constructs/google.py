"""The one place the google provider bindings are loaded.

The package's own ``__init__.py`` imports all ~1,470 resource modules (13-21 s) before
any of ours runs. Every resource module needs only the package's ``_jsii`` assembly
module, so we register a bare package object under the real name and import just the
submodules the tiers ask for. The JSON is byte-identical; synth takes a quarter of the
time (DESIGN.md section 5).

Use: ``from constructs.google import redis_instance`` loads that one submodule.
"""

import importlib
import importlib.util
import sys
import threading
import types
import typing

_PACKAGE = "cdktf_cdktf_provider_google"
_ASSEMBLY = "@cdktf/provider-google"
_skip_type_checks = False
# The jsii client writes a request and reads its answer on one pipe: two threads talking at once
# would read each other's answers. Held for every request once start_loading() has run.
_REQUEST_LOCK = threading.RLock()
_loader: threading.Thread | None = None
_load_failures: list[BaseException] = []


class _NoHints(dict):
    def __missing__(self, key: str) -> type:
        return object


# `typing` as the bindings see it once checks are skipped: hints resolve to nothing to check.
_UNCHECKED_TYPING = types.ModuleType("typing")
_UNCHECKED_TYPING.__dict__.update(typing.__dict__)
_UNCHECKED_TYPING.get_type_hints = lambda *args, **kwargs: _NoHints()


def skip_runtime_type_checks() -> None:
    """Stop the bindings' own argument type checks (typeguard, under `if __debug__`).

    They cost ~40 % of a synth (measured: ~0.9 s of typing.get_type_hints and typeguard for
    two stacks). `python -O` would skip them too, but needs optimized bytecode these machines
    do not write (PYTHONDONTWRITEBYTECODE). main.py calls this; the tests do not, so every
    construct still runs with the checks on in CI.
    """
    global _skip_type_checks
    _skip_type_checks = True
    for name, module in list(sys.modules.items()):
        if name == "cdktf" or name.startswith(f"{_PACKAGE}."):
            _unchecked(module)


def _unchecked(module: types.ModuleType) -> None:
    # jsii's `publication.publish()` swaps each module for a copy holding only its public names,
    # so patch the namespace the module's functions actually run in.
    for value in vars(module).values():
        namespace = getattr(getattr(value, "__init__", None), "__globals__", None)
        if namespace is not None and namespace.get("__name__") == module.__name__ and "check_type" in namespace:
            namespace["check_type"] = lambda *args, **kwargs: None
            namespace["typing"] = _UNCHECKED_TYPING
            return


def _install_light_package() -> None:
    if _PACKAGE in sys.modules:
        return
    spec = importlib.util.find_spec(_PACKAGE)
    if spec is None or spec.submodule_search_locations is None:
        raise ImportError(f"{_PACKAGE} is not installed: run `make install`")
    package = types.ModuleType(_PACKAGE, "google provider bindings, loaded per submodule")
    package.__path__ = list(spec.submodule_search_locations)
    package.__spec__ = spec
    sys.modules[_PACKAGE] = package
    importlib.import_module(f"{_PACKAGE}._jsii")


def __getattr__(name: str) -> types.ModuleType:
    if name.startswith("__"):
        raise AttributeError(name)
    _install_light_package()
    try:
        module = importlib.import_module(f"{_PACKAGE}.{name}")
    except ModuleNotFoundError as error:
        raise AttributeError(f"the google provider has no module {name!r}") from error
    if _skip_type_checks:
        _unchecked(module)
    setattr(sys.modules[__name__], name, module)
    return module


def load_assembly() -> None:
    """Load the provider's jsii assembly and nothing else (the benchmark's floor)."""
    _install_light_package()


def start_loading() -> None:
    """Start loading the provider's jsii assembly and return at once.

    The node process takes ~2 s to load it (the benchmark's floor) while Python would sit
    waiting on the pipe; main.py imports the tier modules (~60 binding modules, our constructs)
    in that time instead. Every later request to the kernel waits for the load, so nothing
    can use a google type early; finish_loading() reports a failed load.
    """
    if _PACKAGE in sys.modules:
        return
    import cdktf  # noqa: F401 - the provider's assembly needs cdktf's (and constructs') loaded first
    from jsii._kernel.providers.process import _NodeProcess
    from jsii._runtime import kernel

    unlocked_send = _NodeProcess.send

    def send(self, request, response_type):
        with _REQUEST_LOCK:
            return unlocked_send(self, request, response_type)

    _NodeProcess.send = send
    unlocked_load = kernel.load

    def load_in_background(name: str, version: str, tarball: str) -> None:
        if name != _ASSEMBLY:
            return unlocked_load(name, version, tarball)
        holding = threading.Event()

        def load() -> None:
            with _REQUEST_LOCK:
                holding.set()
                try:
                    unlocked_load(name, version, tarball)
                except BaseException as error:  # handed to the main thread by finish_loading()
                    _load_failures.append(error)

        global _loader
        _loader = threading.Thread(target=load, name="google-assembly-load", daemon=True)
        _loader.start()
        holding.wait()  # from here on, any other request queues behind the load

    kernel.load = load_in_background  # only while the bindings' _jsii module runs
    try:
        _install_light_package()
    finally:
        del kernel.load


def finish_loading() -> None:
    """Wait for start_loading()'s load; raise what it raised."""
    if _loader is not None:
        _loader.join()
    if _load_failures:
        raise _load_failures[0]
