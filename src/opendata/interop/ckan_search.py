"""CKAN's package_search over our catalogue search.

``q`` is matched as our search words (Chinese substrings work); Solr-style ``key:value``
terms in ``q`` or ``fq`` filter on our facets. ``sort`` takes CKAN's sort names; ``rows``
is clamped to the configured maximum, as CKAN clamps to ``ckan.search.rows_max``.
"""

from __future__ import annotations

import json
import re
from typing import Any

from opendata.catalogue import search
from opendata.interop.ckan import CkanCall, validation_error
from opendata.interop.ckan_package import package_dict
from opendata.interop.epoch import catalogue_epoch
from opendata.quality.service import latest_measurements_of
from opendata.stats.popularity import usage_totals

# CKAN filter / facet name -> our search facet.
FACET_NAMES = {"organization": "publisher", "groups": "domain", "tags": "tag",
               "res_format": "format", "open_level": "open_level"}
SORT_NAMES = {
    ("score", "desc"): "relevance", ("metadata_modified", "desc"): "modified",
    ("metadata_created", "desc"): "created", ("title_string", "asc"): "title", ("title", "asc"): "title",
    ("name", "asc"): "id", ("id", "asc"): "id",
    ("views_total", "desc"): "views", ("views_recent", "desc"): "views",
    ("downloads_total", "desc"): "downloads",
}
DEFAULT_ROWS = 10
FACET_LIMIT = 50
_TERM = re.compile(r'([+-]?)([A-Za-z_.]+):(\([^)]*\)|"[^"]*"|\S+)')


def _values(raw: str) -> list[str]:
    if raw.startswith("("):
        parts = re.split(r"\s+OR\s+", raw[1:-1].strip())
        return [p.strip().strip('"') for p in parts if p.strip()]
    return [raw.strip('"')]


def parse_filters(text: str, query: search.SearchQuery) -> str:
    """Apply the ``key:value`` terms of ``text`` to ``query``; return the remaining words."""
    def apply(match: re.Match[str]) -> str:
        sign, key, raw = match.groups()
        if sign == "-":
            raise validation_error(f"negated filters are not supported: {match.group(0)}", fq=["Unsupported"])
        if key not in FACET_NAMES:
            if key == "text":
                return " ".join(_values(raw))
            raise validation_error(
                f"cannot filter on {key!r}; use {', '.join(FACET_NAMES)}", fq=[f"Unknown field {key}"])
        values = _values(raw)
        if key == "res_format":
            values = [v.lower() for v in values]
        getattr(query, FACET_NAMES[key]).extend(values)
        return " "
    remaining = _TERM.sub(apply, text)
    return " ".join(word for word in remaining.split() if word not in ("AND", "*:*", "*"))


def _sort(text: str) -> str:
    first = text.split(",")[0].strip().lower()
    if not first:
        return "relevance"
    name, _, direction = first.partition(" ")
    key = (name.strip(), direction.strip() or "asc")
    if key not in SORT_NAMES:
        choices = ", ".join(f"{n} {d}" for n, d in SORT_NAMES)
        raise validation_error(f"sort {text!r} is not supported; use one of: {choices}", sort=["Unsupported sort"])
    return SORT_NAMES[key]


def _facet_fields(call: CkanCall) -> list[str]:
    raw = call.params.get("facet.field")
    if raw is None:
        return []
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            raw = [raw]
    if not isinstance(raw, list) or not all(isinstance(v, str) for v in raw):
        raise validation_error("facet.field must be a JSON list of field names", **{"facet.field": ["Not a list"]})
    return raw


def package_search(call: CkanCall) -> dict[str, Any]:
    query = search.SearchQuery()
    words = parse_filters(call.text("q"), query)
    fq = call.params.get("fq", "")
    for text in fq if isinstance(fq, list) else [fq]:
        words = (words + " " + parse_filters(str(text), query)).strip()
    query.q = words
    query.sort = _sort(call.text("sort"))
    query.page_size = min(call.integer("rows", DEFAULT_ROWS), call.settings.search_page_size_max)
    query.offset = call.integer("start", 0)
    facet_fields = _facet_fields(call)
    if query.page_size == 0:  # CKAN's rows=0: count and facets only
        query.page_size, rows_wanted = 1, False
    else:
        rows_wanted = True
    search.validate(query, call.settings.search_page_size_max)
    # Data dictionaries are not part of a CKAN package (CKAN keeps them in the datastore);
    # the formats a resource is offered in depend on its fields, read only when its CKAN
    # resources are not kept yet (ckan_package.cached_resource_dicts). No highlights.
    found, loaded = search.search_page(call.session, query, facets=bool(facet_fields), highlights=False)
    epoch = catalogue_epoch(call.session)
    measured = latest_measurements_of(call.session, loaded) if rows_wanted else {}
    datasets = loaded if rows_wanted else []
    ids = [d.id for d in datasets]
    usage = usage_totals(call.session, ids)
    # The search already read the page's ratings (its items are the loaded datasets, in order).
    rated = {item.id: item.rating for item in found.items} if rows_wanted else {}
    facet_limit = call.integer("facet.limit", FACET_LIMIT, minimum=-1)
    search_facets: dict[str, Any] = {}
    for name in facet_fields:
        values = found.facets.get(FACET_NAMES.get(name, ""), [])
        values = values if facet_limit < 0 else values[:facet_limit]
        search_facets[name] = {"title": name, "items": [
            {"name": v.value, "display_name": v.label_zh or v.value, "count": v.count} for v in values]}
    return {
        "count": found.total, "sort": call.text("sort") or "score desc, metadata_modified desc",
        "results": [package_dict(call.session, call.links, d, usage.get(d.id), rated.get(d.id), epoch, measured)
                    for d in datasets],
        "facets": {name: {item["name"]: item["count"] for item in f["items"]} for name, f in search_facets.items()},
        "search_facets": search_facets,
    }
