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
import types

_PACKAGE = "cdktf_cdktf_provider_google"


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
    setattr(sys.modules[__name__], name, module)
    return module


def load_assembly() -> None:
    """Load the provider's jsii assembly and nothing else (the benchmark's floor)."""
    _install_light_package()
