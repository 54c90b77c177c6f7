"""Reading the catalogue: datasets, publishers and domains with their counts."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from opendata.catalogue import vocabulary as vocab
from opendata.catalogue.models import Dataset, Publisher, Resource
from opendata.catalogue.schemas import DomainOut, PublisherOut
from opendata.errors import not_found


def get_dataset(session: Session, dataset_id: str, *, lean: bool = False) -> Dataset:
    """A dataset with its publisher, tags, resources and fields. ``lean``: resources and
    fields only (the rows and download paths: two statements fewer per request; the
    publisher and tags still load if something reads them)."""
    options = [selectinload(Dataset.resources).selectinload(Resource.fields)]
    if not lean:
        options += [selectinload(Dataset.publisher), selectinload(Dataset.tags)]
    dataset = session.scalars(select(Dataset).where(Dataset.id == dataset_id).options(*options)).one_or_none()
    if dataset is None:
        raise not_found("dataset", dataset_id)
    return dataset


def get_resource(session: Session, dataset_id: str, resource_id: str) -> Resource:
    dataset = get_dataset(session, dataset_id)
    for resource in dataset.resources:
        if resource.id == resource_id:
            return resource
    raise not_found("resource", f"{dataset_id}/{resource_id}")


def list_publishers(session: Session) -> list[PublisherOut]:
    counts = dict(
        session.execute(select(Dataset.publisher_id, func.count()).group_by(Dataset.publisher_id)).all()
    )
    return [
        PublisherOut(p.id, p.name_zh, p.name_en, p.website, p.contact, counts.get(p.id, 0))
        for p in session.scalars(select(Publisher).order_by(Publisher.id))
    ]


def list_domains(session: Session) -> list[DomainOut]:
    """Every domain of the vocabulary, in its canonical order, with its dataset count."""
    counts = dict(session.execute(select(Dataset.domain, func.count()).group_by(Dataset.domain)).all())
    return [DomainOut(t.code, t.zh, t.en, counts.get(t.code, 0)) for t in vocab.DOMAINS]
