"""JSON wire format of proofs: every integer is a decimal string, every proof a dict with a
version ``v`` and a ``type``. Parsing is strict and bounded *before* any arithmetic: a wrong
type, a missing or unknown field, a non-canonical or oversized number, an element outside
its group -- each is a :class:`ProofError` with the caller's code, never another exception.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import gmpy2
from gmpy2 import mpz

from opendata.compute.proofs.errors import ProofError

WIRE_VERSION = 1
_DECIMAL = re.compile(r"-?(0|[1-9][0-9]*)")
_LOG10_2 = 0.30103


def encode_int(value: int) -> str:
    return str(int(value))


def encode_ints(values: Sequence[int]) -> list[str]:
    return [str(int(v)) for v in values]


def check_fields(data: Any, kind: str, fields: Sequence[str], code: str) -> Mapping[str, Any]:
    """``data`` must be a dict with exactly ``v``, ``type`` and ``fields``, v = 1, type = kind."""
    if not isinstance(data, Mapping):
        raise ProofError(code, f"{kind} proof must be a JSON object")
    expected = {"v", "type", *fields}
    missing = sorted(expected - data.keys())
    if missing:
        raise ProofError(code, f"{kind} proof is missing {', '.join(missing)}")
    unknown = sorted(str(k) for k in data.keys() - expected)
    if unknown:
        raise ProofError(code, f"{kind} proof has unknown field(s) {', '.join(unknown)}")
    if type(data["v"]) is not int or data["v"] != WIRE_VERSION:
        raise ProofError(code, f"{kind} proof version must be {WIRE_VERSION}")
    if data["type"] != kind:
        raise ProofError(code, f"proof type must be {kind!r}")
    return data


def decode_int(value: Any, what: str, code: str, *, max_bits: int, signed: bool = False) -> mpz:
    """A canonical decimal string (optional '-' if ``signed``) of at most ``max_bits`` bits."""
    if not isinstance(value, str):
        raise ProofError(code, f"{what} must be a decimal string")
    if len(value) > max_bits * _LOG10_2 + 3:  # checked before any conversion
        raise ProofError(code, f"{what} is out of range (more than {max_bits} bits)")
    if not _DECIMAL.fullmatch(value):
        raise ProofError(code, f"{what} must be a canonical decimal string")
    number = mpz(value)
    if number < 0 and not signed:
        raise ProofError(code, f"{what} must not be negative")
    if number.bit_length() > max_bits:
        raise ProofError(code, f"{what} is out of range (more than {max_bits} bits)")
    return number


def decode_unit(value: Any, modulus: int, what: str, code: str) -> mpz:
    """An element of Z_modulus^*: 0 < x < modulus and gcd(x, modulus) = 1."""
    number = decode_int(value, what, code, max_bits=mpz(modulus).bit_length())
    if not 0 < number < modulus or gmpy2.gcd(number, modulus) != 1:
        raise ProofError(code, f"{what} is not a unit modulo its modulus")
    return number


def decode_list(value: Any, length: int, what: str, code: str) -> list[Any]:
    if not isinstance(value, list) or len(value) != length:
        raise ProofError(code, f"{what} must be a list of {length} items")
    return value


def decode_bits(value: Any, length: int, what: str, code: str) -> list[int]:
    """A string of exactly ``length`` characters '0' / '1'."""
    if not isinstance(value, str) or len(value) != length or value.strip("01"):
        raise ProofError(code, f"{what} must be a string of {length} characters 0 or 1")
    return [1 if ch == "1" else 0 for ch in value]


def encode_bits(bits: Sequence[int]) -> str:
    return "".join("1" if b else "0" for b in bits)
