"""Multi-exponentiation prod(b_i ** e_i) mod m with signed, bounded exponents.

Private scoring computes, for every subject, Enc(w.x) = prod Enc(w_i)^x_i mod n^2. The
bases Enc(w_i) are the same for every subject of a batch, so the heavy lifting is done
once per model:

* :class:`FixedBaseTable` is a fixed-base *comb*: entry (j, d) = b^(d * 2^(w*j)) mod m for
  every w-bit digit d of window j. b^e then costs one modular multiplication per
  non-zero w-bit digit of e and **no squarings at all** (a 34-bit exponent with w = 6 is
  six multiplications instead of the ~34 squarings plus ~8 multiplications of powmod).
* :class:`FixedBaseMultiExp` keeps one comb per base, plus a comb of the inverse base
  built on the first negative exponent for that base (b^-e = (b^-1)^e): no per-subject
  modular inversion, and models whose features are never negative never pay for it.
* :class:`WindowedMultiExp` is Straus' interleaved method (shared squarings, small
  per-base tables); it wins for a handful of subjects, where building combs would not
  pay for itself.

Exponents are checked against a declared bound (``exponent_bits``): that bound sizes
the comb and caps the work a caller can ask for. Everything is gmpy2 ``mpz``; digits are
extracted with Python integer shifts (or ``int.to_bytes`` for 8-bit windows), which cost
far less than the 2048/4096-bit multiplications they select.
"""

from __future__ import annotations

from collections.abc import Sequence

import gmpy2
from gmpy2 import mpz

from opendata.compute import ComputeError

DEFAULT_EXPONENT_BITS = 64
MAX_EXPONENT_BITS = 4096
# Memory the combs of one model may use (positive side; inverse combs may add as much).
DEFAULT_TABLE_BUDGET_BYTES = 48 * 1024 * 1024
_MPZ_OVERHEAD_BYTES = 40
_MPZ_TYPE = type(mpz(0))


class ExponentOutOfRangeError(ComputeError):
    code = "exponent_out_of_range"


class ExponentCountError(ComputeError):
    code = "feature_count_mismatch"


def check_exponents(exponents: Sequence[int], count: int, exponent_bits: int) -> None:
    """Refuse non-integers, a wrong count, and |e| >= 2**exponent_bits."""
    if len(exponents) != count:
        raise ExponentCountError(f"expected {count} exponents, got {len(exponents)}")
    for e in exponents:
        if type(e) is not int and type(e) is not _MPZ_TYPE:  # bool, float, numpy: refused
            raise ExponentOutOfRangeError(f"exponent must be an int, got {type(e).__name__}")
        if abs(e) >> exponent_bits:
            raise ExponentOutOfRangeError(f"|exponent| must be below 2^{exponent_bits}")


