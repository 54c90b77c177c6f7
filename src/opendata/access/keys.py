"""Token signing keys: kept in the database so every portal process shares them.

ES256 (ECDSA P-256). The ``kid`` is the key's RFC 7638 JWK thumbprint. The private key is
PKCS#8 PEM (itself encrypted with ``Settings.signing_key_passphrase`` when one is set),
sealed with AES-256-GCM under the key-encryption key, which is outside the database
(``OPENDATA_KEK`` or ``<data dir>/keys/kek.key``, audit/keyfiles.py): reading the database
is not enough to mint tokens. The kid is the GCM associated data, so a sealed key cannot
be moved to another row. Keys stored in the clear by earlier versions are sealed at the
portal's start (``seal_stored_keys``).

Rotation adds a new key and retires the old one; a retired key stays published in JWKS,
and keeps verifying, for as long as a token it signed could still be alive. Each process
caches keys for KEY_CACHE_SECONDS, so a verification costs no database query.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import threading
import time
import weakref
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from jwt.algorithms import ECAlgorithm
from sqlalchemy import Engine, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, object_session

from opendata.access.models import SigningKey
from opendata.audit.keyfiles import material_for
from opendata.db import utcnow

ALGORITHM = "ES256"
LEEWAY_SECONDS = 30
KEY_CACHE_SECONDS = 60
UNKNOWN_KID_RETRY_SECONDS = 1.0


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def public_jwk(public_key: ec.EllipticCurvePublicKey) -> dict[str, str]:
    numbers = public_key.public_numbers()
    jwk = {"kty": "EC", "crv": "P-256", "x": _b64(numbers.x.to_bytes(32, "big")),
           "y": _b64(numbers.y.to_bytes(32, "big"))}
    # RFC 7638: the thumbprint hashes the required members in lexical order, no spaces.
    thumbprint = _b64(hashlib.sha256(json.dumps(jwk, sort_keys=True, separators=(",", ":")).encode()).digest())
    return {**jwk, "kid": thumbprint, "alg": ALGORITHM, "use": "sig"}


SEALED_PREFIX = "kek-aes256gcm:v1:"


def _kek_id(kek: bytes) -> str:
    return hashlib.sha256(b"opendata kek id\n" + kek).hexdigest()[:16]


def seal(pem: str, kid: str, kek: bytes) -> str:
    """``pem`` encrypted under ``kek``: ``kek-aes256gcm:v1:<kek id>:<nonce>:<ciphertext>``."""
    nonce = os.urandom(12)
    sealed = AESGCM(kek).encrypt(nonce, pem.encode("ascii"), kid.encode("ascii"))
    return SEALED_PREFIX + ":".join((_kek_id(kek), _b64(nonce), _b64(sealed)))


def unseal(stored: str, kid: str, kek: bytes) -> str:
    if not stored.startswith(SEALED_PREFIX):
        return stored  # written in the clear by an earlier version, not yet sealed
    kek_id, nonce, sealed = stored[len(SEALED_PREFIX):].split(":")
    if kek_id != _kek_id(kek):
        raise RuntimeError(f"signing key {kid} is sealed under another key-encryption key "
                           f"(id {kek_id}): set OPENDATA_KEK or use the data dir that holds keys/kek.key")
    try:
        return AESGCM(kek).decrypt(_unb64(nonce), _unb64(sealed), kid.encode("ascii")).decode("ascii")
    except InvalidTag:
        raise RuntimeError(f"signing key {kid}: the sealed private key was altered") from None


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _kek_of(session: Session | None) -> bytes:
    if session is None:
        raise RuntimeError("a sealed signing key needs its session (to find the key-encryption key)")
    return material_for(session).kek


def new_signing_key(passphrase: str | None, kek: bytes | None = None) -> SigningKey:
    """A new key pair; its private key sealed under ``kek`` when given (every caller in the
    portal passes it; unsealed keys are sealed by ``seal_stored_keys``)."""
    private_key = ec.generate_private_key(ec.SECP256R1())
    encryption = (
        serialization.BestAvailableEncryption(passphrase.encode("utf-8")) if passphrase
        else serialization.NoEncryption()
    )
    pem = private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
    jwk = public_jwk(private_key.public_key())
    stored = seal(pem.decode("ascii"), jwk["kid"], kek) if kek else pem.decode("ascii")
    return SigningKey(kid=jwk["kid"], algorithm=ALGORITHM, private_key_pem=stored,
                      encrypted=bool(passphrase), public_jwk=jwk, created_at=utcnow())


def seal_stored_keys(session: Session) -> int:
    """Seal every private key still stored in the clear; the caller commits. Returns how many."""
    kek = _kek_of(session)
    sealed = 0
    for key in session.scalars(select(SigningKey).where(~SigningKey.private_key_pem.startswith(SEALED_PREFIX))):
        key.private_key_pem = seal(key.private_key_pem, key.kid, kek)
        sealed += 1
    return sealed


def publish_window(token_lifetime_seconds: int) -> timedelta:
    """How long a retired key must stay verifiable: a process may sign with it for up to
    KEY_CACHE_SECONDS after retirement, and its tokens live token_lifetime_seconds more."""
    return timedelta(seconds=token_lifetime_seconds + KEY_CACHE_SECONDS + 2 * LEEWAY_SECONDS)


def active_key(session: Session) -> SigningKey | None:
    return session.scalars(
        select(SigningKey).where(SigningKey.retired_at.is_(None)).order_by(SigningKey.created_at.desc()).limit(1)
    ).first()


def ensure_active_key(session: Session, passphrase: str | None) -> SigningKey:
    """The key that signs now, created (and committed) on first use.

    Processes issuing their first tokens at the same moment all find no key and each
    create one: the unique index on active keys lets one commit, and the others roll back
    and use that one, so the deployment has exactly one active key."""
    key = active_key(session)
    if key is None:
        key = new_signing_key(passphrase, _kek_of(session))
        session.add(key)
        try:
            session.commit()
        except IntegrityError:
            session.rollback()
            key = active_key(session)
            if key is None:
                raise
    return key


def rotate(session: Session, passphrase: str | None) -> tuple[SigningKey, list[SigningKey]]:
    """Add a new active key and retire the previous ones; the caller commits."""
    now = utcnow()
    retired = list(session.scalars(select(SigningKey).where(SigningKey.retired_at.is_(None))))
    for key in retired:
        key.retired_at = now
    session.flush()  # the retirements first: at most one key is ever active (a unique index)
    seal_stored_keys(session)
    key = new_signing_key(passphrase, _kek_of(session))
    session.add(key)
    session.flush()
    return key, retired


def published_keys(session: Session, token_lifetime_seconds: int) -> list[SigningKey]:
    since = utcnow() - publish_window(token_lifetime_seconds)
    return list(session.scalars(
        select(SigningKey).where(or_(SigningKey.retired_at.is_(None), SigningKey.retired_at > since))
        .order_by(SigningKey.created_at.desc())
    ))


def jwks(session: Session, token_lifetime_seconds: int) -> dict[str, Any]:
    return {"keys": [key.public_jwk for key in published_keys(session, token_lifetime_seconds)]}


def load_private_key(key: SigningKey, passphrase: str | None, kek: bytes | None = None
                     ) -> ec.EllipticCurvePrivateKey:
    """The private key of ``key``; ``kek`` defaults to the one of the key's session."""
    pem = key.private_key_pem
    if pem.startswith(SEALED_PREFIX):
        pem = unseal(pem, key.kid, kek or _kek_of(object_session(key)))
    if key.encrypted and not passphrase:
        raise RuntimeError(
            f"signing key {key.kid} is encrypted: set OPENDATA_SIGNING_KEY_PASSPHRASE to use it"
        )
    password = passphrase.encode("utf-8") if key.encrypted and passphrase else None
    loaded = serialization.load_pem_private_key(pem.encode("ascii"), password=password)
    if not isinstance(loaded, ec.EllipticCurvePrivateKey):
        raise RuntimeError(f"signing key {key.kid} is not an EC key")
    return loaded


