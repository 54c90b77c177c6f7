"""Benchmark the Paillier core against python-paillier (phe), measured in the same run.

    python benchmarks/compute.py            # 2048-bit keys, 10,000 subjects x 20 features
    python benchmarks/compute.py --quick    # 1,000 subjects, fewer repetitions

Rows (ours vs baseline):
  * server scoring, N subjects x F features: ours = fixed-base combs + pre-filled obfuscator
    pool + process pool; baseline = phe's ``sum(enc_w[i] * x[i]) + enc_b`` timed on a sample
    and extrapolated linearly (and the same plus ``.obfuscate()``, to compare like for like).
  * obfuscator pool fill, reported on its own: in a server it runs in the background, but it
    is real CPU time and dominates the total.
  * key-holder encryption: ours (DJN fixed-base + CRT, and exact CRT) vs phe ``encrypt``.
  * decryption: ours (CRT) vs textbook non-CRT Paillier (and vs phe, which also uses CRT).
  * verification throughput for one-field requests, 1 process and 2 worker processes, with a
    pre-filled pool and sustained (obfuscators computed per request, i.e. including refill).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import sys
import threading
import time
from pathlib import Path

try:
    import opendata.compute  # noqa: F401
except ModuleNotFoundError:  # running from a checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

import gmpy2
import phe

from opendata.compute.keyholder import KeyHolder
from opendata.compute.obfuscators import ObfuscatorPool
from opendata.compute.paillier import generate_private_key
from opendata.compute.protocols import (
    create_process_pool,
    score_batch,
    verify_claims,
    verify_claims_async,
    warm_up,
)

ROWS: list[tuple[str, str, str, str, str]] = []


def row(operation: str, ours: str, baseline: str, ratio: float | None, note: str = "") -> None:
    ROWS.append((operation, ours, baseline, f"{ratio:.1f}x" if ratio else "-", note))
    print(f"  measured: {operation}: ours {ours} | baseline {baseline}", flush=True)


def timed(fn, repeat: int) -> float:
    """Mean seconds per call."""
    start = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - start) / repeat


def fmt_s(seconds: float) -> str:
    return f"{seconds:.2f} s" if seconds >= 1 else f"{seconds * 1e3:.1f} ms" if seconds >= 1e-3 else f"{seconds * 1e6:.0f} us"


def fill_pool(pool: ObfuscatorPool, count: int, threads: int) -> tuple[float, float]:
    """Fill with ``threads`` threads (powmod_base_list releases the GIL).

    Returns (wall seconds, CPU seconds of this process across all its threads)."""
    share = [count // threads + (1 if i < count % threads else 0) for i in range(threads)]
    workers = [threading.Thread(target=pool.fill, args=(k,)) for k in share]
    start, cpu = time.perf_counter(), time.process_time()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return time.perf_counter() - start, time.process_time() - cpu


def textbook_decrypt(c: int, n: int, lam: int, mu: int) -> int:
    """Non-CRT Paillier decryption, the baseline for CRT: L(c^lambda mod n^2) * mu mod n."""
    n2 = n * n
    return (gmpy2.powmod(c, lam, n2) - 1) // n * mu % n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller run (1,000 subjects)")
    parser.add_argument("--subjects", type=int, help="subjects to score (default 10,000; 1,000 with --quick)")
    parser.add_argument("--features", type=int, default=20)
    parser.add_argument("--naive-sample", type=int, help="subjects timed for the phe loop (extrapolated)")
    parser.add_argument("--feature-bits", type=int, default=40, help="|x| < 2^bits (fixed-point ints)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--bits", type=int, default=2048)
    args = parser.parse_args()
    subjects = args.subjects or (1_000 if args.quick else 10_000)
    sample = min(subjects, args.naive_sample or (200 if args.quick else 1_000))
    enc_repeat = 50 if args.quick else 200
    verify_requests = 60 if args.quick else 300
    workers = args.workers
    print(f"python {sys.version.split()[0]}, gmpy2 {gmpy2.version()}, phe {phe.__version__}, "
          f"{os.cpu_count()} cores, {args.bits}-bit keys, {workers} workers, "
          f"load average at start {os.getloadavg()[0]:.2f}", flush=True)

    holder = KeyHolder(generate_private_key(args.bits, min_bits=min(args.bits, 2048)))
    public = holder.public_key
    phe_private = holder.private_key.to_phe()
    phe_public = phe_private.public_key

    # ---- key-holder encryption -----------------------------------------------------------
    start = time.perf_counter()
    holder.private_key.prepare()
    table_build = time.perf_counter() - start
    m = secrets.randbelow(2**64)
    ours_djn = timed(lambda: holder.private_key.raw_encrypt(m, method="djn"), enc_repeat)
    ours_exact = timed(lambda: holder.private_key.raw_encrypt(m, method="exact"), enc_repeat)
    phe_enc = timed(lambda: phe_public.encrypt(m), max(10, enc_repeat // 4))
    row("SDK encrypt (DJN fixed-base + CRT)", fmt_s(ours_djn), f"{fmt_s(phe_enc)} phe.encrypt", phe_enc / ours_djn,
        f"one-off table build {fmt_s(table_build)}; short-exponent (DJN) assumption")
    row("SDK encrypt (exact CRT, DCR only)", fmt_s(ours_exact), f"{fmt_s(phe_enc)} phe.encrypt", phe_enc / ours_exact,
        "textbook distribution")

    # ---- decryption ----------------------------------------------------------------------
    c = holder.private_key.raw_encrypt(m)
    n = int(public.n)
    p, q = int(holder.private_key.p), int(holder.private_key.q)
    lam = (p - 1) * (q - 1) // int(gmpy2.gcd(p - 1, q - 1))
    mu = int(gmpy2.invert((gmpy2.powmod(n + 1, lam, n * n) - 1) // n, n))
    assert textbook_decrypt(int(c), n, lam, mu) == m
    ours_dec = timed(lambda: holder.private_key.raw_decrypt(c), enc_repeat)
    textbook = timed(lambda: textbook_decrypt(int(c), n, lam, mu), max(10, enc_repeat // 4))
    enc_number = phe.EncryptedNumber(phe_public, int(c))
    phe_dec = timed(lambda: phe_private.decrypt(enc_number), enc_repeat)
    row("decrypt (CRT)", fmt_s(ours_dec), f"{fmt_s(textbook)} textbook non-CRT", textbook / ours_dec,
        f"phe.decrypt (also CRT): {fmt_s(phe_dec)} = {phe_dec / ours_dec:.2f}x")

    # ---- obfuscator pool -----------------------------------------------------------------
    # Two scoring runs over 2 workers, two in-process runs on the sample, two pooled verification runs.
    needed = 2 * subjects + 2 * sample + 2 * verify_requests
    pool = ObfuscatorPool(public, capacity=needed, background=False)
    fill_wall, fill_cpu = fill_pool(pool, needed, workers)
    per_value, cpu_per_value = fill_wall / needed, fill_cpu / needed
    row(f"obfuscator pool fill, {subjects:,} x r^n mod n^2", fmt_s(per_value * subjects), "-", None,
        f"{workers} threads; {per_value * 1e3:.2f} ms wall, {cpu_per_value * 1e3:.2f} ms CPU per value; "
        "background in the server")

    # ---- scoring -------------------------------------------------------------------------
    features = args.features
    weights = [secrets.randbelow(2**40) - 2**39 for _ in range(features)]
    enc_w = [holder.encrypt_int(w) for w in weights]
    enc_b = holder.encrypt_int(12345)
    bound = 2**args.feature_bits
    rows = [[secrets.randbelow(2 * bound - 1) - bound + 1 for _ in range(features)] for _ in range(subjects)]

    # In-process (one core) on the sample: the per-core comparison with phe's loop.
    score_batch(public, enc_w, enc_b, rows[:sample], pool)  # builds and caches the combs here
    start, cpu = time.perf_counter(), time.process_time()
    in_process = score_batch(public, enc_w, enc_b, rows[:sample], pool)
    ours_single_per = (time.perf_counter() - start) / sample
    ours_single_cpu = (time.process_time() - cpu) / sample
    assert holder.decrypt_int(in_process[0]) == sum(w * x for w, x in zip(weights, rows[0])) + 12345

    executor = create_process_pool(workers)
    warm_up(executor)
    start = time.perf_counter()
    cold = score_batch(public, enc_w, enc_b, rows, pool, executor=executor)
    ours_cold = time.perf_counter() - start
    start = time.perf_counter()
    warm = score_batch(public, enc_w, enc_b, rows, pool, executor=executor)
    ours_warm = time.perf_counter() - start
    for index in (0, subjects - 1):  # spot-check correctness of both runs
        want = sum(w * x for w, x in zip(weights, rows[index])) + 12345
        assert holder.decrypt_int(cold[index]) == want == holder.decrypt_int(warm[index])

    phe_w = [phe.EncryptedNumber(phe_public, int(cw)) for cw in enc_w]
    phe_b = phe.EncryptedNumber(phe_public, int(enc_b))
    start = time.perf_counter()
    naive = [sum(phe_w[i] * x[i] for i in range(features)) + phe_b for x in rows[:sample]]
    naive_per = (time.perf_counter() - start) / sample
    assert phe_private.decrypt(naive[0]) == sum(w * x for w, x in zip(weights, rows[0])) + 12345
    obf_sample = max(10, sample // 10)
    naive_obf_per = timed(lambda: naive[0].obfuscate(), obf_sample)  # phe re-randomisation, r^n each
    naive_total = naive_per * subjects
    label = f"{subjects:,} x {features} scoring"
    extrapolated = f"extrapolated from {sample:,}" if sample < subjects else "measured"
    row(f"{label}, 1 process, warm tables", fmt_s(ours_single_per * subjects), f"{fmt_s(naive_total)} phe loop",
        naive_per / ours_single_per,
        f"both timed on {sample:,} subjects, x{subjects // sample}; ours {ours_single_cpu * 1e3:.2f} ms CPU/subject")
    row(f"{label}, cold (tables built in workers)", fmt_s(ours_cold), f"{fmt_s(naive_total)} phe loop", naive_total / ours_cold,
        f"phe {extrapolated}; pool pre-filled; |x| < 2^{args.feature_bits}")
    row(f"{label}, warm tables", fmt_s(ours_warm), f"{fmt_s(naive_total)} phe loop", naive_total / ours_warm,
        f"phe {extrapolated}; phe results NOT obfuscated")
    fill_for_batch = per_value * subjects
    naive_with_obf = (naive_per + naive_obf_per) * subjects
    row(f"{label} incl. obfuscator cost", fmt_s(ours_warm + fill_for_batch),
        f"{fmt_s(naive_with_obf)} phe loop + obfuscate()", naive_with_obf / (ours_warm + fill_for_batch),
        f"ours: pool fill on {workers} threads + warm scoring; phe single process")

    # ---- verification throughput ---------------------------------------------------------
    claim = {"capital": holder.encrypt_int(150_000_000)}
    actual = {"capital": 150_000_000}
    k = verify_requests
    def rate(source, requests: int) -> tuple[float, float]:
        """(requests per wall second, CPU seconds per request) in this process."""
        start, cpu = time.perf_counter(), time.process_time()
        for _ in range(requests):
            verify_claims(public, claim, actual, source)
        return requests / (time.perf_counter() - start), (time.process_time() - cpu) / requests

    single_pool, cpu_pool = rate(pool, k)
    single_sustained, cpu_sustained = rate(None, k // 2)

    async def burst(source) -> float:
        start = time.perf_counter()
        results = await asyncio.gather(
            *(verify_claims_async(public, claim, actual, source, executor=executor) for _ in range(k))
        )
        elapsed = time.perf_counter() - start
        assert all(holder.is_match(r["capital"]) for r in results[:3])
        return k / elapsed

    multi_pool = asyncio.run(burst(pool))
    multi_sustained = asyncio.run(burst(None))
    row("verify 1 field, 1 process, pre-filled pool", f"{single_pool:.0f} req/s", "-", None,
        f"{cpu_pool * 1e3:.1f} ms CPU/request")
    row("verify 1 field, 1 process, sustained", f"{single_sustained:.0f} req/s", "-", None,
        f"{cpu_sustained * 1e3:.1f} ms CPU/request (obfuscator computed per request)")
    row(f"verify 1 field, {workers} workers, pre-filled pool", f"{multi_pool:.0f} req/s", "target 60 req/s",
        multi_pool / 60, f"measured, asyncio + run_in_executor; CPU bound {workers / cpu_pool:.0f} req/s")
    row(f"verify 1 field, {workers} workers, sustained", f"{multi_sustained:.0f} req/s", "target 60 req/s",
        multi_sustained / 60, f"measured, incl. refill cost; CPU bound {workers / cpu_sustained:.0f} req/s")
    executor.shutdown()

    widths = [max(len(r[i]) for r in ROWS + [("operation", "ours", "baseline", "ratio", "note")]) for i in range(5)]
    header = ("operation", "ours", "baseline", "ratio", "note")
    print(f"\nload average at end {os.getloadavg()[0]:.2f} (other processes on the machine skew wall times)")
    for line in [header, tuple("-" * w for w in widths), *ROWS]:
        print(" | ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip())


if __name__ == "__main__":
    main()
