"""Absolute URLs of the things a standard document points at, as a request reached us."""

from __future__ import annotations

from dataclasses import dataclass

from litestar import Request
from litestar.exceptions import NoRouteMatchFoundException

from opendata.catalogue.metadata import request_api_root


@dataclass(frozen=True)
class Links:
    """``api``: where the API is mounted; ``site``: the host root the portal pages hang off."""

    api: str
    site: str
    has_portal: bool = True

    def dataset_api(self, dataset_id: str) -> str:
        return f"{self.api}/api/v1/datasets/{dataset_id}"

    def landing_page(self, dataset_id: str) -> str:
        """The portal's page of the dataset, or its API metadata when no portal is mounted."""
        if self.has_portal:
            return f"{self.site}/datasets/{dataset_id}"
        return self.dataset_api(dataset_id)

    def ckan_action(self, action: str) -> str:
        return f"{self.api}/api/3/action/{action}"

    def dcat(self, dataset_id: str | None = None, extension: str = "jsonld") -> str:
        if dataset_id is None:
            return f"{self.api}/catalog.{extension}"
        return f"{self.api}/dataset/{dataset_id}.{extension}"

    def datapackage(self, dataset_id: str) -> str:
        return f"{self.api}/dataset/{dataset_id}/datapackage.json"

    def publisher(self, publisher_id: str) -> str:
        return f"{self.api}/api/v1/publishers#{publisher_id}"


def request_links(request: Request) -> Links:
    site = str(request.base_url).rstrip("/")
    try:
        request.app.route_reverse("portal-dataset", dataset_id="x")
        has_portal = True
    except NoRouteMatchFoundException:
        has_portal = False
    return Links(request_api_root(request), site, has_portal)
