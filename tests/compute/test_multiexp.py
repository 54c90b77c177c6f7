"""Multi-exponentiation: combs and Straus agree with plain pow(), signed and bounded exponents."""

from __future__ import annotations

import gmpy2
import pytest
from gmpy2 import mpz
from hypothesis import given, settings
from hypothesis import strategies as st

from opendata.compute.multiexp import (
    DEFAULT_TABLE_BUDGET_BYTES,
    ExponentCountError,
    ExponentOutOfRangeError,
    FixedBaseMultiExp,
    FixedBaseTable,
    WindowedMultiExp,
    choose_window_bits,
    straus_multiexp,
    table_bytes,
)

# Pure math: a small n^2-like modulus keeps every example fast. Bases are drawn coprime to it.
P, Q = mpz(2_147_483_647), mpz(4_294_967_291)  # primes
MODULUS = (P * Q) ** 2
BITS = 24


def naive(bases: list[int], exponents: list[int], modulus: int) -> int:
    result = 1
    for base, e in zip(bases, exponents):
        result = result * pow(base, e, modulus) % modulus  # Python handles e < 0 via the inverse
    return result


units = st.integers(min_value=2, max_value=int(MODULUS) - 1).filter(lambda b: gmpy2.gcd(b, P * Q) == 1)
exponents = st.integers(min_value=-(2**BITS) + 1, max_value=2**BITS - 1)


@given(
    base=units,
    exponent=st.integers(min_value=0, max_value=2**BITS - 1),
    window=st.integers(min_value=1, max_value=8),
)
def test_comb_power_matches_pow(base: int, exponent: int, window: int) -> None:
    table = FixedBaseTable(base, MODULUS, BITS, window)
    assert table.power(exponent) == pow(base, exponent, int(MODULUS))


@given(data=st.data(), count=st.integers(min_value=1, max_value=6), window=st.integers(min_value=2, max_value=8))
def test_fixed_base_multiexp_matches_naive(data: st.DataObject, count: int, window: int) -> None:
    bases = data.draw(st.lists(units, min_size=count, max_size=count))
    multiexp = FixedBaseMultiExp(bases, MODULUS, exponent_bits=BITS, window_bits=window)
    for _ in range(3):  # several exponent vectors over the same tables
        exps = data.draw(st.lists(exponents, min_size=count, max_size=count))
        assert multiexp(exps) == naive(bases, exps, int(MODULUS))
        assert multiexp(exps, acc=7) == 7 * naive(bases, exps, int(MODULUS)) % MODULUS


@given(data=st.data(), count=st.integers(min_value=1, max_value=6), window=st.integers(min_value=1, max_value=6))
def test_straus_matches_naive(data: st.DataObject, count: int, window: int) -> None:
    bases = data.draw(st.lists(units, min_size=count, max_size=count))
    exps = data.draw(st.lists(exponents, min_size=count, max_size=count))
    assert WindowedMultiExp(bases, MODULUS, exponent_bits=BITS, window_bits=window)(exps) == naive(
        bases, exps, int(MODULUS)
    )
    assert straus_multiexp(bases, exps, MODULUS) == naive(bases, exps, int(MODULUS))


def test_zero_and_edge_exponents() -> None:
    bases = [3, 5, 7]
    multiexp = FixedBaseMultiExp(bases, MODULUS, exponent_bits=BITS)
    limit = 2**BITS - 1
    for exps in ([0, 0, 0], [limit, -limit, 1], [-1, -1, -1], [1, 0, -limit]):
        assert multiexp(exps) == naive(bases, exps, int(MODULUS))
        assert WindowedMultiExp(bases, MODULUS, exponent_bits=BITS)(exps) == naive(bases, exps, int(MODULUS))


def test_inverse_tables_built_only_for_negative_exponents() -> None:
    multiexp = FixedBaseMultiExp([3, 5], MODULUS, exponent_bits=BITS, window_bits=4)
    before = multiexp.memory_bytes
    multiexp([1, 2])
    assert multiexp.memory_bytes == before
    multiexp([1, -2])
    assert multiexp.memory_bytes == before * 3 // 2


@pytest.mark.parametrize("cls", [FixedBaseMultiExp, WindowedMultiExp])
def test_exponent_bound_and_types_checked(cls: type) -> None:
    multiexp = cls([3, 5], MODULUS, exponent_bits=BITS)
    for bad in ([2**BITS, 0], [0, -(2**BITS)]):
        with pytest.raises(ExponentOutOfRangeError) as info:
            multiexp(bad)
        assert info.value.code == "exponent_out_of_range"
    for bad_type in ([1.0, 0], [True, 0], ["1", 0], [None, 0]):
        with pytest.raises(ExponentOutOfRangeError):
            multiexp(bad_type)
    with pytest.raises(ExponentCountError) as info:
        multiexp([1, 2, 3])
    assert info.value.code == "feature_count_mismatch"
    assert multiexp([mpz(3), 0]) == 27


def test_comb_power_refuses_out_of_range() -> None:
    table = FixedBaseTable(3, MODULUS, 8, 4)
    with pytest.raises(ExponentOutOfRangeError):
        table.power(256)
    with pytest.raises(ExponentOutOfRangeError):
        table.power(-1)


def test_non_unit_base_with_negative_exponent_fails_loudly() -> None:
    multiexp = FixedBaseMultiExp([P], MODULUS, exponent_bits=BITS)
    assert multiexp([2]) == P * P % MODULUS
    with pytest.raises(ZeroDivisionError):
        multiexp([-1])


@settings(max_examples=30)
@given(
    bases=st.integers(min_value=1, max_value=2000),
    bits=st.integers(min_value=1, max_value=256),
    modulus_bits=st.sampled_from([2048, 4096, 8192]),
)
def test_window_choice_respects_budget(bases: int, bits: int, modulus_bits: int) -> None:
    window = choose_window_bits(bases, bits, modulus_bits)
    assert 2 <= window <= 8
    if window > 2:
        assert table_bytes(bases, bits, modulus_bits, window) <= DEFAULT_TABLE_BUDGET_BYTES


def test_typical_model_gets_8_bit_windows() -> None:
    # 20 features, 64-bit exponents, 2048-bit keys (4096-bit n^2): ~23 MB of tables.
    assert choose_window_bits(20, 64, 4096) == 8
