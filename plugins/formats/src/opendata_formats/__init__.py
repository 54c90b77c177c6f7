"""opendata-formats: Parquet, GeoJSON and XML downloads, Excel 97 (.xls) imports.

Enabled with ``OPENDATA_PLUGINS=formats``. Every format goes through the core's download
pipeline (opendata.catalogue.data_api.serve_download): the guard, the licence's fields,
masks, filters, quota, accounting and streaming are the core's; this package only turns
served rows into bytes, and reads .xls workbooks for the core's ingest.
"""

from __future__ import annotations

from opendata.extensions import Registry

from opendata_formats.geojson import GEOJSON
from opendata_formats.parquet import PARQUET
from opendata_formats.xls import XlsImporter
from opendata_formats.xml import XML

__all__ = ["GEOJSON", "PARQUET", "XML", "XlsImporter", "register"]


def register(registry: Registry) -> None:
    registry.add_exporter(PARQUET)
    registry.add_exporter(GEOJSON)
    registry.add_exporter(XML)
    registry.add_importer(XlsImporter())
