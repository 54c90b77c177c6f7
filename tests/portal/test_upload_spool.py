"""Temporary upload files are removed on any exit and swept at start.

Before: each upload was copied to the system's temporary folder, and a server killed
during the ingest (kill -9) left that copy behind for ever (~9 MB each time).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
from litestar.testing import TestClient

from opendata import create_app, spool
from opendata.settings import Settings
from tests.portal.helpers import make_staff, post_form, sign_in
from tests.processes import serve_env, start, wait_until_serving

UPLOAD = "/publisher/datasets/bus-stops/resources/stops/upload"


def _spooled(data_dir: Path) -> list[Path]:
    folder = spool.spool_dir(data_dir)
    return sorted(folder.iterdir()) if folder.is_dir() else []


def _largest_spooled(data_dir: Path) -> int:
    sizes = []
    for path in _spooled(data_dir):
        try:
            sizes.append(path.stat().st_size)
        except FileNotFoundError:
            pass  # renamed or removed between the listing and the stat
    return max(sizes, default=0)


def _upload(client: httpx.Client | TestClient, content: bytes) -> httpx.Response:
    return post_form(client, UPLOAD, files={"file": ("stops.csv", content, "text/csv")})


def test_good_and_refused_uploads_leave_no_file(client: TestClient, portal_settings: Settings,
                                               database_url: str) -> None:
    make_staff(database_url, "clerk", "publisher", "gz-transport")
    sign_in(client, "clerk")
    assert _upload(client, "stop_id,name,district,lines\nS9,新站,天河区,3\n".encode()).status_code == 303
    assert _upload(client, "stop_id,name,district,lines\nS9,新站,天河区,many\n".encode()).status_code == 400
    assert spool.spool_dir(portal_settings.data_dir).is_dir()  # the uploads went through it
    assert _spooled(portal_settings.data_dir) == []


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_start_up_sweeps_the_files_of_processes_that_are_gone(portal_settings: Settings) -> None:
    folder = spool.spool_dir(portal_settings.data_dir)
    folder.mkdir(parents=True)
    host = spool._host()
    dead = folder / f"upload-{host}-{_dead_pid()}-abc.csv"
    running = folder / f"upload-{host}-{os.getppid()}-def.csv"  # a live process: its upload may be going on
    ancient = folder / f"upload-otherhost-{os.getppid()}-ghi.csv"
    unrelated = folder / "notes.txt"
    for path in (dead, running, ancient, unrelated):
        path.write_bytes(b"x" * 1000)
    os.utime(ancient, (time.time() - spool.STALE_AFTER_SECONDS - 60,) * 2)
    with TestClient(create_app(portal_settings)) as client:
        assert client.get("/healthz").status_code == 200
        assert sorted(p.name for p in _spooled(portal_settings.data_dir)) == sorted([running.name, unrelated.name])


def test_a_server_killed_during_an_upload_leaves_a_file_that_the_next_start_removes(
    tmp_path: Path, database_url: str, catalogue_dir: Path,
) -> None:
    data_dir = tmp_path / "data"
    env = serve_env(database_url, data_dir, catalogues=str(catalogue_dir))
    big = "stop_id,name,district,lines\n" + "".join(f"S{i},站点{i},天河区,{i % 90}\n" for i in range(400_000))
    served = start(env, tmp_path / "first.log")
    try:
        wait_until_serving(served)
        make_staff(database_url, "clerk", "publisher", "gz-transport")
        http = httpx.Client(base_url=served.url, timeout=120)
        sign_in(http, "clerk")  # type: ignore[arg-type]
        sender = threading.Thread(target=lambda: _swallow(lambda: _upload(http, big.encode())), daemon=True)
        sender.start()
        deadline = time.monotonic() + 60
        # kill once a good part of the body is on disk (a slow machine spools slowly)
        while _largest_spooled(data_dir) <= 1_000_000:
            assert time.monotonic() < deadline and sender.is_alive(), "the upload never reached the spool"
            time.sleep(0.01)
        served.process.send_signal(signal.SIGKILL)
        served.process.wait(timeout=30)
        sender.join(timeout=30)
        left = _spooled(data_dir)
        assert len(left) == 1 and left[0].stat().st_size > 1_000_000  # what kill -9 leaves
    finally:
        served.stop()
    again = start(env, tmp_path / "second.log")
    try:
        wait_until_serving(again)
        assert _spooled(data_dir) == []
        assert "left by a process that stopped during an upload" in again.output()
    finally:
        again.stop()


def _swallow(call) -> None:  # noqa: ANN001
    try:
        call()
    except httpx.HTTPError:
        pass  # the server was killed under it: that is the point
