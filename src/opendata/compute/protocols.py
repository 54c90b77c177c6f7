"""The two server computations, as pure functions, plus process-pool helpers.

* Verification (核验): :func:`verify_claims` turns Enc(claimed) into
  Enc(r * (claimed - actual)) * s^n with a fresh r uniform in Z_n^* and a fresh obfuscator
  s^n. The key holder decrypts 0 on a match and a uniformly random unit otherwise. A missing
  subject or field takes *the same code path* with a uniformly random "actual", so its result
  is a uniform unit too -- indistinguishable from a mismatch in value and in work done.
* Private linear scoring (模型服务): :func:`score_batch` computes
  Enc(w.x + b) * s^n = prod Enc(w_i)^x_i * Enc(b) * s^n per subject from plaintext feature
  integers x (fixed-point, signed). The products use fixed-base combs (multiexp.py) cached
  per worker process by a digest of the model; small batches use Straus instead.

Both take a *validated* :class:`~opendata.compute.paillier.PublicKey` (validate once at key
registration) and validate every ciphertext they are given. Obfuscators come from an
:class:`~opendata.compute.obfuscators.ObfuscatorPool`, an explicit sequence, or ``None``
(computed on the spot).

Process pool: a batch is split into chunks run by module-level functions in a
``ProcessPoolExecutor`` (spawn start method, so no pool or thread state is forked). The
``*_async`` variants await ``run_in_executor`` so the asyncio event loop never does the
arithmetic; the parent only takes already-computed obfuscators from the pool (never blocking)
and the workers compute any shortfall.
"""

from __future__ import annotations

import asyncio
import collections
import hashlib
import multiprocessing
import os
import secrets
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from typing import Any

import gmpy2
from gmpy2 import mpz

from opendata.compute import ComputeError
from opendata.compute.encoding import to_residue
from opendata.compute.inputs import Blinding, ProofCheck
from opendata.compute.multiexp import (
    DEFAULT_EXPONENT_BITS,
    DEFAULT_TABLE_BUDGET_BYTES,
    FixedBaseMultiExp,
    WindowedMultiExp,
    straus_multiexp,
    check_exponents,
    choose_window_bits,
)
from opendata.compute.obfuscators import ObfuscatorPool, obfuscators_for
from opendata.compute.paillier import PublicKey, random_unit

MAX_VERIFY_FIELDS = 64
MAX_SCORE_SUBJECTS = 10_000
MAX_MODEL_FEATURES = 1024
# Below this many rows (per process, per model) Straus beats building combs (~20x fewer
# multiplications to set up); from then on the combs are built and cached.
SMALL_BATCH_ROWS = 32
WORKER_CACHE_MODELS = 4
MIN_CHUNK_ROWS = 64
CHUNKS_PER_WORKER = 4

Obfuscators = ObfuscatorPool | Sequence[int] | None


class BatchTooLargeError(ComputeError):
    code = "batch_too_large"


class SubjectNotFoundError(ComputeError):
    code = "subject_not_found"


# --- verification ---------------------------------------------------------------------------
def _check_verify_request(public_key: PublicKey, enc_claims: Mapping[str, Any], max_fields: int) -> dict[str, mpz]:
    if len(enc_claims) > max_fields:
        raise BatchTooLargeError(f"{len(enc_claims)} fields; at most {max_fields} per request")
    # Validate every ciphertext before looking at the subject: a refusal must not depend on
    # whether the subject exists, or it would become a not-found oracle.
    return {str(field): public_key.validate_ciphertext(c) for field, c in enc_claims.items()}


