""""Use your licence" (使用授权): how a licence holder reads what it was granted.

Shown on a licensed dataset's page to the signed-in people of the organisation holding a
licence in force for it, and for each dataset of a licence in the workspace: the licence,
its operations and fields (with titles and grades), today's remaining quota, the resource
ids, a runnable curl (a token with the organisation's real client id, the secret read
from the environment, then rows), the SDK with client credentials, and download links
that work in the browser within the licence (the download door takes the session).

Every snippet is run verbatim by tests/portal/test_licence_use.py.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from litestar import Response, get
from litestar.params import FromPath
from sqlalchemy.orm import Session

from opendata.access import licences
from opendata.access.holdings import Holding, holdings
from opendata.access.models import ApiClient, Licence, LicenceDataset
from opendata.access.clients import list_clients
from opendata.catalogue import service
from opendata.catalogue.offered_formats import button_label, offered
from opendata.catalogue.models import Dataset, Field, Resource
from opendata.compute import psi_grants
from opendata.deps import DbSession
from opendata.portal.page import Page
from opendata.portal.i18n import Translator
from opendata.sdk_wheel import install_comment

SECRET_VARIABLE = "OPENDATA_CLIENT_SECRET"
CLIENT_VARIABLE = "OPENDATA_CLIENT_ID"
SAMPLE_ROWS = 5


@dataclass
class ResourceUse:
    resource: Resource
    fields: list[Field]  # the licensed fields of this resource, in dictionary order
    curl: str = ""
    sdk: str = ""
    downloads: list[tuple[Any, str]] = field(default_factory=list)  # (label key or (zh, en), url)


@dataclass
class LicenceUse:
    licence: Licence
    entry: LicenceDataset
    dataset: Dataset
    status: str
    quota: list[tuple[str, int, int, int]]  # kind, limit, used today, remaining
    client: ApiClient | None  # the API client the snippets name (None: create one first)
    other_clients: list[ApiClient]
    resources: list[ResourceUse]


def _rows_url(base_url: str, dataset: Dataset, resource: Resource, names: list[str]) -> str:
    query = urlencode([("fields", ",".join(names)), ("limit", SAMPLE_ROWS)], safe=",")
    return f"{base_url}/api/v1/datasets/{dataset.id}/resources/{resource.id}/rows?{query}"


def curl_snippet(base_url: str, client_id: str | None, licence_id: int, dataset: Dataset, resource: Resource,
                 names: list[str], secret_comment: str) -> str:
    """A token by client credentials, then the first rows with it; the secret (and, with
    no client yet, the client id) come from the environment, never from the page."""
    user = f"{client_id}:${SECRET_VARIABLE}" if client_id else f"${CLIENT_VARIABLE}:${SECRET_VARIABLE}"
    return (
        f"# {secret_comment}\n"
        f'TOKEN=$(curl -s -u "{user}" -d grant_type=client_credentials -d scope=licence:{licence_id} \\\n'
        f"  {shlex.quote(base_url + '/api/v1/token')} \\\n"
        "  | python3 -c 'import json, sys; print(json.load(sys.stdin)[\"access_token\"])')\n"
        f'curl -s -H "Authorization: Bearer $TOKEN" \\\n'
        f"  {shlex.quote(_rows_url(base_url, dataset, resource, names))}"
    )


def sdk_snippet(base_url: str, client_id: str | None, licence_id: int, dataset: Dataset, resource: Resource,
                names: list[str], download: bool) -> str:
    client = repr(client_id) if client_id else f'os.environ["{CLIENT_VARIABLE}"]'
    lines = [
        install_comment(base_url),
        "import os",
        "",
        "from opendata_client import Client",
        "",
        f"with Client({base_url!r}, client_id={client},",
        f'            client_secret=os.environ["{SECRET_VARIABLE}"], scope="licence:{licence_id}") as od:',
        f"    page = od.rows_page({dataset.id!r}, {resource.id!r}, fields={','.join(names)!r}, limit={SAMPLE_ROWS})",
        "    for row in page.items:",
        "        print(row)",
    ]
    if download:
        lines.append(f"    od.download({dataset.id!r}, {resource.id!r}, \"csv\", {dataset.id + '.csv'!r}, bom=True, "
                     f"fields={','.join(names)!r})")
    return "\n".join(lines)


def _downloads(session: Session, dataset: Dataset, resource: Resource,
               names: list[str]) -> list[tuple[str | tuple[str, str], str]]:
    """(label key, url) per core format; (label (中文, English), url) per plugin format."""
    path = f"/api/v1/datasets/{dataset.id}/resources/{resource.id}/download"
    result: list[tuple[str | tuple[str, str], str]] = []
    # CSV (also for Excel), then every other format the resource is offered in (core and plugins).
    formats: list[tuple[str, bool, str | tuple[str, str]]] = [("csv", False, "download.csv"),
                                                              ("csv", True, "download.csv_excel")]
    formats += [(e.name, False, button_label(e)) for e in offered(session, resource) if e.name != "csv"]
    for fmt, bom, key in formats:
        excel = [("bom", "1"), ("header", "titles")] if bom else []  # Excel: BOM and titled headers
        params = [("format", fmt), *excel, ("fields", ",".join(names))]
        result.append((key, f"{path}?{urlencode(params, safe=',')}"))
    return result


def licence_use(session: Session, holding: Holding, dataset: Dataset, base_url: str, t: Translator) -> LicenceUse:
    """What a holder needs to use ``holding`` on ``dataset``; ``t`` the page's language (the
    curl's comment is in it)."""
    licence, entry = holding.licence, holding.entry
    used = licences.usage_today(session, licence.id)
    quota = [(kind, licences.limit_for(licence, kind), used[kind], max(0, licences.limit_for(licence, kind) - used[kind]))
             for kind in licences.USAGE_KINDS]
    active = [c for c in list_clients(session, licence.organisation_id) if c.revoked_at is None]
    client = active[-1] if active else None  # the newest: the one just created or rotated
    granted = set(entry.fields)
    resources = []
    for resource in dataset.resources:
        names = [f.name for f in resource.fields if f.name in granted]
        if not resource.is_tabular or not names:
            continue
        use = ResourceUse(resource, [f for f in resource.fields if f.name in granted])
        if "query" in entry.operations:
            client_id = client.client_id if client else None
            use.curl = curl_snippet(base_url, client_id, licence.id, dataset, resource, names,
                                    t("use.curl_secret_comment"))
            use.sdk = sdk_snippet(base_url, client_id, licence.id, dataset, resource, names,
                                  "download" in entry.operations)
        if "download" in entry.operations:
            use.downloads = _downloads(session, dataset, resource, names)
        resources.append(use)
    return LicenceUse(licence, entry, dataset, licences.licence_status(licence), quota, client,
                      [c for c in active if c is not client], resources)


