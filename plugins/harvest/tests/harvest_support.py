"""Small HTTP servers started in a test (a thread, a loopback socket): one answers as a
CKAN 2.10 site from the recorded packages of fixtures/ckan, others as hostile sources."""

from __future__ import annotations

import copy
import json
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator
from urllib.parse import parse_qs, urlsplit

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
# For tests parametrized with the local_database_url fixture (conftest.py).
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
Answer = tuple[int, dict[str, str], bytes | Iterable[bytes]]
Route = Callable[[dict[str, list[str]]], Answer]


class FixtureServer:
    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.prefix_routes: dict[str, Callable[[str, dict[str, list[str]]], Answer]] = {}
        self.requests: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                parts = urlsplit(self.path)
                server.requests.append(self.path)
                query = parse_qs(parts.query)
                route = server.routes.get(parts.path)
                if route is not None:
                    answer = route(query)
                else:
                    prefix = next((p for p in server.prefix_routes if parts.path.startswith(p)), None)
                    answer = server.prefix_routes[prefix](parts.path, query) if prefix else (404, {}, b"not found")
                status, headers, body = answer
                self.send_response(status)
                chunks = [body] if isinstance(body, bytes) else body
                if isinstance(body, bytes):
                    headers = {"Content-Length": str(len(body)), **headers}
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                try:
                    for chunk in chunks:
                        self.wfile.write(chunk)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the harvester hung up (a limit): as it should

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    def __enter__(self) -> "FixtureServer":
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def json_answer(data: Any, status: int = 200) -> Answer:
    return status, {"Content-Type": "application/json;charset=utf-8"}, json.dumps(data).encode()


def ckan_envelope(action: str, result: Any) -> dict[str, Any]:
    return {"help": f"https://demo.ckan.org/api/3/action/help_show?name={action}", "success": True, "result": result}


def ckan_not_found(action: str, message: str) -> Answer:
    return json_answer({"help": f"https://demo.ckan.org/api/3/action/help_show?name={action}", "success": False,
                        "error": {"__type": "Not Found Error", "message": message}}, 404)


def load_recorded(base: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    text = (FIXTURES / "ckan" / "packages.json").read_text(encoding="utf-8").replace("{base}", base)
    status = json.loads((FIXTURES / "ckan" / "status_show.json").read_text(encoding="utf-8"))
    return status, json.loads(text)


class RecordedCkan(FixtureServer):
    """package_search pages (rows/start, by name), package_show, status_show and the
    resources' download URLs, from ``self.packages`` (the recorded packages; tests edit it)."""

    def __init__(self) -> None:
        super().__init__()
        self.status, self.packages = load_recorded(self.url)
        self.files: dict[str, bytes] = {}  # more downloadable files, by name (tests add them)
        self.routes.update({
            "/api/3/action/status_show": lambda q: json_answer(ckan_envelope("status_show", self.status)),
            "/api/3/action/package_search": self.package_search,
            "/api/3/action/package_show": self.package_show,
        })
        self.prefix_routes["/dataset/"] = self.download

    def package_search(self, query: dict[str, list[str]]) -> Answer:
        rows = int(query.get("rows", ["10"])[0])
        start = int(query.get("start", ["0"])[0])
        ordered = sorted(self.packages, key=lambda p: p["name"])
        rows = min(rows, 2)  # as CKAN clamps to ckan.search.rows_max: forces paging
        result = {"count": len(ordered), "facets": {}, "search_facets": {}, "sort": "name asc",
                  "results": copy.deepcopy(ordered[start:start + rows])}
        return json_answer(ckan_envelope("package_search", result))

    def package_show(self, query: dict[str, list[str]]) -> Answer:
        ident = query.get("id", [""])[0]
        found = next((p for p in self.packages if ident in (p["id"], p["name"])), None)
        if found is None:
            return ckan_not_found("package_show", "Not found")
        return json_answer(ckan_envelope("package_show", found))

    def download(self, path: str, query: dict[str, list[str]]) -> Answer:
        name = path.rsplit("/", 1)[-1]
        if name in self.files:
            return 200, {"Content-Type": "application/octet-stream"}, self.files[name]
        file = FIXTURES / "ckan" / "data" / name
        if not file.is_file():
            return 404, {}, b"not found"
        media = "text/csv" if name.endswith(".csv") else "application/octet-stream"
        return 200, {"Content-Type": media}, file.read_bytes()


@contextmanager
def recorded_ckan() -> Iterator[RecordedCkan]:
    with RecordedCkan() as server:
        yield server
