"""Following datasets: the button and the API, "updated" in the account page and the
workspace, and e-mails through a real (local) SMTP server, retried when it is down."""

from __future__ import annotations

import email
import email.policy
import socket
import time
from datetime import timedelta
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from litestar.testing import TestClient
from sqlalchemy import select

from opendata import create_app
from opendata.db import Database, utcnow
from opendata.settings import Settings
from opendata.subscriptions.mailer import deliver_pending
from opendata.subscriptions.models import OutboxMail
from tests.access.helpers import make_staff, sign_in as api_sign_in
from tests.factories import DATA
from tests.portal.helpers import post_form, register_enterprise, sign_in, sign_out, text_of
from tests.versions.test_history import CHANGED_STOPS, reload, upload


class Sink:
    """An SMTP server that keeps what it receives."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], str]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, ANN201, N802 - aiosmtpd's hook
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content.decode("utf-8")))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def mail_settings(portal_settings: Settings, smtp_port: int) -> Settings:
    return portal_settings.replace(smtp_host="127.0.0.1", smtp_port=smtp_port, smtp_from="portal@gz.example",
                                   mail_poll_seconds=0.2, mail_retry_seconds=60, base_url="http://portal.test")


def outbox(database_url: str) -> list[OutboxMail]:
    database = Database(database_url)
    with database.session() as session:
        rows = list(session.scalars(select(OutboxMail).order_by(OutboxMail.id)))
        session.expunge_all()
    database.dispose()
    return rows


def wait_for(condition, seconds: float = 15.0) -> None:  # noqa: ANN001
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_a_follower_sees_updated_and_gets_an_email(mail_settings: Settings, smtp_port: int, database_url: str,
                                                   catalogue_dir: Path) -> None:
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    try:
        with TestClient(create_app(mail_settings)) as client:
            register_enterprise(client, "acme")  # signs in
            assert "关注" in client.get("/datasets/bus-stops").text
            followed = post_form(client, "/datasets/bus-stops/follow")
            assert followed.status_code == 303
            page = text_of(client.get("/datasets/bus-stops").text)
            assert "取消关注" in page
            assert "updated-bus-stops" not in client.get("/account").text

            make_staff(database_url, "clerk", "publisher", "gz-transport")
            sign_out(client)
            sign_in(client, "clerk")
            assert upload(client, CHANGED_STOPS.encode()).status_code == 303
            sign_out(client)
            sign_in(client, "acme")
            wait_for(lambda: len(sink.messages) == 1)
            sender, recipients, content = sink.messages[0]
            assert sender == "portal@gz.example" and recipients == ["acme@example.com"]
            mail = email.message_from_string(content, policy=email.policy.default)
            assert "广州市公交站点 v2" in mail["Subject"]
            body = mail.get_content()
            assert "http://portal.test/datasets/bus-stops/history" in body and "+1 −1 ~1" in body
            assert outbox(database_url)[0].status == "sent"

            account = client.get("/account").text
            assert 'data-testid="updated-bus-stops"' in account and "已更新" in account
            assert 'data-testid="updated-bus-stops"' in client.get("/workspace").text
            client.get("/datasets/bus-stops")  # looking at it: no longer "updated"
            assert 'data-testid="updated-bus-stops"' not in client.get("/account").text

            post_form(client, "/datasets/bus-stops/unfollow")
            reload(database_url, catalogue_dir, {"data/stops.csv": DATA["data/stops.csv"]})
            time.sleep(1)
            assert len(sink.messages) == 1  # no longer a follower: no mail
    finally:
        controller.stop()


def test_the_api_follows_lists_and_unfollows(client: TestClient, database_url: str, catalogue_dir: Path) -> None:
    assert client.put("/api/v1/datasets/bus-stops/subscription").status_code == 401
    make_staff(database_url, "dev", "developer")
    me = api_sign_in(client, "dev")
    assert client.put("/api/v1/datasets/nope/subscription", headers=me).status_code == 404
    done = client.put("/api/v1/datasets/bus-stops/subscription", headers=me)
    assert done.status_code == 200 and done.json()["updated"] is False
    reload(database_url, catalogue_dir, {"data/stops.csv": CHANGED_STOPS})
    listing = client.get("/api/v1/subscriptions", headers=me).json()
    assert [(s["dataset"], s["version_number"], s["updated"]) for s in listing] == [("bus-stops", 2, True)]
    assert client.post("/api/v1/datasets/bus-stops/subscription/seen", headers=me).json()["updated"] is False
    assert client.delete("/api/v1/datasets/bus-stops/subscription", headers=me).status_code == 204
    assert client.get("/api/v1/subscriptions", headers=me).json() == []
    # No SMTP server configured: the message waits in the outbox, nothing is sent.
    assert [m.status for m in outbox(database_url)] == ["pending"]


def test_a_failed_send_is_retried_later_and_never_blocks_the_upload(
        mail_settings: Settings, smtp_port: int, database_url: str) -> None:
    with TestClient(create_app(mail_settings.replace(mail_poll_seconds=3600))) as client:
        make_staff(database_url, "dev", "developer")
        me = api_sign_in(client, "dev")
        client.put("/api/v1/datasets/bus-stops/subscription", headers=me)
        make_staff(database_url, "clerk", "publisher", "gz-transport")
        sign_in(client, "clerk")
        assert upload(client, CHANGED_STOPS.encode()).status_code == 303  # no SMTP server listens
        # Wait while the portal runs: closing it stops the mailer, which may not have woken yet.
        wait_for(lambda: outbox(database_url)[0].attempts == 1)
    database = Database(database_url)
    try:
        failed = outbox(database_url)[0]
        assert failed.status == "pending" and failed.last_error and failed.next_attempt_at > utcnow()
        assert deliver_pending(database, mail_settings).sent == 0  # not due yet
        sink = Sink()
        controller = Controller(sink, hostname="127.0.0.1", port=smtp_port)
        controller.start()
        try:
            later = utcnow() + timedelta(seconds=61)
            assert deliver_pending(database, mail_settings, now=later).sent == 1
            assert len(sink.messages) == 1 and outbox(database_url)[0].status == "sent"
            assert deliver_pending(database, mail_settings, now=later).sent == 0  # sent once
        finally:
            controller.stop()
        # The last attempt fails: the message is given up, and says why.
        with database.transaction() as session:
            session.add(OutboxMail(to_address="x@example.com", subject="s", body="b"))
        unreachable = mail_settings.replace(mail_max_attempts=1, smtp_port=free_port())
        assert deliver_pending(database, unreachable).failed == 1
        assert outbox(database_url)[-1].status == "failed" and outbox(database_url)[-1].last_error
    finally:
        database.dispose()


def test_a_title_with_line_breaks_injects_no_header_and_one_bad_message_blocks_no_other(
        mail_settings: Settings, smtp_port: int, database_url: str) -> None:
    """Attack: a publisher puts CR/LF and a Bcc line into a dataset's title, then uploads.
    The follower's subject stays one line (no header added, no extra recipient), and a
    message that cannot be sent at all (a To with a line break) fails alone: the messages
    after it in the outbox still go out, in the same round."""
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    database = Database(database_url)
    try:
        with TestClient(create_app(mail_settings)) as client:
            make_staff(database_url, "dev", "developer")
            me = api_sign_in(client, "dev")
            client.put("/api/v1/datasets/bus-stops/subscription", headers=me)
            make_staff(database_url, "clerk", "publisher", "gz-transport")
            clerk = api_sign_in(client, "clerk")
            edited = client.patch("/api/v1/datasets/bus-stops", headers=clerk,
                                  json={"title_zh": "公交站点\r\nBcc: attacker@evil.example\r\nX-Evil: 1"})
            assert edited.status_code == 200, edited.text
            sign_in(client, "clerk")
            assert upload(client, CHANGED_STOPS.encode()).status_code == 303
            wait_for(lambda: len(sink.messages) == 1)  # the portal's own mailer sends it
        [(_, recipients, content)] = sink.messages
        assert recipients == ["dev@gz.gov.cn"]
        mail = email.message_from_string(content, policy=email.policy.default)
        assert mail["Bcc"] is None and mail["X-Evil"] is None
        assert mail["Subject"] == "数据集已更新 / Dataset updated: 公交站点 Bcc: attacker@evil.example X-Evil: 1 v2"

        with database.transaction() as session:  # rows as an older portal may have written them
            session.add(OutboxMail(to_address="victim@example.com\r\nBcc: attacker@evil.example", subject="s",
                                   body="b"))
            session.add(OutboxMail(to_address="old@example.com", subject="旧\r\nBcc: attacker@evil.example", body="b"))
        done = deliver_pending(database, mail_settings, now=utcnow() + timedelta(seconds=1))
        assert (done.sent, done.retried) == (1, 1)
        _, recipients, content = sink.messages[1]
        mail = email.message_from_string(content, policy=email.policy.default)
        assert recipients == ["old@example.com"] and mail["Bcc"] is None and mail["Subject"] == "旧 Bcc: attacker@evil.example"
        bad = next(m for m in outbox(database_url) if m.to_address.startswith("victim"))
        assert bad.status == "pending" and bad.attempts == 1 and "ValueError" in bad.last_error
    finally:
        controller.stop()
        database.dispose()
