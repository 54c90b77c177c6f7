"""opendata-gmcrypto: the crypto suite "gmcrypto" (国产密码) for opendata.

Enable it with ``OPENDATA_PLUGINS=gmcrypto`` and select it with
``OPENDATA_CRYPTO_SUITE=gmcrypto``: new access tokens and asset certificates are signed
with SM2 (JWS ``alg`` "SM2SM3"), new audit records hashed with HMAC-SM3 (scheme
"hmac-sm3"), stored private keys wrapped with SM4-GCM ("kek-sm4gcm:v1"). What the default
suite made keeps verifying (README.md, "Migrating").
"""

from __future__ import annotations

from typing import Any

from opendata.extensions.crypto import Suite
from opendata_gmcrypto.sm2 import ALG, SM2SM3
from opendata_gmcrypto.sm3 import HmacSm3
from opendata_gmcrypto.sm4 import Sm4Gcm

NAME = "gmcrypto"
SUITE = Suite(NAME, SM2SM3(), HmacSm3(), Sm4Gcm())

__all__ = ["ALG", "NAME", "SUITE", "register"]


def _check_backend() -> None:
    """cryptography's OpenSSL must have SM3 and SM4-GCM (fail at start, not at first use)."""
    from opendata_gmcrypto.sm3 import sm3
    from opendata_gmcrypto.sm4 import sm4_gcm_encrypt

    try:
        sm3(b"abc")
        sm4_gcm_encrypt(bytes(16), bytes(12), b"", b"")
    except Exception as exc:  # UnsupportedAlgorithm from an OpenSSL built without SM
        raise RuntimeError(f"this cryptography/OpenSSL has no SM3 or SM4-GCM ({exc}); "
                           "upgrade cryptography (>= 43)") from exc


def register(registry: Any) -> None:
    """The ``opendata.plugins`` entry point: adds the suite; ``crypto_suite`` selects it."""
    _check_backend()
    registry.add_crypto_suite(NAME, SUITE)
