"""Turn text from CSV cells (or values from XLSX cells) into typed Python values.

Each converter raises ValueError with a short human reason ("'abc' is not an integer");
the importing code knows the file, row and column and wraps it into a FormatError.
Empty text (after stripping spaces) becomes None for every type.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from .columns import COLUMN_TYPES, Column
from .errors import FormatError
from .limits import INT64_MAX, INT64_MIN, shortened

Converter = Callable[[Any], Any]

# ASCII only on purpose: int() and float() also accept "1_000", "１２３" and "nan".
_INTEGER_RE = re.compile(r"[+-]?[0-9]+")
_DECIMAL_RE = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_DATE_RES = (
    re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})"),
    re.compile(r"([0-9]{4})/([0-9]{1,2})/([0-9]{1,2})"),  # how zh-CN Excel writes dates
    re.compile(r"([0-9]{4})年([0-9]{1,2})月([0-9]{1,2})日"),
)
_SLASHED_DATETIME_RE = re.compile(
    r"([0-9]{4})/([0-9]{1,2})/([0-9]{1,2})[ T]([0-9]{1,2}):([0-9]{2})(?::([0-9]{2}))?"
)
_TRUE_WORDS = frozenset({"true", "1", "yes", "是"})
_FALSE_WORDS = frozenset({"false", "0", "no", "否"})


def _shown(value: Any) -> str:
    """The value as quoted in an error message, shortened so reports stay readable."""
    text = repr(value) if isinstance(value, str) else repr(str(value))
    return text if len(text) <= 60 else text[:57] + "...'"


def _to_string(value: Any) -> str | None:
    if isinstance(value, str):
        return value or None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # Excel stores codes such as 110101 as 110101.0
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return str(value)


def _in_int64(number: int, value: Any) -> int:
    # Integer fields are 64-bit on every backend; a larger one would fail in the database.
    if not INT64_MIN <= number <= INT64_MAX:
        raise ValueError(f"{_shown(value)} is beyond the 64-bit integer range (±9.2e18)")
    return number


def _to_integer(value: Any) -> int | None:
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        if _INTEGER_RE.fullmatch(text):
            if len(text) > 20:
                raise ValueError(f"{_shown(value)} is beyond the 64-bit integer range (±9.2e18)")
            return _in_int64(int(text), value)
    elif isinstance(value, int) and not isinstance(value, bool):
        return _in_int64(value, value)
    elif isinstance(value, (float, Decimal)) and math.isfinite(value) and value == int(value):
        return _in_int64(int(value), value)
    raise ValueError(f"{_shown(value)} is not an integer")


DECIMAL_MAX_DIGITS = 1000  # PostgreSQL NUMERIC takes 131,072 before the point; REAL far fewer


def _bounded_decimal(number: Decimal, value: Any) -> Decimal:
    # Without a bound, "1e999999999" parses and then fails in the database (or as float inf).
    if number.is_finite() and number != 0 and abs(number.adjusted()) > 308:
        raise ValueError(f"{_shown(value)} is beyond the range of a decimal number (±1e308)")
    return number


def _to_decimal(value: Any) -> Decimal | None:
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        if len(text) <= DECIMAL_MAX_DIGITS and _DECIMAL_RE.fullmatch(text):
            return _bounded_decimal(Decimal(text), value)
    elif isinstance(value, Decimal) and value.is_finite():
        return _bounded_decimal(value, value)
    elif isinstance(value, int) and not isinstance(value, bool):
        return _bounded_decimal(Decimal(value), value)
    elif isinstance(value, float) and math.isfinite(value):
        # repr gives the shortest text that round-trips: 0.1 -> Decimal("0.1"), not
        # Decimal("0.1000000000000000055511151231257827...").
        return Decimal(repr(value))
    raise ValueError(f"{_shown(value)} is not a decimal number")


def _to_number(value: Any) -> float | None:
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        if len(text) <= DECIMAL_MAX_DIGITS and _DECIMAL_RE.fullmatch(text):
            number = float(text)
            if math.isfinite(number):
                return number
    elif isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        try:
            number = float(value)
        except OverflowError:
            number = math.inf
        if math.isfinite(number):
            return number
    raise ValueError(f"{_shown(value)} is not a number")


def _to_boolean(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        word = value.strip().lower()
        if not word:
            return None
        if word in _TRUE_WORDS:
            return True
        if word in _FALSE_WORDS:
            return False
    elif isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    raise ValueError(f"{_shown(value)} is not a boolean (use true/false, 1/0, 是/否 or yes/no)")


def _to_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        # Excel has no date-only type: a date cell arrives as a datetime at midnight.
        if value.time() == datetime.min.time() and value.tzinfo is None:
            return value.date()
        raise ValueError(f"{_shown(value)} has a time of day; expected a date")
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        for pattern in _DATE_RES:
            match = pattern.fullmatch(text)
            if match:
                year, month, day = (int(part) for part in match.groups())
                try:
                    return date(year, month, day)
                except ValueError:
                    raise ValueError(f"{_shown(value)} is not a valid date") from None
    raise ValueError(f"{_shown(value)} is not a date (expected YYYY-MM-DD or YYYY/MM/DD)")


def _to_datetime(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        try:
            # Python 3.11 accepts ISO 8601 with "T" or " ", optional seconds,
            # fractions, "Z" and offsets.
            return datetime.fromisoformat(text)
        except ValueError:
            pass
        match = _SLASHED_DATETIME_RE.fullmatch(text)
        if match:
            parts = [int(part) if part else 0 for part in match.groups()]
            try:
                return datetime(*parts)
            except ValueError:
                raise ValueError(f"{_shown(value)} is not a valid date and time") from None
    raise ValueError(
        f"{_shown(value)} is not a date and time (expected ISO 8601, e.g. 2024-05-01T08:30:00)"
    )


_CONVERTERS: dict[str, Converter] = {
    "string": _to_string,
    "integer": _to_integer,
    "decimal": _to_decimal,
    "number": _to_number,
    "boolean": _to_boolean,
    "date": _to_date,
    "datetime": _to_datetime,
}
assert set(_CONVERTERS) == COLUMN_TYPES


def converter_for(column_type: str) -> Converter:
    """The function turning a CSV string or an XLSX value into a value of ``column_type``.

    None and empty text give None; a bad value raises ValueError with a readable reason.
    """
    try:
        converter = _CONVERTERS[column_type]
    except KeyError:
        raise ValueError(f"unknown column type {column_type!r}") from None

    def convert(value: Any) -> Any:
        return None if value is None else converter(value)

    return convert


class RowConverter:
    """Converts whole rows for a fixed list of columns, collecting every bad cell.

    ``convert(values, line=..., file=...)`` returns ``(typed_row, errors)`` where errors
    is a list of FormatError("invalid_value") naming file, line, column and value, so an
    ingest can report all problems of a file instead of stopping at the first one.
    """

    def __init__(self, columns: Sequence[Column], *, max_cell_chars: int | None = None) -> None:
        self.columns = tuple(columns)
        self._converters = [converter_for(column.type) for column in self.columns]
        self.max_cell_chars = max_cell_chars

    def convert(
        self, values: Sequence[Any], *, line: int | None = None, file: str | None = None
    ) -> tuple[tuple[Any, ...], list[FormatError]]:
        if len(values) != len(self.columns):
            raise ValueError(f"expected {len(self.columns)} values, got {len(values)}")
        typed: list[Any] = []
        errors: list[FormatError] = []
        max_chars = self.max_cell_chars
        for column, convert, value in zip(self.columns, self._converters, values):
            if isinstance(value, str) and ((max_chars is not None and len(value) > max_chars) or "\x00" in value):
                typed.append(None)
                errors.append(_text_error(value, max_chars, file=file, line=line, column=column.name))
                continue
            try:
                typed.append(convert(value))
            except ValueError as reason:
                typed.append(None)
                errors.append(
                    FormatError(
                        "invalid_value", str(reason),
                        file=file, line=line, column=column.name,
                        value=shortened(value, 200) if isinstance(value, str) else value,
                    )
                )
        return tuple(typed), errors


def _text_error(value: str, max_chars: int | None, **where: Any) -> FormatError:
    """A cell too long to store or serve (the limit is a setting), or one with a NUL
    character (which PostgreSQL cannot store in text and no real text contains)."""
    shown = shortened(value)
    if "\x00" in value:
        return FormatError("invalid_character", "the cell contains a NUL character", value=shown, **where)
    return FormatError("cell_too_long", f"the cell has {len(value):,} characters; at most {max_chars:,}",
                       value=shown, **where)
