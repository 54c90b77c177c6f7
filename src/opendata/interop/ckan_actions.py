"""The CKAN read actions other than searches: site, packages, organizations, groups,
tags, resources and licences."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from opendata.catalogue import service
from opendata.catalogue import vocabulary as vocab
from opendata.catalogue.licences import LICENCES
from opendata.catalogue.models import Catalogue, Dataset, DatasetTag, Publisher, Resource
from opendata.errors import AppError
from opendata.feedback import ratings
from opendata.interop.ckan import CKAN_VERSION, CkanCall, not_found
from opendata.interop.ckan_package import (
    group_dict, license_dict, organization_dict, package_dict, resource_dicts, split_resource_id,
)
from opendata.stats.popularity import usage_totals
from opendata.stats.service import count_use

LIST_LIMIT_MAX = 1000


def status_show(call: CkanCall) -> dict[str, Any]:
    catalogue = call.session.scalars(select(Catalogue).order_by(Catalogue.id)).first()
    return {
        "site_title": catalogue.title_zh if catalogue else "opendata",
        "site_description": (catalogue.description_zh or "") if catalogue else "",
        "site_url": call.links.site, "ckan_version": CKAN_VERSION, "locale_default": "zh_Hans_CN",
        "error_emails_to": None, "extensions": ["datastore", "dcat", "opendata"],
    }


def site_read(call: CkanCall) -> bool:
    return True


def _page(call: CkanCall) -> tuple[int, int]:
    limit = call.integer("limit", LIST_LIMIT_MAX, minimum=0)
    return min(limit, LIST_LIMIT_MAX), call.integer("offset", 0)


def package_list(call: CkanCall) -> list[str]:
    limit, offset = _page(call)
    return list(call.session.scalars(select(Dataset.id).order_by(Dataset.id).limit(limit).offset(offset)))


def _dataset(call: CkanCall, ident: str) -> Dataset:
    try:
        return service.get_dataset(call.session, ident)
    except AppError:
        raise not_found(f"dataset {ident!r}") from None


def package_show(call: CkanCall) -> dict[str, Any]:
    dataset = _dataset(call, call.required("id"))
    usage = usage_totals(call.session, [dataset.id]).get(dataset.id)
    result = package_dict(call.session, call.links, dataset, usage, ratings.summary(call.session, dataset.id))
    call.session.commit()
    # As /api/v1/datasets/{id} counts it: after the request's work, in a short transaction
    # of its own (stats.service.count_use), never inside the request's session.
    count_use(call.database.engine, dataset.id, "view")
    return result


def _publisher_counts(call: CkanCall) -> dict[str, int]:
    return dict(call.session.execute(select(Dataset.publisher_id, func.count()).group_by(Dataset.publisher_id)).all())


def organization_list(call: CkanCall) -> list[Any]:
    limit, offset = _page(call)
    publishers = list(call.session.scalars(select(Publisher).order_by(Publisher.id).limit(limit).offset(offset)))
    if not call.boolean("all_fields", False):
        return [p.id for p in publishers]
    counts = _publisher_counts(call)
    return [organization_dict(p, counts.get(p.id, 0)) for p in publishers]


def organization_show(call: CkanCall) -> dict[str, Any]:
    ident = call.required("id")
    publisher = call.session.get(Publisher, ident)
    if publisher is None:
        raise not_found(f"organization {ident!r}")
    result = organization_dict(publisher, _publisher_counts(call).get(publisher.id, 0))
    if call.boolean("include_datasets", False):
        datasets = call.session.scalars(
            select(Dataset).where(Dataset.publisher_id == publisher.id).order_by(Dataset.id).options(
                selectinload(Dataset.publisher), selectinload(Dataset.tags),
                selectinload(Dataset.resources).selectinload(Resource.fields))
        ).all()
        usage = usage_totals(call.session, [d.id for d in datasets])
        rated = ratings.summaries(call.session, [d.id for d in datasets])
        result["packages"] = [package_dict(call.session, call.links, d, usage.get(d.id), rated.get(d.id))
                              for d in datasets]
    return result


def group_list(call: CkanCall) -> list[Any]:
    """Our data domains (数据领域), in the vocabulary's order."""
    limit, offset = _page(call)
    domains = list(vocab.DOMAINS)[offset:offset + limit]
    if not call.boolean("all_fields", False):
        return [d.code for d in domains]
    counts = dict(call.session.execute(select(Dataset.domain, func.count()).group_by(Dataset.domain)).all())
    return [group_dict(d, counts.get(d.code, 0)) for d in domains]


def group_show(call: CkanCall) -> dict[str, Any]:
    ident = call.required("id")
    domain = vocab.resolve_domain(ident)
    if domain is None:
        raise not_found(f"group {ident!r}")
    count = call.session.scalar(select(func.count()).select_from(Dataset).where(Dataset.domain == domain.code))
    return group_dict(domain, count or 0)


def tag_list(call: CkanCall) -> list[Any]:
    stmt = select(DatasetTag.tag).distinct().order_by(DatasetTag.tag)
    query = call.text("query").strip()
    if query:
        stmt = stmt.where(DatasetTag.tag.icontains(query, autoescape=True))
    tags = list(call.session.scalars(stmt))
    if call.boolean("all_fields", False):
        return [{"id": t, "name": t, "display_name": t, "vocabulary_id": None} for t in tags]
    return tags


def resource_show(call: CkanCall) -> dict[str, Any]:
    ident = call.required("id")
    parts = split_resource_id(ident)
    if parts is None:
        raise not_found(f"resource {ident!r}")
    dataset = _dataset(call, parts[0])
    # "<resource>.<format>": the resource in another format it is offered in (resource_dicts).
    for resource in dataset.resources:
        for item in resource_dicts(call.session, call.links, dataset, resource):
            if item["id"] == ident:
                return item
    raise not_found(f"resource {ident!r}")


def license_list(call: CkanCall) -> list[dict[str, Any]]:
    return [license_dict(licence, call.links) for licence in LICENCES]


ACTIONS = {
    "status_show": status_show, "site_read": site_read, "package_list": package_list,
    "package_show": package_show, "organization_list": organization_list,
    "organization_show": organization_show, "group_list": group_list, "group_show": group_show,
    "tag_list": tag_list, "resource_show": resource_show, "license_list": license_list,
}
