"""Attacks on the browser download with the portal session (access/holdings.py), written as
raw HTTP: a request without Sec-Fetch-Site (browsers that do not send it) from another
site's page, another organisation's user, a revoked licence, an ungranted field."""

from __future__ import annotations

import pytest
from litestar.testing import TestClient

from tests.access.helpers import CREDIT_B, DOWNLOAD, licensed_enterprise
from tests.portal.helpers import register_enterprise, sign_in

LINK = DOWNLOAD + "?format=csv"


@pytest.fixture
def holder(client: TestClient, database_url: str):
    licensed = licensed_enterprise(client, database_url)
    sign_in(client, "acme")  # the session cookie in the client's jar, as in a browser
    return licensed


@pytest.mark.parametrize("headers", [
    {"Referer": "https://evil.example/page.html"},
    {"Origin": "https://evil.example"},
    {"Origin": "null"},
])
def test_another_sites_page_cannot_download_without_sec_fetch_site(client: TestClient, holder, headers) -> None:
    response = client.get(LINK, headers=headers)
    assert response.status_code == 403, response.text
    assert response.json()["error"]["code"] == "cross_site_download"


def test_the_portals_own_page_without_sec_fetch_site_still_downloads(client: TestClient, holder) -> None:
    own = str(client.base_url).rstrip("/")
    assert client.get(LINK, headers={"Referer": f"{own}/datasets/si-headcount"}).status_code == 200
    assert client.get(LINK).status_code == 200  # a typed address or a bookmark


def test_other_organisations_revoked_licences_and_ungranted_fields_are_refused(
        client: TestClient, database_url: str, holder) -> None:
    assert client.get(LINK + "&fields=credit_code").json()["error"]["code"] == "field_not_licensed"
    register_enterprise(client, "rival", CREDIT_B)
    sign_in(client, "rival")
    assert client.get(LINK).json()["error"]["code"] == "licence_required"
    revoked = client.post(f"/api/v1/licences/{holder.licence_id}/revoke", headers=holder.admin,
                          json={"reason": "test", "confirm": True})
    assert revoked.status_code == 200, revoked.text
    sign_in(client, "acme")
    assert client.get(LINK).json()["error"]["code"] == "licence_required"
