"""``opendata audit verify``: the chain under the audit key, and against the signed checkpoints.

Reports, each naming what it can:
- a record whose HMAC (or legacy hash) does not match its content, a broken ``prev_hash``
  link, a gap in the ids, an unkeyed record where only keyed ones may be;
- a checkpoint whose head hash or Merkle root differs from the records it covers (a
  rewrite by someone holding the audit key: the report names the range of records between
  the last checkpoint that still matches and the first that does not);
- truncation: a checkpoint that covers more records than the database has;
- checkpoint lines that do not parse or whose signature does not verify.

The walk goes on after a problem (re-anchoring on the stored hash), so one rewrite is named
once and later ones are still found.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy.orm import Session

from opendata.audit.chain import LEGACY_SCHEME, iter_records, leaf_data, record_problem, record_values
from opendata.audit.checkpoints import Line, checkpoint_files, log_name, read_lines
from opendata.audit.keyfiles import KeyMaterial
from opendata.audit.merkle import Frontier, leaf_hash
from opendata.audit.models import GENESIS_HASH

MAX_PROBLEMS = 50


@dataclass
class AuditReport:
    records: int = 0
    head_hash: str = GENESIS_HASH
    checkpoints: int = 0  # validly signed checkpoints of this database that were checked
    problems: list[str] = field(default_factory=list)
    first_broken_id: int | None = None
    truncated: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems

    def problem(self, text: str, record_id: int | None = None) -> None:
        if record_id is not None and self.first_broken_id is None:
            self.first_broken_id = record_id
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(text)


def _load_checkpoints(report: AuditReport, files: list[Path], public_key: Ed25519PublicKey, log: str | None
                      ) -> list[dict]:
    good: dict[str, dict] = {}
    other_logs = 0
    for path in files:
        lines: list[Line] = read_lines(path, public_key)
        for line in lines:
            if line.problem:
                report.problem(f"checkpoint file {line.path} line {line.number}: {line.problem}")
            elif log is not None and line.checkpoint.get("log") != log:  # type: ignore[union-attr]
                other_logs += 1
            else:
                good[line.checkpoint["signature"]] = line.checkpoint  # type: ignore[index]
    if other_logs:
        report.notes.append(f"{other_logs} checkpoint(s) of other databases skipped")
    return sorted(good.values(), key=lambda cp: (cp["tree_size"], cp["timestamp"]))


def verify_audit(session: Session, material: KeyMaterial, *, files: list[Path] | None = None,
                 public_key: Ed25519PublicKey | None = None) -> AuditReport:
    """Check the chain and every checkpoint in ``files`` (default: this deployment's)."""
    report = AuditReport()
    explicit = files is not None
    public_key = public_key or material.public_key
    # Checkpoint files named explicitly apply whatever database they name (a restored copy).
    log = None if explicit else log_name(session.get_bind().url)
    checkpoints = _load_checkpoints(report, files if explicit else checkpoint_files(material), public_key, log)
    report.checkpoints = len(checkpoints)
    legacy_limit = min((cp["legacy_records"] for cp in checkpoints), default=None)
    by_size: dict[int, list[dict]] = {}
    for cp in checkpoints:
        by_size.setdefault(cp["tree_size"], []).append(cp)
    frontier, matched_upto = Frontier(), 0
    expected_prev, expected_id, seen_keyed = GENESIS_HASH, 1, False

    def check_at(size: int) -> None:
        nonlocal matched_upto
        for cp in by_size.get(size, []):
            if cp["root_hash"] == frontier.root().hex() and cp["head_hash"] == expected_prev:
                matched_upto = size
            else:
                report.problem(
                    f"checkpoint of {cp['timestamp']} ({size} records) does not match the records: a record "
                    f"among #{matched_upto + 1}..#{size} was rewritten (by someone holding the audit key?)",
                    matched_upto + 1)

    check_at(0)
    for record in iter_records(session):
        problem = record_problem(record, expected_id, expected_prev, material.hmac_key, seen_keyed,
                                 material.crypto)
        if problem is None and record.scheme == LEGACY_SCHEME and legacy_limit is not None \
                and record.id > legacy_limit:
            problem = (f"unkeyed (sha256) record, but the checkpoints say only the first {legacy_limit} "
                       "records are unkeyed: rewritten without the audit key?")
        if problem:
            report.problem(f"record #{record.id}: {problem}", record.id)
        seen_keyed = seen_keyed or record.scheme != LEGACY_SCHEME
        frontier.add(leaf_hash(leaf_data(record_values(record))))
        # Re-anchor on the stored record, so one rewrite is reported once.
        expected_prev, expected_id = record.hash, record.id + 1
        report.records += 1
        check_at(report.records)
    report.head_hash = expected_prev
    longest = checkpoints[-1] if checkpoints else None
    if longest is not None and longest["tree_size"] > report.records:
        report.truncated = True
        report.problem(f"truncated: the checkpoint of {longest['timestamp']} covers {longest['tree_size']} "
                       f"records, the database has {report.records} (records #{report.records + 1}.. removed)",
                       report.records + 1)
    if not checkpoints:
        report.notes.append("no signed checkpoint yet: truncation cannot be checked (opendata audit checkpoint)")
    elif longest is not None and longest["tree_size"] < report.records:
        report.notes.append(f"records #{longest['tree_size'] + 1}..#{report.records} are after the newest "
                            "checkpoint: their removal would not be detected yet")
    return report
