"""GET /sdk/: the portal serves the light SDK's wheel, and pip installs it as shown."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import zipfile
from io import BytesIO
from pathlib import Path

import pytest
from litestar.testing import TestClient

from opendata import create_app
from opendata.sdk_wheel import build_wheel, install_command, sdk_source_dir
from opendata.settings import Settings
from tests.factories import write_catalogue
from tests.serving import running_server


@pytest.fixture
def sqlite_settings(tmp_path: Path) -> Settings:
    """The wheel does not touch the database: one backend is enough."""
    return Settings(data_dir=tmp_path / "data", database_url=f"sqlite:///{tmp_path / 'opendata.db'}",
                    catalogues=(write_catalogue(tmp_path / "mini"),), load_catalogues_on_startup=True,
                    secure_cookies=False)


def test_the_page_names_the_wheel_and_the_command(sqlite_settings: Settings) -> None:
    with TestClient(create_app(sqlite_settings)) as client:
        _page_and_wheel(client)


def _page_and_wheel(client: TestClient) -> None:
    page = client.get("/sdk/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    command = re.search(r"<code>(pip install [^<]+)</code>", page.text).group(1)
    filename = command.rsplit("/", 1)[1]
    assert command == f"pip install http://testserver.local/sdk/{filename}"
    assert re.fullmatch(r"opendata_client-\d+\.\d+\.\d+-py3-none-any\.whl", filename)
    wheel = client.get(f"/sdk/{filename}")
    assert wheel.status_code == 200 and wheel.headers["etag"].strip('"') in page.text
    assert client.get(f"/sdk/{filename}", headers={"If-None-Match": wheel.headers["etag"]}).status_code == 304
    assert install_command("http://testserver.local/") == command
    assert client.get("/sdk").text == page.text
    missing = client.get("/sdk/opendata_client-9.9.9-py3-none-any.whl")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


def test_the_wheel_is_complete_and_reproducible() -> None:
    first, second = build_wheel(sdk_source_dir()), build_wheel(sdk_source_dir())
    assert first.content == second.content
    names = zipfile.ZipFile(BytesIO(first.content)).namelist()
    info = f"opendata_client-{first.version}.dist-info"
    assert {"opendata_client/__init__.py", "opendata_client/cli.py", f"{info}/METADATA", f"{info}/WHEEL",
            f"{info}/RECORD", f"{info}/entry_points.txt"} <= set(names)
    metadata = zipfile.ZipFile(BytesIO(first.content)).read(f"{info}/METADATA").decode()
    assert "Name: opendata-client" in metadata and "Requires-Dist: httpx>=0.27" in metadata
    assert not any(line.startswith("Requires-Dist: opendata") for line in metadata.splitlines())


def test_pip_installs_it_from_the_portal_and_it_runs(sqlite_settings: Settings, tmp_path: Path) -> None:
    """The command of the page, run as shown (into a target folder, httpx already here)."""
    target = tmp_path / "site"
    with running_server(create_app(sqlite_settings)) as url:
        command = re.search(r"<code>(pip install [^<]+)</code>", _get(url + "/sdk/")).group(1)
        wheel_url = command.split()[-1]
        assert wheel_url.startswith(url + "/sdk/")
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
                        "--target", str(target), wheel_url], check=True, timeout=300)
        # the page is a --find-links index too
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
                        "--target", str(tmp_path / "found"), "--find-links", url + "/sdk/", "opendata-client"],
                       check=True, timeout=300)
        assert (tmp_path / "found" / "opendata_client" / "client.py").is_file()
        done = subprocess.run([sys.executable, "-m", "opendata_client", "--portal", url, "search", "公交"],
                              env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"},
                              capture_output=True, text=True, timeout=120)
        # and it never needs the server package: with `opendata` made unimportable it still works
        alone = subprocess.run([sys.executable, "-c", "import sys; sys.modules['opendata'] = None\n"
                                "from opendata_client.cli import main; sys.exit(main(sys.argv[1:]))",
                                "--portal", url, "--json", "show", "bus-stops"],
                               env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"},
                               capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == "1 datasets"
    assert alone.returncode == 0, alone.stderr
    assert json.loads(alone.stdout)["resources"][0]["id"] == "stops"
    assert (target / "bin" / "opendata-client").is_file()
    assert str(target) in subprocess.run([sys.executable, "-c", "import opendata_client; print(opendata_client.__file__)"],
                                         env={"PYTHONPATH": str(target)}, capture_output=True, text=True).stdout


def _get(url: str) -> str:
    import httpx

    return httpx.get(url, timeout=30).raise_for_status().text


def test_under_a_path_prefix_the_command_names_it(sqlite_settings: Settings) -> None:
    from litestar import Litestar

    from opendata import OpenDataPlugin

    app = Litestar(route_handlers=[], plugins=[OpenDataPlugin(sqlite_settings, path_prefix="/data")])
    with TestClient(app) as client:
        page = client.get("/data/sdk/")
        command = re.search(r"<code>(pip install [^<]+)</code>", page.text).group(1)
        assert command.startswith("pip install http://testserver.local/data/sdk/opendata_client-")
        assert client.get(command.split("testserver.local")[1]).status_code == 200
