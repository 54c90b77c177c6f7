"""Our catalogue as CKAN dictionaries: packages, resources, organizations, groups, tags
and licences, with the field names and value shapes CKAN 2.10's actions return."""

from __future__ import annotations

import json
import threading
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from opendata.quality.models import QualityMeasurement
from opendata.quality.service import quality_extras
from opendata.catalogue import vocabulary as vocab
from opendata.catalogue.distribution import DistributionInfo, distribution_info
from opendata.catalogue.licences import Licence, licence_for, licence_url
from opendata.catalogue.metadata import contact_point
from opendata.catalogue.models import Dataset, Publisher, Resource
from opendata.catalogue.schemas import effective_modified
from opendata.extensions import registry_of
from opendata.feedback.ratings import RatingSummary
from opendata.feedback.schemas import RatingSummaryOut
from opendata.interop.links import Links
from opendata.stats.popularity import UsageTotals

RESOURCE_ID_SEPARATOR = "."  # dataset and resource ids are slugs: a dot never occurs in them


def ckan_time(value: datetime | date | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=None).isoformat()
    return datetime(value.year, value.month, value.day).isoformat()


def resource_ckan_id(dataset_id: str, resource_id: str) -> str:
    """CKAN resource ids are global; ours are unique within a dataset."""
    return f"{dataset_id}{RESOURCE_ID_SEPARATOR}{resource_id}"


def split_resource_id(ckan_id: str) -> tuple[str, str] | None:
    dataset_id, separator, resource_id = ckan_id.partition(RESOURCE_ID_SEPARATOR)
    return (dataset_id, resource_id) if separator and dataset_id and resource_id else None


def organization_dict(publisher: Publisher, package_count: int | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": publisher.id, "name": publisher.id, "title": publisher.name_zh,
        "display_name": publisher.name_zh, "title_en": publisher.name_en,
        "description": publisher.name_en or "", "image_url": "", "image_display_url": "",
        "is_organization": True, "type": "organization", "state": "active",
        "approval_status": "approved", "created": None,
        "website": publisher.website, "contact": publisher.contact,
    }
    if package_count is not None:
        out["package_count"] = package_count
    return out


def group_dict(domain: vocab.Term, package_count: int | None = None) -> dict[str, Any]:
    """A data domain (数据领域) is a CKAN group."""
    out: dict[str, Any] = {
        "id": domain.code, "name": domain.code, "title": domain.zh, "display_name": domain.zh,
        "title_en": domain.en, "description": domain.en, "image_url": "", "image_display_url": "",
        "is_organization": False, "type": "group", "state": "active", "approval_status": "approved",
    }
    if package_count is not None:
        out["package_count"] = package_count
    return out


def license_dict(licence: Licence, links: Links) -> dict[str, Any]:
    conformance = "approved" if licence.open else "not reviewed"
    return {
        "id": licence.id, "title": licence.title_zh, "title_en": licence.title_en,
        "url": licence_url(licence, links.api), "status": "active", "maintainer": "",
        "family": "", "od_conformance": conformance, "osd_conformance": "not reviewed",
        "is_okd_compliant": licence.open, "is_osi_compliant": False,
        "domain_content": False, "domain_data": True, "domain_software": False,
    }


def resource_dict(session: Session, links: Links, dataset: Dataset, resource: Resource,
                  info: DistributionInfo | None = None) -> dict[str, Any]:
    info = info or distribution_info(session, links.api, dataset, resource)
    return {
        "id": resource_ckan_id(dataset.id, resource.id), "package_id": dataset.id,
        "name": resource.title_zh, "name_en": resource.title_en,
        "description": resource.description_zh or "", "description_en": resource.description_en,
        "format": info.format.upper(), "source_format": resource.format.upper(),
        "url": info.download_url or info.access_url, "url_type": None,
        "mimetype": info.media_type, "size": info.byte_size,
        "hash": f"sha256:{info.sha256}" if info.sha256 else "",
        "position": resource.position, "state": "active",
        "created": ckan_time(resource.ingested_at), "last_modified": ckan_time(resource.ingested_at),
        "metadata_modified": ckan_time(resource.ingested_at),
        # Only ingested tables answer datastore_search; closed ones never serve rows.
        "datastore_active": bool(resource.table_name) and dataset.open_level != "closed",
        "row_count": resource.row_count, "primary_key": resource.primary_key,
        "subject_key": resource.subject_key,
    }


def resource_dicts(session: Session, links: Links, dataset: Dataset, resource: Resource) -> list[dict[str, Any]]:
    """The resource, then one more CKAN resource per other format it is offered in (the
    same rows; id ``<resource id>.<format>``, no datastore of its own)."""
    info = distribution_info(session, links.api, dataset, resource)
    first = resource_dict(session, links, dataset, resource, info)
    more = [{**first, "id": f"{first['id']}.{alt.format}", "name": f"{resource.title_zh}（{alt.format.upper()}）",
             "name_en": f"{resource.title_en} ({alt.format.upper()})" if resource.title_en else None,
             "format": alt.format.upper(), "url": alt.download_url, "mimetype": alt.media_type,
             "size": None, "hash": "", "datastore_active": False}
            for alt in info.alternatives]
    return [first, *more]