def uses_for_visitor(page: "Page", dataset: Dataset) -> list[LicenceUse]:
    """The visitor's organisation's licences in force on ``dataset`` (none for anyone else)."""
    user = page.user
    if user is None or user.role != "enterprise":
        return []
    base_url = str(page.request.base_url).rstrip("/")
    return [licence_use(page.session, h, dataset, base_url, page.t)
            for h in holdings(page.session, user.organisation_id, dataset.id)]


@get("/workspace/licences/{licence_id:int}", name="portal-licence-use", sync_to_thread=True)
def licence_page(page: Page, db_session: DbSession, licence_id: FromPath[int]) -> Response:
    """One licence of the organisation, with how to use it on each of its datasets."""
    principal = page.require("enterprise", action="portal.licence")
    licence = licences.get_licence(db_session, licence_id, principal.user.organisation_id or -1)
    base_url = str(page.request.base_url).rstrip("/")
    uses = []
    for entry in licence.datasets:
        dataset = service.get_dataset(db_session, entry.dataset_id)
        uses.append(licence_use(db_session, Holding(licence, entry), dataset, base_url, page.t))
    return page.render("workspace/licence.html", nav="workspace", licence=licence,
                       licence_state=licences.licence_status(licence), uses=uses,
                       intersection=psi_grants.grants_of(db_session, licence.id))


HANDLERS = [licence_page]
