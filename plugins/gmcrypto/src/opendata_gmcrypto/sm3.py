"""SM3 (GM/T 0004, GB/T 32905) and HMAC-SM3 (RFC 2104 over SM3) for the audit chain, from
OpenSSL through ``cryptography``."""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes, hmac


def sm3(data: bytes) -> bytes:
    digest = hashes.Hash(hashes.SM3())
    digest.update(data)
    return digest.finalize()


class sm3_hasher:  # noqa: N801 - a hashlib-style constructor: sm3_hasher(data).digest()
    def __init__(self, data: bytes = b"") -> None:
        self._data = data

    def digest(self) -> bytes:
        return sm3(self._data)


def hmac_sm3(key: bytes, data: bytes) -> bytes:
    mac = hmac.HMAC(key, hashes.SM3())
    mac.update(data)
    return mac.finalize()


class HmacSm3:
    """The AuditHashing of the gmcrypto suite: HMAC-SM3 under the 32-byte audit key."""

    scheme = "hmac-sm3"

    def digest(self, key: bytes, data: bytes) -> str:
        return hmac_sm3(key, data).hex()
