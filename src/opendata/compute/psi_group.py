"""The prime-order group of the private intersection (联合统计): ed25519's subgroup of order
l = 2^252 + 27742317777372353535851937790883648493, through libsodium (PyNaCl).

Why this library and group: PyNaCl is the maintained Python binding of libsodium, whose
``crypto_core_ed25519_*`` and ``crypto_scalarmult_ed25519_noclamp`` work in the prime-order
subgroup and *check* every point they are given: canonical encoding, on the curve, in the
main subgroup, not of small order (the identity included), and a product that is the
identity is refused. PyNaCl 1.6 does not expose libsodium's ristretto255 functions, so we
use the subgroup directly; the checks above give what ristretto would (a prime-order group
with no cofactor confusion), and every point we accept passes
``crypto_core_ed25519_is_valid_point``.

Hash to the group: SHA-512 of a domain tag and the id, each half mapped by Elligator 2
(``crypto_core_ed25519_from_uniform``, which clears the cofactor) and the two points added,
the random-oracle construction of RFC 9380 (hash_to_curve = map(u0) + map(u1)).

Pure: no web, no database. Points travel as base64 of their 32-byte encodings.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from collections.abc import Iterable, Sequence

from nacl import bindings as sodium

from opendata.compute import ComputeError

DOMAIN = b"opendata-psi-v1"
POINT_BYTES = 32
POINT_TEXT = 44  # base64 of 32 bytes


class PointError(ComputeError):
    code = "invalid_point"


def hash_to_group(identifier: str) -> bytes:
    digest = hashlib.sha512(DOMAIN + b"|" + identifier.encode("utf-8")).digest()
    return sodium.crypto_core_ed25519_add(sodium.crypto_core_ed25519_from_uniform(digest[:32]),
                                          sodium.crypto_core_ed25519_from_uniform(digest[32:]))


def random_scalar() -> bytes:
    """A uniform non-zero scalar mod l."""
    while True:
        scalar = sodium.crypto_core_ed25519_scalar_reduce(os.urandom(64))
        if any(scalar):
            return scalar


def derived_scalar(secret: bytes, label: str) -> bytes:
    """A scalar only the holder of ``secret`` can compute (the portal's per-session key)."""
    scalar = sodium.crypto_core_ed25519_scalar_reduce(hmac.new(secret, label.encode(), hashlib.sha512).digest())
    if not any(scalar):  # probability 2^-252
        raise ValueError("derived scalar is zero")
    return scalar


def power(scalar: bytes, point: bytes) -> bytes:
    """scalar * point; refuses (PointError) a point outside the prime-order subgroup."""
    try:
        return sodium.crypto_scalarmult_ed25519_noclamp(scalar, point)
    except (RuntimeError, ValueError, TypeError):
        raise PointError("a point is not a valid element of the group (not on the curve, not in the "
                         "prime-order subgroup, or the identity)") from None


def blind_ids(scalar: bytes, identifiers: Iterable[str]) -> list[bytes]:
    return [power(scalar, hash_to_group(i)) for i in identifiers]


def blind_points(scalar: bytes, points: Iterable[bytes]) -> list[bytes]:
    return [power(scalar, p) for p in points]


def encode_points(points: Sequence[bytes]) -> list[str]:
    return [base64.b64encode(p).decode("ascii") for p in points]


def decode_points(values: object, what: str, *, count: int | None = None, max_count: int | None = None,
                  distinct: bool = True) -> list[bytes]:
    """Checked points from the wire: a list of base64 strings, each a valid group element,
    of the expected number, without repeats (a repeated point would count one id twice)."""
    if not isinstance(values, list):
        raise PointError(f"{what} is a list of points (base64 of 32 bytes)", code="invalid_points")
    if count is not None and len(values) != count:
        raise PointError(f"{what} has {len(values)} points, not {count}", code="wrong_count")
    if max_count is not None and len(values) > max_count:
        raise PointError(f"{what} has {len(values)} points, more than the {max_count} allowed", code="too_many_ids")
    points = []
    for i, value in enumerate(values):
        if not isinstance(value, str) or len(value) != POINT_TEXT:
            raise PointError(f"{what}[{i}] is not base64 of 32 bytes")
        try:
            point = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise PointError(f"{what}[{i}] is not base64 of 32 bytes") from None
        if len(point) != POINT_BYTES or not sodium.crypto_core_ed25519_is_valid_point(point):
            raise PointError(f"{what}[{i}] is not a valid element of the group (not on the curve, not in the "
                             "prime-order subgroup, or the identity)")
        points.append(point)
    if distinct and len(set(points)) != len(points):
        raise PointError(f"{what} repeats a point: each id may be sent once", code="duplicate_points")
    return points
