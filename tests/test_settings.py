"""Settings come from arguments or OPENDATA_* variables; importing does no I/O."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from opendata.settings import Settings, demo_catalogue_path


def test_environment_variables_are_read_and_arguments_win() -> None:
    env = {
        "OPENDATA_DATA_DIR": "/srv/od",
        "OPENDATA_DATABASE_URL": "postgresql+psycopg://db/od",
        "OPENDATA_BASE_URL": "https://data.gz.gov.cn",
        "OPENDATA_CATALOGUES": "/a:/b",
        "OPENDATA_LOAD_CATALOGUES_ON_STARTUP": "false",
        "OPENDATA_ROWS_PAGE_SIZE_MAX": "500",
    }
    settings = Settings.from_env(env, base_url="https://override")
    assert settings.data_dir == Path("/srv/od")
    assert settings.resolved_database_url == "postgresql+psycopg://db/od"
    assert settings.base_url == "https://override"
    assert settings.catalogues == (Path("/a"), Path("/b"))
    assert settings.load_catalogues_on_startup is False
    assert settings.rows_page_size_max == 500


def test_default_database_is_sqlite_in_the_data_directory(tmp_path: Path) -> None:
    settings = Settings.from_env({}, data_dir=tmp_path)
    assert settings.resolved_database_url == f"sqlite:///{tmp_path.resolve()}/opendata.db"
    assert settings.catalogues == (demo_catalogue_path(),)


def test_a_bad_environment_value_names_the_variable() -> None:
    with pytest.raises(ValueError, match="OPENDATA_DEBUG"):
        Settings.from_env({"OPENDATA_DEBUG": "maybe"})


def test_import_does_no_io(tmp_path: Path) -> None:
    """Importing opendata and building an app must neither create files nor connect."""
    code = (
        "import opendata; from opendata import create_app, Settings, OpenDataPlugin;"
        f"create_app(Settings(data_dir=__import__('pathlib').Path({str(tmp_path / 'd')!r})))"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=tmp_path)
    assert not (tmp_path / "d").exists()
    assert list(tmp_path.iterdir()) == []
