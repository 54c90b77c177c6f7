"""A plugin that registers cleanly and then raises in everything it is called for: what a
portal with a buggy plugin must survive (tests/extensions/test_raising_plugin.py).

- format ``brittle``: its ``supports()`` raises (it must not take the pages, the dataset
  JSON, CKAN or DCAT down with it: the format is simply not offered);
- format ``boom``: writes a first chunk, then raises (the download is broken off, never
  counted as served);
- hooks on every event that raise (the work they follow stands);
- metadata extension ``shaky`` whose ``clean()`` raises KeyError (a problem of the
  catalogue, naming the extension, not a traceback);
- ``GET /api/v1/raising/fail`` raising with a secret in its message (a 500 in the error
  shape that tells the client nothing of it).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from litestar import get

from opendata.extensions import EVENTS, Event, Registry
from opendata.formats import Column, Exporter

SECRET = "postgresql://admin:hunter2@db.internal/opendata"


def _never_decides(columns: Sequence[Column]) -> bool:
    raise RuntimeError("brittle cannot tell")


def _nothing(columns: Sequence[Column], rows: Iterable[Sequence[Any]], **options: Any) -> Iterator[bytes]:
    yield b""


def _first_chunk_then_fail(columns: Sequence[Column], rows: Iterable[Sequence[Any]], **options: Any) -> Iterator[bytes]:
    yield b"name\n"
    for _ in rows:
        raise RuntimeError("boom after the first chunk")


BRITTLE = Exporter("brittle", "text/plain", "txt", _nothing, supports=_never_decides,
                   label_zh="脆弱", label_en="Brittle", file_type=("TXT", "TXT"))
BOOM = Exporter("boom", "text/plain", "txt", _first_chunk_then_fail, label_zh="爆", label_en="Boom",
                file_type=("TXT", "TXT"))


def _failing_hook(event: Event) -> None:
    raise RuntimeError(f"the {event.name} hook fails")


class ShakyMetadata:
    name = "shaky"

    def clean(self, values: Mapping[str, Any]) -> dict[str, Any]:
        return {"level": values["level"]}  # KeyError when the manifest has no level


@get("/api/v1/raising/fail", summary="Always fails (raising plugin)", tags=["raising"], sync_to_thread=False)
def fail_route() -> dict[str, Any]:
    raise RuntimeError(f"cannot reach {SECRET}")


def register(registry: Registry) -> None:
    registry.add_exporter(BRITTLE)
    registry.add_exporter(BOOM)
    registry.add_metadata_extension(ShakyMetadata())
    registry.add_api_routes(fail_route)
    for name in EVENTS:
        registry.on(name, _failing_hook)
