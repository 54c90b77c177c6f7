"""The core's crypto suite, "default": ES256 token signing, HMAC-SHA256 audit hashing and
AES-256-GCM key wrapping, implemented through opendata.extensions.crypto's Protocols
(the same ones a plugin's suite implements).

- ES256 (ECDSA P-256 with SHA-256, RFC 7518 §3.4): private keys stored as PKCS#8 PEM
  (encrypted with the signing-key passphrase when one is set); the ``kid`` is the key's
  RFC 7638 JWK thumbprint (SHA-256).
- ``hmac-sha256``: HMAC-SHA256 under the audit key (audit/chain.py says what is hashed).
- ``kek-aes256gcm:v1:<kek id>:<nonce>:<ciphertext>``: AES-256-GCM under the KEK with the
  kid as associated data; the kek id (a hash of the KEK) tells a wrong KEK from tampering.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from jwt.algorithms import ECAlgorithm

from opendata.extensions.crypto import Suite, UnwrapError


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def thumbprint(members: Mapping[str, str], digest: Any = hashlib.sha256) -> str:
    """RFC 7638: the hash of the required members in lexical order, no spaces."""
    return b64(digest(json.dumps(dict(members), sort_keys=True, separators=(",", ":")).encode()).digest())


class ES256:
    alg = "ES256"
    _jws = ECAlgorithm(ECAlgorithm.SHA256)

    def generate(self) -> ec.EllipticCurvePrivateKey:
        return ec.generate_private_key(ec.SECP256R1())

    def private_text(self, private: ec.EllipticCurvePrivateKey, passphrase: str | None) -> str:
        encryption = (serialization.BestAvailableEncryption(passphrase.encode("utf-8")) if passphrase
                      else serialization.NoEncryption())
        return private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                     encryption).decode("ascii")

    def load_private(self, text: str, passphrase: str | None) -> ec.EllipticCurvePrivateKey:
        password = passphrase.encode("utf-8") if passphrase else None
        loaded = serialization.load_pem_private_key(text.encode("ascii"), password=password)
        if not isinstance(loaded, ec.EllipticCurvePrivateKey) or not isinstance(loaded.curve, ec.SECP256R1):
            raise ValueError("not a P-256 private key")
        return loaded

    def public_jwk(self, private: ec.EllipticCurvePrivateKey) -> dict[str, str]:
        numbers = private.public_key().public_numbers()
        jwk = {"kty": "EC", "crv": "P-256", "x": b64(numbers.x.to_bytes(32, "big")),
               "y": b64(numbers.y.to_bytes(32, "big"))}
        return {**jwk, "kid": thumbprint(jwk), "alg": self.alg, "use": "sig"}

    def load_public(self, jwk: Mapping[str, Any]) -> ec.EllipticCurvePublicKey:
        if jwk.get("kty") != "EC" or jwk.get("crv") != "P-256":
            raise ValueError("not a P-256 key")
        try:
            key = ECAlgorithm.from_jwk(json.dumps(dict(jwk)))
        except Exception as exc:  # PyJWT's InvalidKeyError, or a bad member
            raise ValueError(f"not a P-256 key: {exc}") from None
        if not isinstance(key, ec.EllipticCurvePublicKey):
            raise ValueError("a public key is expected, not a private one")
        return key

    def sign(self, private: ec.EllipticCurvePrivateKey, data: bytes) -> bytes:
        return self._jws.sign(data, private)

    def verify(self, public: ec.EllipticCurvePublicKey, data: bytes, signature: bytes) -> bool:
        return self._jws.verify(data, public, signature)


class HmacSha256:
    scheme = "hmac-sha256"

    def digest(self, key: bytes, data: bytes) -> str:
        return hmac.new(key, data, hashlib.sha256).hexdigest()


def kek_id(kek: bytes) -> str:
    """Which KEK sealed a key (a hash of it): tells a wrong KEK from tampering."""
    return hashlib.sha256(b"opendata kek id\n" + kek).hexdigest()[:16]


class Aes256Gcm:
    scheme = "kek-aes256gcm:v1"

    def wrap(self, kek: bytes, plaintext: bytes, context: bytes) -> str:
        nonce = os.urandom(12)
        sealed = AESGCM(kek).encrypt(nonce, plaintext, context)
        return f"{self.scheme}:" + ":".join((kek_id(kek), b64(nonce), b64(sealed)))

    def unwrap(self, kek: bytes, wrapped: str, context: bytes) -> bytes:
        nonce, sealed = parse_wrapped(self.scheme, wrapped, kek_id(kek))
        try:
            return AESGCM(kek).decrypt(nonce, sealed, context)
        except (InvalidTag, ValueError):
            raise UnwrapError("altered", "the sealed private key was altered") from None


def parse_wrapped(scheme: str, wrapped: str, expected_kek_id: str) -> tuple[bytes, bytes]:
    """(nonce, ciphertext) of ``<scheme>:<kek id>:<nonce>:<ciphertext>``, base64url; UnwrapError
    if it is not that, or was sealed under another KEK than the one ``expected_kek_id`` names."""
    try:
        sealed_by, nonce, sealed = wrapped[len(scheme) + 1:].split(":")
        parts = unb64(nonce), unb64(sealed)
    except ValueError:
        raise UnwrapError("malformed", "the wrapped key is not kek id:nonce:ciphertext") from None
    if sealed_by != expected_kek_id:
        raise UnwrapError("wrong_kek", f"it is sealed under another key-encryption key (id {sealed_by})")
    return parts


DEFAULT_SUITE = Suite("default", ES256(), HmacSha256(), Aes256Gcm())
