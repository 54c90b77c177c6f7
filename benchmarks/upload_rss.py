"""The server's memory during the worst uploads (issue 10, item 1), before and after the bounds.

A real `opendata serve` process on SQLite (the portal test catalogue), a fresh one per
measurement (RSS is rarely given back, so a process measures one upload). A publisher
uploads one file through the portal's form to bus-stops, then an anonymous visitor views
the dataset page and reads the largest rows page of the API three times each. Sampled from
/proc every 20 ms: the server's peak RSS over its resting RSS, and its RSS afterwards.

"default" is the default settings; "lifted" (the before) is the same server with the
bounds lifted by settings, which puts back the reading and rendering of v1: openpyxl's
read-only mode with its whole shared-string table in memory, cells of any length stored,
and pages that show them whole (OPENDATA_XLSX_MAX_SHARED_STRINGS_BYTES,
_XLSX_MAX_UNCOMPRESSED_BYTES, _INGEST_MAX_CELL_CHARS, _PREVIEW_MAX_CELL_CHARS,
_ROWS_PAGE_MAX_CHARS). Each file is measured default, then lifted.

Files: a shared-string bomb (the v1 finding: 205 KB -> 0.96 GB), a workbook just under the
shared-string limit (the worst one still read), one long shared string in every row
(the v1 finding: after one 0.5 MB upload each view returned 524 MB), the same just under the
cell limit, and a CSV just under the upload size limit (the worst accepted upload by size;
default only: the bounds lifted change nothing for it). Last, ``--anonymous`` visitors who
never signed in post that CSV to the upload form at once (each refused for its missing
form token, after its body was read).

    python benchmarks/upload_rss.py [--strings 3000000] [--cell-chars 1000000] [--csv-mb 60]
                                    [--anonymous 8] [--only-csv] [--runs 1]
"""

from __future__ import annotations

import argparse
import collections
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))
from benchmarks._server import rss_bytes  # noqa: E402
from benchmarks.ingest_concurrency import write_csv  # noqa: E402
from tests.formats import crafted_xlsx as crafted  # noqa: E402
from tests.portal.catalogue import write_portal_catalogue  # noqa: E402
from tests.portal.helpers import make_staff, post_form, sign_in  # noqa: E402
from tests.processes import serve_env, serving  # noqa: E402

UPLOAD = "/publisher/datasets/bus-stops/resources/stops/upload"
PAGE = "/datasets/bus-stops"
ROWS = "/api/v1/datasets/bus-stops/resources/stops/rows?limit=1000"
HEADER = ["stop_id", "name", "district", "lines"]
LIFTED = {"xlsx_max_shared_strings_bytes": str(1 << 40), "xlsx_max_uncompressed_bytes": str(1 << 40),
          "ingest_max_cell_chars": str(1 << 31), "preview_max_cell_chars": str(1 << 31),
          "rows_page_max_chars": str(1 << 40)}


def long_cell_workbook(path: Path, chars: int, rows: int) -> Path:
    """One shared string of ``chars`` characters as every row's name; the other cells valid."""
    body = "".join(f'<row r="{i}"><c r="A{i}" t="inlineStr"><is><t>S{i}</t></is></c><c r="B{i}" t="s"><v>0</v></c>'
                   f'<c r="C{i}" t="inlineStr"><is><t>天河区</t></is></c><c r="D{i}"><v>{i % 90}</v></c></row>'
                   for i in range(2, rows + 2))
    return crafted.write_workbook(path, [crafted.sheet_xml(crafted.header_row(HEADER) + body)],
                                  crafted.shared_strings(1, "长" * chars))


