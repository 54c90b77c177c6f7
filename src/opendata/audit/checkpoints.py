"""Signed checkpoints of the audit chain, after Certificate Transparency's signed tree heads
(RFC 6962 section 3.5, RFC 9162 section 4.10).

A checkpoint says: the chain of database ``log`` had ``tree_size`` records, the newest
hash was ``head_hash``, the RFC 6962 Merkle root over the records was ``root_hash``, and the
first ``legacy_records`` of them use the unkeyed scheme. It is signed with the Ed25519 key
outside the database and appended as one JSON line to ``<data dir>/audit-checkpoints.jsonl``
and, when ``audit_witness_dir`` is set, to the same file there (a mount another party
controls). A database writer can then neither cut off records a checkpoint covers nor rewrite
them, even with the audit HMAC key, without the signing key.

The signed bytes are ``CONTEXT`` followed by the canonical JSON of the signed fields (not
RFC 6962's TLS structure: our verifiers read JSON). ``frontier`` is not signed; it lets the
next checkpoint extend this one, and is trusted only if it folds to the signed root.
"""

from __future__ import annotations

import base64
import fcntl
import json
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy.engine import make_url

from opendata.audit.chain import (
    LEGACY_SCHEME, canonical_json, iter_records, leaf_data, record_problem, record_values,
)
from opendata.audit.keyfiles import CHECKPOINT_FILE, KeyMaterial, key_id, material_for_url
from opendata.audit.merkle import Frontier, leaf_hash
from opendata.audit.models import GENESIS_HASH
from opendata.db import Database, utcnow

logger = logging.getLogger("opendata.audit")
CONTEXT = b"opendata audit checkpoint v1\n"
SIGNED_FIELDS = ("version", "log", "tree_size", "head_hash", "root_hash", "legacy_records", "timestamp", "key_id")


class CheckpointRefused(Exception):
    """The chain is not in a state worth signing (broken or shorter than already signed)."""


def log_name(database_url: object) -> str:
    """Which database a checkpoint is about: its URL without the password. Not stored in the
    database, so a database writer cannot move a chain out from under its checkpoints."""
    return make_url(database_url).render_as_string(hide_password=True)  # type: ignore[arg-type]


def signed_bytes(checkpoint: dict[str, Any]) -> bytes:
    return CONTEXT + canonical_json({name: checkpoint[name] for name in SIGNED_FIELDS}).encode("utf-8")


def check_signature(checkpoint: dict[str, Any], public_key: Ed25519PublicKey) -> str | None:
    """None if ``checkpoint`` is well formed and signed by ``public_key``, else why not."""
    try:
        if checkpoint.get("key_id") != key_id(public_key):
            return "signed by another key"
        public_key.verify(base64.b64decode(checkpoint["signature"], validate=True), signed_bytes(checkpoint))
    except InvalidSignature:
        return "bad signature"
    except (KeyError, TypeError, ValueError):
        return "malformed checkpoint"
    return None


@dataclass(frozen=True)
class Line:
    path: Path
    number: int
    checkpoint: dict[str, Any] | None  # None: not JSON
    problem: str | None  # None: validly signed


def read_lines(path: Path, public_key: Ed25519PublicKey) -> list[Line]:
    if not path.exists():
        return []
    lines = []
    with path.open(encoding="utf-8", errors="replace") as stream:
        for number, text in enumerate(stream, 1):
            if not text.strip():
                continue
            try:
                checkpoint = json.loads(text)
                if not isinstance(checkpoint, dict):
                    raise ValueError
            except ValueError:
                lines.append(Line(path, number, None, "not a JSON checkpoint"))
                continue
            lines.append(Line(path, number, checkpoint, check_signature(checkpoint, public_key)))
    return lines


def checkpoint_files(material: KeyMaterial) -> list[Path]:
    files = [material.checkpoint_file] if material.checkpoint_file else []
    if material.witness_dir:
        files.append(material.witness_dir / CHECKPOINT_FILE)
    return files


def _append_line(path: Path, line: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # O_APPEND and one write: lines from several processes never interleave.
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)


def _latest(material: KeyMaterial, log: str) -> dict[str, Any] | None:
    """The largest validly signed checkpoint of ``log`` whose frontier matches its root."""
    best = None
    for path in checkpoint_files(material):
        for line in read_lines(path, material.public_key):
            cp = line.checkpoint
            if line.problem or cp is None or cp.get("log") != log:
                continue
            try:
                if Frontier.from_json(cp["frontier"]).root().hex() != cp["root_hash"]:
                    continue
            except (KeyError, TypeError, ValueError):
                continue
            if best is None or cp["tree_size"] > best["tree_size"]:
                best = cp
    return best


