"""Coordinating jobs in the portal process that accepted them.

Each job gets a coordinator (a thread of a ThreadPoolExecutor, ``job_runners`` per process:
further jobs wait their turn in that executor's queue, state ``queued``). The coordinator
keeps at most the engine's ``window`` chunks in flight, stores each chunk's output and
progress in the database as it completes, and between completions (at most every
HEARTBEAT_SECONDS) reads the job's state and its licence: a cancel from any process, a
revoked licence or client stops the job and cancels the chunks not yet started.

A ticker thread beats the heart of every job this process owns, fails jobs whose process
went silent (state.fail_lost) and purges expired results; at shutdown the jobs still
running are failed (and their uncomputed units refunded) rather than left to the ticker of
another process.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from concurrent.futures import FIRST_COMPLETED, CancelledError, Future, ThreadPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from sqlalchemy import select

from opendata.access import tokens
from opendata.audit.service import append
from opendata.compute import ComputeError
from opendata.compute.callers import ComputeCaller
from opendata.compute.jobs import state
from opendata.compute.jobs.engine import LOCAL, DaskEngine, Engine, local_engine
from opendata.compute.jobs.kinds import JobKind, JobPlan
from opendata.compute.jobs.models import CANCELLED, FAILED, RUNNING, ComputeJobChunk
from opendata.errors import AppError

logger = logging.getLogger(__name__)
HEARTBEAT_SECONDS = 2.0


class Stop(Exception):
    def __init__(self, code: str, message: str, status: str = FAILED) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


class JobRunner:
    """The jobs of one ComputeRuntime (one portal process)."""

    def __init__(self, runtime: Any) -> None:
        self.runtime = runtime
        self.name = state.runner_name()
        self._lock = threading.Lock()
        self._threads: ThreadPoolExecutor | None = None
        self._owned: set[str] = set()
        self._coordinators: dict[str, Future[None]] = {}
        self._dask: DaskEngine | None = None
        self._ticker: threading.Thread | None = None
        self._stopping = threading.Event()
        self._database: Any = None

    # --- engine ---------------------------------------------------------------------------

    def engine(self) -> Engine:
        address = self.runtime.settings.dask_scheduler
        if not address:
            return local_engine(self.runtime)
        with self._lock:
            if self._dask is None or self._dask.address != address:
                self._dask = DaskEngine(address)
            dask = self._dask
        return dask.engine()

    # --- starting and stopping ------------------------------------------------------------

    def start(self, database: Any, job_id: str, kind: JobKind, plan: JobPlan, caller: ComputeCaller,
              engine: Engine) -> None:
        with self._lock:
            if self._threads is None:
                self._threads = ThreadPoolExecutor(self.runtime.settings.job_runners, thread_name_prefix="opendata-job")
            self._owned.add(job_id)
            threads = self._threads
        self.start_ticker(database)
        future = threads.submit(self._coordinate, database, job_id, kind, plan, caller, engine)
        with self._lock:
            self._coordinators = {k: f for k, f in self._coordinators.items() if not f.done()}
            self._coordinators[job_id] = future

    def join(self, job_id: str, timeout: float | None = None) -> None:
        """Wait until this process's coordinator of ``job_id`` has finished (tests, embedders)."""
        with self._lock:
            future = self._coordinators.get(job_id)
        if future is not None:
            wait([future], timeout=timeout)

    def owned(self) -> list[str]:
        with self._lock:
            return list(self._owned)

    def start_ticker(self, database: Any) -> None:
        with self._lock:
            if self._ticker is not None or self._stopping.is_set():
                return
            self._database = database
            self._ticker = threading.Thread(target=self._tick, name="opendata-job-ticker", daemon=True)
            self._ticker.start()

    def sweep(self, database: Any) -> None:
        with database.session() as session:
            state.heartbeat(session, self.owned())
            state.fail_lost(session, self.runtime.settings.job_stale_seconds)
            state.purge_expired(session)
            session.commit()

    def _tick(self) -> None:
        interval = min(30.0, self.runtime.settings.job_stale_seconds / 4)
        while not self._stopping.wait(interval):
            try:
                self.sweep(self._database)
            except Exception:  # the next tick tries again; a sweep must not kill the ticker
                logger.exception("job sweep failed")

    def close(self) -> None:
        """Fail (and refund) this process's unfinished jobs, stop coordinators and engines."""
        self._stopping.set()
        with self._lock:
            threads, self._threads = self._threads, None
            owned, database = list(self._owned), self._database
            dask, self._dask = self._dask, None
        if database is not None and owned:
            try:
                with database.session() as session:
                    for job_id in owned:
                        state.settle(session, job_id, FAILED, "portal_stopped",
                                     "the portal process stopped while the job ran; its uncomputed subjects were "
                                     "refunded: submit it again", actor=state.MONITOR)
                    session.commit()
            except Exception:
                logger.exception("could not mark this process's jobs as failed")
        if threads is not None:
            threads.shutdown(wait=False, cancel_futures=True)
        if dask is not None:
            dask.close()

    # --- one job ----------------------------------------------------------------------------

    def _coordinate(self, database: Any, job_id: str, kind: JobKind, plan: JobPlan, caller: ComputeCaller,
                    engine: Engine) -> None:
        try:
            with database.session() as session:
                started = state.mark_running(session, job_id)
                session.commit()
            if started:
                self._run(database, job_id, kind, plan, caller, engine)
        except Stop as stop:
            if stop.code == "compute_unavailable" and engine.name == LOCAL:
                self.runtime.discard_executor()
            self._end(database, job_id, stop.status, stop.code, stop.message, caller)
        except Exception as error:  # anything else: the job fails, the process goes on
            logger.exception("job %s failed", job_id)
            self._end(database, job_id, FAILED, "job_failed", f"the job failed: {error.__class__.__name__}", caller)
        finally:
            with self._lock:
                self._owned.discard(job_id)

    def _end(self, database: Any, job_id: str, status: str, code: str, message: str, caller: ComputeCaller) -> None:
        with database.session() as session:
            actor = caller.actor if status == CANCELLED else state.MONITOR
            state.settle(session, job_id, status, code, message, actor=actor, request=caller.request)
            session.commit()

    def _run(self, database: Any, job_id: str, kind: JobKind, plan: JobPlan, caller: ComputeCaller,
             engine: Engine) -> None:
        pending = list(range(len(plan.chunks)))
        in_flight: dict[Future[Any], tuple[int, Any, float]] = {}
        try:
            while pending or in_flight:
                while pending and len(in_flight) < engine.window:
                    index = pending.pop(0)
                    with database.session() as session:
                        chunk = session.get(ComputeJobChunk, (job_id, index))
                        task = plan.task(session, index, chunk.input)
                    in_flight[engine.executor.submit(task.fn, *task.args)] = (index, task, time.perf_counter())
                done, _ = wait(list(in_flight), timeout=HEARTBEAT_SECONDS, return_when=FIRST_COMPLETED)
                for future in done:
                    index, task, began = in_flight.pop(future)
                    self._store(database, job_id, kind, plan, caller, index, task, _result(future),
                                time.perf_counter() - began)
                self._check(database, job_id, caller)
        finally:
            for future in in_flight:
                future.cancel()
        conclude = getattr(plan, "conclude", None)
        concluded = conclude() if conclude is not None else None
        with database.session() as session:
            if state.mark_succeeded(session, job_id, self.runtime.settings.job_result_seconds):
                if conclude is not None:
                    try:  # in the transaction that marks it succeeded: a cancel either wins before or fails after
                        plan.record(session, job_id, concluded)  # type: ignore[attr-defined]
                    except AppError as error:  # audited (and rolled back) by the kind
                        raise Stop(error.code, error.message) from None
                append(session, actor=caller.actor, action="compute.job.succeeded", target=f"job:{job_id}",
                       details={"licence": caller.licence_id, "job": job_id, "kind": kind.name,
                                "chunks": len(plan.chunks), "engine": engine.name}, request=caller.request)
            session.commit()

    def _store(self, database: Any, job_id: str, kind: JobKind, plan: JobPlan, caller: ComputeCaller, index: int,
               task: Any, result: Any, seconds: float) -> None:
        out = plan.output(task, result, seconds)
        with database.session() as session:
            if not state.record_chunk(session, job_id, index, json.dumps(out.output, separators=(",", ":"))):
                session.rollback()
                raise Stop("job_ended", "the job ended meanwhile", CANCELLED)
            append(session, actor=caller.actor, action=kind.chunk_action, target=f"job:{job_id}",
                   details={"licence": caller.licence_id, "job": job_id, "chunk": index, **out.audit},
                   request=caller.request)
            session.commit()

    def _check(self, database: Any, job_id: str, caller: ComputeCaller) -> None:
        """Stop if the job was cancelled (in any process) or its licence or client stopped."""
        with database.session() as session:
            current = session.scalar(select(state.JOBS.c.state).where(state.JOBS.c.id == job_id))
            live = tokens.live_state(session, caller.token)
            state.heartbeat(session, [job_id])
            session.commit()
        if current != RUNNING:
            raise _Ended()
        if live is None or live.licence != "active":
            raise Stop("licence_inactive", f"licence {caller.licence_id} is no longer active: the job stopped")
        stopped = tokens.stop_reason(live, caller.token)
        if stopped is not None and stopped[1] != "token_revoked":  # a revoked token is the client's own choice
            raise Stop(stopped[1], stopped[2])


class _Ended(Stop):
    """Ended elsewhere (a cancel in another process): nothing left to settle."""

    def __init__(self) -> None:
        super().__init__("job_ended", "ended elsewhere", CANCELLED)


def _result(future: Future[Any]) -> Any:
    try:
        return future.result()
    except CancelledError:
        raise _Ended() from None
    except BrokenProcessPool:
        raise Stop("compute_unavailable", "a compute worker stopped: submit the job again") from None
    except ComputeError as error:
        raise Stop(error.code, str(error)) from None
    except AppError as error:
        raise Stop(error.code, error.message) from None
