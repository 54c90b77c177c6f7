"""`opendata serve --graceful-timeout` (OPENDATA_SERVE_GRACEFUL_SHUTDOWN_SECONDS) bounds how
long requests in flight delay a stop. Before: a fixed 1 s, not a setting."""

from __future__ import annotations

import signal
import socket
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from opendata.cli import main
from opendata.settings import Settings
from tests.factories import DATA, write_catalogue
from tests.processes import serve_env, serving

DOWNLOAD = "/api/v1/datasets/bus-stops/resources/stops/download?format=csv"


@pytest.fixture
def big_catalogue(tmp_path: Path) -> Path:
    stops = "stop_id,name,district,lines\n" + "".join(f"S{i},站点{i},天河区,{i % 90}\n" for i in range(150_000))
    return write_catalogue(tmp_path / "big", data={**DATA, "data/stops.csv": stops})


def _seconds_to_stop(tmp_path: Path, catalogue: Path, *args: str, **settings: str) -> float:
    tmp_path.mkdir(parents=True)
    # One database for the three runs: the big table is ingested by the first only.
    env = serve_env(f"sqlite:///{tmp_path.parent / 'opendata.db'}", tmp_path / "data", catalogues=str(catalogue),
                    **settings)
    with serving(env, tmp_path / "serve.log", *args) as served:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", served.port))
        sock.sendall(f"GET {DOWNLOAD} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        assert sock.recv(4096).startswith(b"HTTP/1.1 200")
        time.sleep(1)  # the download is in flight, held up by a client that reads nothing more
        started = time.monotonic()
        served.process.send_signal(signal.SIGTERM)
        served.process.wait(timeout=60)
        elapsed = time.monotonic() - started
        sock.close()
    return elapsed


def test_the_graceful_timeout_bounds_the_wait_for_requests_in_flight(tmp_path: Path, big_catalogue: Path) -> None:
    quick = _seconds_to_stop(tmp_path / "a", big_catalogue)  # the default: 1 s
    patient = _seconds_to_stop(tmp_path / "b", big_catalogue, "--graceful-timeout", "6")
    from_env = _seconds_to_stop(tmp_path / "c", big_catalogue, serve_graceful_shutdown_seconds="6")
    assert quick < 4.5, quick
    assert 5.5 <= patient < 15, patient
    assert 5.5 <= from_env < 15, from_env


def test_the_setting_is_read_from_the_environment_and_checked() -> None:
    assert Settings.from_env({"OPENDATA_SERVE_GRACEFUL_SHUTDOWN_SECONDS": "12.5"}).serve_graceful_shutdown_seconds == 12.5
    result = CliRunner().invoke(main, ["serve", "--graceful-timeout", "-1"])
    assert result.exit_code == 2 and "--graceful-timeout cannot be negative" in result.output
