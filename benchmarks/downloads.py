"""Streaming downloads through the real HTTP endpoint vs a bare driver loop.

Generates a 1,000,000-row, 10-column resource (Chinese and ASCII text, integers,
decimals, dates), loads it into a SQLite portal, then times CSV, NDJSON and XLSX
downloads over HTTP while sampling the server's RSS. Baselines, measured in the same
run and interleaved with our downloads (baseline, ours, baseline, ours… for --rounds):
the same rows read with the sqlite3 driver and written with csv.writer, and (for XLSX) a
bare openpyxl write-only loop. Printed: the median ratio with its spread, the load.

    python benchmarks/downloads.py [--rows 1000000] [--rounds 2]
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date, timedelta
from pathlib import Path

import httpx
import tomli_w
from openpyxl import Workbook

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _server import portal_process, rss_bytes  # noqa: E402

DISTRICTS = ["天河区", "越秀区", "海珠区", "荔湾区", "白云区", "黄埔区", "番禺区", "花都区", "南沙区", "从化区", "增城区"]
FIELDS = [
    ("name_zh", "名称", "string"), ("code", "编号", "string"), ("district", "所属区", "string"),
    ("address", "地址", "string"), ("staff", "人数", "integer"), ("year", "年份", "integer"),
    ("capital", "注册资本", "decimal"), ("ratio", "比率", "decimal"), ("founded", "成立日期", "date"),
    ("checked", "核查日期", "date"),
]


def write_data(path: Path, rows: int) -> None:
    rng = random.Random(42)
    start = date(2000, 1, 1)
    with open(path, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow([f[0] for f in FIELDS])
        for n in range(rows):
            district = DISTRICTS[n % len(DISTRICTS)]
            writer.writerow([
                f"广州市{district}第{n}号科技有限公司", f"GZ{n:09d}", district,
                f"{district}中山大道{rng.randint(1, 999)}号, {rng.randint(1, 30)}楼", rng.randint(1, 5000),
                rng.randint(1990, 2024), f"{rng.randint(1, 10**7)}.{rng.randint(0, 99):02d}",
                f"0.{rng.randint(0, 9999):04d}", (start + timedelta(days=rng.randint(0, 8000))).isoformat(),
                (start + timedelta(days=rng.randint(0, 9000))).isoformat(),
            ])


def write_catalogue(folder: Path, rows: int) -> None:
    (folder / "data").mkdir(parents=True, exist_ok=True)
    write_data(folder / "data" / "big.csv", rows)
    manifest = {
        "catalogue": {"id": "bench", "title_zh": "基准测试目录"},
        "publishers": [{"id": "bench-dept", "name_zh": "基准部门"}],
        "datasets": [{
            "id": "big", "title_zh": "百万行数据", "description_zh": "下载基准。", "domain": "economy",
            "publisher": "bench-dept", "open_level": "unconditional", "update_frequency": "static",
            "licence": "cc-by-4.0", "version": "1",
            "resources": [{"id": "rows", "title_zh": "数据", "format": "csv", "path": "data/big.csv",
                           "fields": [{"name": n, "title_zh": t, "type": ty} for n, t, ty in FIELDS]}],
        }],
    }
    (folder / "catalogue.toml").write_text(tomli_w.dumps(manifest), encoding="utf-8")


def table_name(db: Path) -> str:
    with sqlite3.connect(db) as connection:
        return connection.execute("select table_name from resources where id = 'rows'").fetchone()[0]


def baseline_csv(db: Path, table: str) -> tuple[float, int]:
    started = time.perf_counter()
    connection = sqlite3.connect(db)
    sink, written, count = io.StringIO(), 0, 0
    writer = csv.writer(sink)
    writer.writerow([f[0] for f in FIELDS])
    for row in connection.execute(f"select {', '.join(f[0] for f in FIELDS)} from {table} order by _row_id"):
        writer.writerow(row)
        count += 1
        if sink.tell() > 1 << 16:
            written += len(sink.getvalue().encode("utf-8"))
            sink.seek(0)
            sink.truncate()
    connection.close()
    return time.perf_counter() - started, count


def baseline_xlsx(db: Path, table: str, tmp: Path) -> tuple[float, int]:
    started = time.perf_counter()
    connection = sqlite3.connect(db)
    book = Workbook(write_only=True)
    sheet = book.create_sheet("data")
    sheet.append([f[1] for f in FIELDS])
    count = 0
    for row in connection.execute(f"select {', '.join(f[0] for f in FIELDS)} from {table} order by _row_id"):
        sheet.append(list(row))
        count += 1
    book.save(tmp / "baseline.xlsx")
    connection.close()
    return time.perf_counter() - started, count


def timed_download(base: str, pid: int, fmt: str) -> tuple[float, float, int, int]:
    """Seconds to the first body byte and in all, bytes and the server's RSS growth while
    streaming one download."""
    before = rss_bytes(pid)
    peak = [before]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], rss_bytes(pid))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.perf_counter()
    size, first = 0, None
    with httpx.stream("GET", f"{base}/api/v1/datasets/big/resources/rows/download",
                      params={"format": fmt}, timeout=None) as response:
        response.raise_for_status()
        for chunk in response.iter_raw():
            if first is None:
                first = time.perf_counter() - started
            size += len(chunk)
    elapsed = time.perf_counter() - started
    done.set()
    sampler.join()
    return first, elapsed, size, peak[0] - before


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=2, help="interleaved baseline/ours rounds")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        env = {"OPENDATA_DATA_DIR": str(tmp / "data"), "OPENDATA_CATALOGUES": str(tmp / "cat"),
               "OPENDATA_LOAD_CATALOGUES_ON_STARTUP": "false"}
        started = time.perf_counter()
        write_catalogue(tmp / "cat", args.rows)
        print(f"generated {args.rows:,} rows in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "opendata", "catalogue", "load", str(tmp / "cat")],
                       env={**os.environ, **env}, check=True, stderr=subprocess.DEVNULL)
        ingest = time.perf_counter() - started
        print(f"ingested in {ingest:.1f} s ({args.rows / ingest:,.0f} rows/s)")
        db = tmp / "data" / "opendata.db"
        table = table_name(db)
        # Interleaved: each round times a baseline and then our download of the same
        # rows, so a change of the machine's load moves both (A, B, A, B...).
        rounds: list[dict[str, tuple]] = []
        with portal_process(env) as (base, pid):
            idle = rss_bytes(pid)
            for _ in range(args.rounds):
                measured: dict[str, tuple] = {}
                base_csv, n = baseline_csv(db, table)
                for fmt in ("csv", "ndjson"):
                    measured[fmt] = (*timed_download(base, pid, fmt), base_csv)
                base_xlsx, _ = baseline_xlsx(db, table, tmp)
                measured["xlsx"] = (*timed_download(base, pid, "xlsx"), base_xlsx)
                rounds.append(measured)
        print(f"\nserver RSS at rest: {idle / 2**20:.0f} MB; rows: {n:,}; rounds: {args.rounds}; "
              f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}\n")
        print("| format | first byte s | ours rows/s | baseline rows/s | ratio, median (spread) | size MB "
              "| server RSS growth MB |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for fmt in ("csv", "ndjson", "xlsx"):
            runs = [r[fmt] for r in rounds]
            first, elapsed, size, growth, baseline = (statistics.median(x[i] for x in runs) for i in range(5))
            ratios = [x[4] / x[1] for x in runs]
            label = "csv.writer loop" if fmt != "xlsx" else "bare openpyxl loop"
            print(f"| {fmt} (vs {label}) | {first:.2f} | {n / elapsed:,.0f} | {n / baseline:,.0f} | "
                  f"{statistics.median(ratios):.2f}× ({min(ratios):.2f}–{max(ratios):.2f}) | "
                  f"{size / 2**20:.0f} | {max(x[3] for x in runs) / 2**20:.1f} |")


if __name__ == "__main__":
    main()
