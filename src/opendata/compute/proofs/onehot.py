"""Pi^onehot: a vector of Paillier ciphertexts encrypts a one-hot vector (hidden query).

Statement: c_1..c_m under a proven key N, each c_j = (1 + N)^(b_j) rho_j^N mod N^2 with
b_j in {0, 1}, and sum b_j = 1.

* **0/1 per entry** -- an OR of two proofs of N-th residuosity (Cramer, Damgard,
  Schoenmakers' OR composition; the 0/1 proof of Damgard-Jurik, PKC 2001, Sec. 5):
  u0 = c (an N-th residue iff b = 0) and u1 = c (1 + N)^-1 (iff b = 1). The prover runs the
  branch it knows (a_b = r^N, z_b = r rho^(e_b)) and simulates the other (e_f, z_f random,
  a_f = z_f^N u_f^-e_f); the challenges must add up to the Fiat-Shamir challenge:
  e0 + e1 = e_j mod 2^256. Checks: z0^N = a0 u0^e0 and z1^N = a1 u1^e1 mod N^2.
* **sum = 1** -- one proof of N-th residuosity of U = (prod c_j) (1 + N)^-1: A = r^N,
  z = r (prod rho_j)^e, check z^N = A U^e. With every b_j in {0, 1} and m < N, a sum of 1
  modulo N is a sum of exactly 1: exactly one entry is 1.

Soundness (per entry and for the sum): two accepting transcripts with the same first
message and different challenges give dz^N = u^de with 0 < |de| < 2^256; Pi^fac proved N's
primes exceed 2^383, so gcd(de, N) = 1 and u = (dz^a u^(bN))^N (Bezout) is an N-th residue:
b is exactly 0 or 1, with no slack (unlike Pi^enc). Error 2^-256 per challenge. Honest-
verifier zero-knowledge is perfect: the simulated branch is distributed as a real one.

All challenges come from one transcript over the context, N, every ciphertext and every
first message, so no entry's proof can be moved to another vector, key, organisation or
purpose. Batched verification as in ranges.py: secret 128-bit lambdas per equation, one
N-th power per batch; a deviation of small order is an N-th residue for a proven key (it
lies in Z_N^*'s part of Z_{N^2}^*, since N's primes exceed 2^128), which only turns one
valid z into another. On failure each entry is checked alone to name it.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import gmpy2
from gmpy2 import mpz

from opendata.compute.multiexp import FixedBaseTable
from opendata.compute.proofs.arith import embed, multiexp, sample_unit
from opendata.compute.proofs.errors import SELECTION_PROOF_INVALID, ProofError
from opendata.compute.proofs.ranges import BATCH_BITS, CHALLENGE_BITS
from opendata.compute.proofs.transcript import Transcript
from opendata.compute.proofs.wire import (
    WIRE_VERSION, check_fields, decode_int, decode_list, decode_unit, encode_int, encode_ints,
)

_CODE = SELECTION_PROOF_INVALID
_MOD = mpz(1) << CHALLENGE_BITS
ENTRY_FIELDS = ("a0", "a1", "e0", "z0", "z1")


class Randomizer:
    """Fresh pairs (R, r) with R = r^N mod N^2: what the prover needs for every encryption,
    commitment and simulated response.

    Without the factors: r uniform in Z_N^*, one full N-th power each. With them (the key
    holder): r = h^x mod N and R = (h^N)^x mod N^2 for a fixed random h = -y^2 and a short
    uniform x (DJN, as the key holder's encryption: see paillier.PrivateKey), both read off
    precomputed comb tables -- no squarings, ~20x faster. The proofs' zero-knowledge then
    rests on the same short-exponent assumption as the key holder's ciphertexts do; their
    soundness, which is what protects the portal, does not depend on it."""

    def __init__(self, n: int, factors: tuple[int, int] | None = None, *, window_bits: int = 6) -> None:
        self.n = mpz(n)
        self.n_squared = self.n * self.n
        self._tables = None
        if factors is not None:
            p, q = mpz(factors[0]), mpz(factors[1])
            if p * q != self.n:
                raise ProofError(_CODE, "factors do not multiply to N")
            self.bits = (self.n.bit_length() + 1) // 2
            y = sample_unit(self.n)
            h = (-y * y) % self.n
            p2, q2 = p * p, q * q
            self._tables = (FixedBaseTable(h, self.n, self.bits, window_bits),
                            FixedBaseTable(gmpy2.powmod(h, self.n, p2), p2, self.bits, window_bits),
                            FixedBaseTable(gmpy2.powmod(h, self.n, q2), q2, self.bits, window_bits),
                            p2, q2, gmpy2.invert(q2, p2))

    def pair(self) -> tuple[mpz, mpz]:
        if self._tables is None:
            r = sample_unit(self.n)
            return gmpy2.powmod(r, self.n, self.n_squared), r
        root, at_p, at_q, p2, q2, q2_inv = self._tables
        x = mpz(secrets.randbits(self.bits)) | 1
        rp, rq = at_p.power(x), at_q.power(x)
        return rq + q2 * ((rp - rq) * q2_inv % p2), root.power(x)


def encrypt_bits(randomizer: Randomizer, bits: Sequence[int]) -> tuple[list[int], list[int]]:
    """(ciphertexts, randomness): fresh c_j = (1 + N)^(b_j) rho_j^N for a 0/1 vector."""
    n, n_squared = randomizer.n, randomizer.n_squared
    cts, rhos = [], []
    for b in bits:
        big_r, rho = randomizer.pair()
        cts.append(int(embed(b, n, n_squared) * big_r % n_squared))
        rhos.append(int(rho))
    return cts, rhos


def _transcript(n: mpz, cts: Sequence[mpz], a0: Sequence[mpz], a1: Sequence[mpz], big_a: mpz,
                context: bytes) -> Transcript:
    return (Transcript("onehot", context).add("statement", n, len(cts)).add("ciphertexts", *cts)
            .add("a0", *a0).add("a1", *a1).add("sum", big_a))


def _entry_challenges(transcript: Transcript, count: int) -> list[mpz]:
    stream = transcript.challenge_bits("entries", CHALLENGE_BITS * count)
    return [(stream >> (CHALLENGE_BITS * j)) % _MOD for j in range(count)]


def _unit_ciphertexts(n: mpz, n_squared: mpz, ciphertexts: Any) -> list[mpz]:
    if not isinstance(ciphertexts, Sequence) or isinstance(ciphertexts, str | bytes) or not ciphertexts:
        raise ProofError(_CODE, "the selection must be a non-empty list of ciphertexts")
    if len(ciphertexts) >= n:
        raise ProofError(_CODE, "the selection is longer than the key allows")
    return [decode_unit(str(c) if isinstance(c, int) and not isinstance(c, bool) else c, n_squared,
                        f"ciphertext {j}", _CODE) for j, c in enumerate(ciphertexts)]


def prove_one_hot(randomizer: Randomizer, ciphertexts: Sequence[int], index: int, randomness: Sequence[int],
                  context: bytes) -> dict:
    """The proof that ``ciphertexts`` (made by encrypt_bits, ``randomness`` their rho_j)
    encrypt the unit vector with its 1 at ``index`` under the randomizer's key."""
    n, n_squared = randomizer.n, randomizer.n_squared
    cts = _unit_ciphertexts(n, n_squared, list(ciphertexts))
    if not 0 <= index < len(cts) or len(randomness) != len(cts):
        raise ProofError(_CODE, "index or randomness does not fit the selection")
    rhos = [mpz(r) for r in randomness]  # not re-checked: a wrong one makes a proof that fails
    one_minus_n = (1 - n) % n_squared  # (1 + N)^-1 mod N^2
    a0, a1, fake_e, fake_z, reals = [], [], [], [], []
    for j, (c, rho) in enumerate(zip(cts, rhos)):
        bit = 1 if j == index else 0
        u_fake = c * one_minus_n % n_squared if bit == 0 else c
        e_f = mpz(secrets.randbits(CHALLENGE_BITS))
        z_f_power, z_f = randomizer.pair()
        a_real, r = randomizer.pair()
        a_fake = z_f_power * gmpy2.powmod(gmpy2.invert(u_fake, n_squared), e_f, n_squared) % n_squared
        a0.append(a_real if bit == 0 else a_fake)
        a1.append(a_fake if bit == 0 else a_real)
        fake_e.append(e_f)
        fake_z.append(z_f)
        reals.append(r)
    big_a, sum_r = randomizer.pair()
    transcript = _transcript(n, cts, a0, a1, big_a, context)
    challenges = _entry_challenges(transcript, len(cts))
    e0s, z0s, z1s = [], [], []
    for j, e in enumerate(challenges):
        e_real = (e - fake_e[j]) % _MOD
        z_real = reals[j] * gmpy2.powmod(rhos[j], e_real, n) % n
        if j == index:  # real branch 1
            e0s.append(fake_e[j])
            z0s.append(fake_z[j])
            z1s.append(z_real)
        else:  # real branch 0
            e0s.append(e_real)
            z0s.append(z_real)
            z1s.append(fake_z[j])
    e_sum = transcript.challenge_bits("sum", CHALLENGE_BITS)
    rho_total = mpz(1)
    for rho in rhos:
        rho_total = rho_total * rho % n
    z_sum = sum_r * gmpy2.powmod(rho_total, e_sum, n) % n
    return {"v": WIRE_VERSION, "type": "onehot", "a0": encode_ints(a0), "a1": encode_ints(a1),
            "e0": encode_ints(e0s), "z0": encode_ints(z0s), "z1": encode_ints(z1s),
            "A": encode_int(big_a), "z": encode_int(z_sum)}


@dataclass(frozen=True)
class OneHotStatement:
    """A parsed proof with its challenges: what the batched checks run on."""

    n: mpz
    cts: list[mpz]
    a0: list[mpz]
    a1: list[mpz]
    e0: list[mpz]
    e1: list[mpz]
    z0: list[mpz]
    z1: list[mpz]
    big_a: mpz
    z_sum: mpz
    e_sum: mpz

    def __len__(self) -> int:
        return len(self.cts)


def parse_one_hot(n: int, ciphertexts: Any, proof: Any, context: bytes) -> OneHotStatement:
    """Strict parsing (bounded before any arithmetic) and the Fiat-Shamir challenges."""
    n = mpz(n)
    n_squared = n * n
    cts = _unit_ciphertexts(n, n_squared, ciphertexts)
    fields = check_fields(proof, "onehot", (*ENTRY_FIELDS, "A", "z"), _CODE)
    m = len(cts)
    lists = {name: decode_list(fields[name], m, f"onehot proof {name}", _CODE) for name in ENTRY_FIELDS}
    a0 = [decode_unit(v, n_squared, f"a0[{j}]", _CODE) for j, v in enumerate(lists["a0"])]
    a1 = [decode_unit(v, n_squared, f"a1[{j}]", _CODE) for j, v in enumerate(lists["a1"])]
    z0 = [decode_unit(v, n, f"z0[{j}]", _CODE) for j, v in enumerate(lists["z0"])]
    z1 = [decode_unit(v, n, f"z1[{j}]", _CODE) for j, v in enumerate(lists["z1"])]
    e0 = [_challenge_share(v, j) for j, v in enumerate(lists["e0"])]
    big_a = decode_unit(fields["A"], n_squared, "onehot proof A", _CODE)
    z_sum = decode_unit(fields["z"], n, "onehot proof z", _CODE)
    transcript = _transcript(n, cts, a0, a1, big_a, context)
    e1 = [(e - share) % _MOD for e, share in zip(_entry_challenges(transcript, m), e0)]
    return OneHotStatement(n, cts, a0, a1, e0, e1, z0, z1, big_a, z_sum, transcript.challenge_bits("sum", CHALLENGE_BITS))


def _challenge_share(value: Any, j: int) -> mpz:
    return decode_int(value, f"e0[{j}]", _CODE, max_bits=CHALLENGE_BITS)


def _check_entry(s: OneHotStatement, j: int) -> None:
    n, n_squared = s.n, s.n * s.n
    c = s.cts[j]
    u1 = c * ((1 - n) % n_squared) % n_squared
    if gmpy2.powmod(s.z0[j], n, n_squared) != s.a0[j] * gmpy2.powmod(c, s.e0[j], n_squared) % n_squared \
            or gmpy2.powmod(s.z1[j], n, n_squared) != s.a1[j] * gmpy2.powmod(u1, s.e1[j], n_squared) % n_squared:
        raise ProofError(_CODE, f"entry {j} is not proved to encrypt 0 or 1", index=j)


def check_entries(s: OneHotStatement, start: int = 0, stop: int | None = None) -> None:
    """Batched 0/1 checks of entries [start, stop); ProofError naming the first bad entry."""
    stop = len(s) if stop is None else stop
    indices = range(start, stop)
    if len(indices) <= 1:
        for j in indices:
            _check_entry(s, j)
        return
    n, n_squared = s.n, s.n * s.n
    lam0 = [mpz(secrets.randbits(BATCH_BITS)) + 1 for _ in indices]
    lam1 = [mpz(secrets.randbits(BATCH_BITS)) + 1 for _ in indices]
    # x^N mod N^2 depends only on x mod N: the z side is combined mod N, then one N-th power.
    z_side = multiexp([s.z0[j] for j in indices] + [s.z1[j] for j in indices], lam0 + lam1, n)
    left = gmpy2.powmod(z_side, n, n_squared)
    exponents_c = [l0 * s.e0[j] + l1 * s.e1[j] for l0, l1, j in zip(lam0, lam1, indices)]
    right = multiexp([s.a0[j] for j in indices] + [s.a1[j] for j in indices] + [s.cts[j] for j in indices],
                     lam0 + lam1 + exponents_c, n_squared)
    # u1^e1 = c^e1 (1 + N)^-e1: the (1 + N) parts of every entry fold into one embed.
    right = right * embed(-sum(l1 * s.e1[j] for l1, j in zip(lam1, indices)), n, n_squared) % n_squared
    if left == right:
        return
    for j in indices:  # name the culprit; only paid on failure
        _check_entry(s, j)
    raise ProofError(_CODE, "the batch of 0/1 proofs does not verify")  # unreachable in theory


def check_sum(s: OneHotStatement) -> None:
    """The entries add up to exactly 1 (given that each is 0 or 1)."""
    n, n_squared = s.n, s.n * s.n
    u = mpz(1)
    for c in s.cts:
        u = u * c % n_squared
    u = u * ((1 - n) % n_squared) % n_squared
    if gmpy2.powmod(s.z_sum, n, n_squared) != s.big_a * gmpy2.powmod(u, s.e_sum, n_squared) % n_squared:
        raise ProofError(_CODE, "the selection is not proved to add up to 1 (it selects no entry or several)")


def verify_one_hot(n: int, ciphertexts: Any, proof: Any, context: bytes) -> None:
    """Raises ProofError("selection_proof_invalid") unless the ciphertexts encrypt a one-hot vector."""
    statement = parse_one_hot(n, ciphertexts, proof, context)
    check_sum(statement)
    check_entries(statement)
