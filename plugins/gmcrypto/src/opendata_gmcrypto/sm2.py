"""SM2 signatures (GM/T 0003.2, GB/T 32918.2) with SM3, as the JWS algorithm ``SM2SM3``.

- The curve is GM/T 0003.5's recommended 256-bit curve; signing hashes
  e = SM3(Z_A || M), Z_A = SM3(ENTL || ID || a || b || x_G || y_G || x_A || y_A), with the
  user ID ``1234567812345678`` (GM/T 0009's default), as certificates and KMSs do.
- The JWS signature is r || s, 32 bytes each, big-endian (as ES256's is, RFC 7518 §3.4).
- The JWK is ``{"kty": "EC", "crv": "SM2", "x", "y"}`` (base64url, 32 bytes each), with
  ``kid`` its RFC 7638 thumbprint hashed with SM3, ``alg: SM2SM3`` and ``use: sig``.
- A public key is checked to be a point of the curve of order n before it is used.
- The stored private key is ``sm2:v1:<d hex>``, or with a passphrase
  ``sm2-pbkdf2-sm3-sm4gcm:v1:<salt>:<nonce>:<ciphertext>`` (PBKDF2-HMAC-SM3, SM4-GCM).

The curve arithmetic is snowland-smx's (``pysmx``, pure Python; see the README for why
and for its speed); Z_A is its ``get_za``; e, the hashes and the checks around the
library (key ranges, points on the curve, r and s in [1, n-1]) are ours.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC
from pysmx.SM2 import Sign, Verify, get_za, kG
from pysmx.SM2._SM2 import sm2_G, sm2_N, sm2_P, sm2_a, sm2_b

from opendata.crypto_default import b64, thumbprint, unb64
from opendata_gmcrypto.sm3 import sm3, sm3_hasher
from opendata_gmcrypto.sm4 import sm4_gcm_decrypt, sm4_gcm_encrypt

ALG = "SM2SM3"
USER_ID = b"1234567812345678"  # GM/T 0009-2012: the default user ID when none is agreed
N = sm2_N  # the group order (GM/T 0003.5)
PLAIN_PREFIX = "sm2:v1:"
ENCRYPTED_PREFIX = "sm2-pbkdf2-sm3-sm4gcm:v1:"
PBKDF2_ITERATIONS = 200_000


@dataclass(frozen=True)
class PublicKey:
    point: bytes  # x || y, 32 bytes each
    za: bytes  # Z_A for the user ID: computed once per key, not per signature


@dataclass(frozen=True)
class PrivateKey:
    d: bytes  # 32 bytes, big-endian
    public: PublicKey


def on_curve(point: bytes) -> bool:
    """x, y in [0, p) and y^2 = x^3 + ax + b (mod p): a point of the curve, not infinity;
    the cofactor is 1, so it is of order n."""
    if len(point) != 64:
        return False
    x, y = int.from_bytes(point[:32], "big"), int.from_bytes(point[32:], "big")
    return x < sm2_P and y < sm2_P and (y * y - (x * x * x + sm2_a * x + sm2_b)) % sm2_P == 0


def _kdf(passphrase: str, salt: bytes) -> bytes:
    return PBKDF2HMAC(hashes.SM3(), 16, salt, PBKDF2_ITERATIONS).derive(passphrase.encode("utf-8"))


class SM2SM3:
    """The TokenSigning of the gmcrypto suite. ``rnd_fn`` (bits -> int) replaces the random
    k of a signature, for the standard's examples only."""

    alg = ALG

    def __init__(self, rnd_fn: Callable[[int], int] | None = None, user_id: bytes = USER_ID) -> None:
        self._rnd_fn = rnd_fn
        self.user_id = user_id

    def _public(self, point: bytes) -> PublicKey:
        return PublicKey(point, bytes.fromhex(get_za(self.user_id, point.hex())))

    def _k(self) -> str:
        k = self._rnd_fn(256) if self._rnd_fn else 1 + secrets.randbelow(N - 1)  # k in [1, n-1]
        return f"{k:064x}"

    def _e(self, public: PublicKey, data: bytes) -> str:
        return sm3(public.za + data).hex()  # e = SM3(Z_A || M)

    def generate(self) -> PrivateKey:
        # d in [1, n-2] (GM/T 0003.1 §6.1), from the OS's CSPRNG.
        return self.private_from_int(1 + secrets.randbelow(N - 2))

    def private_from_int(self, d: int) -> PrivateKey:
        if not 1 <= d <= N - 2:
            raise ValueError("an SM2 private key is in [1, n-2]")
        return PrivateKey(d.to_bytes(32, "big"), self._public(bytes.fromhex(kG(d, sm2_G, 64))))

    def private_text(self, private: PrivateKey, passphrase: str | None) -> str:
        if not passphrase:
            return PLAIN_PREFIX + private.d.hex()
        salt, nonce = os.urandom(16), os.urandom(12)
        sealed = sm4_gcm_encrypt(_kdf(passphrase, salt), nonce, private.d, ENCRYPTED_PREFIX.encode())
        return ENCRYPTED_PREFIX + ":".join((b64(salt), b64(nonce), b64(sealed)))

    def load_private(self, text: str, passphrase: str | None) -> PrivateKey:
        if text.startswith(PLAIN_PREFIX):
            return self.private_from_int(int(text[len(PLAIN_PREFIX):], 16))
        if not text.startswith(ENCRYPTED_PREFIX):
            raise ValueError("not an SM2 private key")
        if not passphrase:
            raise ValueError("this SM2 private key is encrypted: a passphrase is needed")
        salt, nonce, sealed = (unb64(part) for part in text[len(ENCRYPTED_PREFIX):].split(":"))
        try:
            d = sm4_gcm_decrypt(_kdf(passphrase, salt), nonce, sealed, ENCRYPTED_PREFIX.encode())
        except ValueError:
            raise ValueError("wrong passphrase for the SM2 private key (or it was altered)") from None
        return self.private_from_int(int.from_bytes(d, "big"))

    def public_jwk(self, private: PrivateKey) -> dict[str, str]:
        point = private.public.point
        jwk = {"kty": "EC", "crv": "SM2", "x": b64(point[:32]), "y": b64(point[32:])}
        return {**jwk, "kid": thumbprint(jwk, sm3_hasher), "alg": ALG, "use": "sig"}

    def load_public(self, jwk: Mapping[str, Any]) -> PublicKey:
        if jwk.get("kty") != "EC" or jwk.get("crv") != "SM2":
            raise ValueError("not an SM2 key (kty EC, crv SM2)")
        try:
            x, y = unb64(str(jwk["x"])), unb64(str(jwk["y"]))
        except (KeyError, ValueError):
            raise ValueError("an SM2 JWK needs x and y, base64url") from None
        if "d" in jwk:
            raise ValueError("a public key is expected, not a private one")
        if len(x) != 32 or len(y) != 32:
            raise ValueError("an SM2 key's x and y are 32 bytes each")
        if not on_curve(x + y):
            raise ValueError("the SM2 key is not a point of the curve")
        return self._public(x + y)

    def sign(self, private: PrivateKey, data: bytes) -> bytes:
        e = self._e(private.public, data)
        while True:  # r = 0, r + k = n or s = 0: another k (GM/T 0003.2 §6.1 A5, A6)
            try:
                signature = Sign(e, private.d, self._k(), 64, Hexstr=1)
            except TypeError:  # s = 0
                signature = None
            if signature is not None and len(signature) == 64:
                return signature

    def verify(self, public: PublicKey, data: bytes, signature: bytes) -> bool:
        if len(signature) != 64:
            return False
        r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
        if not (1 <= r < N and 1 <= s < N):  # GM/T 0003.2 §7.1 B1, B2: the library does not check
            return False
        try:
            return bool(Verify(signature, self._e(public, data), public.point, 64, Hexstr=1))
        except Exception:  # noqa: BLE001 - a malformed input is a bad signature, never an error
            return False
