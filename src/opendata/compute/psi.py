"""Private intersection-sum with cardinality (联合统计), after Ion et al., "On Deploying Secure
Computing: Private Intersection-Sum-with-Cardinality" (ePrint 2019/723), arranged so that the
party *without* values (the enterprise) learns the noised aggregate and the party with
values (the portal) does the matching without learning which subjects matched.

Notation: H hashes an id into the prime-order group (psi_group), k_s is the portal's
per-session scalar, k_e the enterprise's; Enc_T is the portal's *transport* Paillier key
(its own, it alone decrypts), Enc_E the enterprise's registered key.

1. **Offer** (portal): for every subject y_j of the table, C_j = H(y_j)^k_s and
   V_j = Enc_T(t_j), t_j the value clamped to [lower, upper] in fixed point (a subject
   without a value: a point of a random id and Enc_T(0)), in a fresh random order. The enterprise can read neither: k_s and the transport key are the portal's.
2. **Reply** (enterprise): A_i = H(x_i)^k_e for its own ids (sorted, i.e. shuffled);
   for every offered pair D_j = C_j^k_e and W_j = V_j * h_T^a_j * (1 + n_T)^rho_j
   (re-randomised, plus a mask rho_j in [2^(l+80), 2^(l+81))), Z_j = Enc_E(rho_j); the triples
   (D, W, Z) in a fresh random order pi; R = sum of all rho_j.
3. **Answer** (portal): A'_i = A_i^k_s = H(x_i)^(k_e k_s); the positions J where D_j is one
   of the A' are the intersection -- in the enterprise's order pi, so the portal cannot tell
   which of its subjects they are, and it never sees H(x_i) itself. It checks the total
   (Dec_T(prod W) - R = sum of every t_j: the same whatever matched), decrypts
   M = Dec_T(prod_J W_j) = sum_J t + sum_J rho (the masks hide the sum), and answers
   Enc_E(M + eta) * prod_J Z_j^-1 = Enc_E(sum_J t + eta), eta being the differential-privacy
   noise (compute/privacy.py), re-randomised with a full-size obfuscator. The count |J| is
   released only with its own noise, by the service.

What each side learns, and what a deviating side can do: docs/security/intersection-threat-model.md.
Pure: no web, no database; the heavy loops are module-level functions that run in worker
processes.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import gmpy2
from gmpy2 import mpz

from opendata.compute import ComputeError
from opendata.compute.multiexp import FixedBaseTable
from opendata.compute.paillier import PrivateKey, PublicKey, parse_decimal, random_unit
from opendata.compute.psi_group import blind_ids, blind_points, decode_points, encode_points, random_scalar

VALUE_BITS = 64        # |clamped value in fixed point| < 2^63
STATISTICAL_BITS = 80  # the masks hide a value up to 2^-80
MASK_LOW = mpz(1) << (VALUE_BITS + STATISTICAL_BITS)
WINDOW_BITS = 8  # comb windows: 2^8 entries each, ~16 MB per table; measured fastest


class ReplyError(ComputeError):
    code = "reply_invalid"


def fixed_point(value: Any, lower: Decimal, upper: Decimal, scale: int) -> int:
    """The value clamped to [lower, upper], in units of 10^-scale (half-even rounding)."""
    number = min(max(Decimal(str(value)), lower), upper)
    return int((number.scaleb(scale)).to_integral_value(rounding=ROUND_HALF_EVEN))


def signed(residue: int, n: int) -> int:
    residue = int(residue) % int(n)
    return residue - int(n) if residue > int(n) // 2 else residue


@dataclass(frozen=True)
class TransportKey:
    """The portal's transport key as the enterprise sees it: n and the DJN base h = g^n."""

    n: int
    h: int

    def to_json(self) -> dict[str, str]:
        return {"kty": "paillier", "n": str(self.n), "h": str(self.h)}

    @classmethod
    def from_json(cls, data: Any) -> TransportKey:
        if not isinstance(data, dict) or not isinstance(data.get("n"), str) or not isinstance(data.get("h"), str):
            raise ComputeError("transport_key is {\"n\", \"h\"} as decimal strings", code="invalid_offer")
        return cls(int(data["n"]), int(data["h"]))


def transport_base(private: PrivateKey) -> int:
    """A fresh DJN base h = (-y^2)^n mod n^2 for the transport key (stored with it)."""
    n = private.public_key.n
    y = random_unit(n)
    return int(gmpy2.powmod((-y * y) % n, n, private.public_key.n_squared))


