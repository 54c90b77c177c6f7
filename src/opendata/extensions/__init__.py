"""Named extension points for plugins (docs/plugins.md).

Interfaces, one module each: formats.py (Exporter, Importer), harvest.py (Harvester),
routes.py (extra API routes and portal pages), metadata.py (dataset metadata
extensions), events.py (event hooks); CLI command groups and crypto suites are kept by
the registry (``add_cli_group``, ``crypto_suites``). loader.py finds plugins through the
entry-point group ``opendata.plugins`` and enables those the ``plugins`` setting names.
"""

from opendata.extensions.events import DATASET_UPDATED, DOWNLOAD_SERVED, EVENTS, LICENCE_APPROVED, Event
from opendata.extensions.loader import GROUP, Plugin, PluginError, installed, load_plugins
from opendata.extensions.registry import Registry, RegistrationError, core_registry, fire, registry_of

__all__ = [
    "DATASET_UPDATED", "DOWNLOAD_SERVED", "EVENTS", "Event", "GROUP", "LICENCE_APPROVED", "Plugin",
    "PluginError", "Registry", "RegistrationError", "core_registry", "fire", "installed", "load_plugins",
    "registry_of",
]
