"""The standard doors against our own API (issue 11): CKAN's package_search and
datastore_search against the /api/v1 calls that answer the same question, and the DCAT-AP
catalogue paged at 10,000 datasets.

One portal process (uvicorn) serves a SQLite database holding the demo catalogue (with its
data) and a synthetic catalogue of --datasets datasets (opendata.demo.synthetic). Each
pair is timed over HTTP on one keep-alive connection, interleaved A, B, A, B… in the same
run; printed: p50/p95 of both and the median ratio CKAN/v1 with its quartiles (target
≤ 1.2×). DCAT pages (JSON-LD and Turtle, 50 datasets a page; target < 200 ms a page) are
timed twice against the /api/v1 listing page of the same number: first rendered (--repeat
different pages spread over the whole catalogue, each asked once, as a harvester walks
it), with the server's CPU time per page (from /proc, so a loaded machine's waiting is
told apart), then kept (the same pages again, from the page cache).

    python benchmarks/interop.py [--datasets 10000] [--repeat 40]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _server import percentile, portal_process  # noqa: E402

from opendata.catalogue.loader import load_catalogue  # noqa: E402
from opendata.catalogue.manifest import parse_raw, read_manifest  # noqa: E402
from opendata.db import Database  # noqa: E402
from opendata.demo.generator import synthetic_catalogue  # noqa: E402
from opendata.settings import demo_catalogue_path  # noqa: E402

ROWS = "/api/v1/datasets/bus-stops/resources/stops/rows"
PAIRS: list[tuple[str, str, str]] = [
    ("search: listing", "/api/3/action/package_search?rows=20",
     "/api/v1/datasets?page_size=20"),
    ("search: 公交", "/api/3/action/package_search?q=公交&rows=20",
     "/api/v1/datasets?q=公交&page_size=20"),
    ("search: bus + facets", '/api/3/action/package_search?q=bus&rows=20&facet.field=["organization","groups"]',
     "/api/v1/datasets?q=bus&page_size=20"),
    ("search: 信用, page 3", "/api/3/action/package_search?q=信用&rows=20&start=40",
     "/api/v1/datasets?q=信用&page_size=20&page=3"),
    ("datastore: 100 rows", "/api/3/action/datastore_search?resource_id=bus-stops.stops&limit=100",
     f"{ROWS}?limit=100"),
    ("datastore: filter", '/api/3/action/datastore_search?resource_id=bus-stops.stops&filters={"district":"天河区"}&limit=100',
     f"{ROWS}?district=天河区&limit=100"),
]


def add_synthetic(database_url: str, count: int) -> float:
    """Load the synthetic catalogue beside the demo one (metadata only, like a harvest)."""
    demo = read_manifest(demo_catalogue_path())
    # A catalogue owns its publishers: the synthetic one gets namesakes of the demo's.
    datasets = synthetic_catalogue(count)
    for dataset in datasets:
        dataset["publisher"] = "syn-" + dataset["publisher"]
    raw = {
        "catalogue": {"id": "synthetic", "title_zh": "合成目录"},
        "publishers": [{"id": "syn-" + p.id, "name_zh": p.name_zh, "name_en": p.name_en} for p in demo.publishers],
        "datasets": datasets,
    }
    database = Database(database_url)
    started = time.perf_counter()
    with database.transaction() as session:
        load_catalogue(session, parse_raw(raw, file="synthetic"))
    database.dispose()
    return time.perf_counter() - started


def timed(http: httpx.Client, path: str) -> float:
    started = time.perf_counter()
    response = http.get(path)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise SystemExit(f"{path}: {response.status_code} {response.text[:200]}")
    return elapsed


def server_cpu_seconds(pid: int) -> float:
    """User + system CPU time of the portal process (all its threads), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def first_renderings(http: httpx.Client, pid: int, suffix: str, pages: list[int]) -> str:
    """Each page asked once (not kept yet), interleaved with the v1 listing page."""
    mine, theirs, ratios, cpu = [], [], [], 0.0
    for page in pages:
        before = server_cpu_seconds(pid)
        x = timed(http, f"/catalog.{suffix}?page={page}&page_size=50")
        cpu += server_cpu_seconds(pid) - before
        y = timed(http, f"/api/v1/datasets?page={page}&page_size=50")
        mine.append(x)
        theirs.append(y)
        ratios.append(x / y)
    return row(f"/catalog.{suffix}", mine, theirs, ratios) + f" {cpu * 1000 / len(pages):.0f} |"


