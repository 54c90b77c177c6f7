"""`opendata serve` as real processes, for tests of what happens between processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import httpx

from tests.serving import free_port

SRC = str(Path(__file__).resolve().parents[1] / "src")


def serve_env(database_url: str, data_dir: Path, **settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENDATA_")}
    env.update({"PYTHONPATH": SRC, "OPENDATA_DATABASE_URL": database_url, "OPENDATA_DATA_DIR": str(data_dir),
                "OPENDATA_SECURE_COOKIES": "0"})
    env.update({f"OPENDATA_{k.upper()}": v for k, v in settings.items()})
    return env


class Served:
    def __init__(self, process: subprocess.Popen, port: int, log: Path) -> None:
        self.process, self.port, self.log = process, port, log
        self.url = f"http://127.0.0.1:{port}"

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self, timeout: float = 60) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()


def start(env: dict[str, str], log: Path, *args: str) -> Served:
    port = free_port()
    handle = open(log, "wb")
    process = subprocess.Popen([sys.executable, "-m", "opendata", "serve", "--port", str(port), *args],
                               env=env, stdout=handle, stderr=subprocess.STDOUT)
    handle.close()
    return Served(process, port, log)


def wait_until_serving(served: Served, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if served.process.poll() is not None:
            raise AssertionError(f"the server exited with {served.process.returncode}:\n{served.output()}")
        try:
            if httpx.get(served.url + "/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"the server did not start in {timeout} s:\n{served.output()}")


@contextmanager
def serving(env: dict[str, str], log: Path, *args: str) -> Iterator[Served]:
    served = start(env, log, *args)
    try:
        wait_until_serving(served)
        yield served
    finally:
        served.stop()
