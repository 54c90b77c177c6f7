"""Reading a CKAN Action API (CKAN 2.x, and our own portal's /api/3/action/).

The listing pages through ``package_search`` (``rows``/``start``, sorted by name so that
pages do not shift while a page is read) and keeps each dataset's ``metadata_modified``;
only datasets whose ``metadata_modified`` changed since the last harvest are then read
with ``package_show``, the authoritative record (the search index's copy may lag).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from opendata.catalogue import vocabulary as vocab

from opendata_harvest.fetch import Fetcher, FetchError
from opendata_harvest.remote import (
    ListedDataset, Listing, RemoteDataset, RemoteProblem, RemoteResource, as_dict, as_list, one_per_table,
    strictest, text, to_date,
)

PAGE_SIZE = 100


def action_root(url: str) -> str:
    """The Action API root for a site URL or an action URL: ``…/api/3/action/``."""
    base = url.strip()
    for marker in ("/api/3/action", "/api/action"):
        if marker in base:
            return base[: base.index(marker)] + marker + "/"
    return base.rstrip("/") + "/api/3/action/"


def site_root(url: str) -> str:
    root = action_root(url)
    return root[: root.index("/api/")]


class CkanReader:
    def __init__(self, url: str, fetcher: Fetcher, *, max_datasets: int, page_size: int = PAGE_SIZE) -> None:
        self.api = action_root(url)
        self.site = site_root(url)
        self.fetcher = fetcher
        self.max_datasets = max_datasets
        self.page_size = page_size

    def call(self, action: str, **params: Any) -> Any:
        body = self.fetcher.get_json(self.api + action, params)
        if not isinstance(body, dict) or body.get("success") is not True or "result" not in body:
            error = as_dict(body.get("error")) if isinstance(body, dict) else {}
            message = text(error.get("message"), 300) or "not a CKAN answer (no success/result)"
            raise FetchError("ckan_error", f"{action}: {message}")
        return body["result"]

    def listing(self) -> Listing:
        listing = Listing()
        try:
            status = as_dict(self.call("status_show"))
            listing.site_title = text(status.get("site_title"), 255)
        except FetchError:
            pass  # status_show is optional (some portals disable it)
        start, seen = 0, set()
        while True:
            try:
                result = as_dict(self.call("package_search", q="*:*", rows=self.page_size, start=start,
                                           sort="name asc"))
                count, results = result.get("count"), result.get("results")
                if not isinstance(count, int) or isinstance(count, bool) or not isinstance(results, list):
                    raise FetchError("bad_answer", "package_search: count and results are missing or of the "
                                                   "wrong type")
            except FetchError as exc:
                if start == 0:
                    raise  # nothing read: the run fails and says why
                listing.problems.append(RemoteProblem(None, f"listing stopped at {start}: {exc.code}: {exc.message}"))
                return listing  # incomplete: what was read is harvested, nothing is withdrawn
            before = len(seen)
            for raw in results:
                package = as_dict(raw)
                remote_id = text(package.get("id"), 255) or text(package.get("name"), 255)
                if remote_id is None:
                    listing.problems.append(RemoteProblem(None, f"package_search result without an id at {start}"))
                    continue
                if remote_id in seen:
                    continue
                seen.add(remote_id)
                if package.get("private") is True or package.get("state") not in (None, "active"):
                    continue  # not public (any more): not listed, so withdrawn if harvested before
                listing.items.append(ListedDataset(remote_id, text(package.get("metadata_modified"), 64)))
                if len(listing.items) >= self.max_datasets:
                    listing.problems.append(RemoteProblem(None, f"stopped at max_datasets={self.max_datasets}"))
                    return listing
            if results and len(seen) == before:
                listing.problems.append(RemoteProblem(None, f"package_search repeats itself at {start}: stopped"))
                return listing
            start += len(results)
            if not results or start >= count:
                break
        listing.complete = True
        return listing

    def detail(self, item: ListedDataset) -> RemoteDataset:
        package = self.call("package_show", id=item.remote_id)
        if not isinstance(package, dict):
            raise FetchError("bad_answer", "package_show: the result is not an object")
        return package_record(package, self.site)


def _extras(package: dict[str, Any]) -> dict[str, str]:
    raw = package.get("extras")
    if isinstance(raw, dict):
        return {str(k): v for k, v in raw.items() if text(v)}
    out = {}
    for item in as_list(raw):
        item = as_dict(item)
        key, value = text(item.get("key"), 63), text(item.get("value"))
        if key and value:
            out[key] = value
    return out


def _open_level(package: dict[str, Any]) -> str | None:
    """The strictest ``open_level`` extra (a list of extras may name the key twice)."""
    raw = package.get("extras")
    items = [{"key": k, "value": v} for k, v in raw.items()] if isinstance(raw, dict) else as_list(raw)
    return strictest(text(as_dict(i).get("value"), 16) for i in items if as_dict(i).get("key") == "open_level")


def _translated(package: dict[str, Any], key: str, lang: str) -> str | None:
    """ckanext-fluent's ``title_translated`` / ``notes_translated``."""
    values = as_dict(package.get(f"{key}_translated"))
    return next((text(v) for k, v in values.items() if str(k).lower().startswith(lang) and text(v)), None)


