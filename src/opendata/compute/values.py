"""How catalogue values become plaintext integers for computations, the same on both sides.

The key holder (SDK) and the server must turn a value into the *same* integer, or a true
claim would not verify. One module, imported by both, says how, per field type:

* integer, decimal, number: fixed point at the declared scale (``value * 10**scale``).
  Verification is **exact**: a stored value with more decimals than the claim's scale can
  equal no claim at that scale, so it is treated like a missing value (a random result),
  never rounded -- rounding would let a coarse scale answer "is it within 0.5 yuan?",
  which is a range query, not a verification. Scoring rounds half-even at the feature's
  scale, as any fixed-point model does.
* boolean: 0 or 1 (times ``10**scale``).
* date: its proleptic Gregorian ordinal (days), scale 0.
* string: the first 128 bits of SHA-256 over a domain tag and the NFC-normalised UTF-8
  text, scale 0: equality of strings becomes equality of integers (verification only).

Server-side functions never raise for a stored value: a value that cannot be encoded is
``None``, which the protocols treat exactly like a missing row. Raising would make the
error an oracle for that subject's data.
"""

from __future__ import annotations

import hashlib
import unicodedata
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

from opendata.compute.encoding import EncodingError, check_scale, to_fixed_point

NUMERIC_TYPES = ("integer", "decimal", "number")
VERIFIABLE_TYPES = (*NUMERIC_TYPES, "boolean", "date", "string")
SCORABLE_TYPES = (*NUMERIC_TYPES, "boolean")
UNSCALED_TYPES = ("date", "string")
MAX_FIELD_SCALE = 12
# Far above any real value, and below max_int of every accepted key (>= 2048 bits -> 2^1024),
# so a stored value can never trip the core's overflow check (which would raise).
MAX_VERIFIED_MAGNITUDE = 2**512
STRING_DOMAIN = b"opendata/verify-string/v1\x00"
MAX_STRING_CHARS = 4000


class ValueInputError(EncodingError):
    """A client-supplied value (claim, filter, default) that does not fit its field."""

    code = "invalid_value"


def check_field_scale(scale: Any, field_type: str) -> int:
    """A scale a request may declare for a field of ``field_type``."""
    if isinstance(scale, bool) or not isinstance(scale, int):
        raise ValueInputError("scale must be a whole number", code="scale_invalid")
    if field_type in UNSCALED_TYPES and scale != 0:
        raise ValueInputError(f"a {field_type} field is compared at scale 0", code="scale_invalid")
    if not 0 <= scale <= MAX_FIELD_SCALE:
        raise ValueInputError(f"scale must be 0 to {MAX_FIELD_SCALE}", code="scale_invalid")
    return check_scale(scale)


def string_integer(text: str) -> int:
    digest = hashlib.sha256(STRING_DOMAIN + unicodedata.normalize("NFC", text).encode("utf-8")).digest()
    return int.from_bytes(digest[:16], "big")


def _as_number(value: Any) -> Decimal | int:
    if isinstance(value, bool):
        raise ValueInputError("a boolean is not a number here")
    if isinstance(value, float):
        return Decimal(repr(value))  # shortest round-tripping text: 8500.5, not 8500.4999...
    return value


def claim_integer(value: Any, field_type: str, scale: int) -> int:
    """Key-holder side: the integer to encrypt as the claim. Raises ValueInputError."""
    check_field_scale(scale, field_type)
    if field_type == "string":
        if not isinstance(value, str) or len(value) > MAX_STRING_CHARS:
            raise ValueInputError("a string field's claim is a string")
        return string_integer(value)
    if field_type == "date":
        return _as_date(value).toordinal()
    if field_type == "boolean":
        if not isinstance(value, bool):
            raise ValueInputError("a boolean field's claim is true or false")
        return int(value) * 10**scale
    if field_type not in NUMERIC_TYPES:
        raise ValueInputError(f"fields of type {field_type} cannot be verified", code="field_not_computable")
    try:
        return to_fixed_point(_as_number(value), scale)
    except EncodingError as error:
        raise ValueInputError(str(error), code=error.code) from None


