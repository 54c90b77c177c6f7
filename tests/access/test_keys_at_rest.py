"""Token signing keys are sealed under a key-encryption key outside the database (issue 10, item 3).

Before: the private key was stored as clear PEM in ``signing_keys``, so anyone who could
read the database could mint any grant.
"""

from __future__ import annotations

from pathlib import Path

import jwt
import pytest
from litestar.testing import TestClient
from sqlalchemy import select, text

from opendata import create_app
from opendata.access import keys
from opendata.access.models import SigningKey
from opendata.crypto_default import kek_id
from opendata.audit.keyfiles import KeyMaterial, configure
from opendata.db import Database
from opendata.settings import Settings
from tests.access.helpers import ROWS, bearer, licensed_enterprise


def _stored(database_url: str) -> list[tuple[str, str]]:
    database = Database(database_url)
    with database.engine.connect() as connection:
        rows = connection.execute(text("SELECT kid, private_key_pem FROM signing_keys")).all()
    database.dispose()
    return [(r[0], r[1]) for r in rows]


def test_the_private_key_column_holds_no_pem_and_tokens_survive_a_restart(
        portal_settings: Settings, database_url: str) -> None:
    with TestClient(create_app(portal_settings)) as client:
        licensed = licensed_enterprise(client, database_url)
        token = licensed.token(client)
        assert client.get(ROWS, headers=bearer(token)).status_code == 200
    stored = _stored(database_url)
    assert stored and all("PRIVATE KEY" not in pem and pem.startswith(keys.SEALED_PREFIX) for _, pem in stored)
    kek_file = portal_settings.data_dir / "keys" / "kek.key"
    assert kek_file.stat().st_mode & 0o777 == 0o600
    keys.forget_cached_keys()
    with TestClient(create_app(portal_settings)) as client:  # a restart: the KEK comes from the file
        assert client.get(ROWS, headers=bearer(token)).status_code == 200
        fresh = licensed.token(client)  # and the sealed key still signs
        assert client.get(ROWS, headers=bearer(fresh)).status_code == 200
    assert jwt.get_unverified_header(fresh)["kid"] == stored[0][0]


def test_without_the_kek_the_database_alone_cannot_sign(portal_settings: Settings, database_url: str,
                                                       tmp_path: Path) -> None:
    with TestClient(create_app(portal_settings)) as client:
        licensed_enterprise(client, database_url).token(client)
    database = Database(database_url)
    # What a reader of the database holds: the row, and a KEK of their own.
    configure(database_url, KeyMaterial.from_settings(portal_settings.replace(data_dir=tmp_path / "thief")))
    try:
        with database.session() as session:
            key = keys.active_key(session)
            assert key is not None
            with pytest.raises(RuntimeError, match="another key-encryption key"):
                keys.load_private_key(key, None)
            # A guessed KEK that claims the right id still fails the GCM tag.
            relabelled = key.private_key_pem.replace(key.private_key_pem.split(":")[2], kek_id(bytes(32)))
            with pytest.raises(RuntimeError, match="altered"):
                keys.unseal(relabelled, key.kid, bytes(32))
    finally:
        configure(database_url, KeyMaterial.from_settings(portal_settings))
        database.dispose()


def test_keys_stored_in_the_clear_are_sealed_at_start(portal_settings: Settings, database_url: str) -> None:
    database = Database(database_url)
    database.migrate()
    with database.session() as session:
        session.add(keys.new_signing_key(None))  # as an earlier version stored it
        session.commit()
    assert "PRIVATE KEY" in _stored(database_url)[0][1]
    with TestClient(create_app(portal_settings)) as client:
        licensed = licensed_enterprise(client, database_url)
        token = licensed.token(client)
        assert client.get(ROWS, headers=bearer(token)).status_code == 200
    assert all(pem.startswith(keys.SEALED_PREFIX) for _, pem in _stored(database_url))
    with database.session() as session:
        key = session.scalars(select(SigningKey)).one()
        assert keys.load_private_key(key, None).public_key() is not None
    database.dispose()


def test_the_kek_can_come_from_the_environment(portal_settings: Settings, database_url: str) -> None:
    kek = "ab" * 32
    settings = Settings.from_env({"OPENDATA_KEK": kek}, data_dir=portal_settings.data_dir,
                                 database_url=database_url, catalogues=portal_settings.catalogues,
                                 secure_cookies=False)
    assert "ab" * 32 not in repr(settings)
    with TestClient(create_app(settings)) as client:
        licensed_enterprise(client, database_url).token(client)
    assert not (portal_settings.data_dir / "keys" / "kek.key").exists()
    (_, pem), = _stored(database_url)
    assert keys.unseal(pem, _stored(database_url)[0][0], bytes.fromhex(kek)).startswith("-----BEGIN PRIVATE KEY")
    with pytest.raises(ValueError, match="64 hex digits"):
        KeyMaterial.from_settings(settings.replace(kek="short")).kek
