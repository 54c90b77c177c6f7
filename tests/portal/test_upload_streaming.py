"""An upload's body is passed on as it arrives, never held whole in the server's memory.

Before: the input guard read every upload body into memory (and joined it, a second copy)
before any handler ran -- before the CSRF check or the sign-in, so anyone could make the
server hold 128 MiB per 64 MiB body in flight, as many at once as connections allowed.
Measured with tracemalloc through a real socket (uvicorn hands the body on in parts; a
24 MiB upload traced 72 MiB before):
memory, not time, so the load of the machine does not change the outcome.
"""

from __future__ import annotations

import time
import tracemalloc
from pathlib import Path
from typing import Iterator

import httpx
import pytest
from sqlalchemy import select

from opendata import create_app
from opendata.audit.models import AuditRecord
from opendata.db import Database
from opendata.settings import Settings
from tests.serving import running_server

UPLOAD = "/publisher/datasets/bus-stops/resources/stops/upload"
BOUNDARY = "bOuNdArY7Ma4YWxkTrZu0gW"
PART = 64 * 1024


def multipart(file_bytes: int) -> Iterator[bytes]:
    """A one-file multipart body of about ``file_bytes``, made part by part (the client holds
    one part at a time, so what is measured is the server's share)."""
    yield (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"stops.csv\"\r\n"
           "Content-Type: text/csv\r\n\r\nstop_id,name,district,lines\r\n").encode()
    line = b"S1,station,district,1\n"
    part = line * (PART // len(line))
    for _ in range(file_bytes // len(part)):
        yield part
    yield f"\r\n--{BOUNDARY}--\r\n".encode()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=f"sqlite:///{tmp_path / 'portal.db'}",
                    load_catalogues_on_startup=False, secure_cookies=False)


def post(url: str, file_bytes: int) -> httpx.Response:
    return httpx.post(url + UPLOAD, content=multipart(file_bytes), timeout=120,
                      headers={"content-type": f"multipart/form-data; boundary={BOUNDARY}"})


def test_an_anonymous_upload_is_not_held_in_memory(settings: Settings) -> None:
    body = 12 * 1024 * 1024  # under the 64 MiB upload limit: the guard lets it through
    with running_server(create_app(settings)) as url:
        post(url, PART * 4)  # the first request's imports and caches are not the body's
        tracemalloc.start()
        try:
            response = post(url, body)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert response.status_code == 403  # no form token: refused, after its body was read
    # The multipart parser keeps 1 MiB of a file in memory, then writes it to disk.
    assert peak < 8 * 1024 * 1024, f"{peak / 2**20:.1f} MiB traced during a {body / 2**20:.0f} MiB upload"


def test_a_streamed_upload_over_the_limit_is_413_and_audited(settings: Settings) -> None:
    # No Content-Length (chunked): the limit is found while the body arrives, not up front.
    with running_server(create_app(settings.replace(upload_max_bytes=1024 * 1024))) as url:
        try:
            status = post(url, 3 * 1024 * 1024).status_code
        except httpx.TransportError:  # the server may close before the client has sent it all
            status = None
    assert status in (413, None)
    database = Database(settings.database_url)  # type: ignore[arg-type]
    try:
        for _ in range(100):  # the portal audits a refusal after answering it
            with database.session() as session:
                refusals = session.scalars(select(AuditRecord).where(AuditRecord.code == "body_too_large")).all()
            if refusals:
                break
            time.sleep(0.1)
    finally:
        database.dispose()
    assert [(r.outcome, r.path) for r in refusals] == [("refused", UPLOAD)]


def text_field(field_bytes: int) -> Iterator[bytes]:
    """A multipart body whose one part is a form field, not a file (no filename): the form
    parser keeps such a part in memory, whole, and decodes it."""
    yield f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\n".encode()
    part = b"x" * PART
    for _ in range(field_bytes // len(part)):
        yield part
    yield f"\r\n--{BOUNDARY}--\r\n".encode()


def test_a_huge_form_field_in_an_upload_is_413_not_held(settings: Settings) -> None:
    # An upload's file goes to disk, its other fields stay in memory: they are bounded like
    # any form body (request_body_max_bytes), else an anonymous visitor made the server hold
    # a 24 MiB "title" twice over, whatever the body budget.
    body = 24 * 1024 * 1024
    headers = {"content-type": f"multipart/form-data; boundary={BOUNDARY}"}
    with running_server(create_app(settings.replace(request_body_max_bytes=1024 * 1024))) as url:
        post(url, PART * 4)
        tracemalloc.start()
        try:
            try:
                status = httpx.post(url + UPLOAD, content=text_field(body), headers=headers, timeout=120).status_code
            except httpx.TransportError:  # the server may close before the client has sent it all
                status = None
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        # A small field and a file beside it still pass the guard (refused later, by CSRF).
        small = (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nok\r\n".encode()
                 + b"".join(multipart(PART * 64)))
        assert httpx.post(url + UPLOAD, content=small, headers=headers, timeout=60).status_code == 403
    assert status in (413, None)
    assert peak < 8 * 1024 * 1024, f"{peak / 2**20:.1f} MiB traced for a {body / 2**20:.0f} MiB form field"
    database = Database(settings.database_url)  # type: ignore[arg-type]
    try:
        for _ in range(100):  # the portal audits a refusal after answering it
            with database.session() as session:
                refusals = session.scalars(select(AuditRecord).where(AuditRecord.code == "body_too_large")).all()
            if refusals:
                break
            time.sleep(0.1)
    finally:
        database.dispose()
    assert [(r.outcome, r.path) for r in refusals] == [("refused", UPLOAD)]
