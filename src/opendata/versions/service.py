"""Reading a dataset's history: its versions, newest first, and one version's diff.

Sample keys are data: they are shown for unconditional datasets whose key field has no
masking rule, and to the dataset's own publisher and administrators; anyone else sees
the counts only (a conditional table's keys are what its licence guards).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from opendata.access.dataset_edit import may_edit
from opendata.access.principals import Principal
from opendata.catalogue.models import Dataset
from opendata.errors import AppError
from opendata.versions.models import DatasetVersion

SAMPLE_LISTS = ("added", "removed", "changed")


def versions_of(session: Session, dataset_id: str, *, limit: int | None = None) -> list[DatasetVersion]:
    statement = (select(DatasetVersion).where(DatasetVersion.dataset_id == dataset_id)
                 .order_by(DatasetVersion.number.desc()))
    if limit is not None:
        statement = statement.limit(limit)
    return list(session.scalars(statement))


def get_version(session: Session, dataset_id: str, number: int) -> DatasetVersion:
    version = session.scalars(select(DatasetVersion).where(
        DatasetVersion.dataset_id == dataset_id, DatasetVersion.number == number)).one_or_none()
    if version is None:
        raise AppError(404, "not_found", f"dataset {dataset_id!r} has no version {number}")
    return version


def may_see_keys(dataset: Dataset, version: DatasetVersion, principal: Principal | None) -> bool:
    if principal is not None and may_edit(principal, dataset):
        return True
    if dataset.open_level != "unconditional" or version.diff_key is None:
        return False
    resource = next((r for r in dataset.resources if r.id == version.resource_id), None)
    key_field = next((f for f in resource.fields if f.name == version.diff_key), None) if resource else None
    return key_field is not None and not key_field.mask and key_field.sensitivity == "L1"


def visible_samples(dataset: Dataset, version: DatasetVersion, principal: Principal | None) -> dict:
    """The version's samples, with the key lists emptied for a viewer who may not see keys."""
    samples = dict(version.samples or {})
    if not may_see_keys(dataset, version, principal):
        for name in SAMPLE_LISTS:
            samples[name] = []
        samples["keys_hidden"] = True
    return samples