class PeakRss:
    """The highest RSS of a process, sampled in a thread until stopped."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self.running = pid, rss_bytes(pid), True
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self) -> None:
        while self.running:
            self.peak = max(self.peak, rss_bytes(self.pid))
            time.sleep(0.02)

    def stop(self) -> int:
        self.running = False
        self.thread.join()
        return self.peak


def outcome(response: httpx.Response) -> str:
    if response.status_code == 303:
        return "accepted"
    if response.status_code == 400 and 'data-testid="ingest-errors"' in response.text:
        report = response.text.split('data-testid="ingest-errors"')[1][:4000]
        reason = report.split("<td>")[-1].split("<")[0].strip() if "<td>" in report else ""
        return f"refused 400 {reason[:30]}"
    return f"refused {response.status_code}"


def measure(path: Path, content_type: str, lifted: bool, folder: Path) -> dict[str, object]:
    folder.mkdir(parents=True)
    url = f"sqlite:///{folder / 'opendata.db'}"
    catalogue = write_portal_catalogue(folder / "catalogue")
    settings = dict(LIFTED if lifted else {})
    if path.stat().st_size > (63 << 20):  # the default limit is 64 MiB for the whole request
        settings["upload_max_bytes"] = str(path.stat().st_size + (1 << 20))
    env = serve_env(url, folder / "data", catalogues=str(catalogue), **settings)
    with serving(env, folder / "server.log") as served:
        make_staff(url, "clerk", "publisher", "gz-transport")
        publisher = httpx.Client(base_url=served.url, timeout=3600)
        sign_in(publisher, "clerk")  # type: ignore[arg-type]
        with httpx.Client(base_url=served.url, timeout=600) as visitor:
            for _ in range(5):  # warm the pages up: the resting RSS of a serving process
                visitor.get(PAGE), visitor.get(ROWS)
            resting = rss_bytes(served.process.pid)
            watch = PeakRss(served.process.pid)
            began = time.perf_counter()
            with open(path, "rb") as data:
                response = post_form(publisher, UPLOAD, files={"file": (path.name, data, content_type)})  # type: ignore[arg-type]
            upload_seconds = time.perf_counter() - began
            after_upload = watch.peak
            page_bytes, rows_bytes = [], []
            for _ in range(3):
                page_bytes.append(len(visitor.get(PAGE).content))
                rows_bytes.append(len(visitor.get(ROWS).content))
            peak = watch.stop()
            settled = rss_bytes(served.process.pid)
        publisher.close()
    mb = 2**20
    return {"outcome": outcome(response), "upload s": upload_seconds, "upload peak MB": (after_upload - resting) / mb,
            "page MB": statistics.median(page_bytes) / mb, "rows MB": statistics.median(rows_bytes) / mb,
            "peak MB": (peak - resting) / mb, "after MB": (settled - resting) / mb, "resting MB": resting / mb}


def anonymous_uploads(path: Path, clients: int, folder: Path) -> dict[str, object]:
    """``clients`` visitors who never signed in post ``path`` to the upload form at once (each
    refused for its missing form token, after its body was read): the server's peak RSS."""
    folder.mkdir(parents=True)
    url = f"sqlite:///{folder / 'opendata.db'}"
    env = serve_env(url, folder / "data", catalogues=str(write_portal_catalogue(folder / "catalogue")))
    with serving(env, folder / "server.log") as served:
        resting = rss_bytes(served.process.pid)
        watch = PeakRss(served.process.pid)
        statuses: list[int] = []

        def post() -> None:
            with open(path, "rb") as data:  # httpx streams a file part in 64 KiB pieces
                try:
                    statuses.append(httpx.post(served.url + UPLOAD, files={"file": (path.name, data, "text/csv")},
                                               timeout=600).status_code)
                except httpx.HTTPError:
                    statuses.append(599)

        began = time.perf_counter()
        threads = [threading.Thread(target=post) for _ in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        seconds = time.perf_counter() - began
        peak = watch.stop()
        settled = rss_bytes(served.process.pid)
    mb = 2**20
    return {"outcome": ", ".join(f"{n} x {status}" for status, n in sorted(collections.Counter(statuses).items())),
            "upload s": seconds, "upload peak MB": (peak - resting) / mb, "page MB": 0.0, "rows MB": 0.0,
            "peak MB": (peak - resting) / mb, "after MB": (settled - resting) / mb, "resting MB": resting / mb}


COLUMNS = ["upload s", "upload peak MB", "page MB", "rows MB", "peak MB", "after MB", "resting MB"]


def show(name: str, path: Path, mode: str, result: dict[str, object]) -> None:
    print(f"{name:<28}{path.stat().st_size // 1024:>9} {mode:<8}{result['outcome']:<34}"
          + "".join(f"{result[c]:>15.2f}" if c in ("page MB", "rows MB") else f"{result[c]:>15.1f}" for c in COLUMNS) + f"{os.getloadavg()[0]:>7.2f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--strings", type=int, default=3_000_000, help="entries of the shared-string bomb")
    parser.add_argument("--cell-chars", type=int, default=1_000_000, help="length of the long shared string")
    parser.add_argument("--cell-rows", type=int, default=50, help="rows that reference it")
    parser.add_argument("--csv-mb", type=int, default=60, help="size of the CSV upload (0: none)")
    parser.add_argument("--anonymous", type=int, default=8, help="visitors posting the CSV at once (0: none)")
    parser.add_argument("--only-csv", action="store_true", help="the CSV measurements alone")
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="upload-rss-"))
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    files: list[tuple[str, Path, str, tuple[bool, ...]]] = [] if args.only_csv else [
        ("shared-string bomb", crafted.shared_strings_bomb(folder / "bomb.xlsx", HEADER, args.strings), xlsx,
         (False, True)),
        ("bomb under the limit", crafted.shared_strings_bomb(folder / "under.xlsx", HEADER, 800_000), xlsx,
         (False, True)),
        (f"{args.cell_chars:,}-char cell x {args.cell_rows}", long_cell_workbook(
            folder / "long.xlsx", args.cell_chars, args.cell_rows), xlsx, (False, True)),
        ("32,000-char cell x 1,000", long_cell_workbook(folder / "under-cell.xlsx", 32_000, 1_000), xlsx,
         (False, True)),
    ]
    csv = write_csv(folder / "stops.csv", args.csv_mb * 2**20 // 36) if args.csv_mb else None  # ~32-36 B a row
    if csv is not None:
        files.append((f"CSV {csv.stat().st_size / 2**20:.0f} MB", csv, "text/csv", (False,)))
    print(f"SQLite, one `opendata serve` process per measurement; load average {os.getloadavg()[0]:.2f}")
    print(f"{'file':<28}{'KB':>9} {'mode':<8}{'outcome':<34}" + "".join(f"{c:>15}" for c in COLUMNS) + f"{'load':>7}")
    try:
        measure_all(args, files, csv, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(f"load average at end {os.getloadavg()[0]:.2f}")


def measure_all(args: argparse.Namespace, files: list, csv: Path | None, folder: Path) -> None:
    for run in range(args.runs):
        for name, path, content_type, modes in files:
            for lifted in modes:
                mode = "lifted" if lifted else "default"
                result = measure(path, content_type, lifted, folder / f"{path.stem}-{mode}-{run}")
                show(name, path, mode, result)
        if csv is not None and args.anonymous:
            show(f"{args.anonymous} anonymous x CSV", csv, "default",
                 anonymous_uploads(csv, args.anonymous, folder / f"anonymous-{run}"))


if __name__ == "__main__":
    main()
