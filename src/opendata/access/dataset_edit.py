"""Publishers edit their own department's dataset metadata; administrators any.

Only descriptive metadata is editable here (titles, descriptions, tags, contact, usage
notes, coverage, update frequency). The open level, publisher and data dictionary are
governance decisions that come from the catalogue itself. A catalogue reload whose
manifest changed overwrites these edits with the manifest's values.
"""

from __future__ import annotations

from typing import Any, Callable

from sqlalchemy.orm import Session

from opendata.access.principals import Principal
from opendata.audit.service import RequestInfo, append, refuse
from opendata.catalogue import vocabulary as vocab
from opendata.catalogue.models import Dataset, DatasetTag
from opendata.search.index import index_datasets
from opendata.db import utcnow
from opendata.errors import AppError, bad_request

MAX_TAGS = 30


def _text(limit: int, *, required: bool) -> Callable[[str, Any], str | None]:
    def check(name: str, value: Any) -> str | None:
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                raise bad_request("invalid_value", f"{name} cannot be empty")
            return None
        if not isinstance(value, str):
            raise bad_request("invalid_value", f"{name} is text")
        if len(value.strip()) > limit:
            raise bad_request("invalid_value", f"{name} has at most {limit} characters")
        return value.strip()
    return check


def _tags(name: str, value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
        raise bad_request("invalid_value", f"{name} is a list of text tags")
    tags = [t.strip() for t in value if t.strip()]
    if len(set(tags)) != len(tags):
        raise bad_request("invalid_value", "a tag is listed twice")
    if any(len(t) > 63 for t in tags) or len(tags) > MAX_TAGS:
        raise bad_request("invalid_value", f"at most {MAX_TAGS} tags of at most 63 characters")
    return tags


def _frequency(name: str, value: Any) -> str:
    if value not in vocab.FREQUENCY_BY_CODE:
        raise bad_request("invalid_value", f"{name} is one of {', '.join(vocab.FREQUENCY_BY_CODE)}")
    return value


EDITABLE: dict[str, Callable[[str, Any], Any]] = {
    "title_zh": _text(255, required=True),
    "title_en": _text(255, required=False),
    "description_zh": _text(20_000, required=True),
    "description_en": _text(20_000, required=False),
    "contact": _text(255, required=False),
    "usage_notes": _text(20_000, required=False),
    "spatial_coverage": _text(255, required=False),
    "update_frequency": _frequency,
    "tags": _tags,
}


def check_changes(changes: dict[str, Any]) -> dict[str, Any]:
    if not changes:
        raise bad_request("nothing_to_change", f"send one or more of {', '.join(EDITABLE)}")
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise bad_request("not_editable", f"cannot edit {', '.join(unknown)}; editable: {', '.join(EDITABLE)}")
    return {name: EDITABLE[name](name, value) for name, value in changes.items()}


def may_edit(principal: Principal, dataset: Dataset) -> bool:
    user = principal.user
    return user.role == "admin" or (user.role == "publisher" and user.publisher_id == dataset.publisher_id)


def edit_dataset(session: Session, principal: Principal, dataset: Dataset, changes: dict[str, Any],
                 request: RequestInfo) -> Dataset:
    if not may_edit(principal, dataset):
        refuse(session, AppError(403, "not_your_dataset",
                                 f"dataset {dataset.id!r} belongs to {dataset.publisher_id}; "
                                 "publishers edit their own department's datasets only"),
               actor=principal.actor, action="dataset.edit", target=f"dataset:{dataset.id}", request=request)
    checked = check_changes(changes)
    for name, value in checked.items():
        if name == "tags":
            # Keep existing tag rows by their natural key, as the loader does.
            existing = {t.tag: t for t in dataset.tags}
            dataset.tags = [existing.get(t) or DatasetTag(tag=t) for t in value]
            for position, tag in enumerate(dataset.tags):
                tag.position = position
        else:
            setattr(dataset, name, value)
    dataset.updated_at = utcnow()
    session.flush()
    index_datasets(session, [dataset.id])
    append(session, actor=principal.actor, action="dataset.edit", target=f"dataset:{dataset.id}",
           details={"changed": sorted(checked)}, request=request)
    return dataset
