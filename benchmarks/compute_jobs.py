"""Scoring as a job on 1 and 2 Dask workers (issue 15: scaling >= 1.7x), against the
simplest correct baseline in the same run, interleaved:

    python benchmarks/compute_jobs.py                         # 4,000 subjects, 2 rounds
    python benchmarks/compute_jobs.py --subjects 100000 --rounds 1

* job, 1 and 2 workers: the job's chunks (``OPENDATA_COMPUTE_JOB_CHUNK_SUBJECTS``, 500) as
  the runner hands them out -- ``protocols.score_call`` per chunk, at most the engine's
  window in flight, through the engine the portal uses (``jobs.engine.DaskEngine``: Dask's
  concurrent.futures executor) -- on a ``distributed.LocalCluster`` of 1 or 2 worker
  processes with one thread each. Every obfuscator r^n is computed in the workers (a job
  never takes the interactive pool's), every worker has built its fixed-base tables in a
  warm-up chunk before the clock starts. What the job adds around this (one database write
  and one audit record per chunk) is left out: a few ms per 500-subject chunk of ~4 s.
* baseline (plain loop): one process, per subject Enc(b) * prod Enc(w_i)^x_i * r^n mod n^2
  with gmpy2.powmod, nothing precomputed.

Each chunk also reports the CPU seconds its worker spent on it (``time.process_time``): on
a loaded machine the wall-clock ratio shows how much CPU the two workers obtained, the CPU
split shows how evenly the job divided the work (what the ratio would be on two free cores).
Every path's results are checked by decrypting a sample against w.x + b in plaintext.
Prints the load average: the machine is shared, so wall times (and the 2-worker ratio,
which needs a second idle core) move with the load.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

try:
    import opendata.compute  # noqa: F401
except ModuleNotFoundError:  # a checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

import gmpy2
from distributed import LocalCluster

from opendata.compute.jobs.engine import DaskEngine
from opendata.compute.keyholder import generate_keypair
from opendata.compute.paillier import random_unit
from opendata.compute.protocols import score_call

WEIGHTS = [5, 120, 25, -3000, -1]  # the walk-through's SME model in fixed point
BIAS = 10_000_000


def features(count: int) -> list[list[int]]:
    rng = random.Random(15)
    return [[rng.randrange(400, 1000), rng.randrange(0, 5), rng.randrange(0, 5000), rng.randrange(0, 4),
             rng.randrange(0, 10**7)] for _ in range(count)]


def timed(fn, *args):
    """A chunk as the workers run it, plus the CPU seconds and process it took (module level: it pickles)."""
    began = time.process_time()
    result = fn(*args)
    return result, time.process_time() - began, os.getpid()


CPU: dict[int, dict[int, float]] = {}  # per cluster size (0: the plain loop): pid -> CPU seconds of the last run


def job_on(engine_of: DaskEngine, key, enc_w, enc_b, rows, chunk: int, workers: int = 0) -> tuple[float, list[int]]:
    engine = engine_of.engine()
    cpu: dict[int, float] = {}
    parts = [rows[start:start + chunk] for start in range(0, len(rows), chunk)]
    results: list[list[int] | None] = [None] * len(parts)
    start = time.perf_counter()
    pending, in_flight = list(range(len(parts))), {}
    while pending or in_flight:
        while pending and len(in_flight) < engine.window:
            index = pending.pop(0)
            fn, args = score_call(key.public_key, enc_w, enc_b, parts[index])
            in_flight[engine.executor.submit(timed, fn, *args)] = index
        done = next(iter(_first_done(list(in_flight))))
        part, seconds, pid = done.result()
        results[in_flight.pop(done)] = part
        cpu[pid] = cpu.get(pid, 0.0) + seconds
    if workers:
        CPU[workers] = cpu
    return time.perf_counter() - start, [c for part in results for c in part]  # type: ignore[union-attr]


def _first_done(futures):
    from concurrent.futures import FIRST_COMPLETED, wait

    return wait(futures, return_when=FIRST_COMPLETED)[0]


def plain_loop(key, enc_w, enc_b, rows) -> tuple[float, list[int]]:
    n, n2 = key.public_key.n, key.public_key.n_squared
    weights, bias = [gmpy2.mpz(w) for w in enc_w], gmpy2.mpz(enc_b)
    start, cpu = time.perf_counter(), time.process_time()
    out = []
    for row in rows:
        c = bias * gmpy2.powmod(random_unit(n), n, n2) % n2
        for w, x in zip(weights, row):
            c = c * gmpy2.powmod(w, x, n2) % n2  # powmod takes negative exponents (the inverse)
        out.append(int(c))
    CPU[0] = {os.getpid(): time.process_time() - cpu}
    return time.perf_counter() - start, out


def check(key, rows, results, name: str) -> None:
    for i in range(0, len(rows), max(1, len(rows) // 20)):
        expected = sum(w * x for w, x in zip(WEIGHTS, rows[i])) + BIAS
        assert key.decrypt(results[i]) == expected, (name, i)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=4_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--chunk", type=int, default=500)
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}",
          flush=True)
    key = generate_keypair(2048)
    enc_w, enc_b = [key.encrypt(w) for w in WEIGHTS], key.encrypt(BIAS)
    rows = features(args.subjects)
    clusters = {workers: LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                      dashboard_address=None, worker_dashboard_address=None)
                for workers in (1, 2)}
    engines = {workers: DaskEngine(cluster.scheduler_address) for workers, cluster in clusters.items()}
    for workers, engine in engines.items():  # each worker builds its tables once, off the clock
        job_on(engine, key, enc_w, enc_b, rows[:64 * workers], 64)
    times: dict[str, list[float]] = {"plain loop": [], "job, 1 worker": [], "job, 2 workers": []}
    print(f"{args.subjects:,} subjects x {len(WEIGHTS)} features, 2048-bit key, chunks of {args.chunk}", flush=True)
    for round_number in range(args.rounds):
        order = [("plain loop", None), ("job, 1 worker", 1), ("job, 2 workers", 2)]
        if round_number % 2:
            order.reverse()
        for name, workers in order:
            if workers is None:
                seconds, results = plain_loop(key, enc_w, enc_b, rows)
            else:
                seconds, results = job_on(engines[workers], key, enc_w, enc_b, rows, args.chunk, workers)
            check(key, rows, results, name)
            times[name].append(seconds)
            cpu = "  CPU " + " + ".join(f"{v:.1f}" for v in CPU[workers or 0].values()) + " s"
            print(f"  round {round_number + 1}: {name:15} {seconds:7.1f} s  {args.subjects / seconds:6.0f} subjects/s"
                  f"{cpu}  (load {os.getloadavg()[0]:.2f})", flush=True)
    for engine in engines.values():
        engine.close()
    for cluster in clusters.values():
        cluster.close()
    base = statistics.median(times["plain loop"])
    print("\n| path | median wall | subjects/s | vs plain loop |\n|---|---:|---:|---:|")
    for name, values in times.items():
        wall = statistics.median(values)
        print(f"| {name} | {wall:.1f} s | {args.subjects / wall:.0f} | {base / wall:.2f}x |")
    ratios = [a / b for a, b in zip(times["job, 1 worker"], times["job, 2 workers"])]
    print(f"\nscaling 1 -> 2 workers: median {statistics.median(ratios):.2f}x (rounds: "
          f"{', '.join(f'{r:.2f}' for r in ratios)}; target >= 1.7x); load average at end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
