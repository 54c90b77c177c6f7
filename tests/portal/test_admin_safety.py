"""Administration without accidents (issue 13, item 5), through the admin pages: no
decision chosen in advance, confirmations with reasons, re-enabling a user, field titles
and grades in the review, queue counts and ages, audit details as tables."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta

import pytest
from litestar.testing import TestClient
from sqlalchemy import select, update

from opendata.access.models import Application
from opendata.audit.models import AuditRecord
from opendata.db import Database, utcnow
from opendata.portal.admin_queue import working_days_between
from opendata.portal.messages import MESSAGES
from tests.portal.helpers import PASSWORD, make_staff, post_form, register_enterprise, sign_in, sign_out, text_of
from tests.portal.test_admin import submitted


def test_the_review_form_chooses_no_decision_and_shows_field_titles_and_grades(
        client: TestClient, database_url: str) -> None:
    application_id = submitted(client, database_url)
    review = client.get(f"/admin/applications/{application_id}").text
    radios = re.findall(r'<input type="radio" name="decision"[^>]*>', review)
    assert len(radios) == 3 and not any("checked" in r for r in radios)
    assert all("required" in r for r in radios)
    decide = text_of(review.split('class="form decision-form"')[1])
    assert "month 月份" in decide and "headcount 参保人数" in decide
    assert 'data-testid="grade-month">L1 公开<' in review
    summary = text_of(review.split('data-testid="requested-fields"')[1].split("</ul>")[0])
    assert "month 月份 L1 公开" in summary and "headcount 参保人数 L1 公开" in summary
    # Sent without a decision (a browser ignoring `required`): refused, nothing decided.
    none = post_form(client, f"/admin/applications/{application_id}/decide", {"reason": "好"})
    assert none.status_code == 400 and "请选择审核决定" in none.text


def _make_submitted_days_ago(database_url: str, application_id: int, days: int) -> None:
    database = Database(database_url)
    with database.session() as session:
        session.execute(update(Application).where(Application.id == application_id)
                        .values(submitted_at=utcnow() - timedelta(days=days)))
        session.commit()
    database.dispose()


def test_the_queue_counts_states_and_shows_how_long_each_has_waited(client: TestClient, database_url: str) -> None:
    application_id = submitted(client, database_url)
    _make_submitted_days_ago(database_url, application_id, 10)  # ten days: past five working days
    queue = client.get("/admin").text
    assert re.search(r'data-testid="count-submitted">1<', queue)
    assert re.search(r'data-testid="count-approved">0<', queue)
    waited = re.search(rf'data-testid="waiting-{application_id}">([^<]+)<', queue).group(1)
    assert waited.startswith("10 天（") and "个工作日）" in waited
    assert "1 件待审核，其中 1 件已超过 5 个工作日的办理时限" in text_of(queue)
    english = client.get("/admin?lang=en").text
    assert "past the 5-working-day target" in english


@pytest.mark.parametrize(("start", "end", "expected"), [
    (date(2026, 11, 27), date(2026, 12, 4), 5),   # Friday to Friday: one working week
    (date(2026, 11, 28), date(2026, 11, 30), 1),  # Saturday to Monday
    (date(2026, 12, 3), date(2026, 12, 3), 0),
    (date(2026, 12, 4), date(2026, 12, 6), 0),    # Friday to Sunday
])
def test_working_days(start: date, end: date, expected: int) -> None:
    assert working_days_between(start, end) == expected


def test_a_disabled_user_is_re_enabled_with_a_reason_and_signs_in_again(client: TestClient, database_url: str) -> None:
    register_enterprise(client)
    sign_out(client)
    make_staff(database_url, "admin", "admin")
    sign_in(client, "admin")
    assert post_form(client, "/admin/users/acme/disable", {"reason": "核查中。", "confirm": "1"}).status_code == 303
    users = client.get("/admin/users").text
    assert 'data-testid="enable-acme"' in users and 'data-testid="disable-acme"' not in users
    no_reason = post_form(client, "/admin/users/acme/enable", {"reason": ""})
    assert no_reason.status_code == 400 and "请填写理由" in no_reason.text
    enabled = post_form(client, "/admin/users/acme/enable", {"reason": "核查完毕。"})
    assert enabled.status_code == 303 and "notice=user_enabled" in enabled.headers["location"]
    again = post_form(client, "/admin/users/acme/enable", {"reason": "再次"})
    assert again.status_code == 409 and "该账号未被停用" in again.text
    audit = text_of(client.get("/admin/audit?action=account.*").text)
    assert "account.enable" in audit and "核查完毕。" in audit and "account.disable" in audit
    sign_out(client)
    sign_in(client, "acme", PASSWORD)
    assert client.get("/workspace").status_code == 200


def test_audit_details_read_as_a_table_not_json(client: TestClient, database_url: str) -> None:
    submitted(client, database_url)
    page = client.get("/admin/audit?action=application.*").text
    cells = re.findall(r'<td class="details">(.*?)</td></tr>\n', page, re.S)
    assert cells and all('{"' not in cell for cell in cells)
    assert '<table class="details-table">' in page
    database = Database(database_url)
    with database.session() as session:
        raw = session.scalars(select(AuditRecord.details).where(AuditRecord.action == "application.create")).first()
    database.dispose()
    shown = json.loads(raw)
    for name in shown:  # each detail named in the page's language (known names) or as code
        label = MESSAGES[f"detail.{name}"][0] if f"detail.{name}" in MESSAGES else f"<code>{name}</code>"
        assert f'<th scope="row">{label}</th>' in page
    assert '<th scope="row">数据集</th>' in page  # "datasets"


def test_the_api_re_enables_a_user_but_not_in_a_disabled_organisation(client: TestClient, database_url: str) -> None:
    from tests.access.helpers import CREDIT_A, sign_in as api_sign_in

    register_enterprise(client, then_sign_in=False)
    make_staff(database_url, "admin", "admin")
    admin = api_sign_in(client, "admin")
    assert client.post("/api/v1/admin/users/acme/enable", headers=admin).status_code == 409  # not disabled
    assert client.post("/api/v1/admin/users/acme/disable", headers=admin).status_code == 200
    enabled = client.post("/api/v1/admin/users/acme/enable", headers=admin)
    assert enabled.status_code == 200 and enabled.json()["disabled"] is False
    assert client.post(f"/api/v1/admin/organisations/{CREDIT_A}/disable", headers=admin).status_code == 200
    refused = client.post("/api/v1/admin/users/acme/enable", headers=admin)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "organisation_disabled"