# --- 1. the offer (portal, in worker processes) ------------------------------------------------

_private_cache: dict[int, PrivateKey] = {}


def _private(n: int, p: int, q: int) -> PrivateKey:
    key = _private_cache.get(n)
    if key is None:
        if len(_private_cache) > 4:
            _private_cache.clear()
        key = _private_cache[n] = PrivateKey(PublicKey(n), p, q, djn_window_bits=WINDOW_BITS)
    return key


def offer_chunk(scalar: bytes, transport: tuple[int, int, int], subjects: Sequence[str | None],
                values: Sequence[int]) -> tuple[list[bytes], list[int]]:
    """(C_j, V_j) for a slice of the subjects (in the given order). A subject ``None`` (one
    without a value under the filters) gets a point of a random id, which no id matches and
    which the enterprise cannot tell from a real one (DDH), and Enc(0): the offer's size is
    the table's number of subjects, whatever the filters."""
    private = _private(*transport)
    n = private.public_key.n
    ids = [s if s is not None else "\x00dummy:" + secrets.token_hex(32) for s in subjects]
    return blind_ids(scalar, ids), [int(private.raw_encrypt(mpz(v) % n)) for v in values]


def shuffled(*columns: Sequence[Any]) -> list[list[Any]]:
    """The columns permuted by one uniform random permutation (OS randomness)."""
    order = list(range(len(columns[0])))
    secrets.SystemRandom().shuffle(order)
    return [[column[i] for i in order] for column in columns]


# --- 2. the reply (enterprise) ---------------------------------------------------------------

_tables: dict[tuple[int, int, int], FixedBaseTable] = {}


