"""The gmcrypto suite (SM2/SM3/SM4) vs the default one (ES256/SHA-256/AES-GCM), same run.

    python benchmarks/gmcrypto.py [--rounds 15] [--per-round 10]

Each round times, for both suites in turn (A, B, A, B...): signing an access token (the
JWT the portal issues, through the same Suites.jwt codec), verifying it, one audit
record's keyed hash, and wrapping + unwrapping a private key. Prints the median time per
operation, the median of the per-round ratios (gmcrypto / default) and the load average
before and after. Needs the plugin installed (pip install -e plugins/gmcrypto).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable

from opendata.crypto_default import DEFAULT_SUITE
from opendata.extensions.crypto import Suites
from opendata_gmcrypto import SUITE as GM_SUITE

CLAIMS = {
    "iss": "https://data.example.gov.cn", "sub": "c_0123456789abcdef", "aud": "opendata", "iat": 1_760_000_000,
    "nbf": 1_760_000_000, "exp": 4_102_444_800, "jti": "AbCdEfGhIjKlMnOpQrStUvWx", "client_id": "c_0123456789abcdef",
    "scope": "licence:12 si-headcount:query si-headcount:download", "licence_id": 12, "org": "91440101MA5CAAAA0X",
    "datasets": {"si-headcount": {"operations": ["query", "download"], "fields": ["month", "district", "insured"]}},
    "sv": 0,
}
RECORD = ('{"action":"data.query","actor":"client:c_0123456789abcdef","at":"2026-12-04T01:00:00.000000+00:00",'
          '"details":"{\\"rows\\":50}","id":123456,"outcome":"success","prev_hash":"' + "ab" * 32 + '"}').encode()


class Subject:
    def __init__(self, suite) -> None:  # noqa: ANN001
        self.suites = Suites(suite, {suite.name: suite})
        signing = suite.signing
        self.signing, self.audit, self.wrapping = signing, suite.audit, suite.wrapping
        self.private = signing.generate()
        jwk = signing.public_jwk(self.private)
        self.kid, self.public = jwk["kid"], signing.load_public(jwk)
        self.token = self.sign()
        self.kek, self.key_text = os.urandom(32), signing.private_text(self.private, None).encode()

    def sign(self) -> str:
        return self.suites.jwt.encode(CLAIMS, self.private, algorithm=self.signing.alg,
                                      headers={"typ": "at+jwt", "kid": self.kid})

    def verify(self) -> None:
        self.suites.jwt.decode(self.token, self.public, algorithms=[self.signing.alg], audience="opendata",
                               options={"require": ["exp", "iat", "jti"]})

    def hash(self) -> None:
        self.audit.digest(self.kek, RECORD)

    def wrap(self) -> None:
        wrapped = self.wrapping.wrap(self.kek, self.key_text, self.kid.encode())
        assert self.wrapping.unwrap(self.kek, wrapped, self.kid.encode()) == self.key_text


def timed(operation: Callable[[], object], count: int) -> float:
    start = time.perf_counter()
    for _ in range(count):
        operation()
    return (time.perf_counter() - start) / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--per-round", type=int, default=10, help="operations of each kind per round")
    args = parser.parse_args()
    load_before = os.getloadavg()
    default, gm = Subject(DEFAULT_SUITE), Subject(GM_SUITE)
    operations = {
        "access token sign": ("sign", 1), "access token verify": ("verify", 1),
        "audit record hash": ("hash", 100), "key wrap + unwrap": ("wrap", 10),
    }
    times: dict[str, dict[str, list[float]]] = {name: {"default": [], "gmcrypto": []} for name in operations}
    for _ in range(args.rounds):
        for name, (method, factor) in operations.items():
            for label, subject in (("default", default), ("gmcrypto", gm)):  # A, B in every round
                times[name][label].append(timed(getattr(subject, method), args.per_round * factor))
    load_after = os.getloadavg()
    print(f"load average before {load_before[0]:.2f} {load_before[1]:.2f}, after {load_after[0]:.2f} "
          f"{load_after[1]:.2f} ({os.cpu_count()} cores); {args.rounds} rounds, interleaved")
    print(f"| operation | default ({default.signing.alg}, {default.audit.scheme}, {default.wrapping.scheme}) "
          f"| gmcrypto ({gm.signing.alg}, {gm.audit.scheme}, {gm.wrapping.scheme}) | median ratio |")
    print("|---|---:|---:|---:|")
    for name in operations:
        a, b = times[name]["default"], times[name]["gmcrypto"]
        ratio = statistics.median(y / x for x, y in zip(a, b))
        print(f"| {name} | {statistics.median(a) * 1e3:.3f} ms | {statistics.median(b) * 1e3:.3f} ms | {ratio:.1f}× |")


if __name__ == "__main__":
    main()
