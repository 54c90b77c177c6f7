"""A download is counted when it completes (issue 10, "charge only what is served").

Before, a download was counted in the statistics, and for licensed data audited as a
success, before its first byte was sent: a download broken off by the client, by a
server restart or by an error mid-stream counted as served. Now the stream itself settles
the account when it ends:

- sent whole: the statistics count one download, and a licensed one is audited as a
  success with the rows and bytes sent;
- broken off: nothing is counted, and a licensed download's unit (charged at the start,
  so that the quota is checked) is refunded and audited as ``incomplete``.

"Sent whole" means every chunk was handed to the server and the stream reached its end;
the server cannot know what the client's network delivered after that.
"""

from __future__ import annotations

import logging
from typing import Any, AsyncIterator, Callable, Iterator, Sequence

import anyio
import anyio.to_thread

from opendata.access.guard import Grant, record_download
from opendata.db import Database
from opendata.stats.service import count_use

logger = logging.getLogger("opendata")
_END = object()


class CountedRows:
    """The rows of a download, counted as the exporter reads them."""

    def __init__(self, rows: Iterator[Sequence[Any]]) -> None:
        self._rows = rows
        self.count = 0

    def __iter__(self) -> "CountedRows":
        return self

    def __next__(self) -> Sequence[Any]:
        row = next(self._rows)
        self.count += 1
        return row

    def close(self) -> None:
        close = getattr(self._rows, "close", None)
        if close is not None:
            close()  # ends the database read of a broken-off download now, not at GC


def _settle(database: Database, grant: Grant, dataset_id: str, fmt: str, completed: bool, rows: int,
            size: int) -> None:
    with database.session() as session:
        record_download(session, grant, completed=completed, rows=rows, size=size)
        session.commit()
    if completed:  # in a short transaction of its own, retried on a SQLite lock (stats.service.count_use)
        count_use(database.engine, dataset_id, "download", fmt)


async def settled_download(chunks: Iterator[Any], rows: CountedRows, database: Database, grant: Grant,
                           dataset_id: str, fmt: str,
                           served: Callable[[int], None] | None = None) -> AsyncIterator[Any]:
    """Yield the exporter's chunks (each produced on a worker thread: they read the
    database), then settle the download, whether it ended or was broken off; a whole
    download then calls ``served(rows)`` (the download.served event hooks)."""
    completed, size = False, 0
    try:
        while True:
            chunk = await anyio.to_thread.run_sync(next, chunks, _END)
            if chunk is _END:
                break
            size += len(chunk)
            yield chunk
        completed = True
    finally:
        # Shielded: when the client goes away this runs inside a cancelled scope, and the
        # refund must still happen.
        with anyio.CancelScope(shield=True):
            try:
                await anyio.to_thread.run_sync(_close, chunks, rows)
                await anyio.to_thread.run_sync(_settle, database, grant, dataset_id, fmt, completed, rows.count,
                                               size)
                if completed and served is not None:
                    await anyio.to_thread.run_sync(served, rows.count)
            except Exception:  # never mask the stream's own outcome; the log says what failed
                logger.exception("could not settle the download of %s", dataset_id)


def _close(chunks: Iterator[Any], rows: CountedRows) -> None:
    close = getattr(chunks, "close", None)
    if close is not None:
        close()
    rows.close()
