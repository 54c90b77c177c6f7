"""A large upload never keeps the portal from serving (issue 10, item 2).

Before: the whole new table generation was written inside the upload's one transaction,
which on SQLite holds the database's only write lock until the last row, so every sign-in
and every other write waited for the end of the load (and got a 500 after the 30 s busy
timeout on a 3-million-row file). Now the rows are staged in short committed batches and
swapped in at the end (catalogue/staging.py).
"""

from __future__ import annotations

import os
import signal
import sqlite3
import threading
import time
from pathlib import Path

import httpx
import pytest
from litestar.testing import TestClient

from opendata import spool
from opendata.catalogue.rowstore import STAGING_PREFIX
from tests.portal.helpers import make_staff, post_form, sign_in
from tests.processes import serve_env, serving, start, wait_until_serving

UPLOAD = "/publisher/datasets/bus-stops/resources/stops/upload"
ROWS = "/api/v1/datasets/bus-stops/resources/stops/rows"
HEADER = "stop_id,name,district,lines\n"


def big_csv(rows: int, *, bad_at: int | None = None) -> bytes:
    lines = [f"S{i},站点{i},天河区,{'many' if i == bad_at else i % 90}\n" for i in range(1, rows + 1)]
    return (HEADER + "".join(lines)).encode()


def row_tables(database: Path) -> set[str]:
    with sqlite3.connect(database) as connection:
        return {name for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
                if name.startswith("rows_")}


def staging_tables(database: Path) -> set[str]:
    return {name for name in row_tables(database) if name.startswith(STAGING_PREFIX)}


def _upload(client: httpx.Client | TestClient, content: bytes) -> httpx.Response:
    return post_form(client, UPLOAD, files={"file": ("stops.csv", content, "text/csv")})  # type: ignore[arg-type]


def _wait_for(condition, what: str, alive: threading.Thread, timeout: float = 120) -> float:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline and alive.is_alive(), f"{what} never happened"
        time.sleep(0.01)
    return time.monotonic()


@pytest.fixture
def sqlite_env(tmp_path: Path, catalogue_dir: Path) -> tuple[dict[str, str], Path, str]:
    database = tmp_path / "opendata.db"
    url = f"sqlite:///{database}"
    return serve_env(url, tmp_path / "data", catalogues=str(catalogue_dir)), database, url


def test_reads_sign_ins_and_writes_go_on_during_a_large_upload(
    tmp_path: Path, sqlite_env: tuple[dict[str, str], Path, str],
) -> None:
    env, database, url = sqlite_env
    with serving(env, tmp_path / "server.log") as served:
        make_staff(url, "clerk", "publisher", "gz-transport")
        make_staff(url, "boss", "admin")
        publisher = httpx.Client(base_url=served.url, timeout=300)
        sign_in(publisher, "clerk")  # type: ignore[arg-type]
        admin = httpx.Client(base_url=served.url, timeout=120)
        sign_in(admin, "boss")  # type: ignore[arg-type]
        outcome: dict[str, object] = {}

        def send() -> None:
            outcome["response"] = _upload(publisher, big_csv(200_000))
            outcome["ended"] = time.monotonic()

        sender = threading.Thread(target=send)
        sender.start()
        # The body has arrived (it is spooled to a file) once the ingest can begin.
        started = _wait_for(lambda: any(spool.spool_dir(tmp_path / "data").glob("upload-*")), "the upload", sender)
        reads: list[tuple[float, int, str]] = []

        def read(path: str) -> None:
            with httpx.Client(base_url=served.url, timeout=120) as reader:
                while sender.is_alive():
                    status = reader.get(path).status_code
                    reads.append((time.monotonic(), status, path))

        readers = [threading.Thread(target=read, args=(p,)) for p in ("/datasets/bus-stops", ROWS)]
        for thread in readers:
            thread.start()
        visitor = httpx.Client(base_url=served.url, timeout=120)
        sign_in(visitor, "boss")  # type: ignore[arg-type]  (a sign-in writes a session and an audit record)
        signed_in = time.monotonic()
        edited = post_form(admin, "/publisher/datasets/people", {  # type: ignore[arg-type]
            "title_zh": "测试人员名单（修订）", "description_zh": "修订。", "update_frequency": "static", "tags": ""})
        written = time.monotonic()
        sender.join(timeout=300)
        for thread in readers:
            thread.join(timeout=60)
        response = outcome["response"]
        assert isinstance(response, httpx.Response) and response.status_code == 303, response
        ended = outcome["ended"]
        assert edited.status_code == 303
        # Ordering, not timing: before, both waited for the upload's transaction to end.
        assert signed_in < ended and written < ended  # type: ignore[operator]
        assert [r for r in reads if r[1] >= 500] == []
        during = [r for r in reads if started < r[0] < ended]  # type: ignore[operator]
        assert {path for _, _, path in during} == {"/datasets/bus-stops", ROWS}
        assert len(during) >= 4, reads
        print(f"upload {ended - started:.1f} s, {len(during)} reads during it")  # type: ignore[operator]
        assert publisher.get(ROWS, params={"limit": 1}).json()["total"]["value"] == 200_000
        assert staging_tables(database) == set()


def test_a_server_killed_mid_load_serves_the_old_rows_on_restart(
    tmp_path: Path, sqlite_env: tuple[dict[str, str], Path, str],
) -> None:
    env, database, url = sqlite_env
    served = start(env, tmp_path / "first.log")
    try:
        wait_until_serving(served)
        make_staff(url, "clerk", "publisher", "gz-transport")
        before = httpx.get(served.url + ROWS).json()
        served_tables = row_tables(database)
        http = httpx.Client(base_url=served.url, timeout=300)
        sign_in(http, "clerk")  # type: ignore[arg-type]

        def send() -> None:
            try:
                _upload(http, big_csv(100_000))
            except httpx.HTTPError:
                pass  # the server is killed under it: that is the point

        sender = threading.Thread(target=send, daemon=True)
        sender.start()
        _wait_for(lambda: bool(staging_tables(database)), "staging", sender)
        served.process.send_signal(signal.SIGKILL)
        served.process.wait(timeout=30)
        sender.join(timeout=30)
        assert staging_tables(database), "kill -9 left no staging table: the test did not kill mid-load"
    finally:
        served.stop()
    with serving(env, tmp_path / "second.log") as again:
        assert staging_tables(database) == set()
        assert row_tables(database) == served_tables
        assert httpx.get(again.url + ROWS).json() == before
        assert "left by a load that did not finish" in again.output()


def test_a_file_failing_mid_way_leaves_the_old_rows(client: TestClient, database_url: str) -> None:
    """Several batches are already committed to the staging table when row 12,001 fails
    (and on PostgreSQL this is also the upload path working end to end)."""
    from tests.portal.test_publisher import tables

    make_staff(database_url, "clerk", "publisher", "gz-transport")
    sign_in(client, "clerk")
    before_rows = client.get(ROWS).json()
    before = tables(database_url)
    response = _upload(client, big_csv(15_000, bad_at=12_000))
    assert response.status_code == 400
    report = response.text.split('data-testid="ingest-errors"')[1].split("</table>")[0]
    assert "12001" in report and "lines" in report and "many" in report  # line 12,001: the header is line 1
    assert tables(database_url) == before  # no staging table left, the generation unchanged
    assert client.get(ROWS).json() == before_rows
    good = _upload(client, big_csv(12_000))
    assert good.status_code == 303
    assert client.get(ROWS, params={"limit": 1}).json()["total"]["value"] == 12_000
    # One new generation; the replaced one stays as the previous version (docs/versions.md).
    assert len(tables(database_url)) == len(before) + 1 and tables(database_url) > before


@pytest.mark.skipif(os.environ.get("OPENDATA_LOAD_TESTS") != "1",
                    reason="a 3,000,000-row upload (minutes): set OPENDATA_LOAD_TESTS=1")
def test_page_views_stay_under_a_second_at_p95_during_a_3_million_row_upload(
    tmp_path: Path, catalogue_dir: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'opendata.db'}"
    env = serve_env(url, tmp_path / "data", catalogues=str(catalogue_dir), upload_max_bytes=str(1 << 30))
    csv = tmp_path / "stops.csv"
    with open(csv, "w", encoding="utf-8") as out:
        out.write(HEADER)
        for start_at in range(1, 3_000_001, 100_000):
            out.write("".join(f"S{i},站点{i},天河区,{i % 90}\n" for i in range(start_at, start_at + 100_000)))
    with serving(env, tmp_path / "server.log") as served:
        make_staff(url, "clerk", "publisher", "gz-transport")
        publisher = httpx.Client(base_url=served.url, timeout=3600)
        sign_in(publisher, "clerk")  # type: ignore[arg-type]
        outcome: dict[str, httpx.Response] = {}

        def send() -> None:
            with open(csv, "rb") as data:
                outcome["response"] = post_form(publisher, UPLOAD,  # type: ignore[arg-type]
                                                files={"file": ("stops.csv", data, "text/csv")})

        sender = threading.Thread(target=send)
        sender.start()
        _wait_for(lambda: bool(staging_tables(tmp_path / "opendata.db")), "staging", sender, timeout=600)
        views: list[tuple[float, int]] = []
        with httpx.Client(base_url=served.url, timeout=120) as visitor:
            while staging_tables(tmp_path / "opendata.db"):
                began = time.perf_counter()
                status = visitor.get("/datasets/bus-stops").status_code
                views.append((time.perf_counter() - began, status))
        sender.join(timeout=600)
        assert outcome["response"].status_code == 303
        assert len(views) >= 20 and [v for v in views if v[1] >= 500] == []
        seconds = sorted(t for t, _ in views)
        p95 = seconds[int(0.95 * (len(seconds) - 1))]
        print(f"{len(views)} page views during the load: p50 {seconds[len(seconds) // 2]:.3f} s, p95 {p95:.3f} s")
        assert p95 < 1.0, seconds[-20:]
