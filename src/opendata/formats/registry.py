"""Export formats by name, with what an HTTP response needs to serve them."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from . import csv_export, xlsx_export
from .columns import Column
from .errors import UnknownFormatError
from .json_export import JSON_MEDIA_TYPE, NDJSON_MEDIA_TYPE, export_json, export_ndjson

ExportFunction = Callable[..., Iterator[bytes]]


@dataclass(frozen=True)
class Exporter:
    """A named export format: its media type, file extension (without dot) and function.

    ``function(columns, rows, **options)`` validates its options at once and returns a
    lazy iterator of byte chunks.
    """

    name: str
    media_type: str
    extension: str
    function: ExportFunction

    def __call__(
        self, columns: Sequence[Column], rows: Iterable[Sequence[Any]], **options: Any
    ) -> Iterator[bytes]:
        return self.function(columns, rows, **options)

    def filename(self, stem: str) -> str:
        return f"{stem}.{self.extension}"


EXPORTERS: dict[str, Exporter] = {
    exporter.name: exporter
    for exporter in (
        Exporter("csv", csv_export.MEDIA_TYPE, csv_export.EXTENSION, csv_export.export_csv),
        Exporter("xlsx", xlsx_export.MEDIA_TYPE, xlsx_export.EXTENSION, xlsx_export.export_xlsx),
        Exporter("json", JSON_MEDIA_TYPE, "json", export_json),
        Exporter("ndjson", NDJSON_MEDIA_TYPE, "ndjson", export_ndjson),
    )
}


def available_formats() -> list[str]:
    return sorted(EXPORTERS)


def get_exporter(name: str) -> Exporter:
    """The exporter called ``name`` (case-insensitive); FormatError "unknown_format" otherwise."""
    try:
        return EXPORTERS[name.strip().lower()]
    except (KeyError, AttributeError):
        raise UnknownFormatError(str(name), available_formats()) from None