@dataclass
class _Signer:
    kid: str
    private_key: ec.EllipticCurvePrivateKey
    loaded_at: float


class VerifiedCache:
    """Recently verified tokens, so that a client's repeated requests pay for the ECDSA
    check once. Only the signature and the static claims are remembered: expiry is
    checked again on every hit, and the database checks (licence, revocation, quota)
    are never cached. Bounded; when full it simply starts over."""

    MAX_ENTRIES = 4096

    def __init__(self) -> None:
        self._entries: dict[tuple[str, str, str], Any] = {}

    def get(self, key: tuple[str, str, str]) -> Any | None:
        return self._entries.get(key)

    def put(self, key: tuple[str, str, str], value: Any) -> None:
        if len(self._entries) >= self.MAX_ENTRIES:
            self._entries = {}
        self._entries[key] = value

    def drop(self, key: tuple[str, str, str]) -> None:
        self._entries.pop(key, None)

    def clear(self) -> None:
        self._entries = {}


class KeyRing:
    """One process's cache of one database's keys."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._signer: _Signer | None = None
        self._public: dict[str, Any] = {}
        self._public_loaded_at = float("-inf")
        # Tokens whose signature and claims verified already (see tokens.decode).
        self.verified: VerifiedCache = VerifiedCache()

    def signer(self, session: Session, passphrase: str | None) -> tuple[str, ec.EllipticCurvePrivateKey]:
        signer = self._signer
        if signer is None or time.monotonic() - signer.loaded_at > KEY_CACHE_SECONDS:
            key = ensure_active_key(session, passphrase)
            signer = _Signer(key.kid, load_private_key(key, passphrase, _kek_of(session)), time.monotonic())
            self._signer = signer
        return signer.kid, signer.private_key

    def verification_key(self, session: Session, kid: str, token_lifetime_seconds: int) -> Any | None:
        """The public key for ``kid`` if it is published; reloads when the cache is stale or
        the kid is new (at most once a second, so random kids cannot flood the database)."""
        age = time.monotonic() - self._public_loaded_at
        if age > KEY_CACHE_SECONDS or (kid not in self._public and age > UNKNOWN_KID_RETRY_SECONDS):
            with self._lock:
                keys = published_keys(session, token_lifetime_seconds)
                self._public = {k.kid: ECAlgorithm.from_jwk(json.dumps(k.public_jwk)) for k in keys}
                self._public_loaded_at = time.monotonic()
        return self._public.get(kid)

    def forget(self) -> None:
        """Drop the cache (after a rotation in this process, for instance)."""
        self._signer = None
        self._public_loaded_at = float("-inf")
        self.verified.clear()


_rings: "weakref.WeakKeyDictionary[Engine, KeyRing]" = weakref.WeakKeyDictionary()
_rings_lock = threading.Lock()


def key_ring(session: Session) -> KeyRing:
    engine = session.get_bind()
    with _rings_lock:
        ring = _rings.get(engine)  # type: ignore[arg-type]
        if ring is None:
            ring = _rings[engine] = KeyRing()  # type: ignore[index]
        return ring


def forget_cached_keys() -> None:
    """Drop every key ring of this process (its next request reloads from the database)."""
    with _rings_lock:
        for ring in list(_rings.values()):
            ring.forget()
