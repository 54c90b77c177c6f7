"""How a hidden query's records become plaintext integers, the same on both sides.

A record is the selected fields of one subject, as canonical text (numbers in plain
decimal, dates ISO, booleans 1/0, missing values as N / null). The whole table is encoded
at once and every record is padded to the longest one, so the encoding (its codec, width,
chunks) depends on the table only, never on a subject:

* ``fixed``: every chosen field is a number (or boolean) or a date in every row: each is a
  fixed-point integer at the column's largest scale (dates: days since 1970-01-01),
  zig-zag signed, plus 1 (0 is a missing value), in as many bits as the column's largest
  needs; the fields' bit strings are concatenated. The published (scale, bits) per field
  say about as much as the digits codec's width does: the order of the largest magnitude;
* ``digits``: 4 bits per symbol over ``0123456789.-:,N`` (symbol values 1..15, 0 pads),
  fields joined by ``,`` -- when every value of the chosen fields is numeric or a date;
* ``utf8``: 8 bits per byte of the JSON list of the texts -- otherwise.

The server's cost grows with the bits per record (one multiplication per 4-bit window per
subject), hence the compact codec. A record wider than one plaintext is cut into chunks
of at most ``chunk_symbols`` symbols; each chunk is one integer below N / 2^16.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Sequence

from opendata.compute import ComputeError

FIXED = "fixed"
DIGITS = "digits"
UTF8 = "utf8"
CODECS = (FIXED, DIGITS, UTF8)
_ALPHABET = "0123456789.-:,N"
_SYMBOL = {ch: i + 1 for i, ch in enumerate(_ALPHABET)}
_BITS = {FIXED: 1, DIGITS: 4, UTF8: 8}
_EPOCH = date(1970, 1, 1).toordinal()
NUMBER, DATE = "number", "date"
NULL_DIGIT = "N"
MAX_CHUNKS = 4
HEADROOM_BITS = 16


def field_text(value: Any, field_type: str) -> str | None:
    """The canonical text of a stored value (None stays None)."""
    if value is None:
        return None
    if field_type == "boolean":
        return "1" if value in (True, 1, "1", "true", "True") else "0"
    if field_type == "date":
        if isinstance(value, datetime):
            return value.date().isoformat()
        return value.isoformat() if isinstance(value, date) else str(value).strip()
    if field_type in ("integer", "decimal", "number"):
        try:
            number = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value).strip())
        except InvalidOperation:
            return str(value)
        return format(number, "f")
    return str(value)


def typed_value(text: str | None, field_type: str) -> Any:
    """The client's reading of a field text: int, Decimal, bool, or the text (dates, strings)."""
    if text is None:
        return None
    try:
        if field_type == "integer":
            return int(text)
        if field_type in ("decimal", "number"):
            return Decimal(text)
    except (ValueError, InvalidOperation):
        return text
    if field_type == "boolean":
        return text == "1"
    return text