def _verify_validated(
    public_key: PublicKey,
    claims: dict[str, mpz],
    actual_values: Mapping[str, int | None] | None,
    obfuscators: Sequence[int | None],
    max_int: int | None,
) -> dict[str, int]:
    """``obfuscators[i]`` None: none was ready, so r-th power and u^n are computed together
    with shared squarings (Straus), ~35% less CPU than two exponentiations."""
    n, n2 = public_key.n, public_key.n_squared
    results: dict[str, int] = {}
    for (field, claim), obfuscator in zip(claims.items(), obfuscators, strict=True):
        actual = None if actual_values is None else actual_values.get(field)
        if actual is None:
            # Same arithmetic with a uniform "actual": r*(claimed - u) is a uniform unit.
            actual_residue = secrets.randbelow(int(n))
        else:
            if type(actual) is not int:
                raise ComputeError(f"actual value of {field!r} must be a fixed-point int", code="actual_not_int")
            actual_residue = to_residue(actual, n, max_int=max_int)
        difference = claim * public_key.embed(-actual_residue) % n2  # Enc(claimed - actual)
        if obfuscator is None:  # Enc(r * (claimed - actual)) * u^n, u fresh
            results[field] = int(straus_multiexp([difference, random_unit(n)], [random_unit(n), n], n2,
                                                 exponent_bits=public_key.bits))
            continue
        masked = gmpy2.powmod(difference, random_unit(n), n2)  # Enc(r * (claimed - actual))
        results[field] = int(masked * mpz(obfuscator) % n2)
    return results


def verify_claims(
    public_key: PublicKey,
    enc_claims: Mapping[str, int | str],
    actual_values: Mapping[str, int | None] | None,
    obfuscators: Obfuscators = None,
    *,
    reveal_not_found: bool = False,
    max_fields: int = MAX_VERIFY_FIELDS,
    max_int: int | None = None,
) -> dict[str, int]:
    """Enc(r * (claimed - actual)), obfuscated, per field; the key holder decrypts 0 iff equal.

    ``enc_claims`` maps field -> ciphertext (int or decimal string). ``actual_values`` maps
    field -> the server's fixed-point integer at the field's declared scale, or is ``None``
    when the subject does not exist. Missing subjects/fields yield a random non-zero result
    unless ``reveal_not_found``, which raises :class:`SubjectNotFoundError` instead.
    """
    claims = _check_verify_request(public_key, enc_claims, max_fields)
    if actual_values is None and reveal_not_found:
        raise SubjectNotFoundError("no such subject")
    masks = obfuscators_for(obfuscators, len(claims), public_key)
    return _verify_validated(public_key, claims, actual_values, masks, max_int)


def _verify_worker(
    n: int, claims: dict[str, int], actual_values: dict[str, int | None] | None, obfuscators: list[int],
    max_int: int | None, checks: ProofCheck | None = None, reveal_not_found: bool = False,
) -> dict[str, int]:
    if checks is not None:
        checks.run(n)  # the claims' range proofs, before anything is computed on them
    if actual_values is None and reveal_not_found:
        raise SubjectNotFoundError("no such subject")  # told only after the proofs verified
    public_key = PublicKey(n)  # validated by the parent
    masks: list[mpz | None] = [mpz(v) for v in obfuscators]
    masks += [None] * (len(claims) - len(masks))  # computed alongside the mask r (Straus)
    return _verify_validated(public_key, {f: mpz(c) for f, c in claims.items()}, actual_values, masks, max_int)


async def verify_claims_async(
    public_key: PublicKey,
    enc_claims: Mapping[str, int | str],
    actual_values: Mapping[str, int | None] | None,
    obfuscators: Obfuscators = None,
    *,
    executor: Executor | None = None,
    reveal_not_found: bool = False,
    max_fields: int = MAX_VERIFY_FIELDS,
    max_int: int | None = None,
    checks: ProofCheck | None = None,
) -> dict[str, int]:
    """:func:`verify_claims` run in ``executor`` (a process pool); the event loop only validates.
    ``checks``: range proofs the worker verifies first (ComputeError range_proof_invalid)."""
    claims = _check_verify_request(public_key, enc_claims, max_fields)
    if actual_values is None and reveal_not_found and checks is None:
        raise SubjectNotFoundError("no such subject")
    masks = _available_obfuscators(obfuscators, len(claims), public_key)
    actual = None if actual_values is None else dict(actual_values)
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(
        executor, _verify_worker, int(public_key.n), {f: int(c) for f, c in claims.items()}, actual, masks, max_int,
        checks, reveal_not_found,
    )


