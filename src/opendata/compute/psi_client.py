"""Private intersection statistics, the enterprise's side: read the offer, build the reply,
read the answer. Used by the SDK (client_compute.py), the CLI and the benchmark; no HTTP.

The enterprise's ids never leave this process in the clear: only H(x)^k_e with a scalar k_e
drawn here and forgotten after the reply. Long lists are split across worker processes
(``workers``): the re-randomisations are ~10,000 2048-bit-key operations per 10,000 offered
subjects.
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from opendata.compute.paillier import PrivateKey
from opendata.compute.psi import Reply, TransportKey, assemble_reply, reply_chunk, signed
from opendata.compute.psi_group import decode_points, random_scalar

MAX_ID_CHARS = 256


def clean_ids(ids: Iterable[Any]) -> list[str]:
    """The list as sent: strings, stripped, without repeats (order kept), none empty."""
    seen: dict[str, None] = {}
    for value in ids:
        text = str(value).strip()
        if not text or len(text) > MAX_ID_CHARS:
            raise ValueError(f"an id is 1 to {MAX_ID_CHARS} characters (got {text[:40]!r})")
        seen.setdefault(text, None)
    if not seen:
        raise ValueError("the id list is empty")
    return list(seen)


def build_reply(offer: dict[str, Any], ids: list[str], key: PrivateKey, *, workers: int = 1) -> Reply:
    points = decode_points(offer["points"], "points")
    cts = [int(c) for c in offer["values"]]
    if len(cts) != len(points):
        raise ValueError("the offer has as many values as points")
    if len(ids) > int(offer["max_ids"]):
        raise ValueError(f"the licence takes at most {offer['max_ids']} ids per query, not {len(ids)}")
    transport = TransportKey.from_json(offer["transport_key"])
    if transport.n.bit_length() < 2048:
        raise ValueError("the portal's transport key is shorter than 2048 bits")
    scalar = random_scalar()
    enterprise = (int(key.public_key.n), int(key.p), int(key.q))
    arguments = (transport.n, transport.h)
    if workers <= 1 or len(points) < 2000:
        parts = [reply_chunk(scalar, arguments, points, cts, enterprise)]
    else:
        size = -(-len(points) // workers)
        slices = [(a, min(len(points), a + size)) for a in range(0, len(points), size)]
        with ProcessPoolExecutor(workers) as pool:
            parts = list(pool.map(reply_chunk, *zip(*[(scalar, arguments, points[a:b], cts[a:b], enterprise)
                                                      for a, b in slices])))
    return assemble_reply(ids, scalar, parts)


@dataclass(frozen=True)
class IntersectionStats:
    """The released statistics: noised count and sum, their mean, and the noise's scales
    (Laplace b: about 95% of draws lie within 3b). ``suppressed``: the noised count was below
    the licence's minimum cohort, so no sum was released."""

    count: int | None
    sum: Decimal | None
    mean: Decimal | None
    suppressed: bool
    count_noise_scale: float
    sum_noise_scale: float
    epsilon_spent: float
    epsilon_left: float
    ids: int

    def to_json(self) -> dict[str, Any]:
        return {"count": self.count, "sum": None if self.sum is None else str(self.sum),
                "mean": None if self.mean is None else str(self.mean), "suppressed": self.suppressed,
                "count_noise_scale": self.count_noise_scale, "sum_noise_scale": self.sum_noise_scale,
                "epsilon_spent": self.epsilon_spent, "epsilon_left": self.epsilon_left, "ids": self.ids}


def read_answer(answer: dict[str, Any], key: PrivateKey) -> IntersectionStats:
    noise = answer["noise"]
    total = mean = None
    if not answer["suppressed"]:
        raw = signed(key.raw_decrypt(int(answer["sum"])), int(key.public_key.n))
        total = Decimal(raw).scaleb(-int(answer["scale"]))
        count = int(answer["count"])
        mean = (total / count).quantize(Decimal(1).scaleb(-int(answer["scale"]) - 2)) if count > 0 else None
    return IntersectionStats(answer["count"], total, mean, bool(answer["suppressed"]),
                             float(noise["count_noise_scale"]), float(noise["sum_noise_scale"]),
                             float(answer["epsilon_spent"]), float(answer["epsilon_left"]), int(answer["ids"]))
