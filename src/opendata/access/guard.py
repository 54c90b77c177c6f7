"""The one place that decides whether a request may read a dataset's rows.

Every door to rows (the query API, downloads, the portal's preview, the SDK through the
API) calls ``authorize_data`` and serves only what the returned Grant allows.
"""

from __future__ import annotations

from dataclasses import dataclass

from litestar import Request
from sqlalchemy.orm import Session

from opendata.catalogue.models import Dataset
from opendata.errors import AppError

OPERATIONS = ("query", "download", "compute")


@dataclass(frozen=True)
class Grant:
    """What a request may do with one dataset. ``fields`` None means every field."""

    dataset_id: str
    operation: str
    licence_id: int | None = None
    fields: frozenset[str] | None = None
    client_id: str | None = None


def authorize_data(
    request: Request, session: Session, dataset: Dataset, operation: str, fields: list[str]
) -> Grant:
    """Allow or refuse ``operation`` on ``dataset`` for ``fields`` (the fields asked for).

    Unconditionally open data is open to everyone. Conditionally open data needs a
    licence; closed data never leaves the server as rows.
    """
    if operation not in OPERATIONS:
        raise ValueError(f"unknown operation {operation!r}")
    if dataset.open_level == "unconditional":
        return Grant(dataset.id, operation)
    if dataset.open_level == "closed":
        raise AppError(
            403, "closed_dataset",
            f"dataset {dataset.id!r} is closed (不予开放): its rows are never served; "
            "only licensed computations may use it",
        )
    raise AppError(
        403, "licence_required",
        f"dataset {dataset.id!r} is conditionally open (有条件开放): apply for a licence and "
        "send its access token",
    )


def record_rows_served(session: Session, grant: Grant, rows: int) -> None:
    """Account rows served under a licence against its daily quota (open data: nothing)."""
    return None
