"""The licence-application form: what it shows, and how a submitted one is read.

The form works without JavaScript in two steps: pick the datasets (a GET form of
checkboxes, or a dataset page's "apply" link), then say for each of them which
operations and fields, plus purpose, scenario, period and the terms. Field names:
``dataset`` (repeated), ``operations.<dataset>`` and ``fields.<dataset>`` (checkboxes),
``purpose``, ``scenario``, ``start_date``, ``end_date``, ``terms``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from opendata.access.application_rules import ApplicationInput, ItemInput, today
from opendata.access.guard import OPERATIONS
from opendata.access.models import Application
from opendata.catalogue.models import Dataset, Resource
from opendata.portal import forms

MAX_DATASETS = 20
DEFAULT_PERIOD_DAYS = 365


def licensable_datasets(session: Session) -> list[Dataset]:
    """Datasets one applies for: conditional (rows) and closed (computations only)."""
    return list(session.scalars(
        select(Dataset).where(Dataset.open_level.in_(("conditional", "closed")))
        .options(selectinload(Dataset.publisher)).order_by(Dataset.open_level, Dataset.title_zh)
    ))


def operations_for(dataset: Dataset) -> tuple[str, ...]:
    return ("compute",) if dataset.open_level == "closed" else OPERATIONS


@dataclass
class ItemState:
    dataset: Dataset
    operations: list[str] = field(default_factory=list)
    fields: list[str] = field(default_factory=list)

    @property
    def allowed_operations(self) -> tuple[str, ...]:
        return operations_for(self.dataset)

    @property
    def dictionary(self) -> list[Any]:
        """Every field of the dataset's resources, once, in order (what one may ask for)."""
        seen: dict[str, Any] = {}
        for resource in self.dataset.resources:
            for f in resource.fields:
                seen.setdefault(f.name, f)
        return list(seen.values())


@dataclass
class FormState:
    items: list[ItemState]
    purpose: str = ""
    scenario: str = ""
    start_date: str = ""
    end_date: str = ""
    terms: bool = False
    unknown: list[str] = field(default_factory=list)

    @property
    def dataset_ids(self) -> list[str]:
        return [item.dataset.id for item in self.items]


def _load(session: Session, ids: list[str]) -> tuple[list[Dataset], list[str]]:
    wanted = list(dict.fromkeys(i for i in ids if i))[:MAX_DATASETS]
    found = {
        d.id: d for d in session.scalars(
            select(Dataset).where(Dataset.id.in_(wanted))
            .options(selectinload(Dataset.resources).selectinload(Resource.fields), selectinload(Dataset.publisher))
        )
    }
    return [found[i] for i in wanted if i in found], [i for i in wanted if i not in found]


def blank_form(session: Session, dataset_ids: list[str], operation: str | None = None) -> FormState:
    datasets, unknown = _load(session, dataset_ids)
    items = []
    for dataset in datasets:
        allowed = operations_for(dataset)
        chosen = [operation] if operation in allowed else [allowed[0]]
        items.append(ItemState(dataset, chosen, []))
    start = today(session)
    return FormState(items, start_date=start.isoformat(),
                     end_date=(start + timedelta(days=DEFAULT_PERIOD_DAYS)).isoformat(), unknown=unknown)


def form_of(session: Session, application: Application, dataset_ids: list[str] | None = None) -> FormState:
    """An application as its form; ``dataset_ids`` (from the picker) changes its datasets."""
    asked = {item.dataset_id: item for item in application.items}
    ids = dataset_ids if dataset_ids else list(asked)
    datasets, unknown = _load(session, ids)
    items = [
        ItemState(d, list(asked[d.id].operations), list(asked[d.id].fields)) if d.id in asked
        else ItemState(d, [operations_for(d)[0]], [])
        for d in datasets
    ]
    return FormState(items, application.purpose, application.scenario, application.start_date.isoformat(),
                     application.end_date.isoformat(), application.terms_accepted_at is not None, unknown)


def submitted_form(session: Session, data: Mapping[str, Any]) -> FormState:
    """The form as submitted, to show again when it is refused."""
    datasets, unknown = _load(session, forms.values(data, "dataset"))
    items = [ItemState(d, forms.values(data, f"operations.{d.id}"), forms.values(data, f"fields.{d.id}"))
             for d in datasets]
    return FormState(items, forms.echo(data, "purpose", 4000), forms.echo(data, "scenario", 4000),
                     forms.echo(data, "start_date", 32), forms.echo(data, "end_date", 32),
                     forms.checked(data, "terms"), unknown)


def application_input(data: Mapping[str, Any]) -> ApplicationInput:
    """The service's input; the service checks datasets, operations, fields and period."""
    ids = list(dict.fromkeys(forms.values(data, "dataset")))
    if len(ids) > MAX_DATASETS:
        raise forms.FormError("too_many_datasets", f"an application names at most {MAX_DATASETS} datasets")
    items = [ItemInput(i, forms.values(data, f"operations.{i}"), forms.values(data, f"fields.{i}")) for i in ids]
    start = forms.date_value(data, "start_date")
    end = forms.date_value(data, "end_date")
    assert start is not None and end is not None
    return ApplicationInput(items=items, purpose=forms.text(data, "purpose", 4000),
                            scenario=forms.text(data, "scenario", 4000), start_date=start, end_date=end,
                            terms_accepted=forms.checked(data, "terms"))
