"""Rows and downloads of tabular resources, behind the access guard and the masks.

Every row served passes the same three steps whatever the door: ``authorize_data``
(open level, licence, quota), ``served_fields`` (masking and dropped fields), and the
query string parsed by ``rowquery``. Downloads stream: rows are read from the database
in batches and written out chunk by chunk, so memory stays flat for any table size.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any, Iterator, Sequence
from urllib.parse import quote, urlencode

from litestar import Controller, Request, Response, get
from litestar.params import FromPath
from litestar.response import Stream
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from opendata.access.guard import Grant, authorize_data, record_rows_served
from opendata.catalogue.download_accounting import CountedRows, settled_download
from opendata.catalogue.download_http import (
    PRIVATE, canonical_size, download_validators, is_canonical, is_open, rows_validators,
)
from opendata.catalogue.distribution import remembering_digest
from opendata.catalogue.metadata import request_api_root
from opendata.audit.service import RequestInfo, refuse
from opendata.catalogue import rowquery, service
from opendata.catalogue.masking import ServedField, row_masker, served_fields
from opendata.catalogue.models import Dataset, Resource
from opendata.catalogue.rowstore import fetch_rows_fast, resource_table
from opendata.catalogue.schemas import FieldOut, field_out
from opendata.deps import AppDatabase, AppSettings, DbSession
from opendata.errors import AppError, bad_request
from opendata.extensions import DOWNLOAD_SERVED, registry_of
from opendata.formats import Column, FormatError, get_exporter
from opendata.formats.json_export import row_encoder
from opendata.httpconv.conditional import (
    RangeNotSatisfiable, byte_slice, link_header, not_modified_response, requested_range,
)
from opendata.httpconv.middleware import CORS_OPT, allow_cors, is_head
from opendata.secrets import instance_secret
from opendata.settings import Settings
from opendata.stats.service import count_use

MASKING_SECRET = "masking-hmac"
DOWNLOAD_LIMIT_MAX = 2**31 - 1
STREAM_BATCH = 5000


def _tabular_resource(session: Session, dataset_id: str, resource_id: str) -> tuple[Dataset, Resource]:
    dataset = service.get_dataset(session, dataset_id, lean=True)
    resource = next((r for r in dataset.resources if r.id == resource_id), None)
    if resource is None:
        raise AppError(404, "not_found", f"resource {dataset_id}/{resource_id} does not exist")
    if not resource.is_tabular:
        raise bad_request("not_tabular", f"resource {resource_id!r} is a {resource.format} file, not a table")
    if not resource.table_name:
        raise AppError(409, "not_ingested", f"resource {dataset_id}/{resource_id} has no rows loaded yet")
    return dataset, resource


def _prepare(
    request: Request, session: Session, dataset_id: str, resource_id: str, operation: str,
    settings: Settings, *, paginated: bool, probe: bool = False, version: Any = None,
    options: tuple[str, ...] = (),
) -> tuple[Dataset, Resource, list[ServedField], rowquery.RowQuery, Grant]:
    """Validate the query, then authorise it, then narrow it to the licensed fields.

    The query is checked against the dictionary before the guard runs, so that a bad
    filter never costs a licence a download or a computation from its daily quota.
    ``version``: a kept DatasetVersion to read instead of the current rows (the same
    guard, masks and accounting; opendata.versions.kept).
    """
    dataset, resource = _tabular_resource(session, dataset_id, resource_id)
    if version is not None:
        from opendata.versions.kept import KeptGeneration

        resource = KeptGeneration(resource, version)  # type: ignore[assignment]
    # ``options``: the download format's own parameters (opendata.formats.Exporter.parameters).
    params = {k: v for k, v in request.query_params.items() if k not in options}
    served = served_fields(resource.fields, instance_secret(session, MASKING_SECRET))
    query = rowquery.parse_row_query(
        params, served, [f.name for f in resource.fields],
        # A download has no page size: its ``limit`` caps the rows of the file (any size).
        default_limit=min(100, settings.rows_page_size_max),
        max_limit=settings.rows_page_size_max if paginated else DOWNLOAD_LIMIT_MAX,
        paginated=paginated, **query_bounds(settings),
    )
    requested = rowquery.split_list(params.get("fields", ""))
    # Filter and sort fields are checked by the guard itself, before it charges anything.
    named = [f.field for f in query.filters] + [k.field for k in query.sort]
    grant = authorize_data(request, session, dataset, operation, requested or [f.name for f in resource.fields],
                           also_named=named, probe=probe,
                           # a licence holder's browser downloads with its portal session
                           browser=operation == "download")
    if version is not None:
        grant = dataclasses.replace(grant, version=version.number)
    served = narrow_to_grant(session, dataset, operation, grant, served, query, requested)
    return dataset, resource, served, query, grant


def narrow_to_grant(
    session: Session, dataset: Dataset, operation: str, grant: Grant,
    served: list[ServedField], query: rowquery.RowQuery, requested: list[str],
) -> list[ServedField]:
    """Refuse a query naming (in fields, filters or sort) a field the licence does not
    grant; narrow the served fields and the page size to what the licence allows."""
    if grant.fields is not None:
        named = set(requested) | {f.field for f in query.filters} | {k.field for k in query.sort}
        outside = sorted(named - grant.fields)
        if outside:
            error = AppError(403, "field_not_licensed", f"the licence does not cover field(s) {', '.join(outside)}")
            refuse(session, error, actor=grant.actor,
                   action=f"data.{operation}", target=f"dataset:{dataset.id}",
                   details={"licence": grant.licence_id, "fields": outside},
                   request=grant.request_info or RequestInfo())
        served = [s for s in served if s.name in grant.fields]
        query.fields = [name for name in query.fields if name in grant.fields]
    if grant.rows_remaining is not None:
        # Serve no more than the licence may still read today; the cursor continues later.
        query.limit = max(1, min(query.limit, grant.rows_remaining))
    return served


def query_bounds(settings: Settings) -> dict[str, int]:
    """The settings that bound a rows query (opendata.catalogue.rowquery)."""
    return {"max_sort_keys": settings.query_max_sort_keys, "max_filters": settings.query_max_filters,
            "max_in_values": settings.query_max_in_values}


def _in_order(served: list[ServedField], names: list[str]) -> list[ServedField]:
    by_name = {s.name: s for s in served}
    return [by_name[n] for n in names]


def _columns(served: list[ServedField], names: list[str]) -> list[Column]:
    by_name = {s.name: s for s in served}
    return [
        Column(n, by_name[n].field.title_zh, by_name[n].field.title_en, by_name[n].served_type) for n in names
    ]


def _served_out(served: list[ServedField], names: list[str]) -> list[FieldOut]:
    by_name = {s.name: s for s in served}
    outs = []
    for name in names:
        out = field_out(by_name[name].field)
        out.type = by_name[name].served_type
        outs.append(out)
    return outs


def content_disposition(filename: str, fallback: str) -> str:
    """attachment with an ASCII fallback and an RFC 5987 UTF-8 name for Chinese titles."""
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


class DataController(Controller):
    path = "/api/v1/datasets/{dataset_id:str}/resources/{resource_id:str}"
    tags = ["data"]
    # Cross-origin readable only when the handler says so: open (unconditional) data.
    opt = {CORS_OPT: "open-data"}

    @get("/rows", summary="Query rows: fields, filters, sort, keyset pages", sync_to_thread=True)
    def rows(
        self, request: Request, db_session: DbSession, database: AppDatabase, settings: AppSettings,
        dataset_id: FromPath[str], resource_id: FromPath[str],
    ) -> Response[bytes]:
        head = is_head(request)
        dataset, resource, served, query, grant = _prepare(
            request, db_session, dataset_id, resource_id, "query", settings, paginated=True, probe=head
        )
        if is_open(dataset):
            allow_cors(request)
        elif head:
            # Licensed: checked like the GET, but no row is read or charged.
            db_session.commit()
            return Stream(iter(()), media_type="application/json", headers=PRIVATE)  # type: ignore[return-value]
        table = resource_table(resource)
        width = len(query.fields)
        page, more = rowquery.read_page(db_session, rowquery.page_statement(table, query), query.limit, width,
                                        settings.rows_page_max_chars)
        mask = row_masker(_in_order(served, query.fields))
        items = [mask(row[:width]) if mask else tuple(row[:width]) for row in page]
        next_cursor = None
        if more:
            last = page[-1]
            next_cursor = rowquery.encode_cursor(query.sort, list(last[width:-1]), last[-1])
        if query.filters:
            counted = db_session.scalar(rowquery.count_statement(table, query)) or 0
            total = {"value": min(counted, rowquery.COUNT_CAP),
                     "relation": "gte" if counted > rowquery.COUNT_CAP else "eq"}
        else:
            total = {"value": resource.row_count or 0, "relation": "eq"}
        record_rows_served(db_session, grant, len(items))
        db_session.commit()
        if not head:  # after the commit, in a transaction of its own (stats.service.count_use)
            count_use(database.engine, dataset.id, "rows_query")
        encode = row_encoder(_columns(served, query.fields))
        page_head = {
            "dataset": dataset.id,
            "resource": resource.id,
            "fields": [_field_json(f) for f in _served_out(served, query.fields)],
            "total": total,
            "limit": query.limit,
            "next": next_cursor,
            "links": {"next": _next_link(request, next_cursor)},
        }
        text = json.dumps(page_head, ensure_ascii=False)[:-1] + ',"items":[' + ",".join(map(encode, items)) + "]}"
        body = text.encode("utf-8")
        headers = {}
        if next_cursor is not None:
            headers["Link"] = link_header([(page_head["links"]["next"], "next", None)])
        if not is_open(dataset):
            return Response(body, media_type="application/json", headers={**headers, **PRIVATE})
        validators = rows_validators(dataset, body)
        if validators.not_modified(request):
            return not_modified_response(validators, headers)
        return Response(body, media_type="application/json", headers={**headers, **validators.headers()})

    @get("/download", summary="Download (streamed): csv, xlsx, json or ndjson", sync_to_thread=True)
    def download(
        self, request: Request, db_session: DbSession, database: AppDatabase, settings: AppSettings,
        dataset_id: FromPath[str], resource_id: FromPath[str],
    ) -> Stream:
        """Open data: ETag, Last-Modified, 304; Range and Content-Length on the canonical
        CSV (opendata.catalogue.download_http). HEAD: the GET's headers, no export run."""
        return serve_download(request, db_session, database, settings, dataset_id, resource_id)


