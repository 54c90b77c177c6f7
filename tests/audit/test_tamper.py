"""A database writer cannot silently rewrite or cut the audit trail (issue 10, item 3).

Before: the chain was an unkeyed SHA-256, so changing a refusal to a success and re-hashing
the records after it passed `opendata audit verify`, and deleting the newest records was
not detected. Each test here is an attack, through the CLI and the Python API.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select, text

from opendata.audit.chain import HASHED_COLUMNS, LEGACY_SCHEME, canonical_json, canonical_time, record_values, \
    values_hash
from opendata.audit.checkpoints import CheckpointRefused, Checkpointer, make_checkpoint
from opendata.audit.keyfiles import KeyMaterial
from opendata.audit.models import AuditRecord
from opendata.audit.service import Actor, append
from opendata.audit.verify import verify_audit
from opendata.cli import main
from opendata.db import Database, utcnow
from opendata.settings import Settings

from tests.audit.test_chain import _drop_append_only_triggers

ALICE = Actor("user:alice", "admin")


def _fill(database: Database, count: int, outcome: str = "success") -> None:
    with database.session() as session:
        for i in range(count):
            append(session, actor=ALICE, action="test.event", target=f"thing:{i}", outcome=outcome,
                   code="forbidden" if outcome == "refused" else None, details={"n": i})
        session.commit()


def _cli(settings: Settings, *args: str):  # noqa: ANN202
    env = {"OPENDATA_DATABASE_URL": settings.resolved_database_url, "OPENDATA_DATA_DIR": str(settings.data_dir)}
    return CliRunner().invoke(main, list(args), env=env)


def _verify(database: Database, keys: KeyMaterial, **kw):  # noqa: ANN202
    with database.session() as session:
        return verify_audit(session, keys, **kw)


def _unkeyed_sha256(values: dict) -> str:
    """What the attacker computes: the old scheme's hash, over the old columns."""
    hashed = {name: values[name] for name in HASHED_COLUMNS}
    hashed["at"] = canonical_time(values["at"])
    return hashlib.sha256(canonical_json(hashed).encode()).hexdigest()


def _rewrite_from(database: Database, first_id: int, change: dict, *, hasher=_unkeyed_sha256,
                  scheme: str | None = None, last_id: int | None = None) -> None:
    """Change record ``first_id`` and re-hash it and every record after it, as the issue's
    attacker did (triggers dropped first)."""
    _drop_append_only_triggers(database)
    with database.session() as session:
        records = list(session.scalars(select(AuditRecord).where(AuditRecord.id <= (last_id or 10**9))
                                       .order_by(AuditRecord.id)))
        prev = records[first_id - 2].hash if first_id > 1 else "0" * 64
        for record in records[first_id - 1:]:
            if record.id == first_id:
                for name, value in change.items():
                    setattr(record, name, value)
            if scheme:
                record.scheme = scheme
            record.prev_hash = f"x{record.id:063d}"  # unique index: free the old values first
        session.flush()
        for record in records[first_id - 1:]:
            record.prev_hash = prev
            record.hash = hasher(record_values(record))
            prev = record.hash
        session.commit()


def test_a_refusal_turned_into_a_success_and_rehashed_is_named(database: Database, settings: Settings,
                                                               audit_keys: KeyMaterial) -> None:
    _fill(database, 3)
    _fill(database, 1, outcome="refused")  # record 4
    _fill(database, 5)
    _rewrite_from(database, 4, {"outcome": "success", "code": None})
    report = _verify(database, audit_keys)
    assert not report.intact and report.first_broken_id == 4
    assert "record #4" in report.problems[0] and "HMAC" in report.problems[0]
    result = _cli(settings, "audit", "verify")
    assert result.exit_code == 1 and "broken at record #4" in result.output


def test_rehashing_everything_as_unkeyed_records_is_named(database: Database, settings: Settings,
                                                          audit_keys: KeyMaterial) -> None:
    make_checkpoint(database, audit_keys)  # what the portal does at its first start: 0 records, 0 legacy
    _fill(database, 4)
    _rewrite_from(database, 1, {"actor": "user:mallory"}, scheme=LEGACY_SCHEME)
    report = _verify(database, audit_keys)
    assert report.first_broken_id == 1 and "only the first 0 records are unkeyed" in report.problems[0]


def test_an_unkeyed_record_after_keyed_ones_is_named(database: Database, audit_keys: KeyMaterial) -> None:
    _fill(database, 4)  # no checkpoint needed for this one
    _rewrite_from(database, 3, {"actor": "user:mallory"}, hasher=lambda v: values_hash(v, None),
                  scheme=LEGACY_SCHEME)
    report = _verify(database, audit_keys)
    assert report.first_broken_id == 3 and "unkeyed (sha256) record after keyed ones" in report.problems[0]


