"""schema.org ``Dataset`` JSON-LD for a dataset's portal page (search engines read it).

It is embedded as ``<script type="application/ld+json">``: a data block, which browsers
never execute, so the portal's CSP (script-src 'self', no inline script) is unaffected.
``<`` is escaped so that no text in the metadata can close the element.
"""

from __future__ import annotations

import json
from typing import Any

from opendata.catalogue.licences import licence_for, licence_url
from opendata.catalogue.metadata import contact_point
from opendata.catalogue.models import Dataset
from opendata.catalogue.schemas import effective_modified
from opendata.feedback.ratings import RatingSummary


def dataset_json_ld(dataset: Dataset, site: str, api: str, rating: RatingSummary | None = None) -> dict[str, Any]:
    """``rating``: users' stars, stated as ``aggregateRating`` once someone rated."""
    licence = licence_for(dataset.licence)
    contact = contact_point(dataset)
    out: dict[str, Any] = {
        "@context": "https://schema.org/", "@type": "Dataset",
        "@id": f"{api}/dataset/{dataset.id}", "identifier": dataset.id,
        "name": dataset.title_zh, "alternateName": dataset.title_en,
        "description": dataset.description_zh, "url": f"{site}/datasets/{dataset.id}",
        "keywords": dataset.tag_names, "version": dataset.version, "inLanguage": "zh-CN",
        "license": licence_url(licence, api), "isAccessibleForFree": dataset.open_level == "unconditional",
        "dateModified": (effective_modified(dataset) or dataset.updated_at.date()).isoformat(),
        "datePublished": dataset.issued.isoformat() if dataset.issued else None,
        "spatialCoverage": dataset.spatial_coverage,
        "temporalCoverage": (f"{dataset.temporal_start or '..'}/{dataset.temporal_end or '..'}"
                             if dataset.temporal_start or dataset.temporal_end else None),
        "publisher": {"@type": "GovernmentOrganization", "name": dataset.publisher.name_zh,
                      "url": dataset.publisher.website},
        "creator": {"@type": "GovernmentOrganization", "name": dataset.publisher.name_zh},
        "contactPoint": {"@type": "ContactPoint", "name": contact.name, "telephone": contact.telephone,
                         "email": contact.email},
        "distribution": [
            {"@type": "DataDownload", "name": r.title_zh, "encodingFormat": "text/csv",
             "contentUrl": f"{api}/api/v1/datasets/{dataset.id}/resources/{r.id}/download?format=csv"}
            for r in dataset.resources if r.is_tabular and dataset.open_level == "unconditional"
        ],
    }
    if rating is not None and rating.count > 0:
        out["aggregateRating"] = {"@type": "AggregateRating", "ratingValue": rating.average,
                                  "ratingCount": rating.count, "bestRating": 5, "worstRating": 1}
    return _without_empty(out)


def _without_empty(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_empty(v) for k, v in value.items() if v not in (None, "", [], {})}
    if isinstance(value, list):
        return [_without_empty(v) for v in value]
    return value


def script_text(data: dict[str, Any]) -> str:
    """JSON safe inside <script>: '<', '>' and '&' as \\u escapes."""
    text = json.dumps(data, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
