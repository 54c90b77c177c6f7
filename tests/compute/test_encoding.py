"""Fixed-point signed encoding in Z_n: round trips, precision, overflow band."""

from __future__ import annotations

import decimal
import math
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opendata.compute import ComputeError
from opendata.compute.encoding import (
    MAX_SCALE,
    EncodingError,
    EncodingOverflowError,
    EncodingPrecisionError,
    decode,
    default_max_int,
    encode,
    from_fixed_point,
    from_residue,
    product_scale,
    to_fixed_point,
    to_residue,
)

# Encoding needs only n's size and value, not a real key: any odd 2048-bit number will do.
N = (1 << 2047) + 1_234_567
MAX_INT = default_max_int(N)
scales = st.integers(min_value=0, max_value=18)
signed_ints = st.integers(min_value=-MAX_INT, max_value=MAX_INT)


def test_default_max_int_is_half_the_bits() -> None:
    assert MAX_INT == (1 << 1024) - 1
    assert 2 * MAX_INT < N


@given(fixed=signed_ints, scale=scales)
def test_round_trip_of_fixed_point_values(fixed: int, scale: int) -> None:
    value = from_fixed_point(fixed, scale)
    residue = encode(value, scale, N)
    assert 0 <= residue < N
    assert residue == (fixed if fixed >= 0 else N - abs(fixed))
    assert decode(residue, scale, N) == value
    assert to_fixed_point(str(value), scale) == fixed


@given(value=st.integers(min_value=-(10**30), max_value=10**30), scale=scales)
def test_ints_are_scaled_exactly(value: int, scale: int) -> None:
    assert decode(encode(value, scale, N), scale, N) == value


@given(
    value=st.floats(min_value=-1e12, max_value=1e12, allow_nan=False, allow_infinity=False),
    scale=st.integers(min_value=0, max_value=6),
)
def test_floats_round_to_the_declared_scale(value: float, scale: int) -> None:
    residue = encode(value, scale, N, rounding=decimal.ROUND_HALF_EVEN)
    decoded = decode(residue, scale, N)
    assert abs(decoded - Decimal(repr(value))) <= Decimal(1).scaleb(-scale) / 2


def test_float_uses_shortest_repr_not_binary_expansion() -> None:
    assert to_fixed_point(0.1, 1) == 1
    assert to_fixed_point(-2.5, 2) == -250


def test_negative_is_n_minus_magnitude() -> None:
    assert encode(-1, 0, N) == N - 1
    assert encode("-0.05", 2, N) == N - 5
    assert decode(N - 5, 2, N) == Decimal("-0.05")


def test_decode_keeps_declared_decimals() -> None:
    assert str(decode(12300, 2, N)) == "123.00"


def test_extra_decimals_refused_unless_rounding_asked() -> None:
    with pytest.raises(EncodingPrecisionError) as info:
        encode("1.234", 2, N)
    assert info.value.code == "encoding_precision"
    assert encode("1.235", 2, N, rounding=decimal.ROUND_HALF_EVEN) == 124
    assert encode("1.225", 2, N, rounding=decimal.ROUND_HALF_EVEN) == 122
    # A value so small it would underflow must be reported, not silently become 0.
    with pytest.raises(EncodingPrecisionError):
        encode(Decimal("1e-999999"), 2, N)


@pytest.mark.parametrize("bad", ["nan", "inf", "-Infinity", "1_000", "0x10", "1e", "", " ", "1.2.3", "١٢"])
def test_bad_strings_refused(bad: str) -> None:
    with pytest.raises(EncodingError) as info:
        encode(bad, 0, N)
    assert info.value.code == "encoding_invalid"


@pytest.mark.parametrize("bad", [True, None, [1], float("nan"), float("inf"), Decimal("NaN"), Decimal("-Inf")])
def test_non_numbers_refused(bad: object) -> None:
    with pytest.raises(EncodingError):
        encode(bad, 0, N)  # type: ignore[arg-type]


@pytest.mark.parametrize("scale", [-1, MAX_SCALE + 1, 1.0, True])
def test_bad_scales_refused(scale: object) -> None:
    with pytest.raises(EncodingError) as info:
        encode(1, scale, N)  # type: ignore[arg-type]
    assert info.value.code == "scale_invalid"


def test_magnitude_above_max_int_overflows() -> None:
    assert decode(encode(MAX_INT, 0, N), 0, N) == MAX_INT
    assert decode(encode(-MAX_INT, 0, N), 0, N) == -MAX_INT
    for value in (MAX_INT + 1, -MAX_INT - 1):
        with pytest.raises(EncodingOverflowError) as info:
            encode(value, 0, N)
        assert info.value.code == "encoding_overflow"
    with pytest.raises(EncodingOverflowError):
        encode(Decimal(MAX_INT) / 10 + 1, 1, N, rounding=decimal.ROUND_DOWN)


def test_absurd_exponent_refused_before_building_the_integer() -> None:
    with pytest.raises(EncodingOverflowError):
        encode("1e999999", 0, N)


@given(residue=st.integers(min_value=MAX_INT + 1, max_value=N - MAX_INT - 1), scale=scales)
def test_overflow_band_detected(residue: int, scale: int) -> None:
    with pytest.raises(EncodingOverflowError):
        decode(residue, scale, N)


def test_band_edges_and_out_of_range_residues() -> None:
    assert from_residue(MAX_INT, N) == MAX_INT
    assert from_residue(N - MAX_INT, N) == -MAX_INT
    for residue in (MAX_INT + 1, N - MAX_INT - 1, N, -1):
        with pytest.raises(EncodingOverflowError):
            from_residue(residue, N)


def test_overflow_error_is_both_value_and_overflow_error() -> None:
    with pytest.raises(OverflowError):
        to_residue(MAX_INT + 1, N)
    with pytest.raises(ComputeError):
        to_residue(MAX_INT + 1, N)


@given(a=st.integers(-(10**15), 10**15), b=st.integers(-(10**15), 10**15), sa=scales, sb=scales)
def test_arithmetic_in_z_n_matches_decimal_arithmetic(a: int, b: int, sa: int, sb: int) -> None:
    # What the homomorphic operations do to residues: products add scales, sums need one scale.
    product = encode(a, 0, N) * encode(b, 0, N) % N
    assert from_residue(product, N) == a * b
    x = from_fixed_point(a, sa)
    y = from_fixed_point(b, sb)
    scale = product_scale(sa, sb)
    with decimal.localcontext(decimal.Context(prec=100)):  # exact reference product
        assert decode(encode(x, sa, N) * encode(y, sb, N) % N, scale, N) == x * y


def test_custom_max_int_narrows_the_band() -> None:
    assert from_residue(N - 10, N, max_int=10) == -10
    with pytest.raises(EncodingOverflowError):
        from_residue(11, N, max_int=10)
    with pytest.raises(EncodingOverflowError):
        encode(11, 0, N, max_int=10)


@settings(max_examples=50)
@given(value=st.decimals(allow_nan=False, allow_infinity=False, places=4, min_value=-(10**12), max_value=10**12))
def test_decimals_at_their_own_places_are_exact(value: Decimal) -> None:
    assert decode(encode(value, 4, N), 4, N) == value
    assert math.isclose(float(decode(encode(value, 4, N), 4, N)), float(value))
