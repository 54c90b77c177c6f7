"""The first rows of a table on its dataset page, through the API's own guard and masks.

A preview is a small rows query and takes exactly the path of GET .../rows:
``served_fields`` applies the masks and drops dropped fields, ``parse_row_query`` checks
the filter against them, ``authorize_data`` decides (open data only here: the browser
carries no licence token, so the API would refuse conditional and closed rows to it as
well), and ``record_rows_served`` closes the query. The one filter of the page's small form is
written in the API's own query syntax, so the download links carry the same filter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from litestar import Request
from sqlalchemy.orm import Session

from opendata.access.guard import authorize_data, record_rows_served
from opendata.catalogue import rowquery
from opendata.catalogue.data_api import MASKING_SECRET
from opendata.catalogue.masking import ServedField, row_masker, served_fields
from opendata.catalogue.models import Dataset, Resource
from opendata.catalogue.rowstore import resource_table
from opendata.errors import AppError
from opendata.secrets import instance_secret

PREVIEW_ROWS = 10
FILTER_OPERATORS = ("eq", "ne", "gt", "gte", "lt", "lte", "contains", "in", "isnull")


@dataclass(frozen=True)
class RowFilter:
    """The page's one filter: field, operator, value (all empty when there is none)."""

    field: str = ""
    operator: str = "eq"
    value: str = ""

    @classmethod
    def from_request(cls, request: Request) -> "RowFilter":
        operator = request.query_params.get("op", "eq")
        return cls(request.query_params.get("field", "").strip(),
                   operator if operator in FILTER_OPERATORS else "eq",
                   request.query_params.get("value", "").strip())

    @property
    def active(self) -> bool:
        return bool(self.field)

    def api_params(self) -> list[tuple[str, str]]:
        """The filter as the rows and download endpoints spell it: ``district=天河区``."""
        if not self.active:
            return []
        key = self.field if self.operator == "eq" else f"{self.field}__{self.operator}"
        return [(key, self.value)]


@dataclass
class Preview:
    resource: Resource
    columns: list[ServedField] = field(default_factory=list)
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    matching: int | None = None
    error: AppError | None = None

    @property
    def filterable(self) -> list[ServedField]:
        """Fields one may filter on: served and not masked (the API refuses the others)."""
        return [c for c in self.columns if c.masker is None]


CLIPPED = "…"  # the marker of a cell cut short on the page (the API and downloads serve it whole)


def clip_row(row: tuple[Any, ...], limit: int) -> tuple[Any, ...]:
    """``row`` with every text longer than ``limit`` characters cut to it, plus the marker:
    a page shows a glimpse of each cell, however large the cell."""
    return tuple(value[:limit] + CLIPPED if isinstance(value, str) and len(value) > limit else value for value in row)


def previewable(dataset: Dataset, resource: Resource) -> bool:
    return dataset.open_level == "unconditional" and resource.is_tabular and bool(resource.table_name)


def build_preview(request: Request, session: Session, dataset: Dataset, resource: Resource,
                  row_filter: RowFilter) -> Preview | None:
    """The first rows that the rows API would serve to this browser; None when it serves
    none (conditional or closed data, files, tables not loaded yet)."""
    if not previewable(dataset, resource):
        return None
    # The API's order: check the query against the dictionary, then ask the guard, then
    # narrow to what the grant allows (for open data the grant is everything).
    names = [f.name for f in resource.fields]
    served = served_fields(resource.fields, instance_secret(session, MASKING_SECRET))
    preview = Preview(resource, served)
    params = dict(row_filter.api_params())
    params["limit"] = str(PREVIEW_ROWS)
    try:
        query = rowquery.parse_row_query(params, served, names, default_limit=PREVIEW_ROWS,
                                         max_limit=PREVIEW_ROWS, paginated=False)
    except AppError as error:
        preview.error = error
        return preview
    grant = authorize_data(request, session, dataset, "query", names, fields_explicit=False)
    if grant.fields is not None:
        preview.columns = served = [s for s in served if s.name in grant.fields]
        query.fields = [name for name in query.fields if name in grant.fields]
    table = resource_table(resource)
    statement = rowquery.page_statement(table, query, paginated=False, with_keys=False).limit(PREVIEW_ROWS)
    rows = [tuple(row) for row in session.execute(statement)]
    mask = row_masker(served)
    limit = request.app.state["opendata"].settings.preview_max_cell_chars
    preview.rows = [clip_row(mask(row) if mask else row, limit) for row in rows]
    if query.filters:
        preview.matching = session.scalar(rowquery.count_statement(table, query)) or 0
    else:
        preview.matching = resource.row_count or 0
    record_rows_served(session, grant, len(preview.rows))
    return preview
