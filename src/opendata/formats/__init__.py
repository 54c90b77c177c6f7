"""Streaming exporters (CSV, XLSX, JSON, NDJSON) and importers (CSV, XLSX) for tables.

Depends on nothing else in opendata: only the standard library and openpyxl.
"""

from .columns import COLUMN_TYPES, Column
from .convert import RowConverter, converter_for
from .csv_export import export_csv
from .csv_import import CsvTable, detect_encoding, read_csv
from .errors import FormatError, UnknownFormatError
from .headers import RowRecord, match_header
from .json_export import export_json, export_ndjson
from .registry import EXPORTERS, Exporter, available_formats, get_exporter
from .xlsx_export import export_xlsx
from .xlsx_import import XlsxTable, read_xlsx

__all__ = [
    "COLUMN_TYPES",
    "Column",
    "CsvTable",
    "EXPORTERS",
    "Exporter",
    "FormatError",
    "RowConverter",
    "RowRecord",
    "UnknownFormatError",
    "XlsxTable",
    "available_formats",
    "converter_for",
    "detect_encoding",
    "export_csv",
    "export_json",
    "export_ndjson",
    "export_xlsx",
    "get_exporter",
    "match_header",
    "read_csv",
    "read_xlsx",
]
