"""Finding and enabling plugins: the entry-point group ``opendata.plugins``.

A plugin is a distribution that declares, in its pyproject.toml::

    [project.entry-points."opendata.plugins"]
    harvest = "opendata_harvest:register"

The entry point's name is the plugin's name; its object is a callable
``register(registry)`` (or an object with a ``register`` method) that adds to the
application's opendata.extensions.Registry. Installing a plugin enables nothing: the
``plugins`` setting (``OPENDATA_PLUGINS=harvest,gmcrypto``) names the ones an application
loads, in that order. The core never imports a plugin by name.

Every failure is a PluginError whose message is one line naming the plugin: not
installed, failed to import, or failed to register. OpenDataPlugin raises it while the
application is built, and ``opendata serve`` prints it and exits 1 before any server starts.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib.metadata import EntryPoint, entry_points
from typing import Any, Protocol, runtime_checkable

from opendata.extensions.registry import Registry, core_registry, enable_importers, one_line

GROUP = "opendata.plugins"


class PluginError(RuntimeError):
    """A plugin that cannot be enabled; ``str(error)`` is one line that names it."""

    def __init__(self, plugin: str, message: str) -> None:
        super().__init__(f"plugin {plugin!r}: {message}")
        self.plugin = plugin


@runtime_checkable
class Plugin(Protocol):
    """What an ``opendata.plugins`` entry point names (a module with a ``register``
    function is one too)."""

    def register(self, registry: Registry) -> None:
        ...


def installed() -> dict[str, EntryPoint]:
    """The plugins installed in this environment, by name (the first one of a name wins)."""
    found: dict[str, EntryPoint] = {}
    for entry in entry_points(group=GROUP):
        found.setdefault(entry.name, entry)
    return found


def _register_function(name: str, entry: EntryPoint) -> Any:
    try:
        target = entry.load()
    except Exception as exc:  # an ImportError, or anything its import raised
        raise PluginError(name, f"cannot be imported ({entry.value}): {one_line(exc)}") from exc
    register = getattr(target, "register", target)
    if not callable(register):
        raise PluginError(name, f"{entry.value} is neither register(registry) nor has a register method")
    return register


def load_plugins(names: Sequence[str]) -> Registry:
    """A registry with the core's formats, then each named plugin's additions."""
    registry = core_registry()
    if not names:
        return registry
    available = installed()
    for name in names:
        if name in registry.plugins:
            raise PluginError(name, "is named twice in the plugins setting")
        entry = available.get(name)
        if entry is None:
            have = ", ".join(sorted(available)) or "none"
            raise PluginError(name, f"is not installed (installed {GROUP} plugins: {have})")
        register = _register_function(name, entry)
        try:
            with registry.registering(name):
                register(registry)
        except Exception as exc:
            raise PluginError(name, f"failed to register: {one_line(exc)}") from exc
        registry.plugins.append(name)
    enable_importers(registry)
    return registry
