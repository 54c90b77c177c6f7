"""The row store: every tabular resource is a real SQL table typed from its dictionary.

Ingest streams the file (CSV in UTF-8/GB18030, or XLSX), converts each cell to its field
type and inserts in batches into a *new* table. Only when every row converted does the
resource switch to the new table, in the same transaction that drops the old one, so
readers see the old rows or the new rows, never a mix, and a bad file loads nothing.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from functools import lru_cache
from decimal import Decimal
from pathlib import Path
from datetime import date as date_type
from datetime import datetime as datetime_type
from typing import Any, Callable, Iterator, Sequence

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    Select,
    Numeric,
    Table,
    Text,
    inspect,
    select,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeDecorator

from opendata.catalogue.field_rules import RowRules
from opendata.catalogue.models import Field, Resource
from opendata.db import utcnow
from opendata.extensions.registry import importer_for
from opendata.formats import Column as FormatColumn
from opendata.formats import FormatError, RowConverter, read_csv, read_xlsx
from opendata.formats.limits import DEFAULT_LIMITS, ReadLimits
from opendata.quality.meter import QualityMeter
from opendata.versions.record import (
    VersionSource, forget_tables, kept_table_names, names_a_version, record_generation, retire_generations,
    sha256_of,
)

from opendata.db import ROW_TABLE_PREFIX
# Hidden tables of loads in progress (catalogue/staging.py): no resource points at them yet.
STAGING_PREFIX = f"{ROW_TABLE_PREFIX}stage_"
ROW_ID = "_row_id"
BATCH_SIZE = 2000
MAX_REPORTED_ERRORS = 100


class ExactDecimal(TypeDecorator[Decimal]):
    """NUMERIC on PostgreSQL; on SQLite a REAL (so it sorts and compares as a number)
    read back through its shortest repr, so 8500.5 comes back as Decimal('8500.5')."""

    impl = Numeric
    cache_ok = True

    def load_dialect_impl(self, dialect: Any) -> Any:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(Float())
        return dialect.type_descriptor(Numeric(asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        if value is None or dialect.name != "sqlite":
            return value
        return float(value)

    def process_result_value(self, value: Any, dialect: Any) -> Decimal | None:
        if value is None or isinstance(value, Decimal):
            return value
        return Decimal(repr(value))


SQL_TYPES: dict[str, Callable[[], Any]] = {
    "string": Text,
    "integer": BigInteger,
    "decimal": ExactDecimal,
    "number": lambda: Float(precision=53),
    "boolean": Boolean,
    "date": Date,
    "datetime": DateTime,
}


def format_columns(fields: list[Field]) -> list[FormatColumn]:
    return [FormatColumn(f.name, f.title_zh, f.title_en, f.type) for f in fields]


def row_table(table_name: str, fields: list[Field]) -> Table:
    """The SQLAlchemy Table of a resource's rows (its own MetaData: not part of migrations)."""
    return Table(table_name, MetaData(), *_row_columns([(f.name, f.type) for f in fields]))


