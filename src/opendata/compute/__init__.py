"""Paillier core of "usable but invisible" computation (数据可用不可见).

No web and no database code lives here; the modules are pure computation:

- ``encoding``     fixed-point signed integers in Z_n, with overflow detection
- ``paillier``     keys, validation, (de)serialisation, CRT decryption, fast key-holder encryption
- ``multiexp``     fixed-base comb tables and Straus multi-exponentiation
- ``obfuscators``  a background-filled pool of r^n mod n^2, each handed out once
- ``protocols``    verification (核验) and private linear scoring (模型服务), process-pool helpers
- ``keyholder``    the client side: key generation, encryption, decryption

Only the error base class is defined here, so that every submodule can share it
without importing one another in a circle.
"""

from __future__ import annotations


class ComputeError(ValueError):
    """A refusal with a stable machine-readable ``code`` (e.g. ``"key_too_small"``)."""

    code = "compute_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