def serve_download(request: Request, db_session: Session, database: Any, settings: Settings, dataset_id: str,
                   resource_id: str, *, version: Any = None) -> Stream:
    """A download of the current rows, or of a kept ``version``'s rows: one code path, so
    that the guard, the masks, the quota and the audit are the same for both. A version's
    file has no validators or ranges (they describe the current rows)."""
    fmt = request.query_params.get("format", "csv")
    # The application's formats: the core's and its plugins' (opendata.extensions).
    extensions = registry_of(db_session)
    try:
        exporter = get_exporter(fmt, extensions.exporters)
        options = exporter.parse_options(request.query_params, settings)
    except FormatError as exc:
        raise bad_request(exc.code, exc.message) from None
    head = is_head(request)
    dataset, resource, served, query, grant = _prepare(
        request, db_session, dataset_id, resource_id, "download", settings, paginated=False, probe=head,
        version=version, options=exporter.parameters,
    )
    if not extensions.supports(exporter, _columns(served, query.fields)):
        # Checked after the guard (a licensed resource's columns are not told to strangers)
        # and before any row is read or charged: the transaction has not been committed.
        db_session.rollback()
        raise bad_request("format_not_supported",
                          f"resource {resource.id!r} cannot be downloaded as {exporter.name}"
                          f" (formats for it: {', '.join(e.name for e in extensions.exporters_for(_columns(served, query.fields)))})")
    stem = f"{dataset.title_zh}-{resource.title_zh}" + (f"-v{version.number}" if version is not None else "")
    fallback = f"{dataset.id}_{resource.id}" + (f"_v{version.number}" if version is not None else "")
    headers = {
        "Content-Disposition": content_disposition(exporter.filename(stem), exporter.filename(fallback)),
        "Cache-Control": "no-store" if not is_open(dataset) else "public, max-age=60",
        "X-Content-Type-Options": "nosniff",
        "Accept-Ranges": "none",
        "Link": link_header([(f"{request_api_root(request)}/api/v1/datasets/{dataset.id}", "describedby",
                              "application/json")]),
    }
    # Litestar appends the charset for text types itself.
    media_type = exporter.media_type.split(";")[0]
    wanted = None
    if is_open(dataset):
        allow_cors(request)
    if is_open(dataset) and version is None:
        validators = download_validators(request, dataset, resource, exporter.name, exporter.reproducible)
        headers.update(validators.headers())
        size = canonical_size(request, db_session, resource, exporter.name)
        if validators.not_modified(request):
            db_session.commit()
            return not_modified_response(validators, {"Cache-Control": headers["Cache-Control"]})  # type: ignore[return-value]
        if size is not None:
            headers["Accept-Ranges"] = "bytes"
            try:
                wanted = requested_range(request, validators.etag or "", size)
            except RangeNotSatisfiable:
                raise AppError(416, "range_not_satisfiable", f"the file has {size} bytes",
                               headers={"Content-Range": f"bytes */{size}", "Accept-Ranges": "bytes"}) from None
            headers["Content-Length"] = str(wanted.length if wanted else size)
            if wanted is not None:
                headers["Content-Range"] = wanted.content_range()
    # Commits what preparing wrote (a masking secret created on first use) and ends
    # the transaction before rows stream out on a connection of their own.
    db_session.commit()
    if head:
        return Stream(iter(()), media_type=media_type, headers=headers,
                      status_code=206 if wanted else 200)
    row_limit = query.limit if "limit" in request.query_params else None
    rows = CountedRows(stream_rows(database.engine, resource, query, _in_order(served, query.fields), row_limit,
                                   iso_dates=exporter.iso_dates))
    chunks = exporter(_columns(served, query.fields), rows, **options)
    if is_open(dataset) and version is None and "Content-Length" not in headers and is_canonical(request, exporter.name):
        chunks = remembering_digest(db_session, resource, chunks)
    chunks = settled_download(chunks, rows, database, grant, dataset.id, exporter.name,
                              served=lambda count: extensions.fire(DOWNLOAD_SERVED, dataset=dataset.id,
                                                                   resource=resource.id, format=exporter.name,
                                                                   rows=count, licence=grant.licence_id))
    if wanted is not None:
        return Stream(byte_slice(chunks, wanted), media_type=media_type, headers=headers, status_code=206)
    return Stream(chunks, media_type=media_type, headers=headers)


