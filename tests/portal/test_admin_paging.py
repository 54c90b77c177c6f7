"""Paging on the administrators' lists (issue 13, item 5): the review queue, licences,
users and API clients, models. Pages are made small (two rows) so that three rows page."""

from __future__ import annotations

import re

import pytest
from litestar.testing import TestClient

from opendata.compute.models import ComputeModel
from opendata.db import Database
from opendata.portal import paging
from tests.access.helpers import licensed_enterprise, submitted_application
from tests.portal.test_compute_pages import _pending_model
from tests.portal.helpers import make_staff, post_form, sign_in, text_of


@pytest.fixture(autouse=True)
def two_a_page(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(paging, "ADMIN_PAGE_SIZE", 2)


def _three_licences(client: TestClient, database_url: str) -> list[int]:
    licensed = licensed_enterprise(client, database_url)
    ids = [licensed.licence_id]
    for _ in range(2):
        application_id = submitted_application(client, licensed.enterprise)
        approved = client.post(f"/api/v1/applications/{application_id}/approve", json={}, headers=licensed.admin)
        assert approved.status_code == 200, approved.text
        ids.append(approved.json()["licence_id"])
    client.cookies.clear()
    sign_in(client, "admin")  # the portal's session cookie from here on
    return ids


def _shown(html: str, pattern: str) -> list[int]:
    return [int(n) for n in re.findall(pattern, html)]


def test_the_queue_pages_and_its_summary_counts_the_whole_queue(client: TestClient, database_url: str) -> None:
    licensed = licensed_enterprise(client, database_url)
    waiting = [submitted_application(client, licensed.enterprise) for _ in range(3)]
    client.cookies.clear()
    sign_in(client, "admin")
    first = client.get("/admin").text
    assert _shown(first, r'<a href="/admin/applications/(\d+)">') == sorted(waiting, reverse=True)[:2]
    assert "3 件待审核" in text_of(first)  # all three, though the page shows two
    assert "第 1 / 2 页" in text_of(first) and re.search(r'data-testid="count-submitted">3<', first)
    second_url = re.search(r'<a href="([^"]+)" rel="next">', first).group(1).replace("&amp;", "&")
    assert second_url == "/admin?page=2"
    second = client.get(second_url).text
    assert _shown(second, r'<a href="/admin/applications/(\d+)">') == [min(waiting)]
    assert 'rel="prev"' in second and 'rel="next"' not in second
    # The state filter stays on the pager's links; with one page there is no pager.
    everything = client.get("/admin?state=all").text  # three waiting and one approved
    assert re.search(r'<a href="/admin\?state=all&amp;page=2" rel="next">', everything)
    assert 'data-testid="queue-pager"' not in client.get("/admin?state=approved").text
    # A number past the end shows the last page, anything else the first.
    assert _shown(client.get("/admin?page=99").text, r'<a href="/admin/applications/(\d+)">') == [min(waiting)]
    for junk in ("0", "-1", "abc", "9" * 40):
        assert client.get(f"/admin?page={junk}").status_code == 200
        assert _shown(client.get(f"/admin?page={junk}").text, r'<a href="/admin/applications/(\d+)">') == \
            sorted(waiting, reverse=True)[:2]
    english = text_of(client.get("/admin?page=2&lang=en").text)
    assert "Page 2 of 2" in english and "3 waiting for a decision" in english


def test_licences_page_and_a_revocation_returns_to_its_page(client: TestClient, database_url: str) -> None:
    ids = _three_licences(client, database_url)
    first = client.get("/admin/licences").text
    assert _shown(first, r'data-testid="licence-(\d+)"') == sorted(ids, reverse=True)[:2]
    second = client.get("/admin/licences?page=2").text
    [oldest] = _shown(second, r'data-testid="licence-(\d+)"')
    assert oldest == min(ids)
    action = f"/admin/licences/{oldest}/revoke?page=2"
    assert f'action="{action}"' in second  # the form knows its page
    refused = post_form(client, action, {"reason": "超范围使用。"})  # no confirmation ticked
    assert refused.status_code == 400 and _shown(refused.text, r'data-testid="licence-(\d+)"') == [oldest]
    revoked = post_form(client, action, {"reason": "超范围使用。", "confirm": "1"})
    assert revoked.status_code == 303 and revoked.headers["location"].startswith("/admin/licences?page=2&notice=")
    assert "已撤销" in text_of(client.get("/admin/licences?page=2").text)


def test_users_and_clients_page_separately_and_actions_keep_the_list(client: TestClient, database_url: str) -> None:
    licensed = licensed_enterprise(client, database_url)  # users acme and admin; one client
    for name in ("clerk-a", "clerk-b"):
        make_staff(database_url, name, "publisher", "gz-hrss")
    for name in ("报表系统", "风控系统"):
        created = client.post("/api/v1/clients", json={"name": name}, headers=licensed.enterprise)
        assert created.status_code == 201, created.text
    client.cookies.clear()
    sign_in(client, "admin")
    users = re.compile(r"<tr><td><code>([\w-]+)</code><br>")
    clients = re.compile(r"<tr><td><code>(odc_\w+)</code></td>")
    first = client.get("/admin/users").text
    assert users.findall(first) == ["acme", "admin"] and len(clients.findall(first)) == 2
    assert 'data-testid="users-pager"' in first and 'data-testid="clients-pager"' in first
    both = client.get("/admin/users?page=2&clients_page=2").text
    assert users.findall(both) == ["clerk-a", "clerk-b"] and len(clients.findall(both)) == 1
    assert set(clients.findall(both)).isdisjoint(clients.findall(first))
    # The role filter narrows the list and stays on the links; one page has no pager.
    publishers = client.get("/admin/users?role=publisher").text
    assert users.findall(publishers) == ["clerk-a", "clerk-b"] and 'data-testid="users-pager"' not in publishers
    # Disabling from page 2 comes back to page 2 (and a refusal shows page 2 with why).
    action = "/admin/users/clerk-b/disable?page=2&clients_page=2"
    assert f'action="{action.replace("&", "&amp;")}"' in both
    refused = post_form(client, action, {"reason": "离职。"})
    assert refused.status_code == 400 and users.findall(refused.text) == ["clerk-a", "clerk-b"]
    done = post_form(client, action, {"reason": "离职。", "confirm": "1"})
    assert done.status_code == 303
    assert done.headers["location"].startswith("/admin/users?page=2&clients_page=2&notice=")
    # Junk in the kept numbers is not carried into the form actions.
    assert 'action="/admin/users/acme/disable"' in client.get("/admin/users?page=x&clients_page=1").text
    assert 'action="/admin/users/clerk-b/enable?page=2"' in client.get("/admin/users?page=2&clients_page=0").text


def test_models_page(client: TestClient, database_url: str) -> None:
    first_id = _pending_model(client, database_url)
    database = Database(database_url)
    with database.session() as session:  # two more of the same model, as the compute API would store them
        original = session.get(ComputeModel, first_id)
        columns = {c.key: getattr(original, c.key) for c in ComputeModel.__table__.columns if c.key != "id"}
        session.add_all([ComputeModel(**{**columns, "name": f"评分 {n}"}) for n in (2, 3)])
        session.commit()
    database.dispose()
    first = client.get("/admin/models").text  # pending ones, newest first
    shown = _shown(first, r'data-testid="model-(\d+)"')
    assert len(shown) == 2 and first_id not in shown and 'data-testid="models-pager"' in first
    second = client.get("/admin/models?page=2").text
    assert _shown(second, r'data-testid="model-(\d+)"') == [first_id]
    assert re.search(r'<a href="/admin/models\?state=all&amp;page=2" rel="next">', client.get("/admin/models?state=all").text)