def table_bytes(num_bases: int, exponent_bits: int, modulus_bits: int, window_bits: int) -> int:
    """Approximate memory of the positive combs for ``num_bases`` bases."""
    windows = -(-exponent_bits // window_bits)
    entry = modulus_bits // 8 + _MPZ_OVERHEAD_BYTES
    return num_bases * windows * ((1 << window_bits) - 1) * entry


def choose_window_bits(
    num_bases: int, exponent_bits: int, modulus_bits: int, budget_bytes: int = DEFAULT_TABLE_BUDGET_BYTES
) -> int:
    """Widest window (8 down to 2) whose combs fit ``budget_bytes``.

    Wider windows mean fewer multiplications per exponent (ceil(bits / w)) but 2^w entries
    per window; beyond 8 bits the tables outgrow caches and memory for little gain.
    """
    for window in range(8, 1, -1):
        if table_bytes(num_bases, exponent_bits, modulus_bits, window) <= budget_bytes:
            return window
    return 2


class FixedBaseTable:
    """Comb for one base: ``power(e)`` = base^e mod modulus for 0 <= e < 2^exponent_bits."""

    __slots__ = ("base", "modulus", "exponent_bits", "window_bits", "_entries")

    def __init__(self, base: int, modulus: int, exponent_bits: int, window_bits: int) -> None:
        if not 1 <= window_bits <= 16:
            raise ValueError("window_bits must be in [1, 16]")
        if not 1 <= exponent_bits <= MAX_EXPONENT_BITS:
            raise ValueError(f"exponent_bits must be in [1, {MAX_EXPONENT_BITS}]")
        self.base = mpz(base) % mpz(modulus)
        self.modulus = mpz(modulus)
        self.exponent_bits = exponent_bits
        self.window_bits = window_bits
        self._entries = self._build()

    def _build(self) -> list[mpz]:
        m, width = self.modulus, 1 << self.window_bits
        windows = -(-self.exponent_bits // self.window_bits)
        # Flat list indexed by (window << w) | digit; digit 0 is never looked up.
        entries: list[mpz] = []
        window_base = self.base  # base^(2^(w*j))
        for _ in range(windows):
            row = [mpz(1), window_base]
            for _ in range(width - 2):
                row.append(row[-1] * window_base % m)
            entries.extend(row)
            window_base = row[-1] * window_base % m
        return entries

    @property
    def memory_bytes(self) -> int:
        return len(self._entries) * (self.modulus.bit_length() // 8 + _MPZ_OVERHEAD_BYTES)

    def multiply_into(self, acc: mpz, exponent: int) -> mpz:
        """acc * base^exponent mod modulus; 0 <= exponent < 2^exponent_bits (not re-checked)."""
        m, entries, w = self.modulus, self._entries, self.window_bits
        if w == 8:
            # Bytes are the 8-bit digits; iterating them is the cheapest digit split in Python.
            offset = 0
            for digit in int(exponent).to_bytes((exponent.bit_length() + 7) >> 3, "little"):
                if digit:
                    acc = acc * entries[offset + digit] % m
                offset += 256
            return acc
        mask, offset, step = (1 << w) - 1, 0, 1 << w
        e = int(exponent)
        while e:
            digit = e & mask
            if digit:
                acc = acc * entries[offset + digit] % m
            e >>= w
            offset += step
        return acc

    def power(self, exponent: int) -> mpz:
        if not 0 <= exponent < (1 << self.exponent_bits):
            raise ExponentOutOfRangeError(f"exponent must be in [0, 2^{self.exponent_bits})")
        return self.multiply_into(mpz(1), exponent)


class FixedBaseMultiExp:
    """prod(bases[i] ** e[i]) mod modulus for many exponent vectors over the same bases."""

    def __init__(
        self,
        bases: Sequence[int],
        modulus: int,
        *,
        exponent_bits: int = DEFAULT_EXPONENT_BITS,
        window_bits: int | None = None,
        budget_bytes: int = DEFAULT_TABLE_BUDGET_BYTES,
    ) -> None:
        self.modulus = mpz(modulus)
        self.exponent_bits = exponent_bits
        self.window_bits = window_bits or choose_window_bits(
            len(bases), exponent_bits, self.modulus.bit_length(), budget_bytes
        )
        self.bases = [mpz(b) % self.modulus for b in bases]
        self._positive = [
            FixedBaseTable(b, self.modulus, exponent_bits, self.window_bits) for b in self.bases
        ]
        self._negative: list[FixedBaseTable | None] = [None] * len(self.bases)

    def _inverse_table(self, index: int) -> FixedBaseTable:
        table = self._negative[index]
        if table is None:
            inverse = gmpy2.invert(self.bases[index], self.modulus)  # ZeroDivisionError if not a unit
            table = FixedBaseTable(inverse, self.modulus, self.exponent_bits, self.window_bits)
            self._negative[index] = table
        return table

    @property
    def memory_bytes(self) -> int:
        tables = self._positive + [t for t in self._negative if t is not None]
        return sum(t.memory_bytes for t in tables)

    def __call__(self, exponents: Sequence[int], acc: int = 1) -> mpz:
        """acc * prod(bases[i] ** exponents[i]) mod modulus (exponents checked)."""
        check_exponents(exponents, len(self.bases), self.exponent_bits)
        result = mpz(acc)
        for index, e in enumerate(exponents):
            if e > 0:
                result = self._positive[index].multiply_into(result, e)
            elif e < 0:
                result = self._inverse_table(index).multiply_into(result, -e)
        return result % self.modulus


class WindowedMultiExp:
    """Straus' interleaved multi-exponentiation with small per-base tables.

    One pass of squarings is shared by all bases; each base contributes one multiplication
    per non-zero w-bit window. Tables (2^w - 2 multiplications per base and sign) are built
    lazily and reused across calls, so it suits a few exponent vectors over the same bases.
    """

    def __init__(
        self,
        bases: Sequence[int],
        modulus: int,
        *,
        exponent_bits: int = DEFAULT_EXPONENT_BITS,
        window_bits: int = 4,
    ) -> None:
        self.modulus = mpz(modulus)
        self.exponent_bits = exponent_bits
        self.window_bits = window_bits
        self.bases = [mpz(b) % self.modulus for b in bases]
        self._tables: dict[tuple[int, bool], list[mpz]] = {}

    def _table(self, index: int, negative: bool) -> list[mpz]:
        key = (index, negative)
        table = self._tables.get(key)
        if table is None:
            base = self.bases[index]
            if negative:
                base = gmpy2.invert(base, self.modulus)
            table = [mpz(1), base]
            for _ in range((1 << self.window_bits) - 2):
                table.append(table[-1] * base % self.modulus)
            self._tables[key] = table
        return table

    def __call__(self, exponents: Sequence[int], acc: int = 1) -> mpz:
        check_exponents(exponents, len(self.bases), self.exponent_bits)
        m, w = self.modulus, self.window_bits
        mask = (1 << w) - 1
        terms = [(self._table(i, e < 0), abs(int(e))) for i, e in enumerate(exponents) if e]
        if not terms:
            return mpz(acc) % m
        top = max(e.bit_length() for _, e in terms)
        result = mpz(1)
        for shift in range(((top - 1) // w) * w, -1, -w):
            if result != 1:
                for _ in range(w):
                    result = result * result % m
            for table, e in terms:
                digit = (e >> shift) & mask
                if digit:
                    result = result * table[digit] % m
        return result * acc % m


def straus_multiexp(
    bases: Sequence[int], exponents: Sequence[int], modulus: int, *, exponent_bits: int = MAX_EXPONENT_BITS
) -> mpz:
    """One-off prod(bases[i] ** exponents[i]) mod modulus (signed exponents)."""
    return WindowedMultiExp(bases, modulus, exponent_bits=exponent_bits)(exponents)
