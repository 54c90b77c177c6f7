"""Hidden query (匿踪查询, issue 15 item 1) against the simplest correct baseline, interleaved:

    python benchmarks/compute_hidden_query.py                    # 10,000 subjects
    python benchmarks/compute_hidden_query.py --subjects 2000 --rounds 2

* ours: the sqrt(N) x sqrt(N) grid -- two proven one-hot vectors of ~100 entries, the server
  checks both proofs in slices across 2 worker processes and computes row-then-column
  selection (shared column tables, one obfuscator per chunk for the rows' step, two for the
  answers).
* baseline (linear scan): one proven one-hot vector of N entries, the server checks its N
  0/1 proofs (batched, in slices) and computes one multi-exponentiation over N bases.

Both serve the same record (two fields of the demo's shape: a decimal and a date, packed as
fixed-point integers: 37 bits), under the same 2,048-bit key, on the same 2 worker processes; every obfuscator is
computed inside the request (a cold pool: the slower, honest case). Client time is building
the selection with its proofs (encryption + Pi^onehot), server time is the whole
answer_async (proof checks + arithmetic), both wall clock. The baseline's client selection is
built once per round for its N entries. Target: server time < 2 s at 10,000 subjects.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

try:
    import opendata.compute  # noqa: F401
except ModuleNotFoundError:  # a checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from opendata.compute.hidden_client import build_selection, read_record
from opendata.compute.hidden_query import Layout, Selection, answer_async
from opendata.compute.hidden_records import encode_table, field_text
from opendata.compute.keyholder import generate_keypair
from opendata.compute.protocols import create_process_pool, warm_up

CONTEXTS = (b"bench/rows", b"bench/cols")


def selection_of(body: dict) -> Selection:
    return Selection([int(c) for c in body["rows"]] if "rows" in body else None, [int(c) for c in body["cols"]],
                     body["proofs"].get("rows"), body["proofs"]["cols"])


def server_cpu_seconds(key, layout: Layout, fmt, chunks) -> float:
    """The server's whole request (proof checks, obfuscators, arithmetic) without a pool,
    in CPU seconds of this process: what the work costs, whatever else runs."""
    selection = selection_of(build_selection(key, layout, layout.subjects // 2, CONTEXTS))
    start = time.process_time()
    asyncio.run(answer_async(key.public_key, layout, selection, chunks, fmt.exponent_bits, CONTEXTS, [], None))
    return time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--cpu-only", action="store_true", help="Only the grid's CPU seconds (no baseline).")
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}",
          flush=True)
    key = generate_keypair(2048)
    records = [[field_text(f"{4000 + (i * 37) % 30000}.{i % 100:02d}", "decimal"),
                field_text(f"2024-{1 + i % 12:02d}-01", "date")] for i in range(args.subjects)]
    fmt, chunks = encode_table(records, key.public_key.bits, ["decimal", "date"])
    print(f"{args.subjects:,} subjects, record format {fmt.codec}, {fmt.exponent_bits} bits x {fmt.chunks} chunk(s)")
    if args.cpu_only:
        grid = Layout.for_subjects(args.subjects)
        print(f"grid server CPU seconds: {server_cpu_seconds(key, grid, fmt, chunks):.2f} s "
              f"(load average {os.getloadavg()[0]:.2f})")
        return
    executor = create_process_pool(args.workers)
    warm_up(executor, args.workers)
    grid, line = Layout.for_subjects(args.subjects), Layout.for_subjects(args.subjects, linear=True)
    print(f"grid {grid.rows} x {grid.cols}; linear 1 x {line.cols}", flush=True)
    rows: dict[str, list[float]] = {"grid client": [], "grid server": [], "linear client": [], "linear server": []}
    for round_number in range(args.rounds):
        index = (round_number * 7919 + 17) % args.subjects
        for name, layout in (("grid", grid), ("linear", line)):  # A, B, A, B ...
            start = time.perf_counter()
            body = build_selection(key, layout, index, CONTEXTS)
            rows[f"{name} client"].append(time.perf_counter() - start)
            selection = selection_of(body)
            start = time.perf_counter()
            answer = asyncio.run(answer_async(key.public_key, layout, selection, chunks, fmt.exponent_bits, CONTEXTS,
                                              [], executor))
            rows[f"{name} server"].append(time.perf_counter() - start)
            got = read_record(key, layout, fmt, answer, ["a", "b"], ["decimal", "date"])
            assert [str(got["a"]), got["b"]] == records[index], (got, records[index])
        print(f"  round {round_number + 1}: " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in rows.items())
              + f" (load {os.getloadavg()[0]:.2f})", flush=True)
    executor.shutdown()
    cpu = {name: server_cpu_seconds(key, layout, fmt, chunks) for name, layout in (("grid", grid), ("linear", line))}
    print(f"server CPU seconds, whole request in one process (process_time, less skewed by the load than wall "
          f"time): grid {cpu['grid']:.2f} s, linear {cpu['linear']:.2f} s", flush=True)
    print()
    print("| path | client (median) | server (median) | server: linear / grid (median of rounds) |")
    print("|---|---|---|---|")
    ratio = statistics.median(b / a for a, b in zip(rows["grid server"], rows["linear server"]))
    for name in ("grid", "linear"):
        print(f"| {name} | {statistics.median(rows[name + ' client']):.2f} s | "
              f"{statistics.median(rows[name + ' server']):.2f} s | {ratio if name == 'grid' else 1:.1f}x |")
    target = statistics.median(rows["grid server"])
    print(f"\ntarget server time < 2 s at 10,000 subjects: {'met' if target < 2 else 'NOT met'} ({target:.2f} s); "
          f"load average at end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