def _available_obfuscators(source: Obfuscators, count: int, public_key: PublicKey) -> list[int]:
    """What can be had without computing; the worker computes the rest."""
    if isinstance(source, ObfuscatorPool):
        if source.public_key != public_key:
            raise ValueError("obfuscator pool belongs to another public key")
        return [int(v) for v in source.take_available(count)]
    given = [int(v) for v in (source or ())]
    if len(given) > count:
        raise ValueError(f"{len(given)} obfuscators given for {count} results")
    return given


# --- scoring --------------------------------------------------------------------------------
def length_prefixed(*parts: bytes) -> bytes:
    return b"".join(len(p).to_bytes(8, "big") + p for p in parts)


def _int_bytes(value: int, width: int) -> bytes:
    return int(value).to_bytes(width, "big")


def model_digest(
    public_key: PublicKey,
    enc_weights: Sequence[int],
    enc_bias: int,
    features: Sequence[str],
    feature_scales: Sequence[int],
    score_scale: int,
) -> str:
    """sha256 (hex) over a canonical, length-prefixed encoding of everything that defines a model:
    n, the encrypted weights and bias (fixed width, big-endian), feature names (UTF-8) and scales."""
    width = (public_key.n_squared.bit_length() + 7) // 8
    body = length_prefixed(
        b"opendata/linear-model/v1",
        _int_bytes(public_key.n, (public_key.bits + 7) // 8),
        length_prefixed(*(_int_bytes(w, width) for w in enc_weights)),
        _int_bytes(enc_bias, width),
        length_prefixed(*(str(f).encode("utf-8") for f in features)),
        length_prefixed(*(str(int(s)).encode("ascii") for s in feature_scales)),
        str(int(score_scale)).encode("ascii"),
    )
    return hashlib.sha256(body).hexdigest()


def _table_key(n: int, enc_weights: Sequence[int], exponent_bits: int, window_bits: int) -> str:
    width = (int(n).bit_length() * 2 + 7) // 8
    body = length_prefixed(
        int(n).to_bytes(width, "big"), *(_int_bytes(w, width) for w in enc_weights), f"{exponent_bits}/{window_bits}".encode()
    )
    return hashlib.sha256(body).hexdigest()


# Per-process caches (each worker has its own): combs by table key, and rows seen per key
# before the combs were worth building.
_combs: collections.OrderedDict[str, FixedBaseMultiExp] = collections.OrderedDict()
_rows_seen: collections.Counter[str] = collections.Counter()
_cache_lock = threading.Lock()


def _multiexp_for(key: str, n2: mpz, weights: Sequence[int], rows: int, exponent_bits: int, window_bits: int) -> Any:
    with _cache_lock:
        comb = _combs.get(key)
        if comb is not None:
            _combs.move_to_end(key)
            return comb
        if len(_rows_seen) > 4096:  # many one-off models: forget counts rather than grow forever
            _rows_seen.clear()
        _rows_seen[key] += rows
        worth_building = _rows_seen[key] > SMALL_BATCH_ROWS
    if not worth_building:
        return WindowedMultiExp(weights, n2, exponent_bits=exponent_bits)
    comb = FixedBaseMultiExp(weights, n2, exponent_bits=exponent_bits, window_bits=window_bits)
    with _cache_lock:
        _combs[key] = comb
        _rows_seen.pop(key, None)
        while len(_combs) > WORKER_CACHE_MODELS:
            _combs.popitem(last=False)
    return comb


def _score_rows(
    n: int,
    enc_weights: Sequence[int],
    enc_bias: int,
    key: str,
    exponent_bits: int,
    window_bits: int,
    rows: Sequence[Sequence[int]],
    obfuscators: Sequence[int],
    blinding: Blinding | None = None,
) -> list[Any]:
    """Worker body (module level so it pickles): Enc(w.x + b) * s^n for each row, or with
    ``blinding`` the row's blinded threshold comparisons (a list per row)."""
    public_key = PublicKey(n)
    n2 = public_key.n_squared
    multiexp = _multiexp_for(key, n2, enc_weights, len(rows), exponent_bits, window_bits)
    bias = mpz(enc_bias)
    if blinding is not None:  # missing obfuscators are computed with each rho-th power
        shortfall = len(rows) * blinding.per_row - len(obfuscators)
        pooled: list[mpz | None] = [mpz(v) for v in obfuscators]
        return blinding.apply(public_key.n, n2, [multiexp(row, bias) for row in rows], pooled + [None] * shortfall)
    masks = [mpz(v) for v in obfuscators] + public_key.obfuscators(len(rows) - len(obfuscators))
    # Folding bias and obfuscator into the accumulator saves one reduction per subject.
    return [int(multiexp(row, bias * mask % n2)) for row, mask in zip(rows, masks, strict=True)]


def _prepare_scoring(
    public_key: PublicKey,
    enc_weights: Sequence[int | str],
    enc_bias: int | str,
    feature_rows: Sequence[Sequence[int]],
    exponent_bits: int,
    window_bits: int | None,
    max_subjects: int,
) -> tuple[list[int], int, str, int]:
    if len(feature_rows) > max_subjects:
        raise BatchTooLargeError(f"{len(feature_rows)} subjects; at most {max_subjects} per call")
    if not 0 < len(enc_weights) <= MAX_MODEL_FEATURES:
        raise BatchTooLargeError(f"a model needs 1..{MAX_MODEL_FEATURES} weights", code="model_too_large")
    weights = [int(public_key.validate_ciphertext(w)) for w in enc_weights]
    bias = int(public_key.validate_ciphertext(enc_bias))
    # Check every row before any obfuscator is consumed or any worker starts.
    for row in feature_rows:
        check_exponents(row, len(weights), exponent_bits)
    window = window_bits or choose_window_bits(
        len(weights), exponent_bits, public_key.n_squared.bit_length(), DEFAULT_TABLE_BUDGET_BYTES
    )
    return weights, bias, _table_key(public_key.n, weights, exponent_bits, window), window


def score_call(public_key: PublicKey, enc_weights: Sequence[int | str], enc_bias: int | str,
               feature_rows: Sequence[Sequence[int]], *, blinding: Blinding | None = None,
               exponent_bits: int = DEFAULT_EXPONENT_BITS) -> tuple[Any, tuple[Any, ...]]:
    """(function, arguments) scoring ``feature_rows`` in any executor, the obfuscators computed
    there: one chunk of a job (compute/jobs/), checked here like a synchronous batch."""
    weights, bias, key, window = _prepare_scoring(public_key, enc_weights, enc_bias, feature_rows, exponent_bits,
                                                  None, len(feature_rows))
    return _score_rows, (int(public_key.n), weights, bias, key, exponent_bits, window,
                         [list(r) for r in feature_rows], [], blinding)


def _chunks(count: int, workers: int) -> list[tuple[int, int]]:
    parts = max(1, min(workers * CHUNKS_PER_WORKER, -(-count // MIN_CHUNK_ROWS)))
    size = -(-count // parts) if count else 0
    return [(start, min(count, start + size)) for start in range(0, count, size)] if count else []


def _worker_count(executor: Executor) -> int:
    return getattr(executor, "_max_workers", None) or os.cpu_count() or 1


def score_batch(
    public_key: PublicKey,
    enc_weights: Sequence[int | str],
    enc_bias: int | str,
    feature_rows: Sequence[Sequence[int]],
    obfuscators: Obfuscators = None,
    *,
    executor: Executor | None = None,
    exponent_bits: int = DEFAULT_EXPONENT_BITS,
    window_bits: int | None = None,
    max_subjects: int = MAX_SCORE_SUBJECTS,
    blinding: Blinding | None = None,
) -> list[Any]:
    """Obfuscated Enc(w.x + b) per row, in row order (with ``blinding``: a list of blinded
    threshold comparisons per row, inputs.Blinding). Blocks until done.

    ``feature_rows[i][j]`` is subject i's fixed-point integer for feature j (|x| < 2^exponent_bits).
    With ``executor`` (see :func:`create_process_pool`) the rows are split across its workers;
    without, everything runs in this process.
    """
    weights, bias, key, window = _prepare_scoring(
        public_key, enc_weights, enc_bias, feature_rows, exponent_bits, window_bits, max_subjects
    )
    count = len(feature_rows)
    k = 1 if blinding is None else blinding.per_row
    if executor is None:
        masks = obfuscators_for(obfuscators, count * k, public_key)
        return _score_rows(int(public_key.n), weights, bias, key, exponent_bits, window, feature_rows, masks,
                           blinding)
    masks = _available_obfuscators(obfuscators, count * k, public_key)
    futures = [
        executor.submit(
            _score_rows, int(public_key.n), weights, bias, key, exponent_bits, window,
            [list(r) for r in feature_rows[a:b]], masks[a * k:b * k], blinding,
        )
        for a, b in _chunks(count, _worker_count(executor))
    ]
    return [c for future in futures for c in future.result()]


async def score_batch_async(
    public_key: PublicKey,
    enc_weights: Sequence[int | str],
    enc_bias: int | str,
    feature_rows: Sequence[Sequence[int]],
    obfuscators: Obfuscators = None,
    *,
    executor: Executor | None = None,
    exponent_bits: int = DEFAULT_EXPONENT_BITS,
    window_bits: int | None = None,
    max_subjects: int = MAX_SCORE_SUBJECTS,
    blinding: Blinding | None = None,
) -> list[Any]:
    """:func:`score_batch` for an asyncio server: validation runs in a thread, arithmetic in
    ``executor``'s processes (``None``: the loop's default executor, i.e. threads)."""
    weights, bias, key, window = await asyncio.to_thread(
        _prepare_scoring, public_key, enc_weights, enc_bias, feature_rows, exponent_bits, window_bits, max_subjects
    )
    count = len(feature_rows)
    k = 1 if blinding is None else blinding.per_row
    masks = _available_obfuscators(obfuscators, count * k, public_key)
    loop = asyncio.get_running_loop()
    workers = _worker_count(executor) if executor is not None else 1
    futures = [
        loop.run_in_executor(
            executor, _score_rows, int(public_key.n), weights, bias, key, exponent_bits, window,
            [list(r) for r in feature_rows[a:b]], masks[a * k:b * k], blinding,
        )
        for a, b in _chunks(count, workers)
    ]
    return [c for part in await asyncio.gather(*futures) for c in part]


# --- process pool ---------------------------------------------------------------------------
def _ping(delay: float = 0.0) -> int:
    time.sleep(delay)  # keeps workers busy so the executor starts all of them
    return os.getpid()


def create_process_pool(workers: int | None = None, *, start_method: str = "spawn") -> ProcessPoolExecutor:
    """Worker processes for scoring/verification (default: one per core).

    ``spawn`` (not fork): a forked child would inherit the parent's obfuscator pools and
    threads; a spawned one starts clean and imports only opendata.compute.
    """
    context = multiprocessing.get_context(start_method)
    return ProcessPoolExecutor(max_workers=workers or os.cpu_count() or 1, mp_context=context)


def warm_up(executor: Executor, workers: int | None = None) -> set[int]:
    """Start every worker now (spawn + imports take ~0.1-0.3 s each); returns their pids."""
    count = workers or _worker_count(executor)
    return set(executor.map(_ping, [0.05] * (count * 2)))
