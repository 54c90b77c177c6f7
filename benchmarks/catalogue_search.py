"""Catalogue search latency over 10,000 generated datasets, through the real HTTP API.

Typical queries in Chinese and English, with and without filters, each timed against
a plain listing query (no words, no filters) as the baseline in the same run.

    python benchmarks/catalogue_search.py [--datasets 10000] [--repeat 40] [--postgres URL]
"""

from __future__ import annotations

import argparse
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

QUERIES: list[tuple[str, dict]] = [
    ("baseline: plain listing", {}),
    ("zh: 公交", {"q": "公交"}),
    ("zh: 天河区 学校 (two words)", {"q": "天河区 学校"}),
    ("zh: 信用 (3,000 hits)", {"q": "信用"}),
    ("zh: 预售许可 + domain filter", {"q": "预售许可", "domain": "城市建设"}),
    ("zh: 学校, sorted by title", {"q": "学校", "sort": "title"}),
    ("en: bus", {"q": "bus"}),
    ("en: school", {"q": "school"}),
    ("filter only: conditional + domain", {"open_level": "conditional", "domain": "finance"}),
    ("no match: 不存在的数据", {"q": "不存在的数据"}),
    ("deep page 40 of a listing", {"page": "40"}),
]


def build_catalogue(database: Database, count: int) -> None:
    demo = read_manifest(demo_catalogue_path())
    raw = {
        "catalogue": {"id": "synthetic", "title_zh": "合成目录"},
        "publishers": [
            {"id": p.id, "name_zh": p.name_zh, "name_en": p.name_en} for p in demo.publishers
        ],
        "datasets": synthetic_catalogue(count),
    }
    spec = parse_raw(raw, file="synthetic")
    with database.transaction() as session:
        load_catalogue(session, spec)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument("--postgres", help="a PostgreSQL URL to use instead of SQLite (its tables are created)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmpdir:
        url = args.postgres or f"sqlite:///{Path(tmpdir) / 'search.db'}"
        database = Database(url)
        database.migrate()
        started = time.perf_counter()
        build_catalogue(database, args.datasets)
        print(f"{'PostgreSQL' if args.postgres else 'SQLite'}: loaded {args.datasets:,} datasets "
              f"in {time.perf_counter() - started:.1f} s")
        database.dispose()
        env = {"OPENDATA_DATABASE_URL": url, "OPENDATA_LOAD_CATALOGUES_ON_STARTUP": "false",
               "OPENDATA_DATA_DIR": tmpdir}
        with portal_process(env) as (base, _pid), httpx.Client(base_url=base, timeout=30) as http:
            rows = []
            for label, params in QUERIES:
                http.get("/api/v1/datasets", params=params).raise_for_status()  # warm up
                times, total = [], 0
                for _ in range(args.repeat):
                    started = time.perf_counter()
                    response = http.get("/api/v1/datasets", params=params)
                    times.append((time.perf_counter() - started) * 1000)
                    total = response.json()["total"]
                rows.append((label, percentile(times, 0.5), percentile(times, 0.95), total))
    baseline = rows[0][1]
    print(f"\n| query | p50 ms | p95 ms | vs listing p50 | hits |")
    print("|---|---:|---:|---:|---:|")
    for label, p50, p95, total in rows:
        print(f"| {label} | {p50:.1f} | {p95:.1f} | {p50 / baseline:.2f}× | {total:,} |")


if __name__ == "__main__":
    main()