class _ResourceCache:
    """CKAN resources of a search page, per process, keyed by the catalogue's epoch (which
    moves with any change of a dataset, its resources and fields, or its rows), the links
    and the registry (the formats offered come from the application's plugins). A hit needs
    neither the resource's fields nor its digest: package_search of 20 datasets no longer
    lists ~80 resources' formats anew each time. Bounded by count (cleared when full)."""

    def __init__(self, size: int = 4096) -> None:
        self._lock = threading.Lock()
        self._entries: dict[tuple[Any, ...], tuple[Any, list[dict[str, Any]]]] = {}
        self._size = size

    def get(self, key: tuple[Any, ...], registry: Any) -> list[dict[str, Any]] | None:
        with self._lock:
            found = self._entries.get(key)
        # The registry is keyed by id(); an entry of a registry since freed is not its namesake's.
        return found[1] if found is not None and found[0] is registry else None

    def put(self, key: tuple[Any, ...], registry: Any, value: list[dict[str, Any]]) -> None:
        with self._lock:
            if len(self._entries) >= self._size:
                self._entries.clear()
            self._entries[key] = (registry, value)


_resources = _ResourceCache()


def cached_resource_dicts(session: Session, links: Links, dataset: Dataset, resource: Resource,
                          epoch: tuple[Any, ...]) -> list[dict[str, Any]]:
    """resource_dicts, kept while ``epoch`` (opendata.interop.epoch) is unchanged; the dicts
    are shared between requests and must not be changed."""
    registry = registry_of(session)
    key = (epoch, links, id(registry), dataset.id, dataset.open_level, resource.pk)
    found = _resources.get(key, registry)
    if found is None:
        found = resource_dicts(session, links, dataset, resource)
        _resources.put(key, registry, found)
    return found


def package_dict(session: Session, links: Links, dataset: Dataset, usage: UsageTotals | None = None,
                 rating: RatingSummary | RatingSummaryOut | None = None,
                 epoch: tuple[Any, ...] | None = None,
                 measurements: dict[int, QualityMeasurement] | None = None) -> dict[str, Any]:
    """``epoch``: resources may come from the per-process cache; ``measurements``: the
    page's newest quality measurements, read in one query (both from package_search)."""
    licence = licence_for(dataset.licence)
    domain = vocab.DOMAIN_BY_CODE.get(dataset.domain)
    contact = contact_point(dataset)
    usage = usage or UsageTotals()
    rating = rating or RatingSummary()
    resources = [item for r in dataset.resources for item in (
        resource_dicts(session, links, dataset, r) if epoch is None
        else cached_resource_dicts(session, links, dataset, r, epoch))]
    extras = {
        "open_level": dataset.open_level, "update_frequency": dataset.update_frequency,
        "industry_code": dataset.industry_code, "spatial": dataset.spatial_coverage,
        "temporal_start": dataset.temporal_start.isoformat() if dataset.temporal_start else None,
        "temporal_end": dataset.temporal_end.isoformat() if dataset.temporal_end else None,
        "issued": dataset.issued.isoformat() if dataset.issued else None,
        "modified": modified.isoformat() if (modified := effective_modified(dataset)) else None,
        "source_system": dataset.source_system, "update_mechanism": dataset.update_mechanism,
        "quality_standard": dataset.quality_standard, "usage_notes": dataset.usage_notes,
        "downloads_total": str(usage.downloads),
        # Plugins' metadata extensions: "<extension>.<key>" (docs/plugins.md).
        **{f"{name}.{key}": value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
           for name, values in (dataset.extensions or {}).items() for key, value in values.items()},
        **quality_extras(session, dataset, measurements),
    }
    return {
        "id": dataset.id, "name": dataset.id, "title": dataset.title_zh, "title_en": dataset.title_en,
        "notes": dataset.description_zh, "notes_en": dataset.description_en,
        "type": "dataset", "state": "active", "private": False, "isopen": licence.open,
        "url": links.landing_page(dataset.id), "version": dataset.version,
        "author": dataset.publisher.name_zh, "author_email": None,
        "maintainer": contact.name, "maintainer_email": contact.email,
        "maintainer_phone": contact.telephone,
        "license_id": licence.id, "license_title": licence.title_zh,
        "license_url": licence_url(licence, links.api),
        "metadata_created": ckan_time(dataset.created_at), "metadata_modified": ckan_time(dataset.updated_at),
        "owner_org": dataset.publisher_id, "organization": organization_dict(dataset.publisher),
        "groups": [group_dict(domain)] if domain else [],
        "tags": [{"name": t, "display_name": t, "state": "active", "vocabulary_id": None} for t in dataset.tag_names],
        "num_tags": len(dataset.tags), "resources": resources, "num_resources": len(resources),
        "extras": [{"key": k, "value": v} for k, v in extras.items() if v is not None],
        # CKAN's page-view tracking shape; downloads are in extras and in our own field.
        "tracking_summary": {"total": usage.views, "recent": usage.views},
        "views_total": usage.views, "downloads_total": usage.downloads,
        # CKAN's own rating fields (CKAN ≤ 2.8 package_show): null average while unrated.
        "ratings_average": rating.average, "ratings_count": rating.count,
        "open_level": dataset.open_level,
        "relationships_as_object": [], "relationships_as_subject": [],
    }
