"""Turning the query string of the rows and download endpoints into SQL.

``?fields=a,b&sort=-month,name&district=天河区&headcount__gte=50&name__contains=科技``

Pagination is keyset-based: the cursor carries the sort-key values and the row id of
the last row served, so page 10,000 costs what page 1 costs. Filters and sorts on a
masked field are refused: answering "is the hidden value X?" would unmask it.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Mapping, Sequence

from sqlalchemy import ColumnElement, Select, Table, and_, false, func, or_, select, true
from sqlalchemy.orm import Session

from opendata.catalogue.masking import ServedField
from opendata.catalogue.rowstore import ROW_ID
from opendata.errors import bad_request
from opendata.formats import converter_for
from opendata.formats.limits import INT64_MAX, INT64_MIN

from opendata.catalogue.vocabulary import RESERVED_FIELD_NAMES as RESERVED_PARAMS
OPERATORS = ("eq", "ne", "gt", "gte", "lt", "lte", "in", "contains", "isnull")
ORDERED_TYPES = frozenset({"integer", "decimal", "number", "date", "datetime", "string"})
MAX_IN_VALUES = 500  # defaults of the settings query_max_in_values, _sort_keys, _filters
MAX_SORT_KEYS = 8
MAX_FILTERS = 32
COUNT_CAP = 100_000


@dataclass(frozen=True)
class Filter:
    field: str
    operator: str
    value: Any


@dataclass(frozen=True)
class SortKey:
    field: str
    descending: bool = False


@dataclass
class RowQuery:
    fields: list[str]
    filters: list[Filter] = field(default_factory=list)
    sort: list[SortKey] = field(default_factory=list)
    limit: int = 100
    cursor: tuple[list[Any], int] | None = None


def split_list(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def parse_row_query(
    params: Mapping[str, str],
    served: Sequence[ServedField],
    all_field_names: Sequence[str],
    *,
    default_limit: int = 100,
    max_limit: int = 1000,
    paginated: bool = True,
    max_sort_keys: int = MAX_SORT_KEYS,
    max_filters: int = MAX_FILTERS,
    max_in_values: int = MAX_IN_VALUES,
) -> RowQuery:
    """Validate the query string against the served fields; 400 with a code if wrong.

    The number of sort keys, filters and ``in`` values is bounded before any is looked at,
    so the size of the SQL statement is bounded too (5,000 sort keys made SQLite fail).
    """
    by_name = {s.name: s for s in served}

    def known(name: str, purpose: str) -> ServedField:
        if name not in by_name:
            if name in all_field_names:
                raise bad_request("field_not_available", f"field {name!r} is masked out (脱敏) and cannot be {purpose}")
            raise bad_request("unknown_field", f"unknown field {name!r}")
        return by_name[name]

    def unmasked(name: str, purpose: str) -> ServedField:
        served_field = known(name, purpose)
        if served_field.masker is not None:
            raise bad_request("field_masked", f"field {name!r} is masked (脱敏) and cannot be {purpose}")
        return served_field

    selected = split_list(params.get("fields", "")) or [s.name for s in served]
    for name in selected:
        known(name, "selected")
    if len(set(selected)) != len(selected):
        raise bad_request("duplicate_field", "a field is listed twice in fields")

    sort_items = split_list(params.get("sort", ""))
    if len(sort_items) > max_sort_keys:
        raise bad_request("too_many_sort_keys", f"sort takes at most {max_sort_keys} fields")
    if len({item.lstrip("-+") for item in sort_items}) != len(sort_items):
        raise bad_request("invalid_sort", "a field is listed twice in sort")
    filter_keys = [key for key in params if key not in RESERVED_PARAMS]
    if len(filter_keys) > max_filters:
        raise bad_request("too_many_filters", f"at most {max_filters} filters per request")
    sort = []
    for item in sort_items:
        name = item.lstrip("-+")
        served_field = unmasked(name, "sorted on")
        if served_field.field.type not in ORDERED_TYPES:
            raise bad_request("invalid_sort", f"field {name!r} of type {served_field.field.type} cannot be sorted")
        sort.append(SortKey(name, item.startswith("-")))

    filters = []
    for key, raw in params.items():
        if key in RESERVED_PARAMS:
            continue
        name, _, operator = key.partition("__")
        operator = operator or "eq"
        if operator not in OPERATORS:
            raise bad_request("unknown_operator", f"unknown operator {operator!r} in {key!r}; use {', '.join(OPERATORS)}")
        served_field = unmasked(name, "filtered on")
        filters.append(Filter(name, operator, _filter_value(served_field, operator, raw, max_in_values)))

    limit = default_limit
    if "limit" in params:
        try:
            limit = int(params["limit"])
        except ValueError:
            raise bad_request("invalid_limit", "limit must be a whole number") from None
        if not 1 <= limit <= max_limit:
            raise bad_request("invalid_limit", f"limit must be between 1 and {max_limit}")
    cursor = None
    if paginated and params.get("cursor"):
        cursor = decode_cursor(params["cursor"], sort, by_name)
    return RowQuery(selected, filters, sort, limit, cursor)


def _filter_value(served: ServedField, operator: str, raw: str, max_in_values: int = MAX_IN_VALUES) -> Any:
    column_type = served.field.type
    name = served.name
    if operator == "isnull":
        if raw.lower() not in ("true", "false", "1", "0"):
            raise bad_request("invalid_filter_value", f"{name}__isnull takes true or false")
        return raw.lower() in ("true", "1")
    if operator == "contains":
        if column_type != "string":
            raise bad_request("invalid_operator", f"contains works on text fields; {name!r} is {column_type}")
        return raw
    if operator in ("gt", "gte", "lt", "lte") and column_type == "boolean":
        raise bad_request("invalid_operator", f"{operator} does not apply to the boolean field {name!r}")
    convert = converter_for(column_type)
    values = split_list(raw) if operator == "in" else [raw]
    if operator == "in" and not 1 <= len(values) <= max_in_values:
        raise bad_request("invalid_filter_value", f"{name}__in takes 1 to {max_in_values} comma-separated values")
    try:
        converted = [convert(v) for v in values]
    except ValueError as exc:
        raise bad_request("invalid_filter_value", f"filter on {name!r} ({column_type}): {exc}") from None
    return converted if operator == "in" else converted[0]


def _condition(table: Table, f: Filter) -> ColumnElement[bool]:
    column = table.c[f.field]
    if f.operator == "eq":
        return column.is_(None) if f.value is None else column == f.value
    if f.operator == "ne":
        return column.is_not(None) if f.value is None else or_(column != f.value, column.is_(None))
    if f.operator == "in":
        return column.in_(f.value)
    if f.operator == "contains":
        return column.icontains(f.value, autoescape=True)
    if f.operator == "isnull":
        return column.is_(None) if f.value else column.is_not(None)
    return {"gt": column > f.value, "gte": column >= f.value, "lt": column < f.value, "lte": column <= f.value}[f.operator]


def where_clause(table: Table, query: RowQuery) -> list[ColumnElement[bool]]:
    return [_condition(table, f) for f in query.filters]


# --- keyset pagination -----------------------------------------------------------------
# Sort order: ascending puts NULLs last, descending puts them first, on every backend, so
# "after the cursor" has one meaning that the predicate below spells out.


def _order_by(table: Table, sort: list[SortKey]) -> list[Any]:
    clauses: list[Any] = []
    for key in sort:
        column = table.c[key.field]
        clauses.append(column.desc().nulls_first() if key.descending else column.asc().nulls_last())
    clauses.append(table.c[ROW_ID].asc())
    return clauses


def _after(column: Any, value: Any, descending: bool) -> ColumnElement[bool]:
    if descending:
        return column.is_not(None) if value is None else column < value
    return false() if value is None else or_(column > value, column.is_(None))


def _equal(column: Any, value: Any) -> ColumnElement[bool]:
    return column.is_(None) if value is None else column == value


def keyset_predicate(table: Table, sort: list[SortKey], cursor: tuple[list[Any], int]) -> ColumnElement[bool]:
    values, row_id = cursor
    alternatives = []
    for i, key in enumerate(sort):
        prefix = [_equal(table.c[k.field], v) for k, v in zip(sort[:i], values[:i])]
        alternatives.append(and_(true(), *prefix, _after(table.c[key.field], values[i], key.descending)))
    ties = [_equal(table.c[k.field], v) for k, v in zip(sort, values)]
    alternatives.append(and_(true(), *ties, table.c[ROW_ID] > row_id))
    return or_(*alternatives)


def page_statement(table: Table, query: RowQuery, *, paginated: bool = True, with_keys: bool = True) -> Select:
    """SELECT the requested fields, then (``with_keys``) the sort keys and the row id that
    the next page's cursor is made of."""
    columns = [table.c[name] for name in query.fields]
    if with_keys:
        columns += [table.c[k.field].label(f"_sort_{i}") for i, k in enumerate(query.sort)]
        columns.append(table.c[ROW_ID])
    stmt = select(*columns).where(*where_clause(table, query))
    if query.cursor is not None:
        stmt = stmt.where(keyset_predicate(table, query.sort, query.cursor))
    stmt = stmt.order_by(*_order_by(table, query.sort))
    return stmt.limit(query.limit + 1) if paginated else stmt