def _field_json(out: FieldOut) -> dict[str, Any]:
    return {
        "name": out.name, "title_zh": out.title_zh, "title_en": out.title_en, "type": out.type,
        "unit": out.unit, "description": out.description,
        "sensitivity": {"code": out.sensitivity.code, "zh": out.sensitivity.zh, "en": out.sensitivity.en},
        "mask": out.mask,
    }


def _next_link(request: Request, cursor: str | None) -> str | None:
    if cursor is None:
        return None
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "cursor"]
    params.append(("cursor", cursor))
    return f"{request.url.path}?{urlencode(params)}"


def export_options(fmt: str, request: Request, settings: Settings) -> dict[str, Any]:
    """The options of a core format's export (metadata and asset exports: core formats only)."""
    try:
        return get_exporter(fmt).parse_options(request.query_params, settings)
    except FormatError as exc:
        raise bad_request(exc.code, exc.message) from None


def stream_rows(
    engine: Engine, resource: Resource, query: rowquery.RowQuery, ordered: list[ServedField],
    limit: int | None = None, *, iso_dates: bool = False,
) -> Iterator[Sequence[Any]]:
    """Every matching row (the first ``limit`` of them), masked, read in batches on a
    connection of its own that lives exactly as long as the download (a server-side
    cursor on PostgreSQL)."""
    table = resource_table(resource)
    stmt = rowquery.page_statement(table, query, paginated=False, with_keys=False)
    if limit is not None:
        stmt = stmt.limit(limit)
    mask = row_masker(ordered)
    with engine.connect() as connection:
        rows = fetch_rows_fast(connection, stmt, [s.field for s in ordered], STREAM_BATCH, iso_dates=iso_dates)
        if mask is None:
            yield from rows
        else:
            for row in rows:
                yield mask(row)