def make_checkpoint(database: Database, material: KeyMaterial | None = None, *, force: bool = False
                    ) -> dict[str, Any] | None:
    """Sign the chain's head if it grew since the last checkpoint (or ``force``); returns
    the checkpoint written, or None. Verifies the records it adds first: a checkpoint must
    never bless a rewritten record. Raises CheckpointRefused if the chain is broken or
    shorter than the last checkpoint says."""
    material = material or material_for_url(database.url)
    log = log_name(database.url)
    if material.checkpoint_file is None:
        raise CheckpointRefused("no checkpoint file is configured")
    material.checkpoint_file.parent.mkdir(parents=True, exist_ok=True)
    lock_path = material.checkpoint_file.with_name(material.checkpoint_file.name + ".lock")
    with open(lock_path, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one checkpointer at a time per data dir
        last = _latest(material, log)
        size = last["tree_size"] if last else 0
        frontier = Frontier.from_json(last["frontier"]) if last else Frontier()
        head = last["head_hash"] if last else GENESIS_HASH
        legacy = last["legacy_records"] if last else 0
        seen_keyed = size > legacy
        with database.session() as session:
            if size and _count(session) < size:
                raise CheckpointRefused(f"the chain has fewer records than the checkpoint of {size} records")
            for record in iter_records(session, after_id=size):
                problem = record_problem(record, size + 1, head, material.hmac_key, seen_keyed, material.crypto)
                if problem:
                    raise CheckpointRefused(f"record #{record.id}: {problem}")
                if record.scheme == LEGACY_SCHEME and legacy == size:
                    legacy += 1
                seen_keyed = seen_keyed or record.scheme != LEGACY_SCHEME
                frontier.add(leaf_hash(leaf_data(record_values(record))))
                size, head = size + 1, record.hash
        if last is not None and size == last["tree_size"] and not force:
            return None
        checkpoint: dict[str, Any] = {
            "version": 1, "log": log, "tree_size": size, "head_hash": head, "root_hash": frontier.root().hex(),
            "legacy_records": legacy, "timestamp": utcnow().isoformat(timespec="seconds"),
            "key_id": key_id(material.public_key),
        }
        checkpoint["signature"] = base64.b64encode(material.signing_key.sign(signed_bytes(checkpoint))).decode()
        checkpoint["frontier"] = frontier.to_json()
        line = canonical_json(checkpoint) + "\n"
        for path in checkpoint_files(material):
            _append_line(path, line)
        return checkpoint


def _count(session) -> int:  # noqa: ANN001
    from sqlalchemy import func, select

    from opendata.audit.models import AuditRecord

    return int(session.scalar(select(func.count()).select_from(AuditRecord)) or 0)


class Checkpointer:
    """A portal process's background signer: every ``checkpoint_every_seconds``, or sooner
    when an append reaches a multiple of ``checkpoint_every_records`` (``checkpoint_due``)."""

    def __init__(self, database: Database, material: KeyMaterial) -> None:
        self.database, self.material = database, material
        self._wake, self._stop = threading.Event(), threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self, *, force: bool = False) -> dict[str, Any] | None:
        try:
            return make_checkpoint(self.database, self.material, force=force)
        except CheckpointRefused as exc:
            # Loud, and no signature: the operator must look (opendata audit verify).
            logger.error("audit checkpoint refused: %s", exc)
            return None

    def start(self) -> None:
        _running[log_name(self.database.url)] = self
        if self.material.checkpoint_every_seconds <= 0 and self.material.checkpoint_every_records <= 0:
            return
        self._thread = threading.Thread(target=self._loop, name="opendata-audit-checkpoints", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def _loop(self) -> None:
        period = self.material.checkpoint_every_seconds
        while not self._stop.is_set():
            self._wake.wait(period if period > 0 else None)
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                self.run_once()
            except Exception:  # a full disk must not kill the thread for good
                logger.exception("audit checkpoint failed")

    def stop(self) -> None:
        if _running.get(log_name(self.database.url)) is self:
            del _running[log_name(self.database.url)]
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)


_running: dict[str, Checkpointer] = {}


def checkpoint_due(database_url: object) -> None:
    """Called by ``append`` every N records: wake this process's checkpointer, if any."""
    checkpointer = _running.get(log_name(database_url))
    if checkpointer is not None:
        checkpointer.wake()
