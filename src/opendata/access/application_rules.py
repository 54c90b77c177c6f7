"""What a licence application may ask for, checked against the catalogue.

- every dataset exists and needs a licence (conditional or closed; open data needs none);
- operations are query, download or compute; a closed dataset (不予开放) can only ever be
  named for compute, since its rows never leave the server;
- every field exists in the dataset's data dictionary;
- the period is a real range that has not already ended and lasts at most three years.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from opendata.access.guard import OPERATIONS
from opendata.catalogue.models import Dataset, Resource
from opendata import localtime
from opendata.errors import bad_request

MAX_PERIOD = timedelta(days=3 * 366)
MAX_TEXT = 4000
ROW_OPERATIONS = ("query", "download")


@dataclass(frozen=True)
class ItemInput:
    dataset: str
    operations: list[str]
    fields: list[str]


@dataclass(frozen=True)
class ApplicationInput:
    items: list[ItemInput]
    purpose: str
    scenario: str
    start_date: date
    end_date: date
    terms_accepted: bool = False


@dataclass(frozen=True)
class CheckedItem:
    dataset_id: str
    operations: list[str]
    fields: list[str]


@dataclass(frozen=True)
class CheckedApplication:
    items: list[CheckedItem]
    purpose: str
    scenario: str
    start_date: date
    end_date: date
    terms_accepted: bool


def today(session: Session) -> date:
    """Today in the deployment's time zone: a period is judged in the days it is written in."""
    return localtime.today(session)


def dataset_fields(dataset: Dataset) -> list[str]:
    """Every field name of a dataset's data dictionary, across its resources, in order."""
    names: list[str] = []
    for resource in dataset.resources:
        names += [f.name for f in resource.fields if f.name not in names]
    return names


def check_text(value: str, name: str) -> str:
    text = (value or "").strip()
    if not text:
        raise bad_request("missing_field", f"{name} is required")
    if len(text) > MAX_TEXT:
        raise bad_request("invalid_field", f"{name} has at most {MAX_TEXT} characters")
    return text


def check_period(session: Session, start: date, end: date) -> None:
    if end < start:
        raise bad_request("invalid_period", f"the period ends ({end}) before it starts ({start})")
    if end < today(session):
        raise bad_request("invalid_period", f"the period ended already ({end})")
    if end - start > MAX_PERIOD:
        raise bad_request("invalid_period", "a licence lasts at most three years")


def check_application(session: Session, data: ApplicationInput) -> CheckedApplication:
    if not data.items:
        raise bad_request("no_datasets", "an application names at least one dataset")
    ids = [item.dataset for item in data.items]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise bad_request("duplicate_dataset", f"datasets named twice: {', '.join(duplicates)}")
    datasets = {
        d.id: d for d in session.scalars(
            select(Dataset).where(Dataset.id.in_(ids))
            .options(selectinload(Dataset.resources).selectinload(Resource.fields))
        )
    }
    items = [_check_item(item, datasets.get(item.dataset)) for item in data.items]
    check_period(session, data.start_date, data.end_date)
    return CheckedApplication(
        items=items, purpose=check_text(data.purpose, "purpose"),
        scenario=check_text(data.scenario, "scenario"), start_date=data.start_date,
        end_date=data.end_date, terms_accepted=bool(data.terms_accepted),
    )


def _check_item(item: ItemInput, dataset: Dataset | None) -> CheckedItem:
    if dataset is None:
        raise bad_request("unknown_dataset", f"dataset {item.dataset!r} does not exist")
    if dataset.open_level == "unconditional":
        raise bad_request(
            "no_licence_needed",
            f"dataset {dataset.id!r} is open to everyone (无条件开放): it needs no licence",
        )
    operations = list(dict.fromkeys(item.operations))
    if not operations:
        raise bad_request("no_operations", f"name at least one operation for {dataset.id!r}")
    unknown = [op for op in operations if op not in OPERATIONS]
    if unknown:
        raise bad_request(
            "unknown_operation", f"unknown operation(s) {', '.join(map(repr, unknown))}; "
            f"use {', '.join(OPERATIONS)}",
        )
    if dataset.open_level == "closed":
        forbidden = [op for op in operations if op in ROW_OPERATIONS]
        if forbidden:
            raise bad_request(
                "operation_not_allowed",
                f"dataset {dataset.id!r} is closed (不予开放): its rows never leave the server, "
                f"so it cannot be licensed for {' or '.join(forbidden)}; only compute",
            )
    fields = list(dict.fromkeys(item.fields))
    if not fields:
        raise bad_request("no_fields", f"name the fields you need from {dataset.id!r}")
    known = dataset_fields(dataset)
    unknown_fields = [f for f in fields if f not in known]
    if unknown_fields:
        raise bad_request(
            "unknown_field", f"dataset {dataset.id!r} has no field(s) {', '.join(map(repr, unknown_fields))}",
            details={"dataset": dataset.id, "fields": unknown_fields, "known": known},
        )
    return CheckedItem(dataset.id, operations, fields)
