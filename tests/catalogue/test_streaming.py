"""Downloads stream: the first bytes arrive before the server has read the whole table."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from opendata import create_app
from opendata.catalogue import data_api
from opendata.settings import Settings
from tests.factories import manifest, write_catalogue
from tests.serving import running_server

ROWS = 200_000


def big_catalogue(folder: Path) -> Path:
    raw = manifest()
    raw["datasets"] = [raw["datasets"][0]]
    resource = raw["datasets"][0]["resources"][0]
    resource["path"] = "data/big.csv"
    resource["fields"] = [{"name": f"c{i}", "title_zh": f"列{i}", "type": "string"} for i in range(8)] + [
        {"name": "n", "title_zh": "数", "type": "integer"},
        {"name": "d", "title_zh": "日期", "type": "date"},
    ]
    resource.pop("primary_key")
    lines = ["c0,c1,c2,c3,c4,c5,c6,c7,n,d"]
    cells = ",".join(f"广州市天河区第{i}列的一些文字" for i in range(8))
    lines += [f"{cells},{n},2024-01-{n % 28 + 1:02d}" for n in range(ROWS)]
    return write_catalogue(folder, raw, {"data/big.csv": "\n".join(lines) + "\n"})


@pytest.mark.slow
def test_first_bytes_arrive_before_the_table_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    read = {"rows": 0}
    original = data_api.stream_rows

    def counting_stream_rows(*args, **kwargs):
        for row in original(*args, **kwargs):
            read["rows"] += 1
            yield row

    monkeypatch.setattr(data_api, "stream_rows", counting_stream_rows)
    folder = big_catalogue(tmp_path / "big")
    settings = Settings(data_dir=tmp_path / "data", catalogues=(folder,))
    with running_server(create_app(settings)) as base:
        # Identity for each format; then compressed (opendata.httpconv.compression must
        # compress chunk by chunk, not buffer the whole download).
        for fmt, encoding in (("csv", "identity"), ("ndjson", "identity"), ("json", "identity"),
                              ("csv", "gzip"), ("ndjson", "br")):
            read["rows"] = 0
            url = f"{base}/api/v1/datasets/bus-stops/resources/stops/download?format={fmt}"
            with httpx.stream("GET", url, timeout=120, headers={"accept-encoding": encoding}) as response:
                assert response.status_code == 200
                assert response.headers.get("content-encoding", "identity") == encoding
                chunks = response.iter_bytes()  # decoded
                first = next(chunks)
                rows_read_at_first_bytes = read["rows"]
                total = len(first) + sum(len(chunk) for chunk in chunks)
            assert read["rows"] == ROWS, fmt  # the whole table did arrive in the end
            assert total > 10_000_000, fmt
            assert 0 < rows_read_at_first_bytes < ROWS / 2, (fmt, encoding)
