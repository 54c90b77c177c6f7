"""Issue 14 item 4: the formats plugin's Parquet export vs the core CSV export, on the same
generated rows (10 columns: text, integers, decimals, numbers, dates), interleaved A,B per
round, each measurement in a fresh process: seconds, bytes out, and peak RSS growth over
the process's RSS before the export (constant memory: the same at 100,000 and 1,000,000
rows). Prints the load average. ``python benchmarks/formats.py [rows] [rounds]``.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import time
from datetime import date, timedelta
from decimal import Decimal


def _rows(count: int):
    start = date(2020, 1, 1)
    for i in range(count):
        yield (f"S{i:07d}", f"站点{i % 9973}", "天河区" if i % 3 else "越秀区", i, i * 7 % 1000,
               Decimal(i % 100000) / 100, (i % 997) / 7.0, start + timedelta(days=i % 3650), f"note {i % 13}",
               i % 2 == 0)


def one(fmt: str, count: int) -> dict[str, float]:
    from opendata.formats import Column
    from opendata.formats.registry import CORE_EXPORTERS
    from opendata_formats import PARQUET

    columns = [Column("stop_id", "编号", None, "string"), Column("name", "名称", None, "string"),
               Column("district", "区", None, "string"), Column("seq", "序号", None, "integer"),
               Column("lines", "线路", None, "integer"), Column("fare", "票价", None, "decimal"),
               Column("score", "评分", None, "number"), Column("day", "日期", None, "date"),
               Column("note", "备注", None, "string"), Column("open", "开放", None, "boolean")]
    exporter = PARQUET if fmt == "parquet" else CORE_EXPORTERS["csv"]
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    began = time.perf_counter()
    size = sum(len(chunk) for chunk in exporter(columns, _rows(count)))
    seconds = time.perf_counter() - began
    growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    return {"seconds": seconds, "bytes": size, "rss_growth_mib": growth / 1024}


def measure(fmt: str, count: int) -> dict[str, float]:
    out = subprocess.run([sys.executable, __file__, "--one", fmt, str(count)], check=True, capture_output=True,
                         text=True).stdout
    return json.loads(out)


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    print(f"load average before: {os.getloadavg()}")
    results: dict[str, list[dict[str, float]]] = {"parquet": [], "csv": []}
    for _ in range(rounds):
        for fmt in ("parquet", "csv"):
            results[fmt].append(measure(fmt, count))
    small = measure("parquet", count // 10)
    print(f"{count:,} rows, {rounds} rounds A,B")
    print("| format | median s | rows/s | MB out | peak RSS growth MiB |")
    print("|---|---|---|---|---|")
    for fmt, runs in results.items():
        s = statistics.median(r["seconds"] for r in runs)
        print(f"| {fmt} | {s:.2f} | {count / s:,.0f} | {runs[0]['bytes'] / 1e6:.1f} | "
              f"{statistics.median(r['rss_growth_mib'] for r in runs):.1f} |")
    ratio = statistics.median(p["seconds"] / c["seconds"] for p, c in zip(results["parquet"], results["csv"]))
    print(f"median parquet/csv time ratio: {ratio:.2f}")
    print(f"parquet at {count // 10:,} rows: peak RSS growth {small['rss_growth_mib']:.1f} MiB")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--one":
        print(json.dumps(one(sys.argv[2], int(sys.argv[3]))))
    else:
        main()
