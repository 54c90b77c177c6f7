"""opendata-example: the plugin docs/plugins.md walks through, and the test double of
every extension point (tests/extensions/test_plugins.py installs it as a distribution
with an ``opendata.plugins`` entry point named ``example``).

It adds: a TSV download format, a PSV (pipe-separated) data-file format for catalogue
resources and uploads, a harvester kind reading a JSON list, an API route and a portal
page, a CLI group ``opendata example``, a dataset metadata extension ``example``, and
hooks on every event (remembered in ``EVENTS``). Crypto suites have no double here: the
core's own suite (opendata.crypto_default) and plugins/gmcrypto implement that interface.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import click
from litestar import Response, get

from opendata.deps import DbSession
from opendata.extensions import EVENTS as EVENT_NAMES, Event, Registry, registry_of
from opendata.extensions.harvest import RemoteDataset
from opendata.formats import Column, Exporter, FormatError
from opendata.formats.headers import RowRecord, match_header
from opendata.formats.limits import ReadLimits
from opendata.portal.page import Page

EVENTS: list[Event] = []  # what the hooks saw, in order


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return text.replace("\t", " ").replace("\r", " ").replace("\n", " ")


def export_tsv(columns: Sequence[Column], rows: Iterable[Sequence[Any]], *, titles: bool = False) -> Iterator[bytes]:
    """Tab-separated values, one line per row, in chunks of about 64 KiB."""
    head = [c.bilingual_title if titles else c.name for c in columns]
    buffer = ["\t".join(head) + "\n"]
    size = 0
    for row in rows:
        line = "\t".join(_cell(v) for v in row) + "\n"
        buffer.append(line)
        size += len(line)
        if size >= 65536:
            yield "".join(buffer).encode("utf-8")
            buffer, size = [], 0
    yield "".join(buffer).encode("utf-8")


def tsv_options(params: Mapping[str, str], settings: Any) -> dict[str, Any]:
    header = params.get("header", "names")
    if header not in ("names", "titles"):
        raise FormatError("invalid_parameter", "header takes names or titles")
    return {"titles": header == "titles"}


TSV = Exporter("tsv", "text/tab-separated-values; charset=utf-8", "tsv", export_tsv, tsv_options,
               reproducible=True, label_zh="TSV（制表符分隔）", label_en="TSV (tab-separated)",
               file_type=("TSV", "TSV"))


class PsvTable:
    """A ``|``-separated UTF-8 file: the first line is the header, one row per line."""

    def __init__(self, path: Path, columns: Sequence[Column] | None, limits: ReadLimits) -> None:
        self.file, self.limits = str(path), limits
        try:
            self._lines = path.read_text(encoding="utf-8").splitlines()
        except UnicodeDecodeError:
            raise FormatError("invalid_encoding", "a PSV file is UTF-8", file=self.file) from None
        if not self._lines:
            raise FormatError("empty_file", "the file has no header line", file=self.file)
        self.header = [cell.strip() for cell in self._lines[0].split("|")]
        if len(self.header) > limits.max_columns:
            raise FormatError("too_many_columns", f"more than {limits.max_columns} columns", file=self.file)
        if len(self._lines) - 1 > limits.max_rows:
            raise FormatError("too_many_rows", f"more than {limits.max_rows:,} rows", file=self.file)
        self._positions = match_header(self.header, columns, file=self.file, line=1) if columns is not None else None

    def __iter__(self) -> Iterator[RowRecord]:
        for line, text in enumerate(self._lines[1:], start=2):
            if not text.strip():
                continue
            cells = text.split("|")
            if len(cells) != len(self.header):
                raise FormatError("ragged_row", f"{len(cells)} values for {len(self.header)} columns",
                                  file=self.file, line=line)
            if any(len(c) > self.limits.max_cell_chars for c in cells):
                raise FormatError("cell_too_long", "a value is too long", file=self.file, line=line)
            yield RowRecord(line, cells if self._positions is None else [cells[i] for i in self._positions])


class PsvImporter:
    """Resource format ``psv`` (catalogue.toml) and uploads named ``*.psv``."""

    name = "psv"
    extensions = ("psv",)

    def open(self, path: Path, columns: Sequence[Column] | None, limits: ReadLimits) -> PsvTable:
        return PsvTable(path, columns, limits)


class JsonListHarvester:
    """Kind ``jsonlist``: a local JSON file holding a list of {"id", "modified", ...}."""

    kind = "jsonlist"

    def datasets(self, source_url: str, *, since: datetime | None = None,
                 options: Mapping[str, Any] | None = None) -> Iterator[RemoteDataset]:
        for item in json.loads(Path(source_url).read_text(encoding="utf-8")):
            modified = datetime.fromisoformat(item["modified"]) if item.get("modified") else None
            if since is not None and modified is not None and modified <= since:
                continue
            yield RemoteDataset(item["id"], modified, {k: v for k, v in item.items() if k not in ("id", "modified")})


class ExampleMetadata:
    """``[datasets.extensions.example]``: ``theme`` (text) and ``priority`` (1 to 5)."""

    name = "example"

    def clean(self, values: Mapping[str, Any]) -> dict[str, Any]:
        problems, clean = [], {}
        for key in values:
            if key not in ("theme", "priority"):
                problems.append(f"unknown key {key!r}")
        if "theme" in values:
            if not isinstance(values["theme"], str) or not values["theme"].strip():
                problems.append("theme must be a non-empty text")
            else:
                clean["theme"] = values["theme"].strip()
        if "priority" in values:
            priority = values["priority"]
            if not isinstance(priority, int) or isinstance(priority, bool) or not 1 <= priority <= 5:
                problems.append("priority must be an integer from 1 to 5")
            else:
                clean["priority"] = priority
        if problems:
            raise ValueError("; ".join(problems))
        return clean


@get("/api/v1/example/formats", summary="The download formats of this portal (example plugin)",
     tags=["example"], sync_to_thread=True)
def formats_route(db_session: DbSession) -> dict[str, Any]:
    registry = registry_of(db_session)
    return {"formats": sorted(registry.exporters), "plugins": registry.plugins}


@get("/example", name="example-page", sync_to_thread=True)
def example_page(page: Page, db_session: DbSession) -> Response:
    return page.render("example.html", nav="", formats=sorted(registry_of(db_session).exporters))


@click.group("example")
def example_cli() -> None:
    """Commands of the example plugin."""


@example_cli.command("hello")
@click.argument("name")
def hello(name: str) -> None:
    """Greet NAME."""
    click.echo(f"hello {name} from the example plugin")


def register(registry: Registry) -> None:
    registry.add_exporter(TSV)
    registry.add_importer(PsvImporter())
    registry.add_harvester(JsonListHarvester())
    registry.add_metadata_extension(ExampleMetadata())
    registry.add_api_routes(formats_route)
    registry.add_portal_pages(example_page, templates=Path(__file__).parent / "templates")
    registry.add_cli_group(example_cli)
    for name in EVENT_NAMES:
        registry.on(name, EVENTS.append)
