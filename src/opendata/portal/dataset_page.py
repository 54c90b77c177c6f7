"""A dataset's page: metadata, data dictionary, preview, downloads, API and SDK examples.

What the page offers follows the open level:

- 无条件开放: a preview of the first rows (through the API's guard and masks), a filter,
  downloads in every format with that filter, and copyable curl / SDK examples;
- 有条件开放: the way to apply for a licence instead of downloads; to a licence holder,
  how to use its licence (portal.licence_use);
- 不予开放: the computations offered on the subject key instead of rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from litestar import Response, get
from litestar.params import FromPath

from opendata.catalogue import service
from opendata.catalogue.metadata import request_api_root
from opendata.interop.schema_org import dataset_json_ld, script_text
from opendata.catalogue.models import Dataset, Resource
from opendata.catalogue.related import related_datasets
from opendata.catalogue.offered_formats import button_label, offered
from opendata.deps import AppDatabase, DbSession
from opendata.portal import figures
from opendata.portal.feedback_pages import feedback_section
from opendata.portal.licence_use import uses_for_visitor
from opendata.portal.page import Page, url_with
from opendata.portal.showcase_pages import dataset_showcases
from opendata.portal.preview import FILTER_OPERATORS, Preview, RowFilter, build_preview
from opendata.portal.visuals import page_visuals
from opendata.quality.service import dataset_quality
from opendata.sdk_wheel import install_comment
from opendata.stats.service import count_use
from opendata.catalogue.schemas import effective_modified
from opendata.subscriptions.service import mark_seen, subscription_of
from opendata.versions.service import versions_of

NUMERIC_TYPES = ("integer", "decimal", "number")
HISTORY_ON_PAGE = 3  # the latest versions shown; the history page has them all


@dataclass(frozen=True)
class Download:
    key: str  # the label's message key (plugin formats: "download.<name>", labelled by ``label``)
    url: str
    label: tuple[str, str] | None = None  # (中文, English): a plugin format's own label


def api_path(dataset: Dataset, resource: Resource, endpoint: str) -> str:
    return f"/api/v1/datasets/{dataset.id}/resources/{resource.id}/{endpoint}"


def downloads(dataset: Dataset, resource: Resource, row_filter: RowFilter, session: Any = None) -> list[Download]:
    """CSV (also for Excel), then every other format the resource is offered in: the
    core's and those the application's plugins add (catalogue.offered_formats)."""
    path = api_path(dataset, resource, "download")
    extra = row_filter.api_params()

    def url(*params: tuple[str, str]) -> str:
        return f"{path}?{urlencode([*params, *extra])}"

    result = [
        Download("download.csv", url(("format", "csv"))),
        # For Excel: a BOM (so that Excel reads UTF-8) and the dictionary's titles as headers.
        Download("download.csv_excel", url(("format", "csv"), ("bom", "1"), ("header", "titles"))),
    ]
    for exporter in offered(session, resource):
        if exporter.name != "csv":
            label = button_label(exporter)
            result.append(Download(f"download.{exporter.name}", url(("format", exporter.name)),
                                   None if isinstance(label, str) else label))
    return result


def curl_example(base_url: str, dataset: Dataset, resource: Resource, row_filter: RowFilter) -> str:
    query = urlencode([*row_filter.api_params(), ("limit", "5")])
    return f"curl '{base_url}{api_path(dataset, resource, 'rows')}?{query}'"


def sdk_example(base_url: str, dataset: Dataset, resource: Resource, row_filter: RowFilter) -> str:
    arguments = "".join(f", {key}={value!r}" for key, value in row_filter.api_params())
    return (
        f"{install_comment(base_url)}\n"
        "from opendata_client import Client\n\n"
        f'with Client("{base_url}") as od:\n'
        f'    for row in od.rows("{dataset.id}", "{resource.id}"{arguments}):\n'
        "        print(row)\n"
        f'    od.download("{dataset.id}", "{resource.id}", "csv", "{dataset.id}.csv", bom=True{arguments})'
    )


def compute_offers(dataset: Dataset) -> list[dict[str, object]]:
    """What a closed dataset offers instead of rows: verification (核验) and model
    scoring (模型服务) keyed on each resource's subject key."""
    offers = []
    for resource in dataset.resources:
        if not resource.subject_key:
            continue
        others = [f for f in resource.fields if f.name != resource.subject_key]
        offers.append({
            "resource": resource,
            "subject": next((f for f in resource.fields if f.name == resource.subject_key), None),
            "verifiable": others,
            "features": [f for f in others if f.type in NUMERIC_TYPES],
        })
    return offers


@get("/datasets/{dataset_id:str}", name="portal-dataset", sync_to_thread=True)
def dataset_page(page: Page, db_session: DbSession, database: AppDatabase,
                 dataset_id: FromPath[str]) -> Response:
    dataset = service.get_dataset(db_session, dataset_id)  # 404 page when missing
    tabular = [r for r in dataset.resources if r.is_tabular]
    wanted = page.request.query_params.get("resource")
    resource = next((r for r in tabular if r.id == wanted), tabular[0] if tabular else None)
    row_filter = RowFilter.from_request(page.request)
    preview: Preview | None = None
    if resource is not None:
        preview = build_preview(page.request, db_session, dataset, resource, row_filter)
    visuals = page_visuals(page, dataset, resource, row_filter) if preview is not None and preview.error is None \
        else {"map": None, "series": None}
    following = page.principal is not None and subscription_of(db_session, page.principal.user.id, dataset.id)
    if following:
        mark_seen(db_session, page.principal.user.id, dataset)  # looked at: no longer "updated"
    # The masking secret may have just been created: commit before counting the view,
    # which writes on a connection of its own.
    db_session.commit()
    count_use(database.engine, dataset.id, "view")
    base_url = str(page.request.base_url).rstrip("/")
    previewed = preview is not None and preview.error is None
    feedback = feedback_section(page, dataset)
    return page.render(
        "dataset.html",
        status=400 if preview is not None and preview.error is not None else 200,
        nav="datasets",
        dataset=dataset,
        tabular=tabular,
        resource=resource,
        resource_url=lambda r: url_with(f"/datasets/{dataset.id}", [], resource=r.id),
        preview=preview,
        visuals=visuals,
        preview_error=page.t.error(preview.error) if preview is not None and preview.error else None,
        row_filter=row_filter,
        operators=FILTER_OPERATORS,
        downloads=downloads(dataset, resource, row_filter, db_session) if previewed and resource else [],
        curl=curl_example(base_url, dataset, resource, row_filter) if previewed and resource else "",
        sdk=sdk_example(base_url, dataset, resource, row_filter) if previewed and resource else "",
        offers=compute_offers(dataset) if dataset.open_level == "closed" else [],
        apply_url=url_with("/workspace/applications/new", [], dataset=dataset.id),
        licence_uses=uses_for_visitor(page, dataset) if dataset.open_level == "conditional" else [],
        use=figures.dataset_use(db_session, dataset.id),
        modified=effective_modified(dataset),
        history=versions_of(db_session, dataset.id, limit=HISTORY_ON_PAGE),
        following=bool(following),
        quality=dataset_quality(db_session, dataset),
        feedback=feedback,
        related=related_datasets(db_session, dataset),
        showcases=dataset_showcases(page, dataset),
        json_ld=script_text(dataset_json_ld(dataset, base_url, request_api_root(page.request), feedback["rating"])),
    )


HANDLERS = [dataset_page]
