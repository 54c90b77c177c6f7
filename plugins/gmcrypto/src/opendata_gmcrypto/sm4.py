"""SM4 (GB/T 32907, GM/T 0002) in GCM mode (RFC 8998; GB/T 17964's GCM), from OpenSSL
through ``cryptography``, for the private keys stored in the database.

The wrapped text is ``kek-sm4gcm:v1:<kek id>:<nonce>:<ciphertext || tag>``: the SM4 key is
HMAC-SM3(KEK, "opendata kek sm4-gcm v1") cut to 16 bytes (the KEK is 32), the kek id the
first 16 hex digits of SM3("opendata kek id sm3\\n" || KEK), the nonce 12 random bytes, the
associated data the key's kid.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from opendata.crypto_default import b64, parse_wrapped
from opendata.extensions.crypto import UnwrapError

TAG_BYTES = 16


def sm4_gcm_encrypt(key: bytes, nonce: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """ciphertext || 16-byte tag."""
    encryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
    encryptor.authenticate_additional_data(aad)
    return encryptor.update(plaintext) + encryptor.finalize() + encryptor.tag


def sm4_gcm_decrypt(key: bytes, nonce: bytes, sealed: bytes, aad: bytes) -> bytes:
    """The plaintext; ValueError when the tag does not match."""
    if len(sealed) < TAG_BYTES:
        raise ValueError("too short for an SM4-GCM ciphertext")
    decryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce, sealed[-TAG_BYTES:])).decryptor()
    decryptor.authenticate_additional_data(aad)
    try:
        return decryptor.update(sealed[:-TAG_BYTES]) + decryptor.finalize()
    except InvalidTag:
        raise ValueError("the SM4-GCM tag does not match") from None


def _sm4_key(kek: bytes) -> bytes:
    from opendata_gmcrypto.sm3 import hmac_sm3

    return hmac_sm3(kek, b"opendata kek sm4-gcm v1")[:16]


def _kek_id(kek: bytes) -> str:
    from opendata_gmcrypto.sm3 import sm3

    return sm3(b"opendata kek id sm3\n" + kek).hex()[:16]


class Sm4Gcm:
    """The KeyWrapping of the gmcrypto suite."""

    scheme = "kek-sm4gcm:v1"

    def wrap(self, kek: bytes, plaintext: bytes, context: bytes) -> str:
        nonce = os.urandom(12)
        sealed = sm4_gcm_encrypt(_sm4_key(kek), nonce, plaintext, context)
        return f"{self.scheme}:" + ":".join((_kek_id(kek), b64(nonce), b64(sealed)))

    def unwrap(self, kek: bytes, wrapped: str, context: bytes) -> bytes:
        nonce, sealed = parse_wrapped(self.scheme, wrapped, _kek_id(kek))
        try:
            return sm4_gcm_decrypt(_sm4_key(kek), nonce, sealed, context)
        except ValueError:
            raise UnwrapError("altered", "the sealed private key was altered") from None
