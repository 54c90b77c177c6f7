"""Audit tests share the access tests' catalogue, fixtures and cheap password hashing, and
give each database its own key material in the test's data dir."""

from __future__ import annotations

import pytest

from opendata.audit.keyfiles import KeyMaterial, configure
from opendata.settings import Settings
from tests.access.conftest import catalogue_dir, cheap_password_hashing, licensed  # noqa: F401


@pytest.fixture(autouse=True)
def audit_keys(settings: Settings) -> KeyMaterial:
    """The keys this process uses for the test database: files in ``settings.data_dir/keys``,
    as a portal with these settings would use (no periodic checkpoints unless a test asks)."""
    return configure(settings.resolved_database_url, KeyMaterial.from_settings(
        settings.replace(audit_checkpoint_every_records=0, audit_checkpoint_every_seconds=0)))