def _domain(package: dict[str, Any], extras: dict[str, str]) -> str | None:
    for candidate in [extras.get("domain"), *(as_dict(g).get("name") for g in as_list(package.get("groups")))]:
        term = vocab.resolve_domain(text(candidate, 63) or "")
        if term is not None:
            return term.code
    return None


def package_record(package: dict[str, Any], site: str) -> RemoteDataset:
    """A CKAN package dictionary (package_show's result) as a RemoteDataset."""
    remote_id = text(package.get("id"), 255) or text(package.get("name"), 255)
    if remote_id is None:
        raise FetchError("bad_answer", "the package has no id")
    extras = _extras(package)
    name = text(package.get("name"), 255)
    organisation = as_dict(package.get("organization"))
    org_id = text(organisation.get("name"), 100) or text(organisation.get("id"), 100)
    org = (org_id, text(organisation.get("title"), 255) or org_id, text(organisation.get("title_en"), 255)) \
        if org_id else None
    landing = text(package.get("url"))
    if not landing or not urlsplit(landing).scheme.startswith("http"):
        landing = f"{site}/dataset/{name or remote_id}"
    spatial = text(extras.get("spatial"), 255)
    resources = []
    for index, raw in enumerate(as_list(package.get("resources"))):
        res = as_dict(raw)
        if res.get("state") not in (None, "active"):
            continue
        rid = text(res.get("id"), 255) or f"resource-{index + 1}"
        resources.append(RemoteResource(
            remote_id=rid, title=text(res.get("name"), 255), title_en=text(res.get("name_en"), 255),
            description=text(res.get("description")), format=(text(res.get("format"), 32) or "").lower() or None,
            url=text(res.get("url"))))
    tags = []
    for raw in as_list(package.get("tags")):
        tag = text(as_dict(raw).get("name") if isinstance(raw, dict) else raw, 63)
        if tag and tag not in tags:
            tags.append(tag)
    return RemoteDataset(
        remote_id=remote_id, version=text(package.get("metadata_modified"), 64), name=name,
        title=text(package.get("title"), 255) or _translated(package, "title", "zh") or name,
        title_en=text(package.get("title_en"), 255) or _translated(package, "title", "en"),
        description=text(package.get("notes")) or _translated(package, "notes", "zh"),
        description_en=text(package.get("notes_en")) or _translated(package, "notes", "en"),
        tags=tags, organisation=org, licence=text(package.get("license_id"), 63),
        open_level=_open_level(package), domain=_domain(package, extras),
        update_frequency=text(extras.get("update_frequency") or extras.get("frequency"), 16),
        version_label=text(package.get("version"), 32),
        issued=to_date(extras.get("issued") or package.get("metadata_created")),
        modified=to_date(extras.get("modified") or package.get("metadata_modified")),
        contact=text(package.get("maintainer_email") or package.get("maintainer") or package.get("author_email"), 255),
        spatial=None if spatial and spatial.startswith("{") else spatial,  # GeoJSON is not a place name
        temporal_start=to_date(extras.get("temporal_start")), temporal_end=to_date(extras.get("temporal_end")),
        landing_page=landing, usage_notes=text(extras.get("usage_notes")), resources=one_per_table(resources),
    )
