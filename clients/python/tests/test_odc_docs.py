"""The examples of docs/sdk.md and the SDK's README, run as copied against the demo portal
(only the portal's address is replaced by the test server's)."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

from opendata_client.cli import main

CLIENT_README = Path(__file__).resolve().parents[1] / "README.md"
SDK_DOC = Path(__file__).resolve().parents[3] / "docs" / "sdk.md"
EXAMPLE_PORTAL = "http://127.0.0.1:8000"


def blocks(path: Path, language: str, heading: str) -> list[str]:
    """The fenced ``language`` blocks of the section under ``heading``."""
    text = path.read_text(encoding="utf-8")
    section = text.split(f"\n{heading}\n", 1)[1]
    section = re.split(r"\n#{1,%d} " % heading.count("#"), section, maxsplit=1)[0]
    return re.findall(rf"```{language}\n(.*?)```", section, re.S)


@dataclass
class DemoPortal:
    url: str
    client_id: str
    client_secret: str


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoPortal]:
    """The demo portal, and an enterprise licensed to read month and headcount of
    social-insurance-headcounts (the dataset of the licensed examples)."""
    import httpx

    from opendata import create_app
    from opendata.settings import Settings, demo_catalogue_path
    from tests.access.helpers import licensed_enterprise
    from tests.serving import running_server

    settings = Settings(data_dir=tmp_path_factory.mktemp("demo-portal"), catalogues=(demo_catalogue_path(),),
                        secure_cookies=False)
    with running_server(create_app(settings)) as url, httpx.Client(base_url=url) as http:
        licensed = licensed_enterprise(http, settings.resolved_database_url, items=[  # type: ignore[arg-type]
            {"dataset": "social-insurance-headcounts", "operations": ["query"], "fields": ["month", "headcount"]}])
        yield DemoPortal(url, licensed.client_id, licensed.client_secret)


@pytest.fixture
def demo_portal(demo: DemoPortal) -> str:
    return demo.url


@pytest.mark.parametrize("path,heading", [(SDK_DOC, "### Licensed data and the daily quota"),
                                          (CLIENT_README, "### Licensed data")], ids=["docs/sdk.md", "README.md"])
def test_the_licensed_example_runs_as_copied(path: Path, heading: str, demo: DemoPortal,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    (example,) = blocks(path, "python", heading)
    monkeypatch.setenv("OPENDATA_CLIENT_ID", demo.client_id)
    monkeypatch.setenv("OPENDATA_CLIENT_SECRET", demo.client_secret)
    namespace: dict = {"__name__": "example"}
    exec(compile(example.replace(EXAMPLE_PORTAL, demo.url), str(path), "exec"), namespace)
    rows = namespace["rows"]
    assert len(rows) > 0 and set(rows.rows[0]) == {"month", "headcount"}
    namespace["od"].close()


@pytest.mark.parametrize("path", [SDK_DOC, CLIENT_README], ids=["docs/sdk.md", "README.md"])
def test_the_python_example_runs_as_copied(path: Path, demo_portal: str, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    example = blocks(path, "python", "## Use")[0]  # the first: the licensed ones need credentials
    assert EXAMPLE_PORTAL in example
    monkeypatch.chdir(tmp_path)
    exec(compile(example.replace(EXAMPLE_PORTAL, demo_portal), str(path), "exec"), {"__name__": "example"})
    out = capsys.readouterr().out
    assert "bus-stops" in out and "stop_name" in out
    assert (tmp_path / "bus-stops.csv").read_bytes().startswith(b"\xef\xbb\xbf")


@pytest.mark.parametrize("path", [SDK_DOC, CLIENT_README], ids=["docs/sdk.md", "README.md"])
def test_the_versions_and_feedback_example_runs_as_copied(path: Path, demo_portal: str,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    (example,) = blocks(path, "python", "### Versions, ratings and comments")
    exec(compile(example.replace(EXAMPLE_PORTAL, demo_portal), str(path), "exec"), {"__name__": "example"})
    printed = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in printed[:3]] == ["3", "2", "1"]  # public-parking's three versions
    assert printed[4].split()[:2] == ["None", "0"]  # the demo's bus stops are not rated yet


@pytest.mark.parametrize("path", [SDK_DOC, CLIENT_README], ids=["docs/sdk.md", "README.md"])
def test_the_command_line_examples_run_as_copied(path: Path, demo_portal: str, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    heading = "### Command line" if path == SDK_DOC else "## Command line"
    (commands,) = blocks(path, "sh", heading)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OPENDATA_PORTAL", demo_portal)
    ran = 0
    for line in commands.strip().splitlines():
        words = shlex.split(line.split(" > ")[0].replace(EXAMPLE_PORTAL, demo_portal))
        assert words[0] == "opendata-client"
        assert main(words[1:]) == 0, line
        ran += 1
    assert ran >= 4 and capsys.readouterr().out
    assert any(tmp_path.glob("*.xlsx"))