def claim_scale(value: Any) -> int:
    """The smallest scale that holds a numeric claim exactly: "8500" -> 0, "8500.50" -> 2."""
    if isinstance(value, bool) or isinstance(value, int):
        return 0
    try:
        number = _as_number(value) if not isinstance(value, str) else Decimal(value.strip())
    except InvalidOperation:
        raise ValueInputError(f"not a number: {value!r}") from None
    if not isinstance(number, Decimal) or not number.is_finite():
        raise ValueInputError(f"not a finite number: {value!r}")
    return max(0, -int(number.as_tuple().exponent))


def _as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueInputError(f"not an ISO date (YYYY-MM-DD): {str(value)[:40]!r}")


def actual_integer(value: Any, field_type: str, scale: int) -> int | None:
    """Server side, verification: the stored value as the claim's integer, exactly, or None
    when it is missing or cannot equal any claim at ``scale`` (never raises)."""
    if value is None:
        return None
    try:
        if field_type == "string":
            return string_integer(str(value))
        if field_type == "date":
            return _as_date(value).toordinal()
        if field_type == "boolean":
            return int(bool(value)) * 10**scale
        result = to_fixed_point(_as_number(value), scale)
    except (EncodingError, ValueError, TypeError, InvalidOperation):
        return None
    return result if abs(result) < MAX_VERIFIED_MAGNITUDE else None


def feature_integer(value: Any, field_type: str, scale: int, exponent_bits: int,
                    mapping: dict[str, str] | None = None) -> int | None:
    """Server side, scoring: the stored value rounded half-even at ``scale``, or None when
    missing, not in ``mapping`` (for mapped string fields), or too large for the model's
    exponent bound (|x| < 2^exponent_bits). Never raises."""
    if value is None:
        return None
    try:
        if mapping is not None:
            mapped = mapping.get(str(value))
            if mapped is None:
                return None
            value, field_type = mapped, "decimal"
        if field_type == "boolean":
            value = int(bool(value))
        elif field_type not in NUMERIC_TYPES:
            return None
        result = to_fixed_point(_as_number(value), scale, rounding=ROUND_HALF_EVEN)
    except (EncodingError, ValueError, TypeError, InvalidOperation):
        return None
    return result if abs(result) >> exponent_bits == 0 else None


def parse_number_text(value: Any, what: str) -> str:
    """A client's plain number (default, map value) as canonical text; raises ValueInputError."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueInputError(f"{what} must be a number")
    try:
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueInputError(f"{what} must be a number, not {str(value)[:40]!r}") from None
    if not number.is_finite() or abs(number) >= Decimal(10) ** 18:
        raise ValueInputError(f"{what} must be a finite number below 10^18")
    return str(number)


def filter_value(raw: Any, field_type: str) -> Any:
    """A ``where`` value from JSON as the Python value its column compares with."""
    try:
        if field_type == "string" and isinstance(raw, str) and len(raw) <= 255:
            return raw
        if field_type == "integer" and not isinstance(raw, bool):
            if isinstance(raw, int) or (isinstance(raw, str) and raw.strip().lstrip("-").isdigit()):
                return int(raw)
        if field_type == "decimal" and not isinstance(raw, bool) and isinstance(raw, int | float | str):
            number = Decimal(repr(raw)) if isinstance(raw, float) else Decimal(str(raw).strip())
            if number.is_finite():
                return number
        if field_type == "number" and not isinstance(raw, bool) and isinstance(raw, int | float | str):
            return float(raw)
        if field_type == "boolean" and isinstance(raw, bool):
            return raw
        if field_type == "date" and isinstance(raw, str):
            return date.fromisoformat(raw.strip())
        if field_type == "datetime" and isinstance(raw, str):
            return datetime.fromisoformat(raw.strip())
    except (ValueError, InvalidOperation):
        pass
    raise ValueInputError(f"{str(raw)[:40]!r} is not a {field_type} value", code="invalid_filter")
