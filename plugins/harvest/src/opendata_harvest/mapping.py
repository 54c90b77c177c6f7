"""A remote dataset as the tables of a catalogue manifest, which the core then validates
(``parse_raw``) and loads (``load_into``) exactly as it loads a department's catalogue.toml."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from opendata.catalogue import vocabulary as vocab

from opendata_harvest.models import HarvestSource
from opendata_harvest.remote import RemoteDataset, RemoteResource, strictest

# CKAN's licence ids (ckan/model/license.py) -> the codes of catalogue/licences.py.
CKAN_LICENCES = {"cc-by": "CC-BY-4.0", "cc-by-4.0": "CC-BY-4.0", "cc-zero": "CC0-1.0", "cc0-1.0": "CC0-1.0",
                 "odc-odbl": "ODbL-1.0", "odbl-1.0": "ODbL-1.0"}
MAX_TAGS = 30
LINK_FORMAT = "link"  # a remote table whose rows were not copied: a link, not a local table


def slug(value: str | None, fallback_seed: str, limit: int = 63) -> str:
    """A manifest id (``[a-z0-9][a-z0-9-]*``, at most ``limit``): the text made safe, with a
    digest suffix when it had to be shortened or was empty (e.g. a Chinese identifier)."""
    raw = (value or "").lower()
    made = re.sub(r"[^a-z0-9]+", "-", raw).strip("-")
    digest = hashlib.sha256((value or fallback_seed).encode()).hexdigest()[:8]
    if not made:
        return f"ds-{digest}"[:limit]
    if len(made) > limit:
        made = f"{made[: limit - 9].rstrip('-')}-{digest}"
    return made


def local_dataset_id(source: HarvestSource, remote: RemoteDataset) -> str:
    prefix = f"{source.id_prefix}-" if source.id_prefix else ""
    return slug(prefix + (remote.name or remote.remote_id), remote.remote_id)


def publisher_table(source: HarvestSource, remote: RemoteDataset, site_title: str | None) -> dict[str, Any]:
    if source.publisher_id:
        return {"id": source.publisher_id, "name_zh": source.publisher_name or site_title or source.name}
    if remote.organisation is None:
        return {"id": slug(f"{source.name}-site", source.name), "name_zh": site_title or source.name,
                "website": source.url[:255]}
    org_id, name, name_en = remote.organisation
    table = {"id": slug(f"{source.name}-{org_id}", org_id), "name_zh": name or org_id}
    if name_en:
        table["name_en"] = name_en
    return table


def _open_level(source: HarvestSource, remote: RemoteDataset) -> str:
    return strictest([source.open_level, remote.open_level]) or "closed"


def _licence(source: HarvestSource, remote: RemoteDataset) -> str:
    code = (remote.licence or "").strip()
    if not code or code.lower() in ("notspecified", "other-closed", "other-nc", "other-open", "other-pd", "other-at"):
        return source.licence or code or "notspecified"
    return CKAN_LICENCES.get(code.lower(), code)[:63]


def dataset_table(source: HarvestSource, remote: RemoteDataset, dataset_id: str, publisher_id: str) -> dict[str, Any]:
    """The manifest's ``[[datasets]]`` table (without resources) of a remote dataset."""
    title = remote.title or remote.title_en or remote.name or remote.remote_id
    table: dict[str, Any] = {
        "id": dataset_id, "title_zh": title[:255], "description_zh": remote.description or title,
        "domain": remote.domain if vocab.resolve_domain(remote.domain or "") else source.domain,
        "publisher": publisher_id, "open_level": _open_level(source, remote),
        "update_frequency": remote.update_frequency if remote.update_frequency in vocab.FREQUENCY_BY_CODE
        else "irregular",
        "licence": _licence(source, remote), "version": remote.version_label or "1",
        "tags": [t for t in remote.tags if len(t) <= 63][:MAX_TAGS],
        "update_mechanism": f"harvested from {source.type} {source.url}"[:255],
    }
    optional = {
        "title_en": remote.title_en, "description_en": remote.description_en, "contact": remote.contact,
        "spatial_coverage": remote.spatial, "temporal_start": remote.temporal_start,
        "temporal_end": remote.temporal_end, "issued": remote.issued, "modified": remote.modified,
        "source_system": (remote.landing_page or "")[:255], "usage_notes": remote.usage_notes,
    }
    table.update({k: v for k, v in optional.items() if v not in (None, "")})
    start, end = table.get("temporal_start"), table.get("temporal_end")
    if start and end and end < start:
        table.pop("temporal_end")
    return table


def resource_id_of(resource: RemoteResource, used: set[str]) -> str:
    """Our portal's CKAN resource ids are ``dataset.resource``: the part after the dot."""
    base = slug(resource.remote_id.rsplit(".", 1)[-1], resource.remote_id)
    candidate, n = base, 2
    while candidate in used:
        candidate, n = f"{base[:58]}-{n}", n + 1
    used.add(candidate)
    return candidate


def resource_table(resource: RemoteResource, resource_id: str, fmt: str) -> dict[str, Any]:
    table: dict[str, Any] = {"id": resource_id, "title_zh": (resource.title or resource.title_en or resource_id)[:255],
                             "format": fmt}
    if resource.title_en:
        table["title_en"] = resource.title_en
    # Where it came from, in the description every output carries (API, CKAN, DCAT): for a
    # resource recorded as a link it is the only way to the file.
    origin = f"来源 / Source: {resource.url}" if resource.url else None
    description = "\n\n".join(part for part in (resource.description, origin) if part)
    if description:
        table["description_zh"] = description
    return table


def link_format(resource: RemoteResource) -> str:
    """The format a resource is recorded with when its rows are not copied."""
    fmt = re.sub(r"[^a-z0-9.+-]", "", (resource.format or "").lower())[:16]
    if not fmt or fmt in vocab.TABULAR_FORMATS:
        return LINK_FORMAT
    return fmt


def tabular_format(resource: RemoteResource) -> str | None:
    """csv or xlsx when the remote names one (by format, or by the URL's ending)."""
    fmt = (resource.format or "").lower().strip(". ")
    if fmt in vocab.TABULAR_FORMATS:
        return fmt
    if fmt in ("text/csv",):
        return "csv"
    path = (resource.url or "").split("?")[0].lower()
    return next((f for f in vocab.TABULAR_FORMATS if path.endswith("." + f)), None)
