"""The keyed hash chain: appends, verification, tampering, append-only, concurrency, refusals."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from click.testing import CliRunner
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from opendata.audit.chain import KEYED_SCHEME, record_hash, verify_chain
from opendata.audit.keyfiles import KeyMaterial
from opendata.audit.models import GENESIS_HASH, AuditRecord
from opendata.audit.service import Actor, RequestInfo, append, refuse
from opendata.catalogue.models import Publisher
from opendata.cli import main
from opendata.db import Database
from opendata.errors import AppError

ALICE = Actor("user:alice", "admin")


def _fill(database: Database, count: int) -> None:
    with database.session() as session:
        for i in range(count):
            append(session, actor=ALICE, action="test.event", target=f"thing:{i}",
                   details={"n": i, "中文": "审计"}, request=RequestInfo("POST", "/x", "10.0.0.1", "pytest"))
        session.commit()


def _drop_append_only_triggers(database: Database) -> None:
    """What an attacker with DDL rights would do first."""
    with database.engine.begin() as connection:
        if database.engine.dialect.name == "postgresql":
            connection.execute(text("DROP TRIGGER audit_records_append_only ON audit_records"))
        else:
            connection.execute(text("DROP TRIGGER audit_records_no_update"))
            connection.execute(text("DROP TRIGGER audit_records_no_delete"))


def test_records_chain_from_genesis_and_verify(database: Database, audit_keys: KeyMaterial) -> None:
    _fill(database, 5)
    with database.session() as session:
        records = list(session.scalars(select(AuditRecord).order_by(AuditRecord.id)))
        assert [r.id for r in records] == [1, 2, 3, 4, 5]
        assert records[0].prev_hash == GENESIS_HASH
        assert all(b.prev_hash == a.hash for a, b in zip(records, records[1:]))
        assert all(r.scheme == KEYED_SCHEME for r in records)
        # survives the database round trip, and needs the key
        assert all(record_hash(r, audit_keys.hmac_key) == r.hash for r in records)
        assert all(record_hash(r, b"\x00" * 32) != r.hash for r in records)
        report = verify_chain(session)
    assert report.intact and report.records == 5 and report.head_hash == records[-1].hash


def test_updates_and_deletes_are_refused_by_the_database(database: Database) -> None:
    _fill(database, 2)
    for statement in ("UPDATE audit_records SET outcome = 'success' WHERE id = 1",
                      "DELETE FROM audit_records WHERE id = 2"):
        with pytest.raises(DBAPIError, match="append-only"):
            with database.engine.begin() as connection:
                connection.execute(text(statement))


def test_an_altered_record_is_named(database: Database, settings) -> None:
    _fill(database, 4)
    _drop_append_only_triggers(database)
    with database.engine.begin() as connection:
        connection.execute(text("UPDATE audit_records SET actor = 'user:mallory' WHERE id = 3"))
    with database.session() as session:
        report = verify_chain(session)
    assert (report.broken_id, report.records) == (3, 2)
    assert "altered" in (report.problem or "")
    result = CliRunner().invoke(main, ["--database-url", settings.resolved_database_url, "audit", "verify"])
    assert result.exit_code == 1
    assert "broken at record #3" in result.output


def test_a_removed_record_is_named(database: Database) -> None:
    _fill(database, 4)
    _drop_append_only_triggers(database)
    with database.engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_records WHERE id = 2"))
    with database.session() as session:
        report = verify_chain(session)
    assert report.broken_id == 3 and "removed" in (report.problem or "")


def test_a_record_rehashed_with_the_key_still_breaks_the_link_to_the_next_record(
        database: Database, audit_keys: KeyMaterial) -> None:
    _fill(database, 3)
    _drop_append_only_triggers(database)
    with database.session() as session:
        forged = session.get(AuditRecord, 2)
        forged.outcome = "refused"  # type: ignore[union-attr]
        forged.hash = record_hash(forged, audit_keys.hmac_key)  # type: ignore[arg-type, union-attr]
        session.commit()
        report = verify_chain(session)
    assert report.broken_id == 3 and "prev_hash" in (report.problem or "")


def test_cli_verify_on_an_intact_chain(database: Database, settings) -> None:
    _fill(database, 3)
    result = CliRunner().invoke(main, ["--database-url", settings.resolved_database_url, "audit", "verify"])
    assert result.exit_code == 0 and "intact: 3 records" in result.output


def test_concurrent_appends_never_fork_the_chain(database: Database) -> None:
    threads, each = 8, 10
    barrier = threading.Barrier(threads)

    def writer(n: int) -> None:
        barrier.wait()
        for i in range(each):
            with database.session() as session:
                append(session, actor=Actor(f"user:w{n}"), action="test.race", target=f"w{n}:{i}")
                session.commit()

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(writer, range(threads)))
    with database.session() as session:
        report = verify_chain(session)
        prev_hashes = session.scalars(select(AuditRecord.prev_hash)).all()
    assert report.intact and report.records == threads * each
    assert len(set(prev_hashes)) == len(prev_hashes)


def test_a_second_record_after_the_same_predecessor_is_impossible(database: Database) -> None:
    _fill(database, 1)
    with database.session() as session:
        head = session.get(AuditRecord, 1)
        twin = AuditRecord(**{c: getattr(head, c) for c in AuditRecord.__table__.columns.keys()})
        twin.id, twin.prev_hash = 2, head.prev_hash  # type: ignore[union-attr]
        session.expunge(head)
        session.add(twin)
        with pytest.raises(IntegrityError):
            session.commit()


def test_a_refusal_outlives_the_rolled_back_request(database: Database) -> None:
    with database.session() as session:
        session.add(Publisher(id="ghost", catalogue_id="none", name_zh="幽灵"))
        with pytest.raises(AppError) as raised:
            refuse(session, AppError(403, "forbidden", "no"), actor=ALICE, action="test.refuse", target="x")
        assert raised.value.code == "forbidden"
    with database.session() as session:
        assert session.get(Publisher, "ghost") is None
        record = session.scalars(select(AuditRecord)).one()
        assert (record.outcome, record.code, record.action) == ("refused", "forbidden", "test.refuse")
