"""Cost of governance at ingest (issue 12's Must hold): re-uploading a 1,000,000-row table
with the quality meter and the version diff vs the same re-upload with neither,
interleaved A, B, A, B in the same run; peak memory at two sizes.

A flights-style CSV (15 columns, NA markers, a primary key) is uploaded into a fresh SQLite
file by ``replace_rows`` (the staged path publisher uploads run, catalogue/staging.py),
each run in a fresh process: generation 1 first (not timed), then generation 2 (1% of rows
removed, 2% changed, 1% added: versions_diff.second_generation) is timed. Its swap diffs it
by primary key against generation 1 (opendata.versions) and, ``with``, the meter measures
it: two checks (``arr_time >= dep_time``, ``distance > 0``), a declared key (``carrier`` +
``tailnum`` + ``time_hour``) and a reference (``origin`` into a small airports table), so
the streaming counters and every SQL count run. ``without`` uploads the same files with
``quality=None`` and ``diff_tables`` replaced by a constant in that process.

Memory: the peak RSS of the timed upload above the process's RSS just before it (VmHWM is
reset through /proc/self/clear_refs after generation 1), at ``--rows`` and at a tenth of
it; flat means the growth does not follow the row count. Prints each run, the median ratio
with / without and the load average before and after.

    python benchmarks/ingest.py [--rows 1000000] [--pairs 2] [--small-rows 100000]
                                [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/test]

``--postgres``: the same on PostgreSQL, each run in a fresh schema of that database
(created and dropped here, never ``public``); the peak RSS is then the client's only.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
from benchmarks._server import postgres_schema  # noqa: E402
from tests.catalogue.test_field_rules import flights_csv  # noqa: E402
from versions_diff import second_generation  # noqa: E402

RUNNER = r'''
import sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[5])
def status(key):
    return int(next(l for l in open("/proc/self/status") if l.startswith(key)).split()[1]) // 1024
from sqlalchemy import func, select
from opendata.db import Database
from opendata.catalogue import staging
from opendata.catalogue.models import Catalogue, Dataset, Field, Publisher, Resource
from opendata.quality.models import QualityMeasurement
from opendata.versions.diff import Diff
from opendata.versions.service import get_version
from tests.catalogue.test_field_rules import FLIGHT_FIELDS
first, second, mode, url = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], sys.argv[4]
quality = "upload" if mode == "with" else None
if mode == "without":  # the same swap with the diff's SQL left out
    staging.diff_tables = lambda connection, old, new, key: Diff(1, 0, 0, key, {})
airports = first.with_name("airports.csv")
database = Database(url)
database.migrate()
def dataset(session, dataset_id):
    session.add(Dataset(id=dataset_id, catalogue_id="bench", publisher_id="p", title_zh="f", description_zh="f",
                        domain="transport", open_level="unconditional", update_frequency="static",
                        licence="x", version="1"))
with database.session() as session:
    session.add(Catalogue(id="bench", title_zh="b"))
    session.add(Publisher(id="p", catalogue_id="bench", name_zh="p"))
    session.flush()
    dataset(session, "airports")
    dataset(session, "flights")
    register = Resource(dataset_id="airports", id="main", title_zh="a", format="csv", primary_key="code")
    register.fields = [Field(position=0, name="code", title_zh="code", type="string")]
    resource = Resource(dataset_id="flights", id="flights", title_zh="f", format="csv", missing_values=["", "NA"],
                        primary_key="flight", quality_rules={
                            "checks": ["arr_time >= dep_time", "distance > 0"],
                            "unique_keys": [["carrier", "tailnum", "time_hour"]],
                            "references": [{"field": "origin", "resource": "airports/main", "key": "code"}]})
    resource.fields = [Field(position=i, name=n, title_zh=n, type=t) for i, (n, t) in enumerate(FLIGHT_FIELDS)]
    session.add_all([register, resource])
    session.commit()
    staging.replace_rows(session, register, airports, fmt="csv", quality=None)
    staging.replace_rows(session, resource, first, fmt="csv", quality=quality)
    with open("/proc/self/clear_refs", "w") as clear:  # VmHWM from here on is the timed upload's
        clear.write("5")
    rest = status("VmRSS:")
    started = time.perf_counter()
    report = staging.replace_rows(session, resource, second, fmt="csv", quality=quality)
    seconds = time.perf_counter() - started
    peak = status("VmHWM:") - rest
    measured = session.scalar(select(func.count()).where(QualityMeasurement.resource_id == "flights"))
    assert measured == (2 if mode == "with" else 0), measured
    version = get_version(session, "flights", report.version)
    assert version.number == 2 and (mode == "without" or version.removed > 0), (version.number, version.removed)
print(report.rows, seconds, peak, version.added, version.removed, version.changed)
'''


@contextmanager
def database_url(folder: Path, name: str, postgres: str | None) -> Iterator[str]:
    """A fresh SQLite file, or a fresh schema of the PostgreSQL database, for one run."""
    if postgres is None:
        path = folder / f"{name}.db"
        yield f"sqlite:///{path}"
        path.unlink()
        return
    with postgres_schema(postgres) as url:
        yield url


def measure(first: Path, second: Path, mode: str, folder: Path, run: str,
            postgres: str | None) -> tuple[int, float, int, str]:
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    with database_url(folder, f"{mode}-{run}", postgres) as url:
        out = subprocess.run([sys.executable, "-c", RUNNER, str(first), str(second), mode, url, str(ROOT)],
                             capture_output=True, text=True, env=env, timeout=7200, check=True).stdout.split()
    diff = f"+{out[3]} -{out[4]} ~{out[5]}" if mode == "with" else "(constant)"
    return int(out[0]), float(out[1]), int(out[2]), diff


def write_generations(folder: Path, rows: int) -> tuple[Path, Path]:
    content, _ = flights_csv(rows)
    first, second = folder / f"gen1-{rows}.csv", folder / f"gen2-{rows}.csv"
    first.write_text(content, encoding="utf-8")
    second.write_text(second_generation(content), encoding="utf-8")
    return first, second


def run_pairs(folder: Path, rows: int, pairs: int, postgres: str | None) -> list[tuple[str, int, float, int, str]]:
    first, second = write_generations(folder, rows)
    runs = []
    for run in range(pairs):
        for mode in ("without", "with"):
            rows_loaded, seconds, rss, diff = measure(first, second, mode, folder, f"{rows}-{run}", postgres)
            runs.append((mode, rows_loaded, seconds, rss, diff))
            print(f"  {rows:,} rows, run {run + 1} {mode:<7} {seconds:7.1f} s  {rows_loaded / seconds:9,.0f} rows/s  "
                  f"peak RSS +{rss} MB  diff {diff}", flush=True)
    first.unlink()
    second.unlink()
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--pairs", type=int, default=2, help="A,B pairs to run (interleaved)")
    parser.add_argument("--postgres", default=None, help="a PostgreSQL URL: run there, a fresh schema per run")
    parser.add_argument("--small-rows", type=int, default=None,
                        help="the size one more pair runs at, to see memory stay flat (default rows / 10)")
    args = parser.parse_args()
    small = args.small_rows or max(args.rows // 10, 1000)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "airports.csv").write_text("code\nJFK\nLGA\n", encoding="utf-8")  # EWR is not registered
        load_before = os.getloadavg()
        runs = run_pairs(folder, args.rows, args.pairs, args.postgres)
        small_runs = run_pairs(folder, small, 1, args.postgres)
        load_after = os.getloadavg()
    ratios = [runs[i + 1][2] / runs[i][2] for i in range(0, len(runs), 2)]
    backend = "PostgreSQL" if args.postgres else "SQLite"
    print(f"\n{args.rows:,} rows × 15 columns, {backend}, staged re-upload (replace_rows): quality meter + "
          "version diff vs neither")
    print("| run | rows | without s | with quality + diff s | ratio | peak RSS growth MB without / with | diff |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for n, index in enumerate(range(0, len(runs + small_runs), 2), start=1):
        without, governed = (runs + small_runs)[index], (runs + small_runs)[index + 1]
        print(f"| {n} | {without[1]:,} | {without[2]:.1f} | {governed[2]:.1f} | {governed[2] / without[2]:.2f}× | "
              f"{without[3]} / {governed[3]} | {governed[4]} |")
    print(f"median ratio at {args.rows:,} rows {statistics.median(ratios):.2f}× (target ≤ 1.5×); peak RSS growth "
          f"with at {small:,} rows {small_runs[1][3]} MB, at {args.rows:,} rows "
          f"{max(r[3] for r in runs if r[0] == 'with')} MB; load average before "
          f"{' '.join(f'{x:.1f}' for x in load_before)}, after {' '.join(f'{x:.1f}' for x in load_after)}")


if __name__ == "__main__":
    main()
