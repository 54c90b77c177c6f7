"""The streaming XLSX writer vs the bare openpyxl write-only loop (issue 16, item 3).

Rows come from a SQLite table shaped like benchmarks/downloads.py's (Chinese and ASCII
text, integers, decimals read back as floats, dates), read with the sqlite3 driver. Both
sides write the same rows: ours through ``export_xlsx`` (chunks counted and dropped), the
baseline appending them to an openpyxl write-only sheet and saving to a file. Runs are
interleaved A, B, A, B; the median ratio, its spread and the load average are printed.

Time to first byte: ours, until the first chunk is out; openpyxl's (and the exporter it
replaced), until the saved file is complete, as nothing can be sent before.

    python benchmarks/xlsx_stream.py [--rows 1000000 100000] [--pairs 2] [--levels]
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from openpyxl import Workbook

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from downloads import DISTRICTS, FIELDS  # noqa: E402  (the same table shape)

from opendata.formats import Column, export_xlsx  # noqa: E402

COLUMNS = [Column(name, title, None, kind) for name, title, kind in FIELDS]


def make_table(path: Path, rows: int) -> None:
    rng = random.Random(42)
    start = date(2000, 1, 1)
    with sqlite3.connect(path) as connection:
        connection.execute(
            "create table big (name_zh text, code text, district text, address text, staff integer, "
            "year integer, capital real, ratio real, founded date, checked date)"
        )

        def generated():
            for n in range(rows):
                district = DISTRICTS[n % len(DISTRICTS)]
                yield (f"广州市{district}第{n}号科技有限公司", f"GZ{n:09d}", district,
                       f"{district}中山大道{rng.randint(1, 999)}号, {rng.randint(1, 30)}楼", rng.randint(1, 5000),
                       rng.randint(1990, 2024), rng.randint(1, 10**9) / 100, rng.randint(0, 9999) / 10000,
                       (start + timedelta(days=rng.randint(0, 8000))).isoformat(),
                       (start + timedelta(days=rng.randint(0, 9000))).isoformat())

        connection.executemany("insert into big values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", generated())


def read_rows(path: Path):
    # Dates come back as date objects, as the portal's row store gives them.
    connection = sqlite3.connect(path, detect_types=sqlite3.PARSE_DECLTYPES)
    try:
        yield from connection.execute(f"select {', '.join(f[0] for f in FIELDS)} from big")
    finally:
        connection.close()


def ours(path: Path, tmp: Path, level: int | None = None) -> tuple[float, float, int]:
    """Seconds to the first chunk and in all, and bytes; at the exporter's own level unless given."""
    options = {} if level is None else {"compress_level": level}
    started = time.perf_counter()
    first, size = None, 0
    for chunk in export_xlsx(COLUMNS, read_rows(path), **options):
        if first is None:
            first = time.perf_counter() - started
        size += len(chunk)
    return first, time.perf_counter() - started, size


def bare_openpyxl(path: Path, tmp: Path) -> tuple[float, float, int]:
    started = time.perf_counter()
    book = Workbook(write_only=True)
    sheet = book.create_sheet("data")
    sheet.append([column.bilingual_title for column in COLUMNS])
    for row in read_rows(path):
        sheet.append(list(row))
    target = tmp / "bare.xlsx"
    book.save(target)
    elapsed = time.perf_counter() - started
    size = target.stat().st_size
    target.unlink()
    return elapsed, elapsed, size


def interleaved(path: Path, tmp: Path, pairs: int, a, b) -> tuple[list, list]:
    runs_a, runs_b = [], []
    for pair in range(pairs):
        runs_a.append(a(path, tmp))
        runs_b.append(b(path, tmp))
        print(f"  pair {pair + 1}: {runs_a[-1][1]:.1f} s vs {runs_b[-1][1]:.1f} s "
              f"(load {os.getloadavg()[0]:.2f})", file=sys.stderr, flush=True)
    return runs_a, runs_b


def spread(values: list[float]) -> str:
    return f"{min(values):.2f}–{max(values):.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 100_000])
    parser.add_argument("--pairs", type=int, default=2)
    parser.add_argument("--levels", action="store_true", help="also compare deflate levels 1, 3 and 6")
    args = parser.parse_args()
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        print("| rows | ours TTFB s | ours total s | ours rows/s | openpyxl total (= TTFB) s | openpyxl rows/s "
              "| throughput ratio, median (spread) | size MB ours / openpyxl | load average |")
        print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for rows in args.rows:
            path = tmp / f"rows{rows}.db"
            make_table(path, rows)
            runs_ours, runs_bare = interleaved(path, tmp, args.pairs, ours, bare_openpyxl)
            ratios = [bare[1] / mine[1] for mine, bare in zip(runs_ours, runs_bare)]
            ttfb = statistics.median(r[0] for r in runs_ours)
            total = statistics.median(r[1] for r in runs_ours)
            bare_total = statistics.median(r[1] for r in runs_bare)
            print(f"| {rows:,} | {ttfb:.3f} (max {max(r[0] for r in runs_ours):.3f}) | {total:.1f} | "
                  f"{rows / total:,.0f} | {bare_total:.1f} | {rows / bare_total:,.0f} | "
                  f"{statistics.median(ratios):.2f}× ({spread(ratios)}) | "
                  f"{runs_ours[0][2] / 2**20:.0f} / {runs_bare[0][2] / 2**20:.0f} | "
                  f"{os.getloadavg()[0]:.2f} |", flush=True)
            if args.levels:
                for level in (3, 6):
                    fast = lambda p, t: ours(p, t, 1)  # noqa: E731
                    fast, slow = interleaved(path, tmp, args.pairs, fast, lambda p, t: ours(p, t, level))
                    ratios = [s[1] / f[1] for f, s in zip(fast, slow)]
                    print(f"  level {level} vs level 1 at {rows:,} rows: time {statistics.median(ratios):.2f}× "
                          f"({spread(ratios)}), size {slow[0][2] / fast[0][2]:.2f}× "
                          f"({slow[0][2] / 2**20:.1f} MB vs {fast[0][2] / 2**20:.1f} MB); "
                          f"load {os.getloadavg()[0]:.2f}", flush=True)
            path.unlink()


if __name__ == "__main__":
    main()