def compare(http: httpx.Client, a: str, b: str, repeat: int,
            pid: int | None = None) -> tuple[list[float], list[float], list[float]]:
    """Wall ms of A and B interleaved, and their ratios; with ``pid``, the server's CPU per
    call of each is added up in ``cpu_totals`` (seconds) as a more robust ratio on a
    loaded machine."""
    timed(http, a), timed(http, b)  # warm both
    mine, theirs, ratios = [], [], []
    for _ in range(repeat):
        before = server_cpu_seconds(pid) if pid else 0.0
        x = timed(http, a)
        middle = server_cpu_seconds(pid) if pid else 0.0
        y = timed(http, b)
        if pid:
            cpu_totals[0] += middle - before
            cpu_totals[1] += server_cpu_seconds(pid) - middle
        mine.append(x)
        theirs.append(y)
        ratios.append(x / y)
    return mine, theirs, ratios


cpu_totals = [0.0, 0.0]


def row(label: str, a: list[float], b: list[float], ratios: list[float]) -> str:
    q1, med, q3 = statistics.quantiles(ratios, n=4)
    return (f"| {label} | {percentile(a, .5):.1f} | {percentile(a, .95):.1f} | {percentile(b, .5):.1f} | "
            f"{percentile(b, .95):.1f} | {med:.2f}× ({q1:.2f}–{q3:.2f}) |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmpdir:
        data_dir = Path(tmpdir)
        url = f"sqlite:///{data_dir / 'interop.db'}"
        env = {"OPENDATA_DATA_DIR": str(data_dir), "OPENDATA_DATABASE_URL": url,
               "OPENDATA_SECURE_COOKIES": "false"}
        with portal_process(env):  # first start: migrate, load the demo catalogue and its data
            pass
        seconds = add_synthetic(url, args.datasets)
        with portal_process({**env, "OPENDATA_LOAD_CATALOGUES_ON_STARTUP": "false"}) as (base, pid), \
                httpx.Client(base_url=base, timeout=60) as http:
            total = http.get("/api/v1/datasets?page_size=1").json()["total"]
            print(f"# interop doors vs /api/v1; {total:,} datasets ({args.datasets:,} synthetic loaded in "
                  f"{seconds:.1f} s); load average {os.getloadavg()[0]:.2f}")
            print("\n## CKAN Action API vs /api/v1 (one keep-alive client, interleaved)")
            print("| call | CKAN p50 ms | CKAN p95 ms | v1 p50 ms | v1 p95 ms | CKAN/v1 median (IQR) | "
                  "server CPU ms a call, CKAN / v1 (mean) |")
            print("|---|---:|---:|---:|---:|---:|---:|")
            for label, ckan, v1 in PAIRS:
                cpu_totals[:] = [0.0, 0.0]
                measured = compare(http, ckan, v1, args.repeat, pid)
                print(row(label, *measured) + f" {cpu_totals[0] * 1000 / args.repeat:.1f} / "
                      f"{cpu_totals[1] * 1000 / args.repeat:.1f} = {cpu_totals[0] / max(cpu_totals[1], 1e-9):.2f}× |")
            pages = max(1, -(-total // 50))
            chosen = sorted({1 + i * (pages - 1) // max(1, args.repeat - 1) for i in range(args.repeat)})
            print(f"\n## DCAT-AP catalogue pages of 50, first rendering ({pages:,} pages; {len(chosen)} of them, "
                  "each asked once) vs the v1 listing page")
            print("| page | DCAT p50 ms | DCAT p95 ms | v1 p50 ms | v1 p95 ms | DCAT/v1 median (IQR) | "
                  "server CPU ms a page (mean) |")
            print("|---|---:|---:|---:|---:|---:|---:|")
            for suffix in ("jsonld", "ttl"):
                print(first_renderings(http, pid, suffix, chosen))
            print("\n## The same pages again, kept (rendered less than 60 s ago, catalogue unchanged)")
            print("| page | DCAT p50 ms | DCAT p95 ms | v1 p50 ms | v1 p95 ms | DCAT/v1 median (IQR) |")
            print("|---|---:|---:|---:|---:|---:|")
            for suffix in ("jsonld", "ttl"):
                a, b, ratios = [], [], []
                for page in chosen[:8]:
                    x, y, r = compare(http, f"/catalog.{suffix}?page={page}&page_size=50",
                                      f"/api/v1/datasets?page={page}&page_size=50", max(2, args.repeat // 8))
                    a += x
                    b += y
                    ratios += r
                print(row(f"/catalog.{suffix}", a, b, ratios))
            print(f"\nload average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