def read_page(session: Session, statement: Select, limit: int, width: int, max_chars: int) -> tuple[list[Any], bool]:
    """The rows of one page and whether more follow.

    A page ends after ``limit`` rows or once its text reaches ``max_chars`` characters
    (at least one row is always served), so a table of huge cells cannot make one page
    huge: the next cursor continues where the short page stopped. Rows are read in small
    batches for the same reason.
    """
    page: list[Any] = []
    chars = 0
    result = session.execute(statement.execution_options(yield_per=64))
    try:
        for row in result:
            if len(page) == limit:
                return page, True
            size = sum(len(value) for value in row[:width] if isinstance(value, str))
            if page and chars + size > max_chars:
                return page, True
            page.append(row)
            chars += size
        return page, False
    finally:
        result.close()


def count_statement(table: Table, query: RowQuery) -> Select:
    """Count matching rows, but stop at COUNT_CAP + 1 so a count never scans forever."""
    capped = select(table.c[ROW_ID]).where(*where_clause(table, query)).limit(COUNT_CAP + 1).subquery()
    return select(func.count()).select_from(capped)


# --- cursors ------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def encode_cursor(sort: list[SortKey], values: Sequence[Any], row_id: int) -> str:
    payload = {"s": [("-" if k.descending else "") + k.field for k in sort], "k": [_plain(v) for v in values], "i": row_id}
    raw = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(text: str, sort: list[SortKey], by_name: Mapping[str, ServedField]) -> tuple[list[Any], int]:
    invalid = bad_request("invalid_cursor", "the cursor is not one this endpoint issued; start again without it")
    try:
        payload = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        signature, raw_values, row_id = payload["s"], payload["k"], payload["i"]
    except (ValueError, KeyError, TypeError, binascii.Error, RecursionError):
        raise invalid from None
    expected = [("-" if k.descending else "") + k.field for k in sort]
    if signature != expected:
        raise bad_request("cursor_sort_mismatch", "the cursor belongs to another sort order; keep the same sort while paging")
    if (not isinstance(row_id, int) or isinstance(row_id, bool) or not INT64_MIN <= row_id <= INT64_MAX
            or not isinstance(raw_values, list) or len(raw_values) != len(sort)):
        raise invalid
    values = []
    for key, raw in zip(sort, raw_values):
        if raw is None:
            values.append(None)
            continue
        try:
            values.append(converter_for(by_name[key.field].field.type)(raw if isinstance(raw, str) else str(raw)))
        except ValueError:
            raise invalid from None
    return values, row_id
