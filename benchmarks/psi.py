"""Private intersection-sum with cardinality (联合统计, issue 15 item 2) against the simplest
correct baseline, interleaved (A, B, A, B …):

    python benchmarks/psi.py                         # 10,000 x 10,000 ids, half in common
    python benchmarks/psi.py --ids 2000 --rounds 3

Both run the same protocol (compute/psi.py) on the same 2,048-bit keys and ids, end to end
and in one process tree, without HTTP: the portal's offer, the enterprise's reply, the
portal's answer, the enterprise's decryption; the result is checked against the plaintext
intersection-sum each time.

* ours: libsodium for the group; Paillier with the key holders' CRT + DJN encryption on
  fixed-base combs (8-bit windows), the enterprise's re-randomisation on a comb of the
  transport key's DJN base; offer, reply and the blinding of the ids split across 2 worker
  processes.
* baseline: the same group code; textbook Paillier through phe (python-paillier, itself on
  gmpy2): every encryption and re-randomisation a full r^n mod n^2, decryption by phe; one
  process.

Target: < 30 s for 10,000 x 10,000 on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

try:
    import opendata.compute  # noqa: F401
except ModuleNotFoundError:  # a checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from gmpy2 import mpz
from phe import EncryptedNumber, PaillierPrivateKey, PaillierPublicKey

from opendata.compute import psi
from opendata.compute.paillier import generate_private_key
from opendata.compute.psi_client import build_reply
from opendata.compute.psi_group import blind_ids, blind_points, decode_points, encode_points, random_scalar


def cpu_seconds(pool: ProcessPoolExecutor) -> float:
    """CPU seconds of this process, its finished children (the SDK's reply pool) and the
    running pool's workers: what the run costs whatever the machine's load."""
    import resource

    ticks = os.sysconf("SC_CLK_TCK")
    total = sum(getattr(resource.getrusage(who), f) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
                for f in ("ru_utime", "ru_stime"))
    for pid in list(getattr(pool, "_processes", {}) or {}):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
        except (OSError, IndexError, ValueError):
            pass
    return total


def _slices(count: int, parts: int) -> list[tuple[int, int]]:
    size = -(-count // parts)
    return [(a, min(count, a + size)) for a in range(0, count, size)]


def ours(subjects, values, mine, transport, h, enterprise, pool: ProcessPoolExecutor, workers: int):
    times = {}
    started = time.perf_counter()
    scalar = random_scalar()
    key = (int(transport.public_key.n), int(transport.p), int(transport.q))
    parts = list(pool.map(psi.offer_chunk, *zip(*[(scalar, key, subjects[a:b], values[a:b])
                                                 for a, b in _slices(len(subjects), workers)])))
    points, cts = psi.shuffled([p for part in parts for p in part[0]], [c for part in parts for c in part[1]])
    offer = {"points": encode_points(points), "values": [str(c) for c in cts], "max_ids": len(mine),
             "transport_key": psi.TransportKey(int(transport.public_key.n), h).to_json()}
    times["offer"] = time.perf_counter() - started
    started = time.perf_counter()
    reply = build_reply(offer, mine, enterprise, workers=workers).body()
    times["reply"] = time.perf_counter() - started
    started = time.perf_counter()
    ids, d, w, z, total = psi.parse_reply(reply, transport.public_key, enterprise.public_key, len(points), len(mine))
    double = [p for part in pool.map(psi.blind_chunk, *zip(*[(scalar, ids[a:b])
                                                           for a, b in _slices(len(ids), workers)])) for p in part]
    psi.check_total(transport, w, total, sum(values))
    positions = psi.matches(double, d)
    answer = psi.answer(transport, enterprise.public_key, w, z, positions, 0)
    times["answer"] = time.perf_counter() - started
    return len(positions), psi.signed(enterprise.raw_decrypt(answer), enterprise.public_key.n), times


def baseline(subjects, values, mine, transport, h, enterprise):
    """The same protocol with textbook Paillier (phe): full-size r^n everywhere."""
    times = {}
    t_pub, e_pub = PaillierPublicKey(int(transport.public_key.n)), PaillierPublicKey(int(enterprise.public_key.n))
    t_priv = PaillierPrivateKey(t_pub, int(transport.p), int(transport.q))
    e_priv = PaillierPrivateKey(e_pub, int(enterprise.p), int(enterprise.q))
    started = time.perf_counter()
    scalar = random_scalar()
    points = blind_ids(scalar, subjects)
    cts = [t_pub.raw_encrypt(v % t_pub.n) for v in values]
    points, cts = psi.shuffled(points, cts)
    wire = (encode_points(points), [str(c) for c in cts])
    times["offer"] = time.perf_counter() - started
    started = time.perf_counter()
    got_points, got = decode_points(wire[0], "points"), [int(c) for c in wire[1]]
    k_e = random_scalar()
    a = sorted(blind_ids(k_e, mine))
    d = blind_points(k_e, got_points)
    w, z, total = [], [], 0
    for c in got:
        rho = int(psi.MASK_LOW) + secrets.randbits(psi.VALUE_BITS + psi.STATISTICAL_BITS)
        total += rho
        masked = EncryptedNumber(t_pub, c) + EncryptedNumber(t_pub, t_pub.raw_encrypt(rho, r_value=1))
        masked.obfuscate()
        w.append(masked.ciphertext(be_secure=False))
        z.append(e_pub.raw_encrypt(rho))
    d, w, z = psi.shuffled(d, w, z)
    times["reply"] = time.perf_counter() - started
    started = time.perf_counter()
    wanted = set(blind_points(scalar, a))
    positions = [j for j, p in enumerate(d) if p in wanted]
    n_t2, n_e2 = t_pub.nsquare, e_pub.nsquare
    every = 1
    for c in w:
        every = every * c % n_t2
    assert (t_priv.raw_decrypt(every) - total - sum(values)) % t_pub.n == 0
    product, unmask = 1, 1
    for j in positions:
        product, unmask = product * w[j] % n_t2, unmask * z[j] % n_e2
    masked_sum = t_priv.raw_decrypt(product)
    answer = e_pub.raw_encrypt(masked_sum % e_pub.n) * pow(unmask, -1, n_e2) % n_e2
    times["answer"] = time.perf_counter() - started
    return len(positions), psi.signed(mpz(e_priv.raw_decrypt(answer)), enterprise.public_key.n), times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ids", type=int, default=10_000, help="ids on each side (half in common)")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-baseline", action="store_true")
    args = parser.parse_args()
    n = args.ids
    subjects = [f"4401{i:014d}" for i in range(n)]
    values = [secrets.randbelow(4_000_000) for _ in range(n)]  # contribution bases 0-40,000.00 at scale 2
    mine = [f"4401{i:014d}" for i in range(n // 2, n // 2 + n)]
    truth = (n - n // 2, sum(values[n // 2:]))
    transport, enterprise = generate_private_key(2048), generate_private_key(2048)
    h = psi.transport_base(transport)
    print(f"intersection-sum {n:,} x {n:,} ids ({truth[0]:,} in common), 2048-bit keys, {args.workers} workers, "
          f"cpus {os.cpu_count()}, load average {os.getloadavg()}")
    results: dict[str, list[float]] = {"ours": [], "baseline": []}
    cpus: dict[str, list[float]] = {"ours": [], "baseline": []}
    with ProcessPoolExecutor(args.workers) as pool:
        list(pool.map(abs, range(args.workers)))  # start the workers
        for round_ in range(args.rounds):
            for name in ("ours", "baseline"):
                if name == "baseline" and args.no_baseline:
                    continue
                started, cpu_started = time.perf_counter(), cpu_seconds(pool)
                if name == "ours":
                    count, total, times = ours(subjects, values, mine, transport, h, enterprise, pool, args.workers)
                else:
                    count, total, times = baseline(subjects, values, mine, transport, h, enterprise)
                wall, cpu = time.perf_counter() - started, cpu_seconds(pool) - cpu_started
                cpus[name].append(cpu)
                assert (count, total) == truth, (name, count, total, truth)
                results[name].append(wall)
                phases = ", ".join(f"{k} {v:.1f} s" for k, v in times.items())
                print(f"round {round_ + 1} {name:8s} {wall:7.1f} s wall, {cpu:6.1f} CPU-s  ({phases})  "
                      f"load {os.getloadavg()[0]:.1f}",
                      flush=True)
    for name, walls in results.items():
        if walls:
            parallel = args.workers if name == "ours" else 1  # the baseline runs in one process
            print(f"{name:8s} median {statistics.median(walls):.1f} s wall, {statistics.median(cpus[name]):.1f} CPU-s "
                  f"(an idle machine: ~{statistics.median(cpus[name]) / parallel:.1f} s) over {len(walls)}")
    if results["baseline"]:
        ratios = [b / a for a, b in zip(results["ours"], results["baseline"])]
        cpu_ratios = [b / a for a, b in zip(cpus["ours"], cpus["baseline"])]
        print(f"baseline / ours: median {statistics.median(ratios):.2f}x wall, {statistics.median(cpu_ratios):.2f}x CPU "
              "(target: ours < 30 s on 2 cores)")


if __name__ == "__main__":
    main()
