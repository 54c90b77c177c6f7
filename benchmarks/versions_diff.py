"""Cost of the version diff at ingest: re-uploading a 1,000,000-row table (1% of rows
removed, 2% changed, 1% added) with the SQL diff of opendata.versions vs the same upload
with the diff replaced by a constant, interleaved A, B, A, B in the same run.

Each run is a fresh process on a fresh SQLite file: it uploads generation 1 (not timed),
then times the upload of generation 2 through ``replace_rows`` (the staged path publisher
uploads run), whose swap diffs it by primary key against generation 1. ``without``
replaces ``diff_tables`` by a constant in that process only. The quality meter is off in
both (benchmarks/ingest.py measures it), so the ratio is the diff's own cost. Prints each
run, the median ratio with / without and the load average before and after.

    python benchmarks/versions_diff.py [--rows 1000000] [--pairs 2]
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
sys.path.insert(0, sys.argv[5])
from opendata.db import Database
from opendata.catalogue.models import Catalogue, Dataset, Field, Publisher, Resource
from opendata.catalogue import staging
from opendata.versions.diff import Diff
from tests.catalogue.test_field_rules import FLIGHT_FIELDS
first, second, mode, url = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], sys.argv[4]
if mode == "without":  # the same swap with the diff's SQL left out
    staging.diff_tables = lambda connection, old, new, key: Diff(1, 0, 0, key, {})
database = Database(url)
database.migrate()
with database.session() as session:
    session.add(Catalogue(id="bench", title_zh="b"))
    session.add(Publisher(id="p", catalogue_id="bench", name_zh="p"))
    session.flush()
    session.add(Dataset(id="flights", catalogue_id="bench", publisher_id="p", title_zh="f", description_zh="f",
                        domain="transport", open_level="unconditional", update_frequency="static",
                        licence="x", version="1"))
    resource = Resource(dataset_id="flights", id="flights", title_zh="f", format="csv", missing_values=["", "NA"],
                        primary_key="flight")
    resource.fields = [Field(position=i, name=n, title_zh=n, type=t) for i, (n, t) in enumerate(FLIGHT_FIELDS)]
    session.add(resource)
    session.commit()
    staging.replace_rows(session, resource, first, fmt="csv", quality=None)
    started = time.perf_counter()
    report = staging.replace_rows(session, resource, second, fmt="csv", quality=None)
    seconds = time.perf_counter() - started
    from opendata.versions.service import get_version
    version = get_version(session, "flights", report.version)
print(report.rows, seconds, version.added, version.removed, version.changed)
'''


def second_generation(content: str) -> str:
    """1% of rows removed, 2% changed (distance), 1% added (new flight numbers)."""
    header, *lines = content.rstrip("\n").split("\n")
    out = [header]
    for n, line in enumerate(lines):
        if n % 100 == 7:
            continue
        if n % 50 == 3:
            cells = line.split(",")
            cells[13] = str(int(cells[13]) + 1)
            line = ",".join(cells)
        out.append(line)
    for n in range(len(lines) // 100):
        cells = lines[n].split(",")
        cells[8] = str(10_000_000 + n)
        out.append(",".join(cells))
    return "\n".join(out) + "\n"


def measure(first: Path, second: Path, mode: str, folder: Path, run: int) -> list[str]:
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    database = folder / f"{mode}-{run}.db"
    out = subprocess.run([sys.executable, "-c", RUNNER, str(first), str(second), mode, f"sqlite:///{database}",
                          str(ROOT)], capture_output=True, text=True, env=env, timeout=7200, check=True).stdout.split()
    database.unlink()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--pairs", type=int, default=2, help="A,B pairs to run (interleaved)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        content, _ = flights_csv(args.rows)
        first, second = folder / "gen1.csv", folder / "gen2.csv"
        first.write_text(content, encoding="utf-8")
        second.write_text(second_generation(content), encoding="utf-8")
        del content
        load_before = os.getloadavg()
        runs: list[tuple[str, float, str]] = []
        for run in range(args.pairs):
            for mode in ("without", "with"):
                rows, seconds, added, removed, changed = measure(first, second, mode, folder, run)
                diff = f"+{added} -{removed} ~{changed}" if mode == "with" else "(constant)"
                runs.append((mode, float(seconds), diff))
                print(f"  run {run + 1} {mode:<7} {float(seconds):7.1f} s  {int(rows):,} rows  diff {diff}", flush=True)
        load_after = os.getloadavg()
    ratios = [runs[i + 1][1] / runs[i][1] for i in range(0, len(runs), 2)]
    print(f"\n{args.rows:,} rows × 15 columns, SQLite, staged re-upload (replace_rows) diffed by primary key")
    print("| run | without diff s | with diff s | ratio | diff |")
    print("|---|---:|---:|---:|---|")
    for n, index in enumerate(range(0, len(runs), 2), start=1):
        without, with_diff = runs[index], runs[index + 1]
        print(f"| {n} | {without[1]:.1f} | {with_diff[1]:.1f} | {with_diff[1] / without[1]:.2f}× | {with_diff[2]} |")
    print(f"median ratio {statistics.median(ratios):.2f}×; load average before "
          f"{' '.join(f'{x:.1f}' for x in load_before)}, after {' '.join(f'{x:.1f}' for x in load_after)}")


if __name__ == "__main__":
    main()
