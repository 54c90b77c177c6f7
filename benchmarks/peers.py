"""Our rows API and downloads against Datasette on the same SQLite table, in the same run.

The downloads.py table (10 columns: Chinese and ASCII text, integers, decimals, dates) is
loaded with `opendata catalogue load`; our portal (uvicorn, one process) and Datasette
(`datasette serve`, one process) then read the same SQLite file. Every comparison is
interleaved A, B, A, B… and reports the median ratio with its spread (min–max over the
rounds) and the load average:

- rows page p50 at 1 client: walking the table by cursor in 100-row pages (ours:
  /rows?limit=100 and its `next` cursor; Datasette: its lean JSON,
  `.json?_size=100&_shape=objects&_nocount=1&_nofacet=1` and its `next_url`);
- rows throughput at 8 clients: requests/s of 8 keep-alive clients walking pages, and the
  server's CPU per request (on a loaded machine the honest figure);
- CSV export: ours vs Datasette's streamed CSV (`.csv?_stream=on&_size=max`) vs the raw
  sqlite3 + csv.writer loop, wall and CPU (the servers' CPU, the raw loop's own), once with
  `Accept-Encoding: identity` (the same bytes everywhere) and once with httpx's default
  br/gzip (we compress text, Datasette does not);
- XLSX: ours vs the bare openpyxl write-only loop.

    pip install -e '.[bench]'   # Datasette
    python benchmarks/peers.py [--rows 100000] [--rounds 3] [--pages 30] [--seconds 4] [--exports 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _server import free_port, portal_process, wait_until_up  # noqa: E402
from downloads import baseline_csv, baseline_xlsx, table_name, write_catalogue  # noqa: E402

OURS_ROWS = "/api/v1/datasets/big/resources/rows/rows"
ISSUE_BASELINE_RPS = (67, 88)  # issue 16: one process, 100-row page, 1–8 clients


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process (all its threads), from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


@contextmanager
def datasette_process(db: Path) -> Iterator[tuple[str, int]]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "datasette", "serve", str(db), "--host", "127.0.0.1", "--port", str(port),
         "--setting", "sql_time_limit_ms", "600000", "--setting", "max_returned_rows", "1000",
         "--setting", "max_csv_mb", "0", "--setting", "default_facet_size", "0"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(process, f"{base}/-/versions.json", "datasette did not start (pip install -e '.[bench]')", 300)
        yield base, process.pid
    finally:
        process.terminate()
        process.wait(timeout=30)


class Walker:
    """One client walking a table by its next links; restarts at the end."""

    def __init__(self, client: httpx.Client, first: str, next_of: Callable[[dict], str | None]) -> None:
        self.client, self.first, self.next_of, self.url = client, first, next_of, first

    def step(self) -> float:
        started = time.perf_counter()
        response = self.client.get(self.url)
        response.raise_for_status()
        elapsed = time.perf_counter() - started
        self.url = self.next_of(response.json()) or self.first
        return elapsed


def ours_walker(client: httpx.Client, base: str) -> Walker:
    return Walker(client, f"{base}{OURS_ROWS}?limit=100",
                  lambda body: f"{base}{OURS_ROWS}?limit=100&cursor={body['next']}" if body["next"] else None)


def datasette_walker(client: httpx.Client, base: str, table: str) -> Walker:
    return Walker(client, f"{base}/opendata/{table}.json?_size=100&_shape=objects&_nocount=1&_nofacet=1",
                  lambda body: body.get("next_url"))


def page_p50(make: Callable[[httpx.Client], Walker], pages: int, pid: int) -> tuple[float, float]:
    """p50 ms of a page at one client, and the server's CPU ms per page (what a page
    costs whatever the machine's load: on a loaded machine the wall time is mostly
    waiting for a core)."""
    with httpx.Client(timeout=60) as client:
        walker = make(client)
        walker.step()  # connect, warm
        cpu = cpu_seconds(pid)
        p50 = statistics.median(walker.step() for _ in range(pages)) * 1000
        return p50, (cpu_seconds(pid) - cpu) * 1000 / pages


def throughput(make: Callable[[httpx.Client], Walker], clients: int, seconds: float,
               pid: int) -> tuple[float, float]:
    """Requests/s of ``clients`` keep-alive clients, and the server's CPU ms per request
    (1000 / that is what one process could serve with a core of its own)."""
    counts = [0] * clients
    stop = time.perf_counter() + seconds

    def run(i: int) -> None:
        with httpx.Client(timeout=60) as client:
            walker = make(client)
            walker.step()
            while time.perf_counter() < stop:
                walker.step()
                counts[i] += 1

    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    cpu = cpu_seconds(pid)
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    served = max(1, sum(counts) + clients)  # the warm-up step of each client too
    return sum(counts) / (time.perf_counter() - started), (cpu_seconds(pid) - cpu) * 1000 / served


def download_seconds(url: str, params: dict | None = None, pid: int | None = None,
                     headers: dict | None = None) -> tuple[float, float]:
    """Wall seconds of a streamed download, and the server's CPU seconds for it."""
    cpu = cpu_seconds(pid) if pid else 0.0
    started = time.perf_counter()
    with httpx.stream("GET", url, params=params, timeout=None, headers=headers) as response:
        response.raise_for_status()
        for _ in response.iter_raw():
            pass
    return time.perf_counter() - started, (cpu_seconds(pid) - cpu) if pid else 0.0


