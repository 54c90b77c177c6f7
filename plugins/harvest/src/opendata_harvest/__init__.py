"""opendata-harvest: CKAN and DCAT catalogues harvested into an opendata portal.

Enabled by the ``plugins`` setting (``OPENDATA_PLUGINS=harvest``); ``register`` is its
``opendata.plugins`` entry point (docs/plugins.md, docs/harvest.md).
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"


def register(registry: Any) -> None:
    """Add ``opendata harvest``, the ckan and dcat harvesters, the ``harvest`` metadata
    extension (provenance), the harvest log API and the page /admin/harvest."""
    from pathlib import Path

    from opendata_harvest.cli import harvest
    from opendata_harvest.harvesters import CkanHarvester, DcatHarvester
    from opendata_harvest.provenance import HarvestProvenance
    from opendata_harvest.web import admin_page, run_api, runs_api

    registry.add_cli_group(harvest)
    registry.add_harvester(CkanHarvester())
    registry.add_harvester(DcatHarvester())
    registry.add_metadata_extension(HarvestProvenance())
    registry.add_api_routes(runs_api, run_api)
    registry.add_portal_pages(admin_page, templates=Path(__file__).parent / "templates")
