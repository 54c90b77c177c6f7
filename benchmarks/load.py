"""Serving under load (issue 10, item 0): requests/s and p50/p95/p99 at 1, 10, 50 and 100
keep-alive clients, for a mix of search, rows pages and dataset metadata, and for a licensed
mix (the same, every other request a licensed rows page read with an enterprise's bearer
token: guard, licence, quota and usage counting), interleaved at each level with the same
clients on /healthz (the framework's floor, no database) in the same run.

    python benchmarks/load.py                                  # SQLite, one process
    python benchmarks/load.py --database-url postgresql+psycopg://postgres@127.0.0.1/test --workers 2

The portal runs in its own `opendata serve` process on the demo catalogue. A PostgreSQL URL
gets a fresh schema for the run (dropped at the end), never the shared ``public`` one.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks._server import postgres_schema  # noqa: E402

MIX = ("/api/v1/datasets?q=公交", "/api/v1/datasets?q=credit", "/api/v1/datasets/bus-stops/resources/stops/rows?limit=100",
       "/api/v1/datasets/bus-stops", "/api/v1/datasets")
FLOOR = ("/healthz",)
LICENSED_ROWS = "/api/v1/datasets/social-insurance-headcounts/resources/headcounts/rows?limit=50"
LICENCE = {"items": [{"dataset": "social-insurance-headcounts", "operations": ["query"],
                      "fields": ["credit_code", "month", "headcount"]}]}


def start(database_url: str, data_dir: Path, workers: int) -> tuple[subprocess.Popen, str]:
    port = 18000 + os.getpid() % 1000
    env = {**os.environ, "OPENDATA_DATA_DIR": str(data_dir), "OPENDATA_DATABASE_URL": database_url,
           "OPENDATA_SECURE_COOKIES": "false", "OPENDATA_TOKEN_ISSUER": "http://load.bench"}
    command = [sys.executable, "-m", "opendata", "serve", "--port", str(port), "--workers", str(workers)]
    data_dir.mkdir(parents=True, exist_ok=True)
    log = open(data_dir.parent / "server.log", "w")  # printed when something fails
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if httpx.get(f"{base}/healthz", timeout=5).status_code == 200:
                return server, base
        except httpx.TransportError:
            time.sleep(0.2)
    raise SystemExit("the portal did not start")


def licensed_token(base: str, database_url: str) -> str:
    """An enterprise licensed (without a row quota) to read si headcounts, as the tests make one."""
    from tests.access.helpers import licensed_enterprise

    with httpx.Client(base_url=base, timeout=120) as http:
        licensed = licensed_enterprise(http, database_url, approval={"quotas": {"rows_per_day": 10**9}},
                                       **LICENCE)  # type: ignore[arg-type]
        return licensed.token(http)  # type: ignore[arg-type]


async def run(base: str, paths: tuple[str, ...], clients: int, seconds: float, token: str | None = None) -> dict:
    latencies: list[float] = []
    failures = 0
    pool = [httpx.AsyncClient(base_url=base, timeout=60) for _ in range(clients)]
    deadline = time.monotonic() + seconds

    async def one(index: int, http: httpx.AsyncClient) -> None:
        nonlocal failures
        turn = index
        while time.monotonic() < deadline:
            started = time.perf_counter()
            try:
                if token is not None and turn % 2:
                    response = await http.get(LICENSED_ROWS, headers={"Authorization": f"Bearer {token}"})
                else:
                    response = await http.get(paths[turn % len(paths)])
                failures += response.status_code != 200
            except httpx.HTTPError:
                failures += 1
            latencies.append(time.perf_counter() - started)
            turn += 1

    started = time.perf_counter()
    await asyncio.gather(*(one(i, http) for i, http in enumerate(pool)))
    elapsed = time.perf_counter() - started
    for http in pool:
        await http.aclose()
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(len(latencies) * p))] * 1e3

    return {"rps": len(latencies) / elapsed, "p50": pct(0.5), "p95": pct(0.95), "p99": pct(0.99), "failures": failures}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, \
            postgres_schema(args.database_url or f"sqlite:///{Path(tmp) / 'load.db'}") as url:
        server, base = start(url, Path(tmp) / "data", args.workers)
        try:
            asyncio.run(run(base, MIX, 4, 2))  # warm caches
            try:
                token = licensed_token(base, url)
            except AssertionError:
                print((Path(tmp) / "server.log").read_text(errors="replace")[-4000:])
                raise
            print(f"{url.split(':')[0]}, {args.workers} process(es), load average at start {os.getloadavg()[0]:.2f}")
            for title, mix_token in (("open mix", None), ("licensed mix (every other request licensed rows)", token)):
                print(f"\n{title}")
                print("clients | mix req/s | p50 ms | p95 ms | p99 ms | non-200 | /healthz req/s | mix / floor (median)")
                for clients in (1, 10, 50, 100):
                    mixes, floors = [], []
                    for _ in range(args.rounds):  # A, B, A, B
                        mixes.append(asyncio.run(run(base, MIX, clients, args.seconds, mix_token)))
                        floors.append(asyncio.run(run(base, FLOOR, clients, args.seconds / 2)))
                    ratio = statistics.median(m["rps"] / f["rps"] for m, f in zip(mixes, floors))
                    m = {k: statistics.median(x[k] for x in mixes) for k in ("rps", "p50", "p95", "p99")}
                    fails = sum(x["failures"] for x in mixes)
                    print(f"{clients} | {m['rps']:.0f} | {m['p50']:.0f} | {m['p95']:.0f} | {m['p99']:.0f} | {fails} | "
                          f"{statistics.median(f['rps'] for f in floors):.0f} | {ratio:.2f}")
            print(f"load average at end {os.getloadavg()[0]:.2f}")
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
