"""The examples of docs/sdk.md and the SDK's README, run as copied against the demo portal
(only the portal's address is replaced by the test server's)."""

from __future__ import annotations

import re
import shlex
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


@pytest.fixture(scope="module")
def demo_portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from opendata import create_app
    from opendata.settings import Settings, demo_catalogue_path
    from tests.serving import running_server

    settings = Settings(data_dir=tmp_path_factory.mktemp("demo-portal"), catalogues=(demo_catalogue_path(),),
                        secure_cookies=False)
    with running_server(create_app(settings)) as url:
        yield url


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
