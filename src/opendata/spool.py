"""Temporary files of uploads, in one folder of the data directory, swept at start.

An upload is copied to a temporary file before it is ingested, and removed when the
request ends. A process killed meanwhile (``kill -9``, the OOM killer, a power cut) left
that file behind for ever, in the system's temporary folder where nobody looked (issue
10: ~9 MB per killed upload). So the files live in ``<data dir>/tmp/`` with the host and
process id in their names, and:

- a request removes its own file when it ends, whatever the outcome;
- a process removes the files it still has when it shuts down (a request cancelled by
  the graceful-shutdown timeout may not get to);
- a process that starts removes the files of processes of this host that no longer run,
  and any file older than ``STALE_AFTER_SECONDS`` (a host that is gone, on a shared folder).
"""

from __future__ import annotations

import os
import socket
import tempfile
import time
from pathlib import Path

PREFIX = "upload-"
STALE_AFTER_SECONDS = 24 * 3600


def spool_dir(data_dir: Path) -> Path:
    return Path(data_dir) / "tmp"


def _host() -> str:
    return socket.gethostname().replace("-", "_")[:40] or "host"


def new_file(data_dir: Path, suffix: str) -> Path:
    """A new empty temporary file that this process owns (the caller removes it)."""
    folder = spool_dir(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(suffix=suffix, prefix=f"{PREFIX}{_host()}-{os.getpid()}-", dir=folder)
    os.close(handle)
    return Path(name)


def _owner(path: Path) -> tuple[str, int] | None:
    parts = path.name[len(PREFIX):].split("-")
    if not path.name.startswith(PREFIX) or len(parts) < 3 or not parts[1].isdigit():
        return None
    return parts[0], int(parts[1])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    return True


def sweep(data_dir: Path, *, own: bool = False) -> list[Path]:
    """Remove left-over upload files; with ``own``, this process's too (at shutdown)."""
    folder = spool_dir(data_dir)
    if not folder.is_dir():
        return []
    removed = []
    host, me, now = _host(), os.getpid(), time.time()
    for path in folder.iterdir():
        owner = _owner(path)
        if owner is None or not path.is_file():
            continue
        try:
            old = now - path.stat().st_mtime > STALE_AFTER_SECONDS
        except FileNotFoundError:
            continue  # its request just removed it
        ours = owner[0] == host
        if old or (ours and owner[1] == me and own) or (ours and owner[1] != me and not _alive(owner[1])):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed
