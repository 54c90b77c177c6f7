"""Driving the access API as its users would: register, sign in, apply, decide, get tokens."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from litestar.testing import TestClient
from sqlalchemy import select

from opendata import localtime
from opendata.access.accounts import AccountInput, create_user
from opendata.access.models import User
from opendata.audit.models import AuditRecord
from opendata.db import Database
from opendata.demo.identifiers import make_credit_code

PASSWORD = "correct horse battery"
CREDIT_A = make_credit_code("9", "1", "440101", "MA5CAAAA")
CREDIT_B = make_credit_code("9", "1", "440106", "MA5CBBBB")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def basic(client_id: str, secret: str) -> dict[str, str]:
    raw = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


def make_staff(database_url: str, username: str, role: str, publisher_id: str | None = None) -> None:
    """Publisher and admin accounts are made by an operator, not over HTTP (once per name)."""
    database = Database(database_url)
    with database.session() as session:
        if session.scalar(select(User.id).where(User.username == username)) is None:
            create_user(session, AccountInput(username=username, email=f"{username}@gz.gov.cn",
                                              password=PASSWORD, role=role, publisher_id=publisher_id))
            session.commit()
    database.dispose()


def register_enterprise(client: TestClient, username: str, credit_code: str) -> dict[str, Any]:
    response = client.post("/api/v1/auth/register", json={
        "role": "enterprise", "username": username, "email": f"{username}@example.com",
        "password": PASSWORD, "organisation": {
            "name": f"{username} 科技有限公司", "credit_code": credit_code,
            "contact_name": "陈经理", "contact_phone": "020-88888888",
        },
    })
    # Registration answers neutrally (202, the same body for new and taken identifiers).
    assert response.status_code == 202, response.text
    return response.json()


def sign_in(client: TestClient, username: str) -> dict[str, str]:
    response = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    client.cookies.clear()  # these tests authenticate with the bearer session token
    return bearer(response.json()["session_token"])


def local_today() -> date:
    """Licence dates are dates in the portal's time zone (default Asia/Shanghai), whatever
    the machine's."""
    return localtime.local_day(localtime.zone())


def application_body(**changes: Any) -> dict[str, Any]:
    today = local_today()
    body = {
        "items": [{"dataset": "si-headcount", "operations": ["query", "download"],
                   "fields": ["month", "headcount"]}],
        "purpose": "评估企业用工规模，用于普惠金融授信。",
        "scenario": "银行对小微企业的授信前核验。",
        "start_date": (today - timedelta(days=1)).isoformat(),
        "end_date": (today + timedelta(days=90)).isoformat(),
        "terms_accepted": True,
    }
    body.update(changes)
    return body


@dataclass
class Licensed:
    """An enterprise with an approved licence, an API client and the people involved."""

    enterprise: dict[str, str]
    admin: dict[str, str]
    application_id: int
    licence_id: int
    client_id: str
    client_secret: str

    def token(self, client: TestClient, **form: str) -> str:
        response = client.post("/api/v1/token", data={"grant_type": "client_credentials", **form},
                               headers=basic(self.client_id, self.client_secret))
        assert response.status_code == 200, response.text
        return response.json()["access_token"]


def submitted_application(client: TestClient, headers: dict[str, str], **changes: Any) -> int:
    created = client.post("/api/v1/applications", json=application_body(**changes), headers=headers)
    assert created.status_code == 201, created.text
    application_id = created.json()["id"]
    submitted = client.post(f"/api/v1/applications/{application_id}/submit", headers=headers)
    assert submitted.status_code == 200, submitted.text
    return application_id


def licensed_enterprise(client: TestClient, database_url: str, username: str = "acme",
                        credit_code: str = CREDIT_A, approval: dict[str, Any] | None = None,
                        admin_name: str = "admin", **changes: Any) -> Licensed:
    register_enterprise(client, username, credit_code)
    enterprise = sign_in(client, username)
    make_staff(database_url, admin_name, "admin")
    admin = sign_in(client, admin_name)
    application_id = submitted_application(client, enterprise, **changes)
    approved = client.post(f"/api/v1/applications/{application_id}/approve", json=approval or {}, headers=admin)
    assert approved.status_code == 200, approved.text
    created = client.post("/api/v1/clients", json={"name": "授信系统"}, headers=enterprise)
    assert created.status_code == 201, created.text
    return Licensed(enterprise, admin, application_id, approved.json()["licence_id"],
                    created.json()["client_id"], created.json()["client_secret"])


ROWS = "/api/v1/datasets/si-headcount/resources/monthly/rows"
DOWNLOAD = "/api/v1/datasets/si-headcount/resources/monthly/download"
ARREARS_ROWS = "/api/v1/datasets/si-arrears/resources/arrears/rows"


def latest_audit(database_url: str) -> AuditRecord:
    database = Database(database_url)
    with database.session() as session:
        record = session.scalars(select(AuditRecord).order_by(AuditRecord.id.desc()).limit(1)).one()
    database.dispose()
    return record


def assert_refused_and_audited(response: Any, status: int, code: str, database_url: str,
                               action: str | None = None) -> AuditRecord:
    """The response is the project error with ``code``, and the newest audit record is
    its refusal, committed even though the request itself was rolled back."""
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code, response.text
    record = latest_audit(database_url)
    assert (record.outcome, record.code) == ("refused", code)
    assert record.path == response.request.url.path
    if action is not None:
        assert record.action == action
    return record
