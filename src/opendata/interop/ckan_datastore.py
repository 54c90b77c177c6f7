"""CKAN's datastore_search over a resource's rows, behind the same guard and masks.

The parameters are turned into our row query (catalogue/rowquery.py), so the same
validation applies: unknown fields, masked fields in filters or sorts, bad values.
Then the guard decides (open level, licence, fields, quota) exactly as for
``/api/v1/…/rows``. CKAN pages by ``offset``; our own rows endpoint pages by keyset.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import func, or_, select

from opendata.access.guard import authorize_data, record_rows_served
from opendata.catalogue import rowquery
from opendata.catalogue.data_api import narrow_to_grant
from opendata.catalogue.masking import MASKING_SECRET, row_masker, served_fields
from opendata.catalogue.models import Dataset, Resource
from opendata.catalogue.rowstore import ROW_ID, resource_table
from opendata.catalogue.vocabulary import RESERVED_FIELD_NAMES
from opendata.formats import Column
from opendata.formats.json_export import row_encoder
from opendata.interop.ckan import CkanCall, CkanError, RawJson, not_found, validation_error
from opendata.interop.ckan_actions import _dataset
from opendata.interop.ckan_package import split_resource_id
from opendata.secrets import instance_secret
from opendata.stats.service import count_use
from opendata.httpconv.middleware import allow_cors

CKAN_TYPES = {"string": "text", "integer": "int", "decimal": "numeric", "number": "float8",
              "boolean": "bool", "date": "date", "datetime": "timestamp"}
DEFAULT_LIMIT = 100


def _resource(call: CkanCall, ident: str) -> tuple[Dataset, Resource]:
    parts = split_resource_id(ident)
    dataset = _dataset(call, parts[0]) if parts else None
    resource = next((r for r in dataset.resources if r.id == parts[1]), None) if dataset and parts else None
    if dataset is None or resource is None or not resource.is_tabular or not resource.table_name:
        raise not_found(f'Resource "{ident}" was not found.')
    return dataset, resource


def _list(call: CkanCall, name: str) -> list[str]:
    value = call.params.get(name)
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return [str(v).strip() for v in value]
    if isinstance(value, str) and value.lstrip().startswith("["):
        try:
            return [str(v).strip() for v in json.loads(value)]
        except ValueError:
            pass
    return rowquery.split_list(str(value))


def _dict(call: CkanCall, name: str) -> dict[str, Any]:
    value = call.params.get(name)
    if value is None or value == "":
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise validation_error(f"{name} is not valid JSON", **{name: ["Invalid JSON"]}) from None
    if not isinstance(value, dict):
        raise validation_error(f"{name} must be an object", **{name: ["Not a JSON object"]})
    return value


def _sort(call: CkanCall) -> str:
    keys = []
    for item in _list(call, "sort"):
        name, _, direction = item.strip().partition(" ")
        direction = direction.strip().lower() or "asc"
        if direction not in ("asc", "desc"):
            raise validation_error(f"sort direction of {name!r} must be asc or desc", sort=["Invalid sort"])
        keys.append(("-" if direction == "desc" else "") + name.strip().strip('"'))
    return ",".join(keys)


def _row_query(call: CkanCall, served: list, all_names: list[str], limit: int) -> tuple[rowquery.RowQuery, list[str]]:
    """CKAN parameters -> our RowQuery (validated by rowquery itself)."""
    filters = _dict(call, "filters")
    q = call.params.get("q", "")
    field_words = _dict(call, "q") if isinstance(q, dict) or str(q).lstrip().startswith("{") else {}
    params: dict[str, str] = {"limit": str(limit)}
    requested = _list(call, "fields")
    if requested:
        params["fields"] = ",".join(requested)
    if _sort(call):
        params["sort"] = _sort(call)
    many: dict[str, list[Any]] = {}
    for name, value in {**filters, **{f"{k}__contains": v for k, v in field_words.items()}}.items():
        base = name.partition("__")[0] if name.endswith("__contains") else name
        if "__" in base or base in RESERVED_FIELD_NAMES:
            raise validation_error(f"unknown field {base!r}", filters=[f"Unknown field {base}"])
        if isinstance(value, list):
            many[name] = value
        else:
            params[name] = "" if value is None else str(value)
    query = rowquery.parse_row_query(params, served, all_names, default_limit=limit,
                                     max_limit=call.settings.rows_page_size_max, paginated=True)
    for name, values in many.items():
        # Each value is checked as an equality filter, then the lot becomes one IN.
        converted = [rowquery.parse_row_query({name: str(v)}, served, all_names).filters[0].value for v in values]
        query.filters.append(rowquery.Filter(name, "in", converted))
    return query, requested


def datastore_search(call: CkanCall) -> RawJson:
    ident = call.required("resource_id")
    dataset, resource = _resource(call, ident)
    if dataset.open_level == "unconditional" and call.request.method == "GET":
        allow_cors(call.request)  # open rows: readable cross-origin like /rows
    limit = call.integer("limit", DEFAULT_LIMIT)
    offset = call.integer("offset", 0)
    if not 0 <= limit <= call.settings.rows_page_size_max:
        raise validation_error(f"limit must be between 0 and {call.settings.rows_page_size_max}", limit=["Out of range"])
    if call.text("records_format", "objects") != "objects":
        raise validation_error("records_format: only objects is offered", records_format=["Unsupported"])
    served = served_fields(resource.fields, instance_secret(call.session, MASKING_SECRET))
    query, requested = _row_query(call, served, [f.name for f in resource.fields], max(limit, 1))
    grant = authorize_data(call.request, call.session, dataset, "query", requested or [f.name for f in resource.fields],
                           fields_explicit=bool(requested), credentials=call.credentials())
    served = narrow_to_grant(call.session, dataset, "query", grant, served, query, requested)
    table = resource_table(resource)
    by_name = {s.name: s for s in served}
    words = call.params.get("q", "")
    extra = []
    if isinstance(words, str) and words.strip() and not words.lstrip().startswith("{"):
        # Full-text q: any unmasked text field the client may read contains it.
        searchable = [table.c[s.name] for s in served if s.masker is None and s.field.type == "string"]
        extra.append(or_(*[c.icontains(words.strip(), autoescape=True) for c in searchable]) if searchable
                     else table.c[ROW_ID] < 0)
    page_size = query.limit if limit else 0
    stmt = rowquery.page_statement(table, query).where(*extra).offset(offset)
    rows = call.session.execute(stmt.limit(page_size)).all() if page_size else []
    ordered = [by_name[n] for n in query.fields]
    width = len(ordered)
    mask = row_masker(ordered)
    items = [(row[-1], *(mask(row[:width]) if mask else row[:width])) for row in rows]
    total = None
    if call.boolean("include_total", True):
        capped = select(table.c[ROW_ID]).where(*rowquery.where_clause(table, query), *extra)
        total = call.session.scalar(select(func.count()).select_from(capped.limit(rowquery.COUNT_CAP + 1).subquery()))
    record_rows_served(call.session, grant, len(items))
    call.session.commit()
    count_use(call.database.engine, dataset.id, "rows_query")  # after the commit, as /rows counts
    encode = row_encoder([Column("_id", "_id", "_id", "integer"),
                          *[Column(s.name, s.field.title_zh, s.field.title_en, s.served_type) for s in ordered]])
    head = {
        "resource_id": ident, "include_total": total is not None,
        "fields": [{"id": "_id", "type": "int"}] + [_field(s) for s in ordered],
        "limit": limit, "offset": offset, "records_format": "objects",
        "_links": _links(call, offset, limit),
    }
    if total is not None:
        head["total"] = min(total, rowquery.COUNT_CAP)
        head["total_was_estimated"] = total > rowquery.COUNT_CAP
    for name in ("filters", "q", "sort"):
        if call.params.get(name):
            head[name] = call.params[name]
    text = json.dumps(head, ensure_ascii=False)[:-1] + ',"records":[' + ",".join(map(encode, items)) + "]}"
    return RawJson(text)


def _field(served: Any) -> dict[str, Any]:
    f = served.field
    info = {"label": f.title_zh, "label_en": f.title_en, "notes": f.description or "", "unit": f.unit,
            "sensitivity": f.sensitivity, "mask": f.mask}
    return {"id": f.name, "type": CKAN_TYPES.get(served.served_type, "text"), "info": info}


def _links(call: CkanCall, offset: int, limit: int) -> dict[str, str]:
    path = f"{call.request.url.path.rsplit('/', 1)[0]}/datastore_search"
    simple = {k: (v if isinstance(v, str) else json.dumps(v, ensure_ascii=False))
              for k, v in call.params.items() if k != "offset"}
    return {"start": f"{path}?{urlencode(simple)}",
            "next": f"{path}?{urlencode({**simple, 'offset': offset + limit})}"}


def datastore_search_sql(call: CkanCall) -> None:
    raise CkanError("Authorization Error", 403,
                    "Access denied: datastore_search_sql is not offered here (SQL would bypass the masks "
                    "and licence checks); use datastore_search with filters, q, fields and sort")