def test_deleting_the_newest_records_is_reported_as_truncation(database: Database, settings: Settings,
                                                               audit_keys: KeyMaterial) -> None:
    _fill(database, 6)
    result = _cli(settings, "audit", "checkpoint")
    assert result.exit_code == 0 and "6 records" in result.output, result.output
    _fill(database, 2)  # 7, 8: after the checkpoint
    assert _cli(settings, "audit", "verify").exit_code == 0
    _drop_append_only_triggers(database)
    with database.engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_records WHERE id >= 5"))
    report = _verify(database, audit_keys)
    assert report.truncated and report.records == 4 and report.first_broken_id == 5
    result = _cli(settings, "audit", "verify")
    assert result.exit_code == 1 and "truncated" in result.output and "covers 6 records" in result.output
    # And the portal refuses to sign the shorter chain.
    with pytest.raises(CheckpointRefused, match="fewer records"):
        make_checkpoint(database, audit_keys)


def test_a_rewrite_with_the_audit_key_is_caught_by_the_signed_checkpoint(
        database: Database, settings: Settings, audit_keys: KeyMaterial) -> None:
    _fill(database, 5)
    make_checkpoint(database, audit_keys)
    _fill(database, 3)
    make_checkpoint(database, audit_keys)
    _rewrite_from(database, 7, {"outcome": "refused"}, hasher=lambda v: values_hash(v, audit_keys.hmac_key))
    report = _verify(database, audit_keys)
    assert report.problems == [report.problems[0]] and report.first_broken_id == 6
    assert "among #6..#8 was rewritten" in report.problems[0]


def test_a_checkpoint_with_a_bad_signature_is_reported(database: Database, settings: Settings,
                                                       audit_keys: KeyMaterial) -> None:
    _fill(database, 3)
    make_checkpoint(database, audit_keys)
    path = audit_keys.checkpoint_file
    assert path is not None
    checkpoint = json.loads(path.read_text().splitlines()[-1])
    forged = {**checkpoint, "tree_size": 2}  # someone shortening the signed record
    path.write_text(path.read_text() + json.dumps(forged) + "\n" + "not json\n")
    report = _verify(database, audit_keys)
    assert any("line 2: bad signature" in p for p in report.problems)
    assert any("line 3: not a JSON checkpoint" in p for p in report.problems)
    result = _cli(settings, "audit", "verify")
    assert result.exit_code == 1 and "bad signature" in result.output


def test_checkpoints_of_another_key_do_not_count(database: Database, settings: Settings,
                                                 audit_keys: KeyMaterial, tmp_path: Path) -> None:
    _fill(database, 2)
    make_checkpoint(database, audit_keys)
    other = KeyMaterial.from_settings(settings.replace(data_dir=tmp_path / "elsewhere"))
    report = _verify(database, audit_keys, files=[audit_keys.checkpoint_file], public_key=other.public_key)
    assert any("signed by another key" in p for p in report.problems)


def test_old_unkeyed_records_stay_verifiable_and_pinned(database: Database, settings: Settings,
                                                        audit_keys: KeyMaterial) -> None:
    """Records written before migration 0011 keep their SHA-256; the first checkpoint pins them."""
    with database.engine.begin() as connection:
        prev = "0" * 64
        for i in range(1, 4):
            values = {name: None for name in HASHED_COLUMNS}
            values.update(id=i, at=utcnow(), actor="user:old", action="test.legacy", outcome="success",
                          details="{}", prev_hash=prev)
            values["hash"] = values_hash(values)  # no scheme: the legacy hash
            connection.execute(AuditRecord.__table__.insert(), {**values, "scheme": LEGACY_SCHEME})
            prev = values["hash"]
    checkpoint = make_checkpoint(database, audit_keys)
    assert checkpoint is not None and checkpoint["legacy_records"] == 3
    _fill(database, 2)
    assert _verify(database, audit_keys).intact
    # Rewriting a legacy record breaks the keyed record after them, which nobody can re-hash.
    _rewrite_from(database, 2, {"actor": "user:mallory"}, hasher=lambda v: values_hash(v, None), last_id=3)
    problems = _verify(database, audit_keys).problems
    assert any("record #4" in p for p in problems) and any("among #1..#3" in p for p in problems)


def test_prove_and_check_a_record_offline(database: Database, settings: Settings, audit_keys: KeyMaterial,
                                          tmp_path: Path) -> None:
    _fill(database, 7)
    assert _cli(settings, "audit", "prove", "3").exit_code == 1  # no checkpoint covers it yet
    assert _cli(settings, "audit", "checkpoint").exit_code == 0
    result = _cli(settings, "audit", "prove", "3")
    assert result.exit_code == 0, result.output
    proof = json.loads(result.stdout)
    assert proof["record"]["id"] == 3 and proof["tree_size"] == 7 and len(proof["audit_path"]) == 3
    public = settings.data_dir / "keys" / "audit-checkpoint-ed25519.pem.pub"
    path = tmp_path / "proof.json"
    path.write_text(json.dumps(proof))
    result = CliRunner().invoke(main, ["audit", "check-proof", str(path), "--public-key", str(public)])
    assert result.exit_code == 0 and "record #3 is in the checkpoint" in result.output, result.output
    proof["record"]["outcome"] = "refused"
    path.write_text(json.dumps(proof))
    result = CliRunner().invoke(main, ["audit", "check-proof", str(path), "--public-key", str(public)])
    assert result.exit_code == 1 and "record or path altered" in result.output


