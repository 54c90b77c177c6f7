"""Verification and private scoring end to end: encode -> encrypt -> compute -> decrypt."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from decimal import Decimal

import gmpy2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opendata.compute import ComputeError
from opendata.compute.encoding import from_fixed_point, to_fixed_point
from opendata.compute.keyholder import KeyHolder
from opendata.compute.multiexp import ExponentCountError, ExponentOutOfRangeError
from opendata.compute.obfuscators import ObfuscatorPool
from opendata.compute.paillier import InvalidCiphertextError, generate_private_key
from opendata.compute.protocols import (
    BatchTooLargeError,
    SubjectNotFoundError,
    create_process_pool,
    model_digest,
    score_batch,
    score_batch_async,
    verify_claims,
    verify_claims_async,
    warm_up,
)

SLOW = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
values = st.integers(min_value=-(10**18), max_value=10**18)
scales = st.integers(min_value=0, max_value=6)


@pytest.fixture(scope="module")
def holder() -> KeyHolder:
    return KeyHolder(generate_private_key(2048))


@pytest.fixture(scope="module")
def foreign() -> KeyHolder:
    return KeyHolder(generate_private_key(2048))


@pytest.fixture(scope="module")
def small() -> KeyHolder:
    # 512 bits, below policy on purpose: many scoring examples, same algebra.
    return KeyHolder(generate_private_key(512, min_bits=512))


@pytest.fixture(scope="module")
def executor() -> Iterator[ProcessPoolExecutor]:
    pool = create_process_pool(2)
    warm_up(pool)
    yield pool
    pool.shutdown()


# --- verification ---------------------------------------------------------------------------
@SLOW
@given(claimed=values, actual=values, scale=scales)
def test_verification_is_zero_iff_equal(holder: KeyHolder, claimed: int, actual: int, scale: int) -> None:
    claims = holder.encrypt_claims({"x": from_fixed_point(claimed, scale)}, {"x": scale})
    result = verify_claims(holder.public_key, claims, {"x": actual})
    residue = holder.decrypt_residue(result["x"])
    assert (residue == 0) == (claimed == actual)
    if claimed != actual:
        assert gmpy2.gcd(residue, holder.public_key.n) == 1  # a unit: r * d with d a unit


def test_verification_several_fields_and_sources(holder: KeyHolder) -> None:
    public = holder.public_key
    claims = holder.encrypt_claims({"a": "12.50", "b": -3, "c": "0"}, {"a": 2, "b": 0, "c": 0})
    actual = {"a": to_fixed_point("12.5", 2), "b": -4, "c": 0}
    pool = ObfuscatorPool(public, capacity=4, background=False)
    pool.fill()
    for source in (None, pool, public.obfuscators(3), public.obfuscators(1)):
        result = verify_claims(public, claims, actual, source)
        assert list(result) == ["a", "b", "c"]
        assert holder.verification_results(result) == {"a": True, "b": False, "c": True}


def test_results_are_rerandomised(holder: KeyHolder) -> None:
    claims = {"x": holder.encrypt_int(7)}
    first = verify_claims(holder.public_key, claims, {"x": 7})["x"]
    second = verify_claims(holder.public_key, claims, {"x": 7})["x"]
    assert first != second and holder.is_match(first) and holder.is_match(second)


def test_not_found_looks_like_a_mismatch(holder: KeyHolder) -> None:
    claims = {"x": holder.encrypt_int(7), "y": holder.encrypt_int(8)}
    for actual in (None, {"y": 8}, {"x": None, "y": 8}):
        result = verify_claims(holder.public_key, claims, actual)
        residue = holder.decrypt_residue(result["x"])
        assert residue != 0 and gmpy2.gcd(residue, holder.public_key.n) == 1
    with pytest.raises(SubjectNotFoundError) as info:
        verify_claims(holder.public_key, claims, None, reveal_not_found=True)
    assert info.value.code == "subject_not_found"


def test_tampered_claims_refused_whether_or_not_the_subject_exists(holder: KeyHolder) -> None:
    public = holder.public_key
    n, n2 = public.n, public.n_squared
    for bad, code in ((0, "ciphertext_out_of_range"), (n2, "ciphertext_out_of_range"), (n, "ciphertext_not_unit")):
        for actual in ({"x": 1}, None):
            with pytest.raises(InvalidCiphertextError) as info:
                verify_claims(public, {"x": bad}, actual, reveal_not_found=True)
            assert info.value.code == code


def test_foreign_key_claim_gives_no_match(holder: KeyHolder, foreign: KeyHolder) -> None:
    # The claim equals the server's value, but was encrypted under another key.
    for _ in range(5):
        c = foreign.encrypt_int(42)
        try:
            result = verify_claims(holder.public_key, {"x": c}, {"x": 42})
        except InvalidCiphertextError:
            continue  # c >= n^2 for our n: refused
        assert not holder.is_match(result["x"])


def test_verification_limits(holder: KeyHolder) -> None:
    claims = {f"f{i}": holder.encrypt_int(i) for i in range(3)}
    with pytest.raises(BatchTooLargeError) as info:
        verify_claims(holder.public_key, claims, {}, max_fields=2)
    assert info.value.code == "batch_too_large"
    with pytest.raises(ComputeError) as info:
        verify_claims(holder.public_key, {"x": claims["f1"]}, {"x": Decimal(1)})  # type: ignore[dict-item]
    assert info.value.code == "actual_not_int"


def test_verification_in_worker_processes(holder: KeyHolder, executor: ProcessPoolExecutor) -> None:
    pool = ObfuscatorPool(holder.public_key, capacity=1, background=False)
    pool.fill()
    claims = holder.encrypt_claims({"a": 5, "b": 6}, {"a": 0, "b": 0})

    async def run() -> dict[str, int]:
        return await verify_claims_async(holder.public_key, claims, {"a": 5, "b": 7}, pool, executor=executor)

    assert holder.verification_results(asyncio.run(run())) == {"a": True, "b": False}
    assert pool.stats()["available"] == 0


# --- scoring --------------------------------------------------------------------------------
def expected_scores(weights, bias, rows, feature_scales, score_scale):
    """Exact reference in integers: w_i at scale S - s_i times x_i at s_i is at scale S."""
    fixed_w = [to_fixed_point(w, score_scale - s) for w, s in zip(weights, feature_scales)]
    fixed_b = to_fixed_point(bias, score_scale)
    return [
        from_fixed_point(sum(w * x for w, x in zip(fixed_w, row)) + fixed_b, score_scale) for row in rows
    ]


@st.composite
def models(draw, max_rows: int = 6):
    count = draw(st.integers(min_value=1, max_value=5))
    feature_scales = draw(st.lists(scales, min_size=count, max_size=count))
    score_scale = max(feature_scales) + draw(st.integers(min_value=0, max_value=4))
    weights = [
        from_fixed_point(draw(st.integers(-(10**12), 10**12)), score_scale - s) for s in feature_scales
    ]
    bias = from_fixed_point(draw(st.integers(-(10**15), 10**15)), score_scale)
    rows = draw(
        st.lists(
            st.lists(st.integers(-(2**63) + 1, 2**63 - 1), min_size=count, max_size=count),
            min_size=0,
            max_size=max_rows,
        )
    )
    return weights, bias, rows, feature_scales, score_scale


@settings(max_examples=30, deadline=None)
@given(model=models())
def test_scoring_round_trip_small_key(small: KeyHolder, model) -> None:
    weights, bias, rows, feature_scales, score_scale = model
    enc_w, enc_b = small.encrypt_model(weights, bias, feature_scales, score_scale)
    scores = score_batch(small.public_key, enc_w, enc_b, rows)
    assert small.decrypt_scores(scores, score_scale) == expected_scores(weights, bias, rows, feature_scales, score_scale)


@SLOW
@given(model=models(max_rows=3))
def test_scoring_round_trip_2048(holder: KeyHolder, model) -> None:
    weights, bias, rows, feature_scales, score_scale = model
    enc_w, enc_b = holder.encrypt_model(weights, bias, feature_scales, score_scale)
    obfuscators = holder.public_key.obfuscators(len(rows))
    scores = score_batch(holder.public_key, enc_w, enc_b, rows, obfuscators)
    assert holder.decrypt_scores(scores, score_scale) == expected_scores(
        weights, bias, rows, feature_scales, score_scale
    )


def test_comb_path_and_worker_pool_agree(small: KeyHolder, executor: ProcessPoolExecutor) -> None:
    weights, feature_scales, score_scale = ["1.5", "-2", "0.25"], [1, 0, 2], 4
    enc_w, enc_b = small.encrypt_model(weights, "-7.5", feature_scales, score_scale)
    rows = [[i * 3 - 500, (i * 7919) % 1000 - 500, -i] for i in range(300)]  # > SMALL_BATCH_ROWS: combs
    want = expected_scores(weights, "-7.5", rows, feature_scales, score_scale)
    pool = ObfuscatorPool(small.public_key, capacity=100, background=False)
    pool.fill()
    in_process = score_batch(small.public_key, enc_w, enc_b, rows, pool)
    assert small.decrypt_scores(in_process, score_scale) == want
    pool.fill()
    in_workers = score_batch(small.public_key, enc_w, enc_b, rows, pool, executor=executor)
    assert small.decrypt_scores(in_workers, score_scale) == want
    assert pool.stats()["available"] == 0
    again = asyncio.run(score_batch_async(small.public_key, enc_w, enc_b, rows, None, executor=executor))
    assert small.decrypt_scores(again, score_scale) == want
    assert len(set(in_process) | set(in_workers) | set(again)) == 900  # every result re-randomised


def test_scoring_refusals_consume_no_obfuscators(small: KeyHolder) -> None:
    public = small.public_key
    enc_w, enc_b = small.encrypt_model([1, 2], 0, [0, 0], 0)
    pool = ObfuscatorPool(public, capacity=3, background=False)
    pool.fill()
    with pytest.raises(ExponentOutOfRangeError):
        score_batch(public, enc_w, enc_b, [[1, 2], [2**64, 0]], pool)
    with pytest.raises(ExponentOutOfRangeError):
        score_batch(public, enc_w, enc_b, [[1, 2], [3, 1 << 20]], pool, exponent_bits=16)
    with pytest.raises(ExponentCountError):
        score_batch(public, enc_w, enc_b, [[1, 2, 3]], pool)
    with pytest.raises(BatchTooLargeError) as info:
        score_batch(public, enc_w, enc_b, [[1, 2]] * 3, pool, max_subjects=2)
    assert info.value.code == "batch_too_large"
    with pytest.raises(InvalidCiphertextError):
        score_batch(public, [enc_w[0], public.n], enc_b, [[1, 2]], pool)
    with pytest.raises(InvalidCiphertextError):
        score_batch(public, enc_w, 0, [[1, 2]], pool)
    assert len(pool) == 3


def test_overflowing_score_is_detected_not_misread(small: KeyHolder) -> None:
    # Weights near max_int times large features leave the encodable range: decoding must refuse.
    big = small.max_int // 2
    enc_w, enc_b = small.encrypt_model([big], 0, [0], 0)
    scores = score_batch(small.public_key, enc_w, enc_b, [[2**40]], exponent_bits=64)
    with pytest.raises(OverflowError):
        small.decrypt_scores(scores, 0)


def test_model_digest_is_canonical(holder: KeyHolder) -> None:
    public = holder.public_key
    enc_w, enc_b = [holder.encrypt_int(1), holder.encrypt_int(2)], holder.encrypt_int(3)
    base = model_digest(public, enc_w, enc_b, ["ab", "c"], [0, 1], 2)
    assert base == model_digest(public, [str(w) for w in enc_w], enc_b, ("ab", "c"), (0, 1), 2)
    assert len(base) == 64
    variants = [
        model_digest(public, enc_w, enc_b, ["a", "bc"], [0, 1], 2),
        model_digest(public, enc_w[::-1], enc_b, ["ab", "c"], [0, 1], 2),
        model_digest(public, enc_w, enc_w[0], ["ab", "c"], [0, 1], 2),
        model_digest(public, enc_w, enc_b, ["ab", "c"], [1, 0], 2),
        model_digest(public, enc_w, enc_b, ["ab", "c"], [0, 1], 3),
    ]
    assert len({base, *variants}) == 6
