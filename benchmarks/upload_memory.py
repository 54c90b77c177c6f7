"""Peak memory of reading an uploaded XLSX: the guarded reader vs openpyxl as it was used.

The publisher upload reads the workbook with ``opendata.formats.read_xlsx`` (what this
measures as "guarded"); before the bounds, the same call went straight to openpyxl's
read-only mode ("unguarded", the baseline, measured in the same run). Each measurement is
a fresh process reading the file, sampled from /proc for its peak RSS above its resting
RSS; runs are interleaved A, B, A, B.

    python benchmarks/upload_memory.py [--runs 3] [--strings 3000000]
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
from tests.formats import crafted_xlsx as crafted  # noqa: E402

HEADER = ["stop_id", "name", "district", "lines"]
READER = r'''
import sys
path, mode = sys.argv[1], sys.argv[2]
def status(key):
    return int(next(l for l in open("/proc/self/status") if l.startswith(key)).split()[1]) // 1024
def rss():
    return status("VmRSS:")
if mode == "guarded":
    from opendata.formats import FormatError, read_xlsx
    rest = rss()
    try:
        for _ in read_xlsx(path):
            pass
        outcome = "read"
    except FormatError as error:
        outcome = error.code
else:
    from openpyxl import load_workbook
    rest = rss()
    book = load_workbook(path, read_only=True, data_only=True)
    for _ in book.worksheets[0].iter_rows(values_only=True):
        pass
    outcome = "read"
# VmHWM, not ru_maxrss: the latter keeps the parent's size from before exec.
peak = status("VmHWM:")
print(peak - rest, outcome)
'''


def measure(path: Path, mode: str) -> tuple[int, str]:
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    out = subprocess.run([sys.executable, "-c", READER, str(path), mode], capture_output=True, text=True,
                         env=env, timeout=1800, check=True).stdout.split()
    return int(out[0]), out[1]


def normal_workbook(path: Path, rows: int) -> Path:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(HEADER)
    for i in range(rows):
        sheet.append([f"S{i}", f"站点 {i}", "天河区", i % 50])
    book.save(path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--strings", type=int, default=3_000_000)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp())
    files = {
        # Just under the default 16 MiB shared-string limit: the worst workbook still read.
        "bomb under the limit": crafted.shared_strings_bomb(folder / "under.xlsx", HEADER, 800_000),
        "shared-string bomb": crafted.shared_strings_bomb(folder / "bomb.xlsx", HEADER, args.strings),
        "10k ordinary rows": normal_workbook(folder / "rows.xlsx", 10_000),
    }
    print(f"load average {os.getloadavg()[0]:.2f}")
    print(f"{'file':<22}{'size':>10}{'guarded MB':>12}{'unguarded MB':>14}{'ratio':>8}  outcome")
    for name, path in files.items():
        guarded, unguarded, outcome = [], [], ""
        for _ in range(args.runs):
            mb, outcome = measure(path, "guarded")
            guarded.append(mb)
            unguarded.append(measure(path, "unguarded")[0])
        ratios = [u / max(g, 1) for g, u in zip(guarded, unguarded)]
        print(f"{name:<22}{path.stat().st_size:>10,}{statistics.median(guarded):>12}"
              f"{statistics.median(unguarded):>14}{statistics.median(ratios):>7.1f}x  {outcome}"
              f"  (ratio spread {min(ratios):.1f}-{max(ratios):.1f})")
    print(f"load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
