"""Serving during a large publisher upload (issue 10, item 2), staged vs one transaction.

A real `opendata serve` process on SQLite (the portal test catalogue); a publisher uploads
a CSV of ROWS rows to the bus-stops table. While it is ingested, one client views the
dataset page in a loop, one reads rows from the API in a loop, and another signs in once
a second (a write: a session and an audit record). Measured per run: page-view and row-read
latency (p50/p95/max; and, before the upload, with nothing else going on, the page's p95 and a
sign-in's median), sign-in latency, 5xx answers, the load's duration, and the server's
peak RSS over its resting RSS. Runs interleave the staged ingest (A, the default) with
OPENDATA_INGEST_STAGED=false (B, the old single transaction): A, B, A, B.

    python benchmarks/ingest_concurrency.py [--rows 1000000] [--runs 2]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))
from benchmarks._server import percentile, rss_bytes  # noqa: E402
from tests.portal.catalogue import write_portal_catalogue  # noqa: E402
from tests.portal.helpers import make_staff, post_form, sign_in  # noqa: E402
from tests.processes import serve_env, serving  # noqa: E402

UPLOAD = "/publisher/datasets/bus-stops/resources/stops/upload"
PAGE = "/datasets/bus-stops"
ROWS = "/api/v1/datasets/bus-stops/resources/stops/rows?limit=100"


def write_csv(path: Path, rows: int) -> Path:
    with open(path, "w", encoding="utf-8") as out:
        out.write("stop_id,name,district,lines\n")
        for start in range(0, rows, 100_000):
            out.write("".join(f"S{i},站点{i},天河区,{i % 90}\n" for i in range(start, min(rows, start + 100_000))))
    return path


class Sampler:
    """Timed requests in a loop while the load runs: (seconds, status) per request."""

    def __init__(self, base: str, action, pause: float = 0.0) -> None:  # noqa: ANN001
        self.base, self.action, self.pause = base, action, pause
        self.samples: list[tuple[float, int]] = []
        self.running = True
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        with httpx.Client(base_url=self.base, timeout=120) as client:
            while self.running:
                began = time.perf_counter()
                try:
                    status = self.action(client)
                except httpx.HTTPError:
                    status = 599
                self.samples.append((time.perf_counter() - began, status))
                time.sleep(self.pause)

    def stop(self) -> None:
        self.running = False
        self.thread.join(timeout=180)


def one_sign_in(client: httpx.Client) -> int:
    client.cookies.clear()
    try:
        sign_in(client, "boss")  # type: ignore[arg-type]
        return 303
    except AssertionError:
        return 500


def run_once(csv: Path, staged: bool, folder: Path) -> dict[str, float]:
    folder.mkdir(parents=True)
    url = f"sqlite:///{folder / 'opendata.db'}"
    catalogue = write_portal_catalogue(folder / "catalogue")
    env = serve_env(url, folder / "data", catalogues=str(catalogue), ingest_staged="1" if staged else "0",
                    upload_max_bytes=str(1 << 30))
    with serving(env, folder / "server.log") as served:
        make_staff(url, "clerk", "publisher", "gz-transport")
        make_staff(url, "boss", "admin")
        publisher = httpx.Client(base_url=served.url, timeout=3600)
        sign_in(publisher, "clerk")  # type: ignore[arg-type]
        for _ in range(20):  # warm the pages up
            httpx.get(served.url + PAGE)
        idle, idle_sign_ins = [], []
        with httpx.Client(base_url=served.url) as client:
            for _ in range(30):  # the same page with nothing else going on, for scale
                began = time.perf_counter()
                client.get(PAGE)
                idle.append(time.perf_counter() - began)
            for _ in range(3):  # and sign-ins (a password hash each)
                began = time.perf_counter()
                one_sign_in(client)
                idle_sign_ins.append(time.perf_counter() - began)
        resting = rss_bytes(served.process.pid)
        peak = [resting]
        samplers = {
            "page": Sampler(served.url, lambda c: c.get(PAGE).status_code),
            "rows": Sampler(served.url, lambda c: c.get(ROWS).status_code),
            "sign-in": Sampler(served.url, one_sign_in, pause=1.0),
        }
        done = threading.Event()

        def watch_memory() -> None:
            while not done.is_set():
                peak[0] = max(peak[0], rss_bytes(served.process.pid))
                time.sleep(0.2)

        watcher = threading.Thread(target=watch_memory, daemon=True)
        watcher.start()
        for sampler in samplers.values():
            sampler.thread.start()
        began = time.perf_counter()
        with open(csv, "rb") as data:
            response = post_form(publisher, UPLOAD, files={"file": ("stops.csv", data, "text/csv")})  # type: ignore[arg-type]
        seconds = time.perf_counter() - began
        for sampler in samplers.values():
            sampler.stop()
        done.set()
        watcher.join()
        assert response.status_code == 303, response.text[:500]
    result = {"load s": seconds, "rss MB": (peak[0] - resting) / 2**20, "idle p95": percentile(idle, 0.95),
              "idle sign-in": statistics.median(idle_sign_ins)}
    for name, sampler in samplers.items():
        times = [t for t, _ in sampler.samples]
        result[f"{name} n"] = len(times)
        result[f"{name} p50"] = percentile(times, 0.5) if times else float("nan")
        result[f"{name} p95"] = percentile(times, 0.95) if times else float("nan")
        result[f"{name} max"] = max(times, default=float("nan"))
        result[f"{name} 5xx"] = sum(1 for _, status in sampler.samples if status >= 500)
    return result


COLUMNS = ["load s", "rss MB", "idle p95", "page n", "page p50", "page p95", "page max", "page 5xx", "rows p95", "rows 5xx",
           "idle sign-in", "sign-in n", "sign-in p95", "sign-in max", "sign-in 5xx"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="ingest-bench-"))
    csv = write_csv(folder / "stops.csv", args.rows)
    print(f"{args.rows:,} rows, {csv.stat().st_size / 2**20:.1f} MB; load average {os.getloadavg()[0]:.2f}")
    print(f"{'mode':<12}" + "".join(f"{c:>13}" for c in COLUMNS) + f"{'loadavg':>9}")
    results: dict[str, list[dict[str, float]]] = {"staged": [], "transaction": []}
    for run in range(args.runs):
        for mode in ("staged", "transaction"):
            result = run_once(csv, mode == "staged", folder / f"{mode}-{run}")
            results[mode].append(result)
            print(f"{mode:<12}" + "".join(f"{result[c]:>13.3f}" if isinstance(result[c], float) else f"{result[c]:>13}"
                                          for c in COLUMNS) + f"{os.getloadavg()[0]:>9.2f}", flush=True)
    for column in ("page p95", "rows p95", "sign-in max"):
        ratios = [b[column] / a[column] for a, b in zip(results["staged"], results["transaction"])]
        print(f"median ratio of {column}, transaction / staged: {statistics.median(ratios):.1f}x")
    print(f"load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
