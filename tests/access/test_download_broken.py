"""A download broken off by the client is refunded and audited as incomplete (issue 10).

Before: every download was charged and audited as a success before a byte was sent.
"""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest
from litestar.testing import TestClient
from sqlalchemy import select

from opendata import create_app
from opendata.audit.models import AuditRecord
from opendata.db import Database
from opendata.settings import Settings
from tests.access.conftest import ACCESS_DATA, ARREARS
from tests.access.helpers import DOWNLOAD, Licensed, bearer
from tests.access.test_download_accounting import downloads_counted, usage
from tests.factories import manifest, write_catalogue
from tests.serving import running_server

BIG_ROWS = 150_000


@pytest.fixture
def catalogue_dir(tmp_path: Path) -> Path:
    """The access catalogue with a headcount table large enough not to fit in socket buffers."""
    raw = manifest()
    raw["datasets"].append(ARREARS)
    big = "credit_code,month,headcount\n" + "".join(
        f"91440101MA5CXXXX1A,{2000 + i // 12 % 900:04d}-{i % 12 + 1:02d}-01,{i}\n" for i in range(BIG_ROWS))
    return write_catalogue(tmp_path / "access", raw, {**ACCESS_DATA, "data/headcount.csv": big})


def _audit_of(database_url: str, outcome: str) -> AuditRecord | None:
    database = Database(database_url)
    with database.session() as session:
        record = session.scalars(select(AuditRecord).where(AuditRecord.action == "data.download",
                                                           AuditRecord.outcome == outcome)).first()
    database.dispose()
    return record


def test_a_download_broken_off_by_the_client_is_refunded_and_audited_incomplete(
    client: TestClient, licensed: Licensed, portal_settings: Settings, database_url: str,
) -> None:
    token = licensed.token(client)
    with running_server(create_app(portal_settings.replace(load_catalogues_on_startup=False))) as url:
        port = int(url.rsplit(":", 1)[1])
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", port))
        sock.sendall((f"GET {DOWNLOAD}?format=csv&fields=month,headcount HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                      f"Authorization: Bearer {token}\r\n\r\n").encode())
        first = sock.recv(4096)
        assert first.startswith(b"HTTP/1.1 200"), first[:200]
        assert usage(client, licensed)["downloads"] == 1  # charged at the start: the quota was checked
        sock.close()  # the client goes away with most of the file unsent
        deadline = time.monotonic() + 30
        while (record := _audit_of(database_url, "incomplete")) is None:
            assert time.monotonic() < deadline, "the broken download was never settled"
            time.sleep(0.1)
    assert record.code == "stream_broken" and '"refunded":1' in record.details
    assert _audit_of(database_url, "success") is None
    assert usage(client, licensed)["downloads"] == 0
    assert downloads_counted(database_url) == 0
    # The next whole download is charged and audited as usual.
    whole = client.get(DOWNLOAD, params={"format": "csv", "fields": "month,headcount"}, headers=bearer(token))
    assert whole.status_code == 200 and len(whole.text.splitlines()) == BIG_ROWS + 1
    assert usage(client, licensed)["downloads"] == 1
    assert _audit_of(database_url, "success") is not None
