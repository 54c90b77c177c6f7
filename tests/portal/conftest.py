"""Portal tests run the ready-made app (create_app) on the portal test catalogue."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.portal.catalogue import write_portal_catalogue


@pytest.fixture
def catalogue_dir(tmp_path: Path) -> Path:
    return write_portal_catalogue(tmp_path / "portal")
