"""Fiat-Shamir: the proof context and hash-to-challenge.

Every challenge is SHAKE-256 over an unambiguous, length-prefixed encoding of

    protocol tag ("opendata.proofs/v1/<proof>") | context | statement | prover's commitments

so a proof is bound to its protocol (domain separation), to the caller's context (portal,
organisation, key id, purpose: a proof made for one organisation or key is worthless for
another), to the exact statement (modulus, ciphertext, bound, ring-Pedersen parameters) and
to its first message. Challenges are read from the XOF output: integers below 2^k directly,
elements of Z_N with 128 extra bits reduced mod N (bias below 2^-128).
"""

from __future__ import annotations

import hashlib

import gmpy2
from gmpy2 import mpz

PROTOCOL = b"opendata.proofs/v1"
CONTEXT_TAG = b"opendata.proofs/v1/context"
_EXTRA_BITS = 128


def _frame(data: bytes) -> bytes:
    return len(data).to_bytes(8, "big") + data


def proof_context(portal: str, organisation: str, key_id: str, purpose: str) -> bytes:
    """The bytes every proof of this (portal, organisation, key, purpose) is bound to.

    The caller names the purpose, e.g. ``"key-registration"`` or ``"claims"``; two contexts
    are equal only if all four strings are.
    """
    parts = {"portal": portal, "organisation": organisation, "key_id": key_id, "purpose": purpose}
    for name, value in parts.items():
        if not isinstance(value, str) or not value:
            raise ValueError(f"proof context: {name} must be a non-empty string")
    return _frame(CONTEXT_TAG) + b"".join(_frame(value.encode("utf-8")) for value in parts.values())


def _int_bytes(value: int) -> bytes:
    value = int(value)
    sign = b"-" if value < 0 else b"+"
    magnitude = abs(value)
    return sign + magnitude.to_bytes((magnitude.bit_length() + 7) // 8, "big")


class Transcript:
    """An append-only hash state; ``challenge_*`` read without changing it."""

    def __init__(self, proof: str, context: bytes) -> None:
        if not isinstance(context, bytes | bytearray):
            raise TypeError("proof context must be bytes (see proof_context)")
        self._hash = hashlib.shake_256()
        self._hash.update(_frame(PROTOCOL + b"/" + proof.encode("ascii")) + _frame(bytes(context)))

    def add(self, label: str, *values: int) -> Transcript:
        self._hash.update(_frame(label.encode("ascii")) + len(values).to_bytes(4, "big"))
        for value in values:
            self._hash.update(_frame(_int_bytes(value)))
        return self

    def _stream(self, label: str, nbytes: int) -> bytes:
        state = self._hash.copy()
        state.update(_frame(b"challenge:" + label.encode("ascii")))
        return state.digest(nbytes)

    def challenge_bits(self, label: str, bits: int) -> mpz:
        """Uniform integer in [0, 2^bits)."""
        raw = int.from_bytes(self._stream(label, (bits + 7) // 8), "big")
        return mpz(raw >> (-bits % 8))

    def challenge_units(self, label: str, modulus: int, count: int) -> list[mpz]:
        """``count`` elements of Z_modulus^* (non-units, which would factor the modulus and
        occur with negligible probability, are skipped deterministically)."""
        modulus = mpz(modulus)
        width = (modulus.bit_length() + _EXTRA_BITS + 7) // 8
        out: list[mpz] = []
        block = 0
        while len(out) < count:
            stream = self._stream(f"{label}/{block}", width * count)
            for i in range(count):
                y = mpz(int.from_bytes(stream[i * width : (i + 1) * width], "big")) % modulus
                if y and gmpy2.gcd(y, modulus) == 1 and len(out) < count:
                    out.append(y)
            block += 1
        return out
