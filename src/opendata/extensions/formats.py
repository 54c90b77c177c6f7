"""Formats: exporters (rows out, streamed) and importers (a publisher's file in).

An **exporter** turns the rows of a download into bytes. The core calls it only after
its own download pipeline has run (opendata.catalogue.data_api.serve_download): the
open level and licence are checked, the quota charged, the fields narrowed to the
licence, the masks applied, the filters and sort parsed; the exporter receives the
served columns and an iterator of already-masked rows, read from the database in
batches, and must yield chunks lazily (never build the whole file in memory). The
download's accounting (counted when whole, refunded when broken), its audit record and
the ``download.served`` event wrap the exporter's iterator, so a plugin format needs to
do none of that. ``opendata.formats.Exporter`` (a frozen dataclass) satisfies this
protocol; a plugin normally builds one of those.

An **importer** reads a data file that a publisher uploads or a catalogue names, under
the deployment's ReadLimits, and yields its rows for the core's type checks and ingest.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from opendata.formats.columns import Column
from opendata.formats.headers import RowRecord
from opendata.formats.limits import ReadLimits


@runtime_checkable
class Exporter(Protocol):
    """A download format, looked up by ``name`` in ``?format=`` (lower case, unique)."""

    name: str
    media_type: str  # the Content-Type served, e.g. "application/vnd.apache.parquet"
    extension: str  # the file name's extension, without the dot
    reproducible: bool  # same rows -> same bytes (a strong ETag on open data)
    label_zh: str  # the portal's download button
    label_en: str
    file_type: tuple[str, str]  # EU file-type authority code and label (DCAT dct:format)
    parameters: tuple[str, ...]  # its own query parameters (not row filters in its downloads)

    def __call__(self, columns: Sequence[Column], rows: Iterable[Sequence[Any]], **options: Any) -> Iterator[bytes]:
        """Yield the file in chunks; validate ``options`` before yielding the first one."""
        ...

    def parse_options(self, params: Mapping[str, str], settings: Any) -> dict[str, Any]:
        """The export options from the download's query parameters; FormatError
        ("invalid_parameter") for a bad value, answered 400 before any row is read."""
        ...

    def supports(self, columns: Sequence[Column]) -> bool:
        """Whether a table with these (served) columns can be written in this format: a
        resource it cannot write gets no download button and no distribution."""
        ...

    def filename(self, stem: str) -> str:
        ...


@runtime_checkable
class ImportedTable(Protocol):
    """An opened data file: its header is known, its rows come on iteration."""

    header: list[str]

    def __iter__(self) -> Iterator[RowRecord]:
        ...


@runtime_checkable
class Importer(Protocol):
    """A data-file format a resource may declare (``format = "xls"`` in catalogue.toml,
    or an upload named ``*.xls``). ``open`` must check ``limits`` (rows, columns, cell
    sizes) and raise opendata.formats.FormatError with a stable code for a bad file."""

    name: str  # the resource format, lower case
    extensions: tuple[str, ...]  # file name endings, without the dot

    def open(self, path: Path, columns: Sequence[Column] | None, limits: ReadLimits) -> ImportedTable:
        ...
