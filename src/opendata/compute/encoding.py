"""Fixed-point signed encoding of decimal values into the Paillier plaintext space Z_n.

A field declares a decimal ``scale``: the value ``v`` travels as the integer
``round(v * 10**scale)``. Only integers travel; there is no floating exponent (unlike
phe's ``EncodedNumber``), so both sides agree on the meaning of a plaintext by the
field's declared scale alone. Products add scales: ``w`` at scale ``sw`` times ``x`` at
scale ``sx`` is a value at scale ``sw + sx``, so a linear model's bias must be encoded
at ``sw + sx``.

Negative values are stored as ``n - |v|``. Decoding accepts ``[0, max_int]`` as
non-negative and ``[n - max_int, n)`` as negative; anything in the band between is an
overflow (or garbage from a foreign key / tampered ciphertext) and raises
:class:`EncodingOverflowError`. The default ``max_int`` is ``2**(bits(n)//2) - 1``
(about 2^1024 for 2048-bit keys): far above any real value, yet a uniformly random
residue lands in the overflow band with probability ~1 - 2^-1023, so garbage is caught
instead of being decoded as a plausible number.
"""

from __future__ import annotations

import re
from decimal import (
    MAX_EMAX,
    MIN_EMIN,
    ROUND_HALF_EVEN,
    Context,
    Decimal,
    InvalidOperation,
    localcontext,
)

from opendata.compute import ComputeError

MAX_SCALE = 64
# Longest decimal string accepted; far beyond any real value, small enough to parse fast.
MAX_VALUE_CHARS = 400
# re.ASCII: \d would otherwise accept any Unicode digit ("١٢"), which Decimal() also parses.
_DECIMAL_STRING = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d{1,6})?", re.ASCII)


class EncodingError(ComputeError):
    """The value cannot be encoded (wrong type, NaN, bad string, bad scale)."""

    code = "encoding_invalid"


class EncodingPrecisionError(EncodingError):
    """The value has more decimal places than the declared scale and no rounding was asked."""

    code = "encoding_precision"


class EncodingOverflowError(EncodingError, OverflowError):
    """|value| exceeds max_int, or a residue lies in the overflow band (max_int, n - max_int)."""

    code = "encoding_overflow"


def default_max_int(n: int) -> int:
    """Largest magnitude a plaintext may have: 2^(bits(n)//2) - 1."""
    return (1 << (int(n).bit_length() // 2)) - 1


def check_scale(scale: int) -> int:
    if isinstance(scale, bool) or not isinstance(scale, int):
        raise EncodingError(f"scale must be an int, got {type(scale).__name__}", code="scale_invalid")
    if not 0 <= scale <= MAX_SCALE:
        raise EncodingError(f"scale must be in [0, {MAX_SCALE}], got {scale}", code="scale_invalid")
    return scale


def _as_decimal(value: int | float | Decimal | str) -> Decimal:
    if isinstance(value, bool):
        raise EncodingError("booleans are not numbers here; send 0 or 1")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, float):
        # repr() gives the shortest string that round-trips: 0.1 -> "0.1", not 0.1000000000000000055...
        result = Decimal(repr(value))
    elif isinstance(value, str):
        text = value.strip()
        if len(text) > MAX_VALUE_CHARS or not _DECIMAL_STRING.fullmatch(text):
            raise EncodingError(f"not a decimal number: {value[:40]!r}")
        result = Decimal(text)
    else:
        raise EncodingError(f"cannot encode a {type(value).__name__}")
    if not result.is_finite():
        raise EncodingError(f"cannot encode {result}")
    return result


def to_fixed_point(
    value: int | float | Decimal | str,
    scale: int,
    *,
    max_int: int | None = None,
    rounding: str | None = None,
) -> int:
    """Signed integer ``value * 10**scale``.

    ``rounding`` is ``None`` (exact: refuse values with more decimals than ``scale``) or a
    :mod:`decimal` rounding mode such as ``decimal.ROUND_HALF_EVEN``.
    """
    check_scale(scale)
    if isinstance(value, int) and not isinstance(value, bool):
        result = value * 10**scale
    else:
        number = _as_decimal(value)
        if not number:
            return 0
        # Refuse absurd magnitudes *before* building the integer: Decimal("1e999999") is cheap,
        # int() of it is not.
        limit_digits = len(str(max_int)) if max_int is not None else 4000
        if number.adjusted() + scale >= limit_digits + 1:
            raise EncodingOverflowError(f"{value!r} is too large to encode")
        digits = len(number.as_tuple().digits)
        # Enough precision to be exact, and the widest exponent range so nothing underflows to 0.
        context = Context(prec=digits + 2, Emax=MAX_EMAX, Emin=MIN_EMIN)
        with localcontext(context) as ctx:
            ctx.traps[InvalidOperation] = True
            scaled = number.scaleb(scale)
            integral = scaled.to_integral_value(rounding=rounding or ROUND_HALF_EVEN)
        if rounding is None and integral != scaled:
            raise EncodingPrecisionError(f"{value!r} has more than {scale} decimal places")
        result = int(integral)
    if max_int is not None and abs(result) > max_int:
        raise EncodingOverflowError(f"|{value!r}| * 10^{scale} exceeds the encodable maximum")
    return result


def from_fixed_point(integer: int, scale: int) -> Decimal:
    """Exact Decimal for ``integer / 10**scale`` (keeps the declared number of decimals)."""
    check_scale(scale)
    # The string constructor is exact whatever the context precision; scaleb() would round.
    return Decimal(f"{int(integer)}E-{scale}")


def to_residue(signed: int, n: int, *, max_int: int | None = None) -> int:
    """Map a signed integer to Z_n: non-negatives as themselves, negatives as n - |v|."""
    limit = default_max_int(n) if max_int is None else max_int
    if abs(signed) > limit:
        raise EncodingOverflowError("value exceeds the encodable maximum for this key")
    return int(signed) % int(n)


def from_residue(residue: int, n: int, *, max_int: int | None = None) -> int:
    """Inverse of :func:`to_residue`; residues in the band (max_int, n - max_int) overflow."""
    n = int(n)
    residue = int(residue)
    limit = default_max_int(n) if max_int is None else max_int
    if not 0 <= residue < n:
        raise EncodingOverflowError("residue outside [0, n)")
    if residue <= limit:
        return residue
    if residue >= n - limit:
        return residue - n
    raise EncodingOverflowError(
        "decrypted value lies in the overflow band: the result overflowed, "
        "or the ciphertext was tampered with or made under another key"
    )


def encode(
    value: int | float | Decimal | str,
    scale: int,
    n: int,
    *,
    max_int: int | None = None,
    rounding: str | None = None,
) -> int:
    """Fixed-point encode ``value`` at ``10**scale`` into Z_n (negatives as n - |v|)."""
    limit = default_max_int(n) if max_int is None else max_int
    return to_residue(to_fixed_point(value, scale, max_int=limit, rounding=rounding), n, max_int=limit)


def decode(residue: int, scale: int, n: int, *, max_int: int | None = None) -> Decimal:
    """Decode a plaintext in Z_n at ``10**scale`` to a Decimal; raises on overflow."""
    return from_fixed_point(from_residue(residue, n, max_int=max_int), scale)


def product_scale(weight_scale: int, feature_scale: int) -> int:
    """Scale of w*x (and hence of the bias and the score) for a linear model."""
    return check_scale(check_scale(weight_scale) + check_scale(feature_scale))