def _row_columns(fields: Sequence[tuple[str, str]]) -> list[Column]:
    columns = [
        Column(ROW_ID, BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    ]
    return columns + [Column(name, SQL_TYPES[kind](), nullable=True) for name, kind in fields]


def resource_table(resource: Resource) -> Table:
    """The Table to *read* a resource's rows through, shared by requests: a new Table per
    request made SQLAlchemy rebuild each column type's cache key for every statement
    (16% of a rows page's CPU). A generation's table name and fields never change; a new
    upload gets a new table name, so it gets a new entry."""
    if not resource.table_name:
        raise LookupError(f"resource {resource.dataset_id}/{resource.id} has no rows yet")
    return _read_table(resource.table_name, tuple((f.name, f.type) for f in resource.fields))


@lru_cache(maxsize=1024)
def _read_table(table_name: str, fields: tuple[tuple[str, str], ...]) -> Table:
    return Table(table_name, MetaData(), *_row_columns(fields))


@dataclass
class IngestError(Exception):
    """A file that cannot be ingested: the first problems found and how many there were."""

    errors: list[FormatError]
    error_count: int
    file: str

    def __post_init__(self) -> None:
        super().__init__(f"{self.file}: {self.error_count} problem(s), first: {self.errors[0]}")

    def as_dicts(self) -> list[dict[str, Any]]:
        return [e.as_dict() for e in self.errors]


@dataclass
class IngestReport:
    resource: str
    rows: int
    table: str
    encoding: str | None = None
    skipped: bool = False
    # The dataset version this ingest made (None: skipped, or the same rows as before).
    version: int | None = None
    warnings: list[str] = field(default_factory=list)


def _open_table(path: Path, fmt: str, columns: list[FormatColumn], limits: ReadLimits) -> Any:
    if fmt == "xlsx":
        return read_xlsx(path, columns=columns, limits=limits)
    if fmt != "csv" and (importer := importer_for(fmt)) is not None:
        return importer.open(path, columns, limits)  # a plugin's format (opendata.extensions)
    return read_csv(path, columns=columns, limits=limits)


def file_digest(path: Path, fields: list[Field], resource: Any = None) -> str:
    # The rules are part of the digest: a new marker or constraint must reingest the file.
    dictionary = [(f.name, f.type, f.missing_values, f.constraints) for f in fields]
    if resource is not None:
        dictionary.append((resource.primary_key, resource.missing_values, getattr(resource, "quality_rules", None)))
    digest = hashlib.sha256(repr(dictionary).encode())
    with open(path, "rb") as data:
        for block in iter(lambda: data.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _next_table_name(session: Session, resource: Resource) -> str:
    existing = set(inspect(session.connection()).get_table_names())
    generation = 1
    if resource.table_name and (found := re.search(r"_(\d+)$", resource.table_name)):
        generation = int(found.group(1)) + 1
    while f"{ROW_TABLE_PREFIX}{resource.pk}_{generation}" in existing:
        generation += 1
    return f"{ROW_TABLE_PREFIX}{resource.pk}_{generation}"


class TypedRows:
    """Iterates a data file as typed row tuples, collecting (not raising) bad cells.

    Bad rows are skipped and counted; ``raise_if_failed()`` after iteration turns them
    into one IngestError that names file, row, column, value and reason.
    """

    def __init__(self, path: Path, fmt: str, fields: list[Any], limits: ReadLimits = DEFAULT_LIMITS, *,
                 missing_values: list[str] | None = None, primary_key: str | None = None) -> None:
        self.path = path
        self.fields = fields
        self.missing_values = missing_values
        self.primary_key = primary_key
        self.fmt = fmt
        self.limits = limits
        self.converter = RowConverter(format_columns(fields), max_cell_chars=limits.max_cell_chars)
        self.errors: list[FormatError] = []
        self.error_count = 0
        self.rows = 0
        self.encoding: str | None = None

    def _record(self, problems: list[FormatError]) -> None:
        self.error_count += len(problems)
        self.errors.extend(problems[: max(0, MAX_REPORTED_ERRORS - len(self.errors))])

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        source = None
        file = str(self.path)
        rules = RowRules(self.fields, self.missing_values, self.primary_key)
        try:
            source = _open_table(self.path, self.fmt, list(self.converter.columns), self.limits)
            self.encoding = getattr(source, "encoding", None)
            for record in source:
                typed, problems = self.converter.convert(rules.clean(record.values), line=record.line, file=file)
                if not problems:
                    problems = rules.check(typed, record.line, file)
                if problems:
                    self._record(problems)
                    continue
                self.rows += 1
                if not self.error_count:
                    yield typed
            if not self.error_count:
                duplicates, count = rules.finish(file)
                self.errors.extend(duplicates[: max(0, MAX_REPORTED_ERRORS - len(self.errors))])
                self.error_count += count
        except FormatError as exc:
            exc.file = exc.file or file
            self._record([exc])
        finally:
            rules.close()
            if source is not None and hasattr(source, "close"):
                source.close()

    def raise_if_failed(self) -> None:
        if self.error_count:
            raise IngestError(self.errors, self.error_count, str(self.path))


def check_file(path: Path, fmt: str, fields: list[Any], limits: ReadLimits = DEFAULT_LIMITS, *,
               missing_values: list[str] | None = None, primary_key: str | None = None) -> int:
    """Read and convert every row without storing anything; returns the row count."""
    reader = TypedRows(path, fmt, fields, limits, missing_values=missing_values, primary_key=primary_key)
    for _ in reader:
        pass
    reader.raise_if_failed()
    return reader.rows


def ingest_file(
    session: Session,
    resource: Resource,
    path: Path,
    *,
    fmt: str | None = None,
    progress: Callable[[int], None] | None = None,
    force: bool = True,
    limits: ReadLimits = DEFAULT_LIMITS,
    quality: str | None = "upload",
    source: VersionSource | None = None,
) -> IngestReport:
    """Replace ``resource``'s rows with the rows of ``path`` inside ``session``'s transaction.

    ``quality`` names who updated the rows for the quality measurement ("upload" or
    "catalogue", docs/quality.md); None ingests without measuring (benchmarks).
    The new generation becomes a version (opendata.versions) from ``source`` (default: a
    catalogue load); rows identical to the current ones keep the current table.
    """
    fmt = (fmt or path.suffix.lstrip(".") or resource.format).lower()
    fields = list(resource.fields)
    digest = file_digest(path, fields, resource)
    if not force and resource.table_name and resource.data_digest == digest:
        return IngestReport(resource.id, resource.row_count or 0, resource.table_name, skipped=True)
    session.flush()
    connection = session.connection()
    table = row_table(_next_table_name(session, resource), fields)
    table.create(connection)
    names = [f.name for f in fields]
    reader = TypedRows(path, fmt, fields, limits, missing_values=resource.missing_values,
                       primary_key=resource.primary_key)
    batch: list[dict[str, Any]] = []
    meter = QualityMeter(resource, quality, (resource.dataset_id, resource.id)) if quality else None
    for typed in reader:
        if meter is not None:
            meter.add(typed)
        batch.append(dict(zip(names, typed)))
        if len(batch) >= BATCH_SIZE:
            connection.execute(table.insert(), batch)
            batch.clear()
            if progress:
                progress(reader.rows)
    reader.raise_if_failed()
    if batch:
        connection.execute(table.insert(), batch)
    for key in {resource.primary_key, resource.subject_key} - {None}:
        Index(f"ix_{table.name}_{key}", table.c[key]).create(connection)
    if meter is not None:
        meter.measure(connection, table.name)
        meter.record(session, resource)
    old = resource.table_name
    source = source or VersionSource()
    source.file_digest = source.file_digest or sha256_of(path)
    version = record_generation(session, resource, old, table.name, reader.rows, source)
    if version is None:  # the same rows: the current generation stays, nothing moves forward
        table.drop(connection)
        resource.data_digest = digest
        session.flush()
        return IngestReport(resource.id, reader.rows, old or table.name, encoding=reader.encoding, skipped=True)
    resource.table_name = table.name
    resource.row_count = reader.rows
    resource.data_digest = digest
    resource.ingested_at = utcnow()
    session.flush()
    retired = retire_generations(session, resource, source.versions_kept)
    if old and not names_a_version(connection, old):
        retired.append(old)  # a generation from before versions existed
    for name in retired:
        Table(name, MetaData()).drop(connection, checkfirst=True)
    if progress:
        progress(reader.rows)
    return IngestReport(resource.id, reader.rows, table.name, encoding=reader.encoding, version=version.number)


def drop_orphan_row_tables(session: Session) -> list[str]:
    """Drop row tables that no resource points at any more (removed resources)."""
    connection = session.connection()
    in_use = set(session.scalars(select(Resource.table_name).where(Resource.table_name.is_not(None))))
    in_use |= kept_table_names(session)
    dropped = []
    for name in inspect(connection).get_table_names():
        # Staging tables belong to their loads, which may be running: staging.sweep_staging.
        if name.startswith(ROW_TABLE_PREFIX) and not name.startswith(STAGING_PREFIX) and name not in in_use:
            Table(name, MetaData()).drop(connection)
            dropped.append(name)
    forget_tables(session, dropped)
    return dropped


def iter_rows(session: Session, resource: Resource) -> Iterator[tuple[Any, ...]]:
    table = resource_table(resource)
    yield from session.execute(select(*[table.c[f.name] for f in resource.fields]).order_by(table.c[ROW_ID]))


def _sqlite_converters(fields: list[Field]) -> list[tuple[int, Callable[[Any], Any]]]:
    """How SQLite's stored representation turns back into the field type.

    Dates are stored as ISO text and booleans as 0/1; decimals are REALs, which every
    exporter already writes as the shortest exact decimal (repr), so they pass as floats.
    """
    def to_date(text: Any) -> Any:
        return None if text is None else date_type.fromisoformat(text)

    def to_datetime(text: Any) -> Any:
        return None if text is None else datetime_type.fromisoformat(text)

    def to_bool(number: Any) -> Any:
        return None if number is None else bool(number)

    by_type = {"date": to_date, "datetime": to_datetime, "boolean": to_bool}
    return [(i, by_type[f.type]) for i, f in enumerate(fields) if f.type in by_type]


def _row_converter(fields: list[Field], iso_dates: bool = False) -> Callable[[Sequence[Any]], tuple[Any, ...]] | None:
    """One generated function converting a whole SQLite row (``_sqlite_converters`` applied
    in place), None when no column needs converting. One call per row instead of a list
    copy and a loop step per converted cell; the source holds column positions only.
    ``iso_dates``: date columns stay the ISO text SQLite stores (Exporter.iso_dates)."""
    converters = {i: convert for i, convert in _sqlite_converters(fields)
                  if not (iso_dates and fields[i].type == "date")}
    if not converters:
        return None
    cells = ", ".join(f"convert[{i}](r[{i}])" if i in converters else f"r[{i}]" for i in range(len(fields)))
    return eval(f"lambda r: ({cells},)", {"convert": converters})  # noqa: S307 - the source is ours alone


def _compiled_for_driver(connection: Connection, stmt: Select) -> tuple[str, Any]:
    """SQL text and driver-ready parameters, with SQLAlchemy's own bind processing."""
    dialect = connection.dialect
    compiled = stmt.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    processed = {}
    for name, value in compiled.params.items():
        processor = compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)
        processed[name] = processor(value) if processor else value
    if compiled.positional:
        return str(compiled), tuple(processed[name] for name in compiled.positiontup or ())
    return str(compiled), processed


def fetch_rows_fast(
    connection: Connection, stmt: Select, fields: list[Field], batch: int = 5000, *, iso_dates: bool = False,
) -> Iterator[Sequence[Any]]:
    """Execute ``stmt`` (whose columns are ``fields``) and yield plain row tuples.
    ``iso_dates``: a consumer that takes dates as ISO text (Exporter.iso_dates) gets SQLite's
    stored text for date columns, unparsed (str(date) of the parsed value is that text).

    For bulk downloads the per-row cost of SQLAlchemy Row objects and result processors
    outweighs reading the rows, so the statement (compiled and bound by SQLAlchemy) runs
    on a DBAPI cursor: a server-side (named) cursor on PostgreSQL, so memory stays flat.
    """
    sql, params = _compiled_for_driver(connection, stmt)
    dbapi_connection = connection.connection.dbapi_connection
    if connection.dialect.name == "postgresql":
        cursor = dbapi_connection.cursor(name=f"download_{id(stmt):x}")  # type: ignore[union-attr]
        convert = None
    else:
        cursor = dbapi_connection.cursor()  # type: ignore[union-attr]
        convert = _row_converter(fields, iso_dates)
    try:
        cursor.execute(sql, params)
        while True:
            rows = cursor.fetchmany(batch)
            if not rows:
                return
            if convert is None:
                yield from rows
            else:
                yield from map(convert, rows)
    finally:
        cursor.close()