def raw_csv(db: Path, table: str) -> tuple[float, float]:
    """The raw loop's wall and CPU seconds (it runs in this process, on this thread)."""
    cpu = time.thread_time()
    wall = baseline_csv(db, table)[0]
    return wall, time.thread_time() - cpu


def repeated(times: int, run: Callable[[], tuple[float, float]]) -> tuple[float, float]:
    """Mean wall and CPU seconds of ``times`` runs (CPU comes in 10 ms clock ticks: one
    export of 10,000 rows is only ~9 of them)."""
    results = [run() for _ in range(times)]
    return sum(r[0] for r in results) / times, sum(r[1] for r in results) / times


def interleaved(rounds: int, a: Callable[[], float], b: Callable[[], float]) -> tuple[list[float], list[float]]:
    xs, ys = [], []
    for _ in range(rounds):
        xs.append(a())
        ys.append(b())
    return xs, ys


def ratio_text(ratios: list[float]) -> str:
    return f"{statistics.median(ratios):.2f}× ({min(ratios):.2f}–{max(ratios):.2f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pages", type=int, default=30, help="pages timed per round at 1 client")
    parser.add_argument("--seconds", type=float, default=4.0, help="seconds per round at 8 clients")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--skip-downloads", action="store_true")
    parser.add_argument("--exports", type=int, default=1, help="CSV exports per side and round (their mean)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        env = {"OPENDATA_DATA_DIR": str(tmp / "data"), "OPENDATA_CATALOGUES": str(tmp / "cat"),
               "OPENDATA_LOAD_CATALOGUES_ON_STARTUP": "false"}
        write_catalogue(tmp / "cat", args.rows)
        subprocess.run([sys.executable, "-m", "opendata", "catalogue", "load", str(tmp / "cat")],
                       env={**os.environ, **env}, check=True, stderr=subprocess.DEVNULL)
        db = tmp / "data" / "opendata.db"
        table = table_name(db)
        print(f"# peers: {args.rows:,} rows × 10 columns, SQLite; load average {load()}\n")
        with portal_process(env) as (ours, our_pid), datasette_process(db) as (theirs, their_pid):
            def ours_make(c: httpx.Client) -> Walker:
                return ours_walker(c, ours)

            def theirs_make(c: httpx.Client) -> Walker:
                return datasette_walker(c, theirs, table)

            pa, pb = interleaved(args.rounds, lambda: page_p50(ours_make, args.pages, our_pid),
                                 lambda: page_p50(theirs_make, args.pages, their_pid))
            a, b = [x[0] for x in pa], [x[0] for x in pb]
            ca, cb = [x[1] for x in pa], [x[1] for x in pb]
            print("| comparison | ours | peer | ratio ours/peer, median (spread) | target | load |")
            print("|---|---:|---:|---:|---|---:|")
            print(f"| rows page p50, 1 client (ms; lower is better) | {statistics.median(a):.2f} | "
                  f"{statistics.median(b):.2f} Datasette | {ratio_text([x / y for x, y in zip(a, b)])} | "
                  f"≤ 1.2× | {load()} |")
            print(f"| rows page, server CPU ms per page (lower is better) | {statistics.median(ca):.2f} | "
                  f"{statistics.median(cb):.2f} Datasette | {ratio_text([x / y for x, y in zip(ca, cb)])} | "
                  f"| {load()} |")
            ta, tb = interleaved(args.rounds, lambda: throughput(ours_make, args.clients, args.seconds, our_pid),
                                 lambda: throughput(theirs_make, args.clients, args.seconds, their_pid))
            a, b = [x[0] for x in ta], [x[0] for x in tb]
            ca, cb = [x[1] for x in ta], [x[1] for x in tb]
            print(f"| rows throughput, {args.clients} clients (req/s) | {statistics.median(a):.0f} | "
                  f"{statistics.median(b):.0f} Datasette | {ratio_text([x / y for x, y in zip(a, b)])} | "
                  f"≥ 2× issue's {ISSUE_BASELINE_RPS[0]}–{ISSUE_BASELINE_RPS[1]} req/s: "
                  f"{statistics.median(a) / ISSUE_BASELINE_RPS[1]:.2f}–"
                  f"{statistics.median(a) / ISSUE_BASELINE_RPS[0]:.2f}× | {load()} |")
            print(f"| rows at {args.clients} clients, server CPU ms per request (lower is better) | "
                  f"{statistics.median(ca):.2f} | {statistics.median(cb):.2f} Datasette | "
                  f"{ratio_text([x / y for x, y in zip(ca, cb)])} | one core: "
                  f"{1000 / statistics.median(ca):.0f} req/s ≥ {2 * ISSUE_BASELINE_RPS[0]}? | {load()} |")
            if args.skip_downloads:
                return
            ours_csv = f"{ours}/api/v1/datasets/big/resources/rows/download"
            # The first canonical CSV of a process also computes its size and digest (a
            # second generation, for Content-Length): timed apart, then the steady state.
            first = download_seconds(ours_csv, {"format": "csv"}, our_pid, {"Accept-Encoding": "identity"})
            print(f"| CSV, the process's first canonical download (wall / server CPU s) | {first[0]:.3f} / "
                  f"{first[1]:.3f} | | | | {load()} |")
            # httpx asks for br/gzip: ours compresses text (Datasette does not); identity
            # is the same bytes as Datasette's and the raw loop's.
            for label, headers in (("identity", {"Accept-Encoding": "identity"}), ("br/gzip", None)):
                csv_ours, csv_theirs, csv_raw = [], [], []
                for _ in range(args.rounds):
                    csv_ours.append(repeated(args.exports, lambda: download_seconds(
                        ours_csv, {"format": "csv"}, our_pid, headers)))
                    csv_theirs.append(repeated(args.exports, lambda: download_seconds(
                        f"{theirs}/opendata/{table}.csv", {"_stream": "on", "_size": "max"}, their_pid, headers)))
                    csv_raw.append(repeated(args.exports, lambda: raw_csv(db, table)))
                rate = args.rows
                wall = lambda xs: [x[0] for x in xs]  # noqa: E731
                cpu = lambda xs: [x[1] for x in xs]  # noqa: E731
                o, t, r = wall(csv_ours), wall(csv_theirs), wall(csv_raw)
                print(f"| CSV ({label}) vs Datasette (rows/s) | {rate / statistics.median(o):,.0f} | "
                      f"{rate / statistics.median(t):,.0f} Datasette | "
                      f"{ratio_text([b / a for a, b in zip(o, t)])} | ≥ 2× | {load()} |")
                print(f"| CSV ({label}) vs raw sqlite3 + csv.writer loop (rows/s) | {rate / statistics.median(o):,.0f} | "
                      f"{rate / statistics.median(r):,.0f} raw loop | "
                      f"{ratio_text([b / a for a, b in zip(o, r)])} | ≥ 0.7× | {load()} |")
                o, t, r = cpu(csv_ours), cpu(csv_theirs), cpu(csv_raw)
                print(f"| CSV ({label}), CPU s: ours server vs Datasette server | {statistics.median(o):.3f} | "
                      f"{statistics.median(t):.3f} Datasette | {ratio_text([b / a for a, b in zip(o, t)])} | ≥ 2× | "
                      f"{load()} |")
                print(f"| CSV ({label}), CPU s: ours server vs the raw loop | {statistics.median(o):.3f} | "
                      f"{statistics.median(r):.3f} raw loop | {ratio_text([b / a for a, b in zip(o, r)])} | ≥ 0.7× | "
                      f"{load()} |")
            x_ours, x_base = interleaved(
                args.rounds,
                lambda: download_seconds(ours_csv, {"format": "xlsx"})[0],
                lambda: baseline_xlsx(db, table, tmp)[0])
            rate = args.rows
            print(f"| XLSX vs bare openpyxl loop (rows/s) | {rate / statistics.median(x_ours):,.0f} | "
                  f"{rate / statistics.median(x_base):,.0f} openpyxl | "
                  f"{ratio_text([b / o for o, b in zip(x_ours, x_base)])} | ≥ 0.9× | {load()} |")
        print(f"\nload average at the end {load()}")


if __name__ == "__main__":
    main()