def _rerandomizer(n: int, h: int, uses: int) -> FixedBaseTable:
    """The comb of the transport key's DJN base h, kept for the next reply to the same portal.
    8-bit windows (~16 MB, 128 multiplications a use) pay off from ~1,000 uses; below that
    5-bit windows cost 8x less to build."""
    window = WINDOW_BITS if uses >= 1000 else 5
    key = (int(n), int(h), window)
    if key not in _tables:
        _tables.clear()
        n2 = mpz(n) * mpz(n)
        _tables[key] = FixedBaseTable(mpz(h), n2, (mpz(n).bit_length() + 1) // 2, window)
    return _tables[key]


def reply_chunk(scalar: bytes, transport: tuple[int, int], points: Sequence[bytes], cts: Sequence[int],
                enterprise: tuple[int, int, int]) -> tuple[list[bytes], list[int], list[int], int]:
    """(D, W, Z, sum of masks) for a slice of the offer; enterprise = (n, p, q) of its key."""
    n_t = mpz(transport[0])
    n_t2 = n_t * n_t
    table = _rerandomizer(transport[0], transport[1], len(cts))
    own = _private(*enterprise)
    bits = (n_t.bit_length() + 1) // 2
    d = blind_points(scalar, points)
    w, z, total = [], [], mpz(0)
    for c in cts:
        rho = MASK_LOW + secrets.randbits(VALUE_BITS + STATISTICAL_BITS)
        total += rho
        w.append(int(mpz(c) * table.power(secrets.randbits(bits)) % n_t2 * (1 + rho * n_t) % n_t2))
        z.append(int(own.raw_encrypt(rho)))
    return d, w, z, int(total)


@dataclass
class Reply:
    """What the enterprise sends (``body``) and keeps (nothing secret is needed afterwards:
    the answer decrypts with its own key)."""

    ids: list[bytes]
    points: list[bytes]
    w: list[int]
    z: list[int]
    mask_total: int

    def body(self) -> dict[str, Any]:
        return {"ids": encode_points(self.ids), "points": encode_points(self.points),
                "values": [str(c) for c in self.w], "masks": [str(c) for c in self.z],
                "mask_total": str(self.mask_total)}


def assemble_reply(own_ids: Sequence[str], scalar: bytes, parts: Sequence[tuple[list[bytes], list[int], list[int], int]]
                   ) -> Reply:
    ids = sorted(blind_ids(scalar, own_ids))
    d = [p for part in parts for p in part[0]]
    w = [c for part in parts for c in part[1]]
    z = [c for part in parts for c in part[2]]
    d, w, z = shuffled(d, w, z)
    return Reply(ids, d, w, z, sum(part[3] for part in parts))


def enterprise_reply(own_ids: Sequence[str], offer_points: Sequence[bytes], offer_cts: Sequence[int],
                     transport: TransportKey, key: PrivateKey) -> Reply:
    """The whole reply in this process (the SDK splits it across processes for long lists)."""
    scalar = random_scalar()
    enterprise = (int(key.public_key.n), int(key.p), int(key.q))
    part = reply_chunk(scalar, (transport.n, transport.h), offer_points, offer_cts, enterprise)
    return assemble_reply(own_ids, scalar, [part])


# --- 3. the answer (portal) ------------------------------------------------------------------

def parse_reply(body: Any, transport: PublicKey, enterprise: PublicKey, offered: int, max_ids: int
                ) -> tuple[list[bytes], list[bytes], list[mpz], list[mpz], int]:
    """Checked reply: ids (at most max_ids, distinct, valid points), exactly ``offered``
    distinct valid points, as many transport and enterprise ciphertexts, a mask total."""
    if not isinstance(body, dict):
        raise ReplyError("the reply is an object")
    ids = decode_points(body.get("ids"), "ids", max_count=max_ids)
    if not ids:
        raise ReplyError("ids is empty: send at least one id", code="no_ids")
    points = decode_points(body.get("points"), "points", count=offered)
    values, masks = body.get("values"), body.get("masks")
    for name, cts in (("values", values), ("masks", masks)):
        if not isinstance(cts, list) or len(cts) != offered or not all(isinstance(c, str) for c in cts):
            raise ReplyError(f"{name} is a list of {offered} ciphertexts (decimal strings)", code="wrong_count")
    w = _ciphertexts(transport, values, "values")  # type: ignore[arg-type]
    z = _ciphertexts(enterprise, masks, "masks")  # type: ignore[arg-type]
    try:
        text = body.get("mask_total")
        total = parse_decimal(text if isinstance(text, str) else None, max_digits=len(str(transport.n)))
    except ComputeError:
        raise ReplyError("mask_total is the sum of the masks (a decimal string)") from None
    return ids, points, w, z, int(total)


def _ciphertexts(key: PublicKey, texts: Sequence[str], name: str) -> list[mpz]:
    """Each a unit below n^2 (paillier.validate_ciphertext); the refusal names the entry."""
    out = []
    for i, text in enumerate(texts):
        try:
            out.append(key.validate_ciphertext(text))
        except ComputeError as error:
            raise ComputeError(f"{name}[{i}]: {error}", code=error.code) from None
    return out


def blind_chunk(scalar: bytes, points: Sequence[bytes]) -> list[bytes]:
    return blind_points(scalar, points)


def matches(double_ids: Sequence[bytes], points: Sequence[bytes]) -> list[int]:
    """Positions of the enterprise's order whose point is one of its doubly blinded ids."""
    wanted = set(double_ids)
    return [j for j, point in enumerate(points) if point in wanted]


def _product(cts: Sequence[mpz], modulus: mpz) -> mpz:
    out = mpz(1)
    for c in cts:
        out = out * c % modulus
    return out


def check_total(transport: PrivateKey, w: Sequence[mpz], mask_total: int, value_total: int) -> None:
    """Dec_T(prod of every W) - R must be the sum of every offered value: true for any honest
    reply and independent of which ids matched (so a refusal here tells nothing of them)."""
    n = transport.public_key.n
    if (transport.raw_decrypt(_product(w, transport.public_key.n_squared)) - mask_total - value_total) % n:
        raise ReplyError("the reply's values do not add up to what was offered (re-randomise and mask "
                         "each offered ciphertext once, as the SDK does)", code="reply_inconsistent")


def answer(transport: PrivateKey, enterprise: PublicKey, w: Sequence[mpz], z: Sequence[mpz], positions: Sequence[int],
           noise: int) -> int:
    """Enc_E(sum over the positions of the values + noise), fully re-randomised."""
    n_t2, n_e2 = transport.public_key.n_squared, enterprise.n_squared
    masked = transport.raw_decrypt(_product([w[j] for j in positions], n_t2))  # sum t + sum rho, < n_T
    unmask = gmpy2.invert(_product([z[j] for j in positions], n_e2), n_e2)
    return int(enterprise.encrypt((masked + noise) % enterprise.n) * unmask % n_e2)
