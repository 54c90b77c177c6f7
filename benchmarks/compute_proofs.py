"""Issue 9's costs, each interleaved with its v1 baseline in the same run (A, B, A, B...):

    python benchmarks/compute_proofs.py           # 10,000 subjects x 20 features
    python benchmarks/compute_proofs.py --quick   # 1,000 subjects, fewer rounds

Rows:
  * key proof (Pi^mod + Pi^fac) generation and verification at 2,048 and 3,072 bits, vs v1's
    whole key check (validate_public_key). Target: verification < 2 s at 2,048 bits.
  * range proof (Pi^enc) per claim: generation (encrypt + prove) vs v1's encrypt alone;
    verification of one, and per claim in a batch of 3 (verify_ranges).
  * sustained verification throughput with proofs on 2 worker processes (proofs checked and
    obfuscators computed in the workers) vs v1 without proofs. Target >= 40 requests/s.
  * decision-mode scoring of N x F (blinded comparison, one threshold) vs v1 exact scoring,
    both computing their obfuscators in the workers. Target >= 0.7x v1 throughput.

Each row reports the median of the per-round ratios and the load average, because the
machine is shared: a baseline timed at another moment is no comparison.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import statistics
import sys
import time
from pathlib import Path

try:
    import opendata.compute  # noqa: F401
except ModuleNotFoundError:  # a checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from opendata.compute.inputs import CLAIM_BOUND_BITS, Blinding, ProofCheck
from opendata.compute.keyholder import generate_keypair
from opendata.compute.paillier import validate_public_key
from opendata.compute.proofs import RingPedersenParams, proof_context, verify_key, verify_range, verify_ranges
from opendata.compute.protocols import create_process_pool, score_batch_async, verify_claims_async, warm_up

FIXTURE = Path(__file__).resolve().parent.parent / "tests/compute/proofs/fixtures/ring_pedersen_2048.json"
ROWS: list[tuple[str, ...]] = []


def seconds(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def interleaved(ours, baseline, rounds: int) -> tuple[float, float, float]:
    """(median ours, median baseline, median of per-round baseline/ours): A, B, A, B..."""
    a, b = [], []
    for _ in range(rounds):
        a.append(seconds(ours))
        b.append(seconds(baseline))
    return statistics.median(a), statistics.median(b), statistics.median(y / x for x, y in zip(a, b))


def fmt(s: float) -> str:
    return f"{s * 1e3:.1f} ms" if s < 1 else f"{s:.2f} s"


def row(*cells: str) -> None:
    ROWS.append(cells)
    print("  " + " | ".join(cells), flush=True)


def key_proofs(params: RingPedersenParams, rounds: int) -> None:
    for bits in (2048, 3072):
        holder = generate_keypair(bits)
        n = int(holder.public_key.n)
        context = proof_context("https://portal.example", "7", holder.public_key.key_id, "key-registration")
        proof = holder.prove_key(params, context)
        gen, base, ratio = interleaved(lambda: holder.prove_key(params, context),
                                       lambda: validate_public_key(n, max_bits=4096), rounds)
        row(f"key proof generation, {bits} bits", fmt(gen), f"{fmt(base)} v1 key check", f"{1 / ratio:.0f}x slower",
            f"{len(json.dumps(proof)) // 1024} KB of JSON")
        ver, base, ratio = interleaved(lambda: verify_key(n, proof, params, context),
                                       lambda: validate_public_key(n, max_bits=4096), rounds)
        row(f"key proof verification, {bits} bits", fmt(ver), f"{fmt(base)} v1 key check", f"{1 / ratio:.0f}x slower",
            "target < 2 s at 2048 bits: " + ("met" if bits != 2048 or ver < 2 else "NOT met"))


def range_proofs(holder, params: RingPedersenParams, rounds: int) -> None:
    n = int(holder.public_key.n)
    context = proof_context("https://portal.example", "7", holder.public_key.key_id, "verify-claim")
    value = 850_000
    gen, base, ratio = interleaved(lambda: holder.encrypt_proved(value, CLAIM_BOUND_BITS, params, context),
                                   lambda: holder.encrypt_int(value), rounds)
    row("claim: encrypt + range proof", fmt(gen), f"{fmt(base)} v1 encrypt only", f"{1 / ratio:.0f}x slower",
        f"bound 2^{CLAIM_BOUND_BITS}")
    items = [holder.encrypt_proved(value + i, CLAIM_BOUND_BITS, params, context) for i in range(3)]
    c, proof = items[0]
    one = statistics.median(seconds(lambda: verify_range(n, int(c), proof, CLAIM_BOUND_BITS, params, context))
                            for _ in range(rounds))
    batch = statistics.median(seconds(lambda: verify_ranges(
        n, [(int(x), p, CLAIM_BOUND_BITS) for x, p in items], params, context)) for _ in range(rounds))
    row("claim: range proof verification", fmt(one), "-", "-", f"batch of 3: {fmt(batch / 3)} per claim")


def verification_throughput(holder, params: RingPedersenParams, executor, requests: int, rounds: int) -> None:
    context = proof_context("https://portal.example", "7", holder.public_key.key_id, "verify-claim")
    ciphertext, proof = holder.encrypt_proved(150_000_000, CLAIM_BOUND_BITS, params, context)
    claims, actual = {"capital": ciphertext}, {"capital": 150_000_000}
    checks = ProofCheck(params, context, [(ciphertext, proof, CLAIM_BOUND_BITS)], ["capital"])

    async def burst(with_proofs: bool) -> None:
        results = await asyncio.gather(*(verify_claims_async(
            holder.public_key, claims, actual, None, executor=executor, checks=checks if with_proofs else None)
            for _ in range(requests)))
        assert holder.is_match(results[0]["capital"])

    ours, base, ratio = interleaved(lambda: asyncio.run(burst(True)), lambda: asyncio.run(burst(False)), rounds)
    rate = requests / ours
    row("verify 1 field with proof, 2 workers, sustained", f"{rate:.0f} req/s", f"{requests / base:.0f} req/s v1",
        f"{ratio:.2f}x", "target >= 40 req/s: " + ("met" if rate >= 40 else "NOT met"))


def scoring(holder, executor, subjects: int, features: int, rounds: int) -> None:
    weights = [secrets.randbelow(2**32) - 2**31 for _ in range(features)]
    enc_w = [holder.encrypt_int(w) for w in weights]
    enc_b = holder.encrypt_int(12345)
    threshold = holder.encrypt_int(10**12)
    rows = [[secrets.randbelow(2**40) for _ in range(features)] for _ in range(subjects)]
    blinding = Blinding.for_model(holder.public_key.n, [str(threshold)], features, weight_bits=32, bias_bits=64)

    def run(blind: Blinding | None) -> list:
        return asyncio.run(score_batch_async(holder.public_key, enc_w, enc_b, rows, None, executor=executor,
                                             blinding=blind))

    exact = run(None)  # builds the combs in the workers once, for both paths
    decided = run(blinding)
    for i in (0, subjects - 1):
        score = sum(w * x for w, x in zip(weights, rows[i])) + 12345
        assert holder.decrypt_int(exact[i]) == score and holder.decision(decided[i][0]) == (score >= 10**12)
    ours, base, ratio = interleaved(lambda: run(blinding), lambda: run(None), rounds)
    row(f"decision-mode scoring, {subjects:,} x {features}", f"{subjects / ours:.0f} subjects/s",
        f"{subjects / base:.0f} subjects/s v1 exact", f"{ratio:.2f}x",
        "target >= 0.7x: " + ("met" if ratio >= 0.7 else "NOT met") + f"; e_max {blinding.e_max} bits")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--subjects", type=int)
    parser.add_argument("--features", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    subjects = args.subjects or (1_000 if args.quick else 10_000)
    rounds = 3 if args.quick else 5
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, {args.workers} workers, "
          f"load average at start {os.getloadavg()[0]:.2f}", flush=True)
    params = RingPedersenParams.from_private_json(json.loads(FIXTURE.read_text()))
    holder = generate_keypair(2048)
    key_proofs(params, rounds)
    range_proofs(holder, params, rounds * 4)
    executor = create_process_pool(args.workers)
    warm_up(executor)
    verification_throughput(holder, params, executor, 120 if args.quick else 300, rounds)
    scoring(holder, executor, subjects, args.features, max(2, rounds - 2))
    executor.shutdown()
    header = ("operation", "ours", "baseline (same run)", "median ratio", "note")
    widths = [max(len(r[i]) for r in [header, *ROWS]) for i in range(5)]
    print(f"\nload average at end {os.getloadavg()[0]:.2f} (1 min); ratios are medians of interleaved rounds")
    for line in [header, tuple("-" * w for w in widths), *ROWS]:
        print(" | ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip())


if __name__ == "__main__":
    main()
