"""Cost of measuring quality at ingest: a 1,000,000-row upload with the quality meter vs
the same upload without it, interleaved A, B, A, B in the same run.

A flights-style CSV (15 columns, NA markers, a primary key) is loaded into a fresh SQLite
file by ``replace_rows`` (the staged path publisher uploads run, catalogue/staging.py),
each run in a fresh process whose peak RSS above its resting RSS is read from /proc. The
resource declares quality rules so that every part of the meter works: two checks
(``arr_time >= dep_time``, ``distance > 0``), a declared key (``carrier`` + ``tailnum``
+ ``time_hour``) and a reference (``origin`` into a small airports table, measured by
SQL). ``without`` ingests the same file with ``quality=None``. Prints each run, the median
ratio with / without and the load average before and after.

    python benchmarks/ingest.py [--rows 1000000] [--pairs 2]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.catalogue.test_field_rules import flights_csv  # noqa: E402

RUNNER = r'''
import sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[4])
def status(key):
    return int(next(l for l in open("/proc/self/status") if l.startswith(key)).split()[1]) // 1024
from opendata.db import Database
from opendata.catalogue.models import Catalogue, Dataset, Field, Publisher, Resource
from opendata.catalogue.staging import replace_rows
from tests.catalogue.test_field_rules import FLIGHT_FIELDS
path, mode, url = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
airports = path.with_name("airports.csv")
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
    replace_rows(session, register, airports, fmt="csv", quality=None)
    rest = status("VmRSS:")
    started = time.perf_counter()
    report = replace_rows(session, resource, path, fmt="csv", quality="upload" if mode == "with" else None)
    seconds = time.perf_counter() - started
    from sqlalchemy import func, select
    from opendata.quality.models import QualityMeasurement
    measured = session.scalar(select(func.count()).where(QualityMeasurement.resource_id == "flights"))
    assert measured == (1 if mode == "with" else 0), measured
print(report.rows, seconds, status("VmHWM:") - rest)
'''


def measure(path: Path, mode: str, folder: Path, run: int) -> tuple[int, float, int]:
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    url = f"sqlite:///{folder / f'{mode}-{run}.db'}"
    out = subprocess.run([sys.executable, "-c", RUNNER, str(path), mode, url, str(ROOT)], capture_output=True,
                         text=True, env=env, timeout=3600, check=True).stdout.split()
    (folder / f"{mode}-{run}.db").unlink()
    return int(out[0]), float(out[1]), int(out[2])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--pairs", type=int, default=2, help="A,B pairs to run (interleaved)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        content, _ = flights_csv(args.rows)
        path = folder / "flights.csv"
        path.write_text(content, encoding="utf-8")
        del content
        (folder / "airports.csv").write_text("code\nJFK\nLGA\n", encoding="utf-8")  # EWR is not registered
        load_before = os.getloadavg()
        runs: list[tuple[str, int, float, int]] = []
        for run in range(args.pairs):
            for mode in ("without", "with"):
                rows, seconds, rss = measure(path, mode, folder, run)
                runs.append((mode, rows, seconds, rss))
                print(f"  run {run + 1} {mode:<7} {seconds:7.1f} s  {rows / seconds:9,.0f} rows/s  "
                      f"peak RSS +{rss} MB", flush=True)
        load_after = os.getloadavg()
    ratios = [runs[i + 1][2] / runs[i][2] for i in range(0, len(runs), 2)]
    print(f"\n{args.rows:,} rows × 15 columns, SQLite, staged upload (replace_rows)")
    print("| run | without s | with quality s | ratio | peak RSS growth MB without / with |")
    print("|---|---:|---:|---:|---:|")
    for n, index in enumerate(range(0, len(runs), 2), start=1):
        without, with_quality = runs[index], runs[index + 1]
        print(f"| {n} | {without[2]:.1f} | {with_quality[2]:.1f} | {with_quality[2] / without[2]:.2f}× | "
              f"{without[3]} / {with_quality[3]} |")
    print(f"median ratio {statistics.median(ratios):.2f}× (target ≤ 1.5×); load average before "
          f"{' '.join(f'{x:.1f}' for x in load_before)}, after {' '.join(f'{x:.1f}' for x in load_after)}")


if __name__ == "__main__":
    main()
