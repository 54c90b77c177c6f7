"""Start-up is safe when several processes start at once on a fresh database.

Before: migrations and the first catalogue load took no lock, and `opendata serve
--workers 3` on an empty PostgreSQL lost 2 of 3 workers in 3 of 3 runs, then exited 0.
"""

from __future__ import annotations

from pathlib import Path

import re
import signal
import time

import httpx
import pytest

from tests.processes import serve_env, start, wait_until_serving


STOPPED = (0, -signal.SIGTERM)


def _count_datasets(url: str) -> int:
    response = httpx.get(url + "/api/v1/datasets", timeout=10)
    assert response.status_code == 200, response.text
    return response.json()["total"]


def test_three_processes_start_at_once_on_a_fresh_database(tmp_path: Path, empty_database_url: str,
                                                           catalogue_dir: Path) -> None:
    env = serve_env(empty_database_url, tmp_path / "data", catalogues=str(catalogue_dir))
    servers = [start(env, tmp_path / f"serve-{i}.log") for i in range(3)]
    try:
        for served in servers:
            wait_until_serving(served)
        for served in servers:
            assert _count_datasets(served.url) == 3
        logs = "".join(s.output() for s in servers)
        # One process loaded the catalogue; the others waited for it and found it loaded.
        assert logs.count("catalogue mini: unchanged") == 2, logs
    finally:
        codes = [served.stop() for served in servers]
    # uvicorn ends a server stopped by SIGTERM by re-raising that signal once it is done.
    assert all(code in STOPPED for code in codes), (codes, "".join(s.output() for s in servers))


def test_serve_with_three_workers_on_a_fresh_database(tmp_path: Path, empty_database_url: str,
                                                      catalogue_dir: Path) -> None:
    env = serve_env(empty_database_url, tmp_path / "data", catalogues=str(catalogue_dir))
    served = start(env, tmp_path / "serve.log", "--workers", "3")
    try:
        wait_until_serving(served)
        assert _count_datasets(served.url) == 3
        deadline_log = served.output()
        for _ in range(200):
            if deadline_log.count("Application startup complete") == 3:
                break
            time.sleep(0.1)
            deadline_log = served.output()
        assert deadline_log.count("Application startup complete") == 3, deadline_log
    finally:
        code = served.stop()
    assert code in STOPPED, served.output()
    assert "exited with status" not in served.output()


@pytest.mark.parametrize("workers", ["1", "2"])
def test_serve_exits_non_zero_when_a_worker_cannot_start(tmp_path: Path, workers: str) -> None:
    env = serve_env(f"sqlite:///{tmp_path / 'opendata.db'}", tmp_path / "data",
                    catalogues=str(tmp_path / "no-such-catalogue"))
    served = start(env, tmp_path / "serve.log", "--workers", workers)
    code = served.process.wait(timeout=120)
    assert code != 0, served.output()
    if workers == "2":
        assert "exited with status 3" in served.output()


def test_serve_with_workers_exits_non_zero_after_a_worker_died(tmp_path: Path) -> None:
    import os

    env = serve_env(f"sqlite:///{tmp_path / 'opendata.db'}", tmp_path / "data", catalogues="")
    served = start(env, tmp_path / "serve.log", "--workers", "2")
    try:
        wait_until_serving(served)
        deadline = time.monotonic() + 60
        while len(pids := re.findall(r"Started server process \[(\d+)\]", served.output())) < 2:
            assert time.monotonic() < deadline, served.output()
            time.sleep(0.1)
        os.kill(int(pids[0]), signal.SIGKILL)  # the OOM killer, say
        while "died" not in served.output():  # uvicorn notices and starts a replacement
            assert time.monotonic() < deadline, served.output()
            time.sleep(0.1)
        wait_until_serving(served)
    finally:
        code = served.stop()
    assert code == 1, served.output()
    assert f"worker process {pids[0]} exited with status -9" in served.output()


def test_three_demo_commands_at_once_on_a_fresh_database(tmp_path: Path, empty_database_url: str) -> None:
    import subprocess
    import sys

    env = serve_env(empty_database_url, tmp_path / "data")
    runs = [subprocess.Popen([sys.executable, "-m", "opendata", "demo"], env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True) for _ in range(3)]
    outputs = [run.communicate(timeout=300)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0, 0], outputs
    # They took turns: one created the catalogue, the others found it in place.
    created = sorted(int(re.search(r"(\d+) created", out).group(1)) for out in outputs)  # type: ignore[union-attr]
    assert created[:2] == [0, 0] and created[2] > 0, outputs