@dataclass(frozen=True)
class RecordFormat:
    """How every record of one table is encoded (published with the layout)."""

    codec: str
    record_symbols: int
    chunk_symbols: int
    fields: tuple[tuple[str, int, int], ...] = ()  # fixed codec: (number | date, scale, bits) per field

    @property
    def chunks(self) -> int:
        return max(1, -(-self.record_symbols // self.chunk_symbols))

    @property
    def symbol_bits(self) -> int:
        return _BITS[self.codec]

    @property
    def exponent_bits(self) -> int:
        """Bits of a chunk's integer: what the server's multi-exponentiation runs over."""
        return self.chunk_symbols * self.symbol_bits

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"codec": self.codec, "record_symbols": self.record_symbols,
                               "chunk_symbols": self.chunk_symbols, "chunks": self.chunks}
        if self.codec == FIXED:
            out["fields"] = [list(f) for f in self.fields]
        return out

    @classmethod
    def from_json(cls, data: Any) -> RecordFormat:
        try:
            fields = tuple((str(k), int(scale), int(bits)) for k, scale, bits in data.get("fields", ()))
            fmt = cls(str(data["codec"]), int(data["record_symbols"]), int(data["chunk_symbols"]), fields)
        except (KeyError, TypeError, ValueError, AttributeError):
            raise ComputeError("record format must give codec, record_symbols and chunk_symbols",
                               code="invalid_layout") from None
        if fmt.codec not in CODECS or fmt.record_symbols < 1 or fmt.chunk_symbols < 1:
            raise ComputeError("unknown record format", code="invalid_layout")
        return fmt


def _symbols(texts: Sequence[str | None], codec: str) -> list[int]:
    if codec == DIGITS:
        line = ",".join(NULL_DIGIT if t is None else t for t in texts)
        return [_SYMBOL[ch] for ch in line]
    return list(json.dumps(list(texts), ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def _fits_digits(text: str | None) -> bool:
    return text is None or (text != "" and all(ch in _ALPHABET[:13] for ch in text))


def _fixed_integer(text: str, kind: str, scale: int) -> int:
    if kind == DATE:
        value = date.fromisoformat(text).toordinal() - _EPOCH
    else:
        value = int(Decimal(text).scaleb(scale))
    return (2 * value if value >= 0 else -2 * value - 1) + 1


def _column_kind(texts: Sequence[str | None]) -> tuple[str, int] | None:
    """(number, scale) or (date, 0) if every value of the column is one, else None."""
    present = [t for t in texts if t is not None]
    try:
        numbers = [Decimal(t) for t in present]
        if all(d.is_finite() and len(t) <= 40 and "e" not in t.lower() for d, t in zip(numbers, present)):
            return NUMBER, max((max(0, -d.as_tuple().exponent) for d in numbers), default=0)
    except InvalidOperation:
        pass
    try:
        for t in present:
            date.fromisoformat(t)
        return DATE, 0
    except ValueError:
        return None


def _fixed_table(records: Sequence[Sequence[str | None]], n_bits: int) -> tuple[RecordFormat, list[list[int]]] | None:
    width = len(records[0]) if records else 0
    kinds = [_column_kind([r[j] for r in records]) for j in range(width)]
    if not records or any(k is None for k in kinds):
        return None
    values = [[0 if r[j] is None else _fixed_integer(r[j], *kinds[j]) for j in range(width)] for r in records]
    bits = [max(1, max(row[j] for row in values).bit_length()) for j in range(width)]
    total = sum(bits)
    if total > n_bits - HEADROOM_BITS:
        return None
    packed = []
    for row in values:
        value = 0
        for v, b in zip(row, bits):
            value = (value << b) | v
        packed.append(value)
    fields = tuple((kind, scale, b) for (kind, scale), b in zip(kinds, bits))  # type: ignore[misc]
    return RecordFormat(FIXED, total, total, fields), [packed]


FIXED_TYPES = ("integer", "decimal", "number", "boolean", "date")


def encode_table(records: Sequence[Sequence[str | None]], n_bits: int,
                 types: Sequence[str] = ()) -> tuple[RecordFormat, list[list[int]]]:
    """(format, chunk integers [chunk][subject]) for every record's field texts, in order.
    ``types``: the fields' catalogue types; only numbers, booleans and dates may be packed
    as integers (a string of digits keeps its leading zeros)."""
    fixed = _fixed_table(records, n_bits) if types and all(t in FIXED_TYPES for t in types) else None
    if fixed is not None:
        return fixed
    codec = DIGITS if all(_fits_digits(t) for record in records for t in record) else UTF8
    symbols = [_symbols(record, codec) for record in records]
    width = max((len(s) for s in symbols), default=1) or 1
    per_chunk = min(width, (n_bits - HEADROOM_BITS) // _BITS[codec])
    fmt = RecordFormat(codec, width, per_chunk)
    if fmt.chunks > MAX_CHUNKS:
        raise ComputeError(f"the chosen fields' records run to {width} symbols: more than {MAX_CHUNKS} plaintexts; "
                           "ask for fewer or shorter fields", code="record_too_long")
    base = 1 << fmt.symbol_bits
    chunks: list[list[int]] = [[] for _ in range(fmt.chunks)]
    for record in symbols:
        padded = record + [0] * (width - len(record))
        for k in range(fmt.chunks):
            value = 0
            for symbol in padded[k * per_chunk:(k + 1) * per_chunk]:
                value = value * base + symbol
            # A short last chunk is left-aligned like the others, so decoding needs no lengths.
            value *= base ** (per_chunk - len(padded[k * per_chunk:(k + 1) * per_chunk]))
            chunks[k].append(value)
    return fmt, chunks


def decode_record(fmt: RecordFormat, chunk_values: Sequence[int]) -> list[str | None]:
    """The field texts of one record from its decrypted chunk integers."""
    if len(chunk_values) != fmt.chunks:
        raise ComputeError(f"expected {fmt.chunks} chunk(s)", code="invalid_result")
    if fmt.codec == FIXED:
        return _decode_fixed(fmt, int(chunk_values[0]))
    bits, mask = fmt.symbol_bits, (1 << fmt.symbol_bits) - 1
    symbols: list[int] = []
    for value in chunk_values:
        value = int(value)
        if value >> (bits * fmt.chunk_symbols):
            raise ComputeError("a decrypted chunk is wider than the record format", code="invalid_result")
        symbols.extend((value >> (bits * (fmt.chunk_symbols - 1 - i))) & mask for i in range(fmt.chunk_symbols))
    while symbols and symbols[-1] == 0:
        symbols.pop()
    if fmt.codec == DIGITS:
        if 0 in symbols:
            raise ComputeError("padding inside a record", code="invalid_result")
        line = "".join(_ALPHABET[s - 1] for s in symbols)
        return [None if t == NULL_DIGIT else t for t in line.split(",")] if line else []
    try:
        texts = json.loads(bytes(symbols).decode("utf-8")) if symbols else []
    except (UnicodeDecodeError, ValueError):
        raise ComputeError("a decrypted record is not valid text", code="invalid_result") from None
    if not isinstance(texts, list):
        raise ComputeError("a decrypted record is not a list", code="invalid_result")
    return texts


def _decode_fixed(fmt: RecordFormat, value: int) -> list[str | None]:
    if value >> fmt.record_symbols:
        raise ComputeError("a decrypted record is wider than the record format", code="invalid_result")
    texts: list[str | None] = []
    shift = fmt.record_symbols
    for kind, scale, bits in fmt.fields:
        shift -= bits
        stored = (value >> shift) & ((1 << bits) - 1)
        if stored == 0:
            texts.append(None)
            continue
        z = stored - 1
        number = z // 2 if z % 2 == 0 else -(z + 1) // 2
        if kind == DATE:
            texts.append(date.fromordinal(number + _EPOCH).isoformat())
        else:
            texts.append(format(Decimal(number).scaleb(-scale), "f"))
    return texts