def test_rfc6962_reference_root() -> None:
    """The tree hash of the eight leaves of the Certificate Transparency reference tests."""
    from opendata.audit.merkle import leaf_hash, root_of

    leaves = [bytes.fromhex(h) for h in ("", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                                         "606162636465666768696a6b6c6d6e6f")]
    assert root_of([leaf_hash(x) for x in leaves]).hex() == \
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"


def test_key_files_are_private_and_a_wrong_key_cannot_extend_the_chain(
        database: Database, settings: Settings, audit_keys: KeyMaterial, tmp_path: Path) -> None:
    _fill(database, 1)
    make_checkpoint(database, audit_keys)
    for name in ("audit-hmac.key", "audit-checkpoint-ed25519.pem"):
        assert stat.S_IMODE(os.stat(settings.data_dir / "keys" / name).st_mode) == 0o600
    from opendata.audit.keyfiles import configure

    configure(settings.resolved_database_url, KeyMaterial.from_settings(settings.replace(data_dir=tmp_path / "x")))
    try:
        with pytest.raises(RuntimeError, match="audit key does not match"):
            _fill(database, 1)
    finally:
        configure(settings.resolved_database_url, audit_keys)


def test_the_checkpointer_signs_every_n_records(database: Database, audit_keys: KeyMaterial) -> None:
    audit_keys.checkpoint_every_records = 4
    checkpointer = Checkpointer(database, audit_keys)
    checkpointer.start()
    try:
        _fill(database, 3)
        _fill(database, 1)  # record 4 wakes it; it signs once the commit is visible
        for _ in range(100):
            sizes = [json.loads(line)["tree_size"] for line in audit_keys.checkpoint_file.read_text().splitlines()] \
                if audit_keys.checkpoint_file.exists() else []
            if 4 in sizes:
                break
            checkpointer.wake()
            time.sleep(0.05)
        assert 4 in sizes
    finally:
        checkpointer.stop()


def test_the_portal_signs_at_start_and_at_shutdown(portal_settings: Settings, database_url: str) -> None:
    from litestar.testing import TestClient

    from opendata import create_app
    from tests.access.helpers import licensed_enterprise

    with TestClient(create_app(portal_settings)) as client:
        path = portal_settings.data_dir / "audit-checkpoints.jsonl"
        assert [json.loads(line)["tree_size"] for line in path.read_text().splitlines()] == [0]
        licensed_enterprise(client, database_url)
    database = Database(database_url)
    with database.session() as session:
        records = session.query(AuditRecord).count()
    database.dispose()
    last = json.loads(path.read_text().splitlines()[-1])
    assert records > 5 and last["tree_size"] == records and last["legacy_records"] == 0


def test_the_witness_copy_still_shows_truncation_when_the_local_file_is_gone(
        database: Database, settings: Settings, audit_keys: KeyMaterial, tmp_path: Path) -> None:
    audit_keys.witness_dir = tmp_path / "witness"
    _fill(database, 5)
    make_checkpoint(database, audit_keys)
    witness = tmp_path / "witness" / "audit-checkpoints.jsonl"
    assert witness.read_text() == audit_keys.checkpoint_file.read_text()
    audit_keys.checkpoint_file.unlink()  # the data dir's copy removed along with the records
    _drop_append_only_triggers(database)
    with database.engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_records WHERE id > 2"))
    report = _verify(database, audit_keys)
    assert report.truncated and "covers 5 records, the database has 2" in report.problems[0]


def test_the_checkpointer_signs_every_t_seconds_when_the_chain_grew(database: Database,
                                                                    audit_keys: KeyMaterial) -> None:
    audit_keys.checkpoint_every_seconds = 0.1
    checkpointer = Checkpointer(database, audit_keys)
    checkpointer.start()
    try:
        _fill(database, 2)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            lines = audit_keys.checkpoint_file.read_text().splitlines() if audit_keys.checkpoint_file.exists() else []
            if lines and json.loads(lines[-1])["tree_size"] == 2:
                break
            time.sleep(0.05)
        time.sleep(0.3)  # several periods more: nothing new, so no new line
        sizes = [json.loads(line)["tree_size"] for line in audit_keys.checkpoint_file.read_text().splitlines()]
        assert sizes[-1] == 2 and sizes.count(2) == 1
    finally:
        checkpointer.stop()
