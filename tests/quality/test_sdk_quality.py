"""The SDK reads measured quality from a running portal."""

from __future__ import annotations

from pathlib import Path

import pytest

from opendata import create_app
from opendata.client import OpenDataClient, OpenDataError
from opendata.settings import Settings
from tests.quality.catalogue import write_quality_catalogue
from tests.serving import running_server


def test_the_sdk_reads_the_quality_report(settings: Settings, tmp_path: Path) -> None:
    folder = write_quality_catalogue(tmp_path / "quality")
    app = create_app(settings.replace(catalogues=(folder,), load_catalogues_on_startup=True))
    with running_server(app) as base, OpenDataClient(base) as sdk:
        report = sdk.quality("permits")
        assert report["score"] == 76.6 and report["timeliness"]["status"] == "overdue"
        assert sdk.dataset("permits")["quality"]["score"] == 76.6
        with pytest.raises(OpenDataError) as missing:
            sdk.quality("nope")
        assert missing.value.status == 404 and missing.value.code == "not_found"
