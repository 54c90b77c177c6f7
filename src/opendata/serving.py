"""How ``opendata serve`` runs uvicorn: one process, or a supervisor of worker processes.

uvicorn's own supervisor (``--workers N``) stops when a worker fails to start but then
exits 0, and restarts a worker that dies later without saying so in its exit status: an
init system or a container orchestrator believed a broken deployment was fine. Here the
supervisor's exit status is non-zero whenever a worker died with a failure, and says which.

The supervisor binds the listening socket itself and hands it to the workers. asyncio turns
Nagle's algorithm off (TCP_NODELAY) on an accepted connection only when the socket says
``proto == IPPROTO_TCP``, and uvicorn releases before the fix of encode/uvicorn#3149 bound
it with proto 0: every keep-alive response after the first then waited ~40 ms for the
client's delayed ACK. ``listening_socket`` binds with the protocol stated, whatever
uvicorn version is installed.
"""

from __future__ import annotations

import logging
import signal
import socket
from typing import Any

import uvicorn
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors.multiprocess import Multiprocess

from opendata.http_limits import uvicorn_options
from opendata.settings import Settings

logger = logging.getLogger("opendata")
WORKER_DIED = 1
STOPPED = (-signal.SIGTERM, -signal.SIGINT)


class _Supervisor(Multiprocess):
    """uvicorn's supervisor, remembering every worker that exited with a failure."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.failures: list[tuple[int | None, int]] = []

    def keep_subprocess_alive(self) -> None:
        # uvicorn replaces a dead worker in the list: the ones gone after its pass are the
        # ones that died (joined, so their exit code is known). Looking before the pass
        # raced a worker dying in between, whose failure then went unrecorded.
        before = list(self.processes)
        super().keep_subprocess_alive()
        for process in before:
            code = process.exitcode
            if process not in self.processes and code not in (None, 0):
                if (process.pid, code) not in self.failures:
                    self.failures.append((process.pid, code))


def listening_socket(host: str, port: int) -> socket.socket:
    """A bound TCP listener that workers can inherit, with ``proto`` set to IPPROTO_TCP so
    that the connections it accepts get TCP_NODELAY from asyncio."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host.strip("[]"), port))
    except OSError as exc:
        sock.close()
        logger.error("cannot listen on %s:%s: %s", host, port, exc)
        raise SystemExit(STARTUP_FAILURE) from None
    sock.set_inheritable(True)
    return sock


def run_server(settings: Settings, *, host: str, port: int, reload: bool, workers: int) -> int:
    """Serve until stopped; the exit status to report (0 when every worker ended well).

    ``serve_graceful_shutdown_seconds``: requests in flight get this long on shutdown,
    then are cancelled and the lifespan shutdown (compute pools stop within 1.5 s) runs,
    so stopping never hangs on a long computation (issue 9); raise it for long downloads."""
    if reload or workers == 1:
        try:
            uvicorn.run("opendata.app:create_app", factory=True, host=host, port=port, reload=reload,
                        log_level="info", **uvicorn_options(settings),
                        timeout_graceful_shutdown=settings.serve_graceful_shutdown_seconds)
        except SystemExit as exc:  # uvicorn exits STARTUP_FAILURE when the app cannot start
            return int(exc.code or 0)
        return 0
    config = uvicorn.Config("opendata.app:create_app", factory=True, host=host, port=port, workers=workers,
                            log_level="info", **uvicorn_options(settings),
                            timeout_graceful_shutdown=settings.serve_graceful_shutdown_seconds)
    try:
        sock = listening_socket(host, port)
    except SystemExit as exc:
        return int(exc.code or STARTUP_FAILURE)
    logger.info("listening on http://%s:%s with %s workers", host, port, workers)
    supervisor = _Supervisor(config, sockets=[sock])
    supervisor.run()
    # A worker that failed to start makes uvicorn stop the others; it is still listed. The
    # others end as told (uvicorn re-raises the SIGTERM or a terminal's SIGINT once done).
    for process in supervisor.processes:
        code = process.exitcode
        if code not in (None, 0, *STOPPED) and (process.pid, code) not in supervisor.failures:
            supervisor.failures.append((process.pid, code))
    if not supervisor.failures:
        return 0
    for pid, code in supervisor.failures:
        logger.error("worker process %s exited with status %s", pid, code)
    startup = any(code == STARTUP_FAILURE for _pid, code in supervisor.failures)
    return STARTUP_FAILURE if startup else WORKER_DIED
