"""Where a job's chunks run: the portal process's own worker processes (the compute
runtime's ProcessPoolExecutor, the default) or an existing Dask cluster
(``OPENDATA_COMPUTE_DASK_SCHEDULER=tcp://host:8786``) through Dask's concurrent.futures
executor. Both are a ``concurrent.futures.Executor`` to the runner: there is no scheduler of
ours, only a bound on the chunks in flight (``window``) so that a job neither floods the
local pool that synchronous requests share nor holds a whole book in memory.

Dask workers need ``opendata`` (and gmpy2) installed: they import the chunk's function,
``opendata.compute.protocols._score_rows``; nothing of the database reaches them, only
public keys, ciphertexts and fixed-point feature integers.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

from opendata.errors import AppError

logger = logging.getLogger(__name__)
LOCAL, DASK = "local", "dask"
IN_FLIGHT_PER_WORKER = 2
DASK_CONNECT_TIMEOUT = "10s"


@dataclass
class Engine:
    name: str
    executor: Executor
    window: int  # chunks in flight at most


def unavailable(message: str) -> AppError:
    return AppError(503, "engine_unavailable", message, headers={"Retry-After": "30"})


class DaskEngine:
    """A connection to a Dask scheduler, opened on the first job and kept."""

    def __init__(self, address: str) -> None:
        self.address = address
        self._client: Any = None
        self._lock = threading.Lock()

    def engine(self) -> Engine:
        with self._lock:
            if self._client is None or self._client.status not in ("running", "connecting"):
                self._client = self._connect()
            client = self._client
        threads = sum(client.nthreads().values()) or 1
        return Engine(DASK, client.get_executor(pure=False), threads * IN_FLIGHT_PER_WORKER)

    def _connect(self) -> Any:
        try:
            from distributed import Client
        except ImportError:
            raise unavailable("jobs are configured to run on Dask (OPENDATA_COMPUTE_DASK_SCHEDULER) but the "
                              "'distributed' package is not installed: pip install 'opendata[dask]'") from None
        try:
            return Client(self.address, timeout=DASK_CONNECT_TIMEOUT, set_as_default=False)
        except (OSError, TimeoutError) as error:
            logger.warning("Dask scheduler %s unreachable: %s", self.address, error)
            raise unavailable(f"the Dask scheduler of this portal does not answer ({error.__class__.__name__}); "
                              "retry later") from None

    def close(self) -> None:
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close(timeout=2)


def local_engine(runtime: Any) -> Engine:
    return Engine(LOCAL, runtime.executor, runtime.settings.workers * IN_FLIGHT_PER_WORKER)
