"""Cost of the data dictionary's rules at ingest: missing-value markers, constraints and a
primary key, vs the same ingest without rules, measured in the same run.

A flights-style CSV (15 columns, NA in cancelled flights' times) is ingested into a fresh
SQLite file by the row store (``ingest_file``, what catalogue loads and publisher
uploads run), once per configuration, each in a fresh process whose peak RSS above its
resting RSS is read from /proc:

- ``baseline``: the file with its NA cells already empty, no rules;
- ``markers``: the NA file with ``missing_values = ["", "NA"]``;
- ``rules``: markers, a primary key (``flight``), ``required`` and bounds on two fields,
  an ``enum`` on ``origin``, a ``pattern`` on ``tailnum``.

    python benchmarks/ingest_rules.py [--rows 1000000]
"""

from __future__ import annotations

import argparse
import os
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
from opendata.catalogue.rowstore import ingest_file
from tests.catalogue.test_field_rules import FLIGHT_FIELDS
path, mode, url = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
database = Database(url)
database.migrate()
rules = {"dep_time": {"minimum": 0, "maximum": 2400}, "distance": {"required": True, "minimum": 1},
         "origin": {"enum": ["JFK", "LGA", "EWR"]}, "tailnum": {"pattern": "N[0-9]{3}UA"}}
with database.transaction() as session:
    session.add(Catalogue(id="bench", title_zh="b"))
    session.add(Publisher(id="p", catalogue_id="bench", name_zh="p"))
    session.flush()
    session.add(Dataset(id="flights", catalogue_id="bench", publisher_id="p", title_zh="f", description_zh="f",
                        domain="transport", open_level="unconditional", update_frequency="static",
                        licence="x", version="1"))
    resource = Resource(dataset_id="flights", id="flights", title_zh="f", format="csv",
                        missing_values=None if mode == "baseline" else ["", "NA"],
                        primary_key="flight" if mode == "rules" else None)
    resource.fields = [Field(position=i, name=n, title_zh=n, type=t,
                             constraints=rules.get(n) if mode == "rules" else None)
                       for i, (n, t) in enumerate(FLIGHT_FIELDS)]
    session.add(resource)
    session.flush()
    rest = status("VmRSS:")
    started = time.perf_counter()
    report = ingest_file(session, resource, path, fmt="csv")
    seconds = time.perf_counter() - started
print(report.rows, seconds, status("VmHWM:") - rest)
'''


def measure(path: Path, mode: str, folder: Path) -> tuple[int, float, int]:
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    url = f"sqlite:///{folder / (mode + '.db')}"
    out = subprocess.run([sys.executable, "-c", RUNNER, str(path), mode, url, str(ROOT)], capture_output=True,
                         text=True, env=env, timeout=3600, check=True).stdout.split()
    return int(out[0]), float(out[1]), int(out[2])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        content, _ = flights_csv(args.rows)
        with_na = folder / "flights.csv"
        with_na.write_text(content, encoding="utf-8")
        plain = folder / "plain.csv"
        plain.write_text(content.replace(",NA", ",").replace("\nNA,", "\n,"), encoding="utf-8")
        del content
        results = {}
        for mode, path in (("baseline", plain), ("markers", with_na), ("rules", with_na)):
            results[mode] = measure(path, mode, folder)
        base = results["baseline"][1]
        print(f"{args.rows:,} rows × 15 columns, SQLite")
        print("| configuration | rows | seconds | rows/s | vs baseline | peak RSS growth MB |")
        print("|---|---:|---:|---:|---:|---:|")
        for mode, (rows, seconds, rss) in results.items():
            print(f"| {mode} | {rows:,} | {seconds:.1f} | {rows / seconds:,.0f} | {seconds / base:.2f}× | {rss} |")


if __name__ == "__main__":
    main()
