"""Export formats by name, with what an HTTP response needs to serve them.

``CORE_EXPORTERS`` are the core's own formats. An application's formats are these plus
the ones its plugins add (opendata.extensions: ``Registry.exporters``); ``get_exporter``
looks a name up in whichever mapping it is given, the core's by default.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from . import csv_export, xlsx_export
from .columns import Column
from .errors import FormatError, UnknownFormatError
from .json_export import JSON_MEDIA_TYPE, NDJSON_MEDIA_TYPE, export_json, export_ndjson

ExportFunction = Callable[..., Iterator[bytes]]
# (query parameters, settings) -> keyword options of the export function; raises FormatError.
OptionsParser = Callable[[Mapping[str, str], Any], dict[str, Any]]


def no_options(params: Mapping[str, str], settings: Any) -> dict[str, Any]:
    return {}


def every_table(columns: Sequence[Column]) -> bool:
    return True


@dataclass(frozen=True)
class Exporter:
    """A named export format: its media type, file extension (without dot) and function.

    ``function(columns, rows, **options)`` validates its options at once and returns a
    lazy iterator of byte chunks. ``parse_options`` turns a download's query parameters
    (and the application's settings) into those options. ``supports(columns)`` says
    whether a table can be written in this format at all (GeoJSON needs coordinates).
    ``reproducible``: the same rows give the same bytes (a strong ETag). ``label_zh`` and
    ``label_en`` name the download button; ``file_type`` is the EU file-type code and
    label of DCAT's ``dct:format``. ``parameters``: the query parameters ``parse_options``
    reads beyond the reserved ``bom`` and ``header`` (a download in this format does not
    take them as row filters).
    """

    name: str
    media_type: str
    extension: str
    function: ExportFunction
    parse_options: OptionsParser = no_options
    supports: Callable[[Sequence[Column]], bool] = every_table
    reproducible: bool = False
    label_zh: str = ""
    label_en: str = ""
    file_type: tuple[str, str] = ("BIN", "Binary Data")
    parameters: tuple[str, ...] = ()
    # Takes a date cell as its ISO 8601 text as well as a date (CSV writes both the same):
    # a SQLite row store then passes its stored text instead of parsing it for nothing.
    iso_dates: bool = False

    def __call__(
        self, columns: Sequence[Column], rows: Iterable[Sequence[Any]], **options: Any
    ) -> Iterator[bytes]:
        return self.function(columns, rows, **options)

    def filename(self, stem: str) -> str:
        return f"{stem}.{self.extension}"


def _bad(message: str) -> FormatError:
    return FormatError("invalid_parameter", message)


def csv_options(params: Mapping[str, str], settings: Any) -> dict[str, Any]:
    bom = params.get("bom", "0")
    if bom not in ("0", "1", "true", "false"):
        raise _bad("bom takes 1 or 0")
    header = params.get("header", "names")
    if header not in ("names", "titles"):
        raise _bad("header takes names or titles")
    return {"bom": bom in ("1", "true"), "header": header}


def xlsx_options(params: Mapping[str, str], settings: Any) -> dict[str, Any]:
    return {"max_rows_per_sheet": settings.xlsx_max_rows_per_sheet} if settings is not None else {}


CORE_EXPORTERS: dict[str, Exporter] = {
    exporter.name: exporter
    for exporter in (
        Exporter("csv", csv_export.MEDIA_TYPE, csv_export.EXTENSION, csv_export.export_csv, csv_options,
                 reproducible=True, label_zh="CSV", label_en="CSV", file_type=("CSV", "CSV"), iso_dates=True),
        Exporter("xlsx", xlsx_export.MEDIA_TYPE, xlsx_export.EXTENSION, xlsx_export.export_xlsx, xlsx_options,
                 label_zh="Excel (XLSX)", label_en="Excel (XLSX)", file_type=("XLSX", "XLSX")),
        Exporter("json", JSON_MEDIA_TYPE, "json", export_json, reproducible=True,
                 label_zh="JSON", label_en="JSON", file_type=("JSON", "JSON")),
        Exporter("ndjson", NDJSON_MEDIA_TYPE, "ndjson", export_ndjson, reproducible=True,
                 label_zh="NDJSON（逐行 JSON）", label_en="NDJSON (JSON lines)", file_type=("JSON", "JSON")),
    )
}
# The name older code imports; the core formats only.
EXPORTERS = CORE_EXPORTERS


def available_formats(exporters: Mapping[str, Exporter] | None = None) -> list[str]:
    return sorted(CORE_EXPORTERS if exporters is None else exporters)


def get_exporter(name: str, exporters: Mapping[str, Exporter] | None = None) -> Exporter:
    """The exporter called ``name`` (case-insensitive); FormatError "unknown_format" otherwise."""
    table = CORE_EXPORTERS if exporters is None else exporters
    try:
        return table[name.strip().lower()]
    except (KeyError, AttributeError):
        raise UnknownFormatError(str(name), available_formats(table)) from None
