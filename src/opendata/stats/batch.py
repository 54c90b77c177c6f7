"""API row queries counted in memory and written in batches (issue 16: rows throughput).

A client walking a table makes one rows request per page; writing each one's counter in
a transaction of its own made every open rows request a database write, and on SQLite
concurrent clients queued on the single write lock (8 clients: 7–8 requests/s at load
18, against Datasette's 12–26). Here a process adds each query to an in-memory counter
per (dataset, local day, metric, format) and writes them all in one transaction:

- at most ``usage_flush_seconds`` after the first count not yet written (a timer thread),
- at once when more than ``MAX_PENDING_KEYS`` distinct counters are waiting,
- before a report in the same process reads them (``flush_usage``: /api/v1/stats, the
  open-data index and the portal's figures read every count taken before them),
- when the application stops (``Database.dispose``), and at interpreter exit.

Counts are therefore exact once flushed: another process reads them at most
``usage_flush_seconds`` late, and a process killed without its shutdown (SIGKILL, power
loss) loses at most the counts of its last interval. A batch that cannot be written (the
database busy beyond the retries) stays pending and is retried by the next flush.

Only statistics are batched. A licence's quota charge and its audit record are written
in the request's own transaction before the page is sent (access.guard.record_rows_served),
exactly as before; views and downloads are written at once (the dataset's own metadata
shows them and readers expect them to move with each visit).
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
import weakref
from collections import Counter
from datetime import date
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from opendata.stats.models import UsageCounter

logger = logging.getLogger("opendata.stats")

BATCHED_METRICS = frozenset({"rows_query"})
MAX_PENDING_KEYS = 10_000
SQLITE_RETRIES = 8

Key = tuple[str, date, str, str]  # dataset_id, local day, metric, format


def _upsert(insert: Any) -> Any:
    table = UsageCounter.__table__
    statement = insert(table).values(
        dataset_id=bindparam("dataset_id"), day=bindparam("day"), metric=bindparam("metric"),
        format=bindparam("format"), count=bindparam("count"),
    )
    return statement.on_conflict_do_update(
        index_elements=[table.c.dataset_id, table.c.day, table.c.metric, table.c.format],
        set_={"count": table.c.count + statement.excluded.count},
    )


_UPSERT = {"postgresql": _upsert(postgresql.insert), "sqlite": _upsert(sqlite.insert)}


def write_counts(engine: Engine, counts: dict[Key, int]) -> None:
    """Add ``counts`` to the counters in one short transaction whose first statement is
    the write (on SQLite it waits for the lock instead of failing on a stale snapshot;
    the rare "database is locked" left is retried). Keys are written in sorted order, so
    two processes flushing at once on PostgreSQL lock the rows in the same order."""
    if not counts:
        return
    dialect = engine.dialect.name
    parameters = [
        {"dataset_id": dataset_id, "day": day, "metric": metric, "format": fmt, "count": count}
        for (dataset_id, day, metric, fmt), count in sorted(counts.items())
    ]
    for attempt in range(SQLITE_RETRIES):
        try:
            with engine.begin() as connection:
                connection.execute(_UPSERT[dialect], parameters)
            return
        except OperationalError as error:
            if dialect != "sqlite" or "locked" not in str(error) or attempt == SQLITE_RETRIES - 1:
                raise
            time.sleep(0.005 * (attempt + 1))


class UsageBatch:
    """The counts of one engine not yet written, and the timer that will write them."""

    def __init__(self, engine: Engine, seconds: float) -> None:
        self._engine = weakref.ref(engine)  # the registry is keyed weakly by this engine
        self.seconds = seconds
        self._pending: Counter[Key] = Counter()
        self._lock = threading.Lock()         # guards _pending and _timer
        self._flushing = threading.Lock()     # one flush at a time: a reader waits for a running one
        self._timer: threading.Timer | None = None

    def add(self, key: Key) -> None:
        with self._lock:
            self._pending[key] += 1
            full = len(self._pending) > MAX_PENDING_KEYS
            if not full:
                self._schedule()
        if full:
            # The request calling this has been served (and a licensed one charged): a counter
            # the database refuses now must not turn it into a 500. The counts stay pending.
            try:
                self.flush()
            except Exception:  # noqa: BLE001
                logger.exception("use counts could not be written; they stay pending and are retried")

    def pending(self) -> int:
        with self._lock:
            return sum(self._pending.values())

    def _schedule(self) -> None:  # with self._lock held
        if self._timer is None:
            self._timer = threading.Timer(self.seconds, self._flush_in_background)
            self._timer.name = "opendata-usage-flush"
            self._timer.daemon = True
            self._timer.start()

    def _flush_in_background(self) -> None:
        try:
            self.flush()
        except Exception:  # noqa: BLE001 - kept pending and retried; a timer thread has no caller
            logger.exception("use counts could not be written; they stay pending and are retried")

    def flush(self) -> None:
        """Write every count taken before this call (raises if the write fails; the counts
        then stay pending and a timer retries them)."""
        with self._flushing:
            with self._lock:
                taken, self._pending = self._pending, Counter()
                if self._timer is not None:
                    self._timer.cancel()
                    self._timer = None
            engine = self._engine()
            if not taken or engine is None:
                return
            try:
                write_counts(engine, dict(taken))
            except BaseException:
                with self._lock:
                    self._pending.update(taken)
                    self._schedule()
                raise

    def close(self) -> None:
        """The last flush, at shutdown: a failure is logged with what it loses."""
        try:
            self.flush()
        except Exception:  # noqa: BLE001 - shutdown must go on
            logger.exception("%d API row query counts could not be written at shutdown", self.pending())
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None


_BATCHES: "weakref.WeakKeyDictionary[Engine, UsageBatch]" = weakref.WeakKeyDictionary()
_REGISTRY = threading.Lock()


def batch_usage(engine: Engine, seconds: float) -> None:
    """Batch the API row query counts of ``engine`` (a Database does this for its engine
    when ``usage_flush_seconds`` > 0). Without it every count is written at once."""
    if seconds > 0:
        with _REGISTRY:
            _BATCHES[engine] = UsageBatch(engine, seconds)


def add(engine: Engine, key: Key) -> bool:
    """Count one use in memory if ``engine`` batches this metric; False: write it now."""
    if key[2] not in BATCHED_METRICS:
        return False
    batch = _BATCHES.get(engine)
    if batch is None:
        return False
    batch.add(key)
    return True


def flush_usage(bind: Any) -> None:
    """Write the counts this process holds for ``bind`` (an Engine, Connection or Session's
    bind) before reading the counters, so that a report reads every count taken before it.
    A failed write is logged and left pending: the report is then at most one interval late."""
    engine = getattr(bind, "engine", bind)
    batch = _BATCHES.get(engine)
    if batch is None:
        return
    try:
        batch.flush()
    except Exception:  # noqa: BLE001 - a report must still answer
        logger.exception("use counts could not be written before a report; it may be one interval late")


def close_usage(engine: Engine) -> None:
    """Flush and stop batching for ``engine`` (Database.dispose, before the pool goes)."""
    with _REGISTRY:
        batch = _BATCHES.pop(engine, None)
    if batch is not None:
        batch.close()


@atexit.register
def _flush_all_at_exit() -> None:
    for batch in list(_BATCHES.values()):
        batch.close()
