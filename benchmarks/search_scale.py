"""Catalogue search at 1,000 / 10,000 / 100,000 datasets: the index against the v1 scan.

For each size the synthetic catalogue (opendata.demo.synthetic) is loaded, and each
typical query is run through our search (catalogue/search.py: the full-text index, facets,
highlights) and through the v1 baseline, the substring scan it replaced (every word an
instr()/LIKE over a lower-cased text column of titles, descriptions, tags and dictionary,
facets counted from the matched rows), interleaved A, B, A, B… in the same process and
database. Printed: p50/p95 of ours, the median ratio v1/ours with its spread
(quartiles of the per-pair ratios), and the growth of our p50 from one size to the next.

    python benchmarks/search_scale.py [--sizes 1000,10000,100000] [--repeat 30] [--postgres URL]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import text

from opendata.catalogue.loader import load_catalogue
from opendata.catalogue.manifest import parse_raw, read_manifest
from opendata.catalogue.search import SearchQuery, search_datasets
from opendata.db import Database
from opendata.demo.generator import synthetic_catalogue
from opendata.settings import demo_catalogue_path

QUERIES: list[tuple[str, dict]] = [
    ("plain listing (facets)", {}),
    ("zh: 公交", {"q": "公交"}),
    ("zh: 学校", {"q": "学校"}),
    ("zh: 信用 (many hits)", {"q": "信用"}),
    ("zh: 天河区 学校", {"q": "天河区 学校"}),
    ("zh: 预售许可 + domain", {"q": "预售许可", "domain": ["城市建设"]}),
    ("en: bus", {"q": "bus"}),
    ("en: school", {"q": "school"}),
    ("en: air quality", {"q": "air quality"}),
    ("filter: conditional + finance", {"open_level": ["conditional"], "domain": ["finance"]}),
    ("no match: 不存在的数据", {"q": "不存在的数据"}),
]


def build(database: Database, count: int) -> float:
    demo = read_manifest(demo_catalogue_path())
    raw = {
        "catalogue": {"id": "synthetic", "title_zh": "合成目录"},
        "publishers": [{"id": p.id, "name_zh": p.name_zh, "name_en": p.name_en} for p in demo.publishers],
        "datasets": synthetic_catalogue(count),
    }
    started = time.perf_counter()
    with database.transaction() as session:
        load_catalogue(session, parse_raw(raw, file="synthetic"))
        # The v1 baseline's column: what the substring search matched against.
        session.execute(text("DROP TABLE IF EXISTS bench_v1_text"))
        session.execute(text(
            "CREATE TABLE bench_v1_text AS SELECT d.id, d.domain, d.publisher_id, d.open_level, "
            "lower(d.title_zh || ' ' || coalesce(d.title_en, '') || ' ' || d.description_zh || ' ' || "
            "coalesce(d.description_en, '') || ' ' || coalesce(s.tags, '') || ' ' || coalesce(s.fields, '')) "
            "AS search_text FROM datasets d JOIN search_documents s ON s.dataset_id = d.id"))
    return time.perf_counter() - started


def _has_datasets(url: str) -> bool:
    database = Database(url)
    try:
        with database.session() as session:
            return bool(session.execute(text("SELECT count(*) FROM datasets")).scalar())
    except Exception:  # noqa: BLE001 - no tables yet
        return False
    finally:
        database.dispose()


def v1_search(database: Database, params: dict) -> int:
    """The v1 algorithm: one substring scan per query, facets counted from the matches."""
    words = params.get("q", "").lower().split()
    with database.session() as session:
        dialect = session.get_bind().dialect.name
        where = [f"instr(search_text, :w{i}) > 0" if dialect == "sqlite" else f"search_text LIKE :w{i}"
                 for i in range(len(words))]
        binds = {f"w{i}": (w if dialect == "sqlite" else f"%{w}%") for i, w in enumerate(words)}
        if params.get("open_level"):
            where.append("open_level = :level")
            binds["level"] = params["open_level"][0]
        sql = "SELECT id, domain, publisher_id, open_level FROM bench_v1_text"
        if where:
            sql += " WHERE " + " AND ".join(where)
        rows = session.execute(text(sql), binds).all()
        Counter(r.domain for r in rows), Counter(r.open_level for r in rows), Counter(r.publisher_id for r in rows)
        return len(rows)


def ours(database: Database, params: dict) -> int:
    with database.session() as session:
        return search_datasets(session, SearchQuery(**params)).total


def timed(fn, *args) -> float:  # noqa: ANN001
    return timed_cpu(fn, *args)[0]


def timed_cpu(fn, *args) -> tuple[float, float]:  # noqa: ANN001
    """Wall and CPU milliseconds of this process (on SQLite the database's work is this
    process's too, so CPU time is what the search costs, whatever the machine's load)."""
    started, cpu = time.perf_counter(), time.process_time()
    fn(*args)
    return (time.perf_counter() - started) * 1000, (time.process_time() - cpu) * 1000


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--postgres", help="a PostgreSQL URL instead of SQLite (one size only: its schema "
                        "must be empty)")
    parser.add_argument("--keep", metavar="DIR", help="keep the SQLite files in DIR and reuse those "
                        "already built there (a rerun skips the load); with --postgres, reuse the "
                        "schema's catalogue if it has one")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    backend = "PostgreSQL" if args.postgres else "SQLite"
    cpu_label = "client CPU" if args.postgres else "CPU"
    print(f"# catalogue search, {backend}; load average at start {os.getloadavg()[0]:.2f}")
    results: dict[int, dict[str, tuple[float, float, float, float, float, int]]] = {}
    with tempfile.TemporaryDirectory() as tmpdir:
        for size in sizes:
            path = Path(args.keep or tmpdir) / f"search-{size}.db"
            url = args.postgres or f"sqlite:///{path}"
            reused = args.keep and (path.exists() if not args.postgres else _has_datasets(url))
            database = Database(url)
            database.migrate()
            if reused:
                print(f"\n## {size:,} datasets (reused {path}; load {os.getloadavg()[0]:.2f})")
            else:
                seconds = build(database, size)
                print(f"\n## {size:,} datasets (loaded and indexed in {seconds:.1f} s; "
                      f"load {os.getloadavg()[0]:.2f})")
            print(f"| query | hits | ours p50 ms | ours p95 ms | ours {cpu_label} p50 / p95 ms | v1 p50 ms "
                  "| v1/ours median (IQR) |")
            print("|---|---:|---:|---:|---:|---:|---:|")
            results[size] = {}
            for label, params in QUERIES:
                hits = ours(database, params)  # warm the caches and the page cache
                v1_search(database, params)
                mine, mine_cpu, theirs, ratios = [], [], [], []
                for _ in range(args.repeat):
                    a, a_cpu = timed_cpu(ours, database, params)
                    mine_cpu.append(a_cpu)
                    b = timed(v1_search, database, params)
                    mine.append(a)
                    theirs.append(b)
                    ratios.append(b / a)
                q1, med, q3 = statistics.quantiles(ratios, n=4)
                row = (pct(mine, 0.5), pct(mine, 0.95), pct(theirs, 0.5), med, q3 - q1, hits, pct(mine_cpu, 0.5))
                results[size][label] = row
                print(f"| {label} | {hits:,} | {row[0]:.1f} | {row[1]:.1f} | "
                      f"{pct(mine_cpu, 0.5):.1f} / {pct(mine_cpu, 0.95):.1f} | {row[2]:.1f} | "
                      f"{med:.2f}× ({q1:.2f}–{q3:.2f}) |")
            database.dispose()
    if len(sizes) > 1:
        print(f"\n## growth of our p50 (load average now {os.getloadavg()[0]:.2f})")
        steps = list(zip(sizes, sizes[1:]))
        print("| query | " + " | ".join(f"{a:,} → {b:,} (wall / {cpu_label})" for a, b in steps) + " |")
        print("|---|" + "---:|" * len(steps))
        for label, _params in QUERIES:
            growth = [f"{results[b][label][0] / results[a][label][0]:.2f}× / "
                      f"{results[b][label][6] / max(results[a][label][6], 0.01):.2f}×" for a, b in steps]
            print(f"| {label} | " + " | ".join(growth) + " |")


if __name__ == "__main__":
    main()
