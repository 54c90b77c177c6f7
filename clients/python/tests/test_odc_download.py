"""Downloads: atomic files, retries from the start after a cut, progress reports."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Iterator

import httpx
import pytest

from odc_support import FakePortal, Sleeps, error
from opendata_client import OpenDataError, PortalUnreachable, RetryPolicy

BODY = b"n,day\n" + b"".join(b"%d,2024-01-01\n" % n for n in range(20000))


class CutStream(httpx.SyncByteStream):
    """A body that breaks off after its first chunk, as a dropped connection does."""

    def __iter__(self) -> Iterator[bytes]:
        yield BODY[:1000]
        raise httpx.ReadError("connection reset by peer")


def whole() -> httpx.Response:
    return httpx.Response(200, content=BODY, headers={"Content-Type": "text/csv"})


def test_a_cut_download_is_retried_from_the_start(fake: FakePortal, sleeps: Sleeps, mock_client,
                                                   tmp_path: Path) -> None:
    fake.script = [httpx.Response(200, stream=CutStream()), whole()]
    seen: list[tuple[int, int | None]] = []
    target = mock_client().download("d", "r", "csv", tmp_path / "out.csv", bom=True,
                                    progress=lambda done, total: seen.append((done, total)))
    assert target.read_bytes() == BODY and len(sleeps) == 1
    assert fake.requests[-1].url.params["format"] == "csv" and fake.requests[-1].url.params["bom"] == "1"
    # the second try reports from zero to the Content-Length
    assert seen[-1] == (len(BODY), len(BODY)) and (len(BODY), len(BODY)) in seen
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_a_refused_download_leaves_no_file(fake: FakePortal, mock_client, tmp_path: Path) -> None:
    fake.script = [error(403, "licence_required")]

    with pytest.raises(OpenDataError, match="licence_required"):
        mock_client().download("d", "r", "csv", tmp_path / "x.csv")
    fake.script = [httpx.Response(200, stream=CutStream()), httpx.Response(200, stream=CutStream())]
    with pytest.raises(PortalUnreachable, match="connection reset"):
        mock_client(retry=RetryPolicy(attempts=2)).download("d", "r", "csv", tmp_path / "y.csv")
    assert list(tmp_path.iterdir()) == []


def test_progress_true_shows_a_tqdm_bar(fake: FakePortal, mock_client, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("tqdm")
    fake.script = [whole()]
    mock_client().download("d", "r", "csv", tmp_path / "out.csv", progress=True)
    err = capsys.readouterr().err
    assert "out.csv" in err and "100%" in err


def test_progress_without_tqdm_is_a_plain_line(fake: FakePortal, mock_client, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    fake.script = [whole()]
    mock_client().download("d", "r", "csv", tmp_path / "out.csv", progress=True)
    err = capsys.readouterr().err
    assert err.endswith("out.csv: 100.0%\n")


def test_the_default_file_name(fake: FakePortal, mock_client, tmp_path: Path,
                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    fake.script = [whole()]
    assert mock_client().download("bus-stops", "stops", "ndjson") == Path("bus-stops_stops.ndjson")
    assert (tmp_path / "bus-stops_stops.ndjson").read_bytes() == BODY


def test_a_licensed_download_renews_a_revoked_token_once(fake: FakePortal, tmp_path: Path) -> None:
    from opendata_client import Client

    issued: list[str] = []

    def portal(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v1/token":
            issued.append(f"t{len(issued) + 1}")
            return httpx.Response(200, json={"access_token": issued[-1], "expires_in": 300})
        if request.headers["Authorization"] == "Bearer t1":
            return error(401, "token_revoked")
        return whole()

    with Client("http://portal.test", client_id="odc_1", client_secret="s",
                transport=httpx.MockTransport(portal)) as od:
        assert od.download("d", "r", "csv", tmp_path / "out.csv").read_bytes() == BODY
    assert issued == ["t1", "t2"]
