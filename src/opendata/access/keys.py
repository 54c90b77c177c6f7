"""Token signing keys: kept in the database so every portal process shares them.

The algorithm is the deployment's crypto suite's (opendata.extensions.crypto; ES256 by
default, ``crypto_suite`` setting). The ``kid`` is the key's JWK thumbprint. The private key
is stored as its suite's text (PKCS#8 PEM for ES256, itself encrypted with
``Settings.signing_key_passphrase`` when one is set), sealed under the key-encryption key,
which is outside the database (``OPENDATA_KEK`` or ``<data dir>/keys/kek.key``,
audit/keyfiles.py), with the suite's key wrapping (AES-256-GCM by default): reading the
database is not enough to mint tokens. The kid is the wrapping's associated data, so a
sealed key cannot be moved to another row. Keys stored in the clear by earlier versions,
or wrapped by another suite than the selected one, are (re)sealed at the portal's start
(``seal_stored_keys``).

Rotation adds a new key and retires the old one; a retired key stays published in JWKS,
and keeps verifying, for as long as a token it signed could still be alive. A change of
suite is a rotation too: the first key of the new algorithm retires the active keys of the
others. Each process caches keys for KEY_CACHE_SECONDS, so a verification costs no
database query. A key verifies only tokens whose header names the key's own algorithm.
"""

from __future__ import annotations

import threading
import time
import weakref
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, object_session

from opendata.access.models import SigningKey
from opendata.audit.keyfiles import material_for
from opendata.db import utcnow
from opendata.extensions.crypto import Suites, TokenSigning, UnwrapError

LEEWAY_SECONDS = 30
KEY_CACHE_SECONDS = 60
UNKNOWN_KID_RETRY_SECONDS = 1.0


def suites_of(session: Session) -> Suites:
    """The crypto suites of the deployment ``session`` belongs to."""
    return material_for(session).crypto


# The default suite's wrapping; every wrapping's text starts with its own "<scheme>:".
SEALED_PREFIX = "kek-aes256gcm:v1:"


def seal(text: str, kid: str, kek: bytes, suites: Suites | None = None) -> str:
    """``text`` wrapped under ``kek`` by the selected suite: ``<scheme>:...``."""
    suites = suites or _default()
    return suites.selected.wrapping.wrap(kek, text.encode("ascii"), kid.encode("ascii"))


def is_sealed(stored: str, suites: Suites) -> bool:
    return suites.wrapping_of(stored) is not None


def unseal(stored: str, kid: str, kek: bytes, suites: Suites | None = None) -> str:
    suites = suites or _default()
    wrapping = suites.wrapping_of(stored)
    if wrapping is None:
        if stored.startswith("kek-"):
            raise RuntimeError(f"signing key {kid} is sealed with {stored.split(':', 1)[0]}, which no enabled "
                               "crypto suite unwraps (enable its plugin in OPENDATA_PLUGINS)")
        return stored  # written in the clear by an earlier version, not yet sealed
    try:
        return wrapping.unwrap(kek, stored, kid.encode("ascii")).decode("ascii")
    except UnwrapError as exc:
        hint = (": set OPENDATA_KEK or use the data dir that holds keys/kek.key"
                if exc.reason == "wrong_kek" else "")
        raise RuntimeError(f"signing key {kid}: {exc}{hint}") from None


def _kek_of(session: Session | None) -> bytes:
    if session is None:
        raise RuntimeError("a sealed signing key needs its session (to find the key-encryption key)")
    return material_for(session).kek


def new_signing_key(passphrase: str | None, kek: bytes | None = None, suites: Suites | None = None) -> SigningKey:
    """A new key pair of the selected suite's algorithm; its private key sealed under
    ``kek`` when given (every caller in the portal passes it; unsealed keys are sealed by
    ``seal_stored_keys``)."""
    from opendata.extensions.crypto import default_suites

    suites = suites or default_suites()
    signing = suites.selected.signing
    private_key = signing.generate()
    text = signing.private_text(private_key, passphrase)
    jwk = signing.public_jwk(private_key)
    stored = seal(text, jwk["kid"], kek, suites) if kek else text
    return SigningKey(kid=jwk["kid"], algorithm=signing.alg, private_key_pem=stored,
                      encrypted=bool(passphrase), public_jwk=jwk, created_at=utcnow())


def seal_stored_keys(session: Session) -> int:
    """Seal every private key still stored in the clear, and re-seal those wrapped by
    another suite's wrapping than the selected one's; the caller commits. Returns how many."""
    kek, suites = _kek_of(session), suites_of(session)
    scheme = suites.selected.wrapping.scheme + ":"
    changed = 0
    for key in session.scalars(select(SigningKey).where(~SigningKey.private_key_pem.startswith(scheme))):
        key.private_key_pem = seal(unseal(key.private_key_pem, key.kid, kek, suites), key.kid, kek, suites)
        changed += 1
    return changed


def publish_window(token_lifetime_seconds: int) -> timedelta:
    """How long a retired key must stay verifiable: a process may sign with it for up to
    KEY_CACHE_SECONDS after retirement, and its tokens live token_lifetime_seconds more."""
    return timedelta(seconds=token_lifetime_seconds + KEY_CACHE_SECONDS + 2 * LEEWAY_SECONDS)


def active_key(session: Session, algorithm: str | None = None) -> SigningKey | None:
    """The newest active key (of ``algorithm`` when given)."""
    query = select(SigningKey).where(SigningKey.retired_at.is_(None))
    if algorithm is not None:
        query = query.where(SigningKey.algorithm == algorithm)
    return session.scalars(query.order_by(SigningKey.created_at.desc()).limit(1)).first()


def ensure_active_key(session: Session, passphrase: str | None) -> SigningKey:
    """The key that signs now (of the selected suite's algorithm), created (and committed)
    on first use; creating it retires the active keys of other algorithms (a change of
    suite), which stay published for the tokens they signed.

    Processes issuing their first tokens at the same moment all find no key and each
    create one: the unique index on active keys lets one commit, and the others roll back
    and use that one, so the deployment has exactly one active key per algorithm."""
    suites = suites_of(session)
    algorithm = suites.selected.signing.alg
    key = active_key(session, algorithm)
    if key is None:
        now = utcnow()
        # Only other algorithms' keys: a same-algorithm key another process just made is the
        # race the unique index settles (retiring it here would leave two signing keys).
        for other in session.scalars(select(SigningKey).where(SigningKey.retired_at.is_(None),
                                                              SigningKey.algorithm != algorithm)):
            other.retired_at = now
        key = new_signing_key(passphrase, _kek_of(session), suites)
        session.add(key)
        try:
            session.commit()
        except IntegrityError:
            session.rollback()
            key = active_key(session, algorithm)
            if key is None:
                raise
    return key


def rotate(session: Session, passphrase: str | None) -> tuple[SigningKey, list[SigningKey]]:
    """Add a new active key (of the selected suite's algorithm) and retire the previous
    ones, of every algorithm; the caller commits."""
    now = utcnow()
    retired = list(session.scalars(select(SigningKey).where(SigningKey.retired_at.is_(None))))
    for key in retired:
        key.retired_at = now
    session.flush()  # the retirements first: at most one key is ever active (a unique index)
    seal_stored_keys(session)
    key = new_signing_key(passphrase, _kek_of(session), suites_of(session))
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


def _signing_for(key: SigningKey, suites: Suites) -> TokenSigning:
    signing = suites.signing(key.algorithm)
    if signing is None:
        raise RuntimeError(f"signing key {key.kid} is a {key.algorithm} key, which no enabled crypto suite "
                           "signs with (enable its plugin in OPENDATA_PLUGINS)")
    return signing


def load_private_key(key: SigningKey, passphrase: str | None, kek: bytes | None = None,
                     suites: Suites | None = None) -> Any:
    """The private key of ``key`` (its suite's handle); ``kek`` and ``suites`` default to
    those of the key's session."""
    session = object_session(key)
    suites = suites or (suites_of(session) if session is not None else _default())
    text = key.private_key_pem
    if is_sealed(text, suites) or text.startswith("kek-"):
        text = unseal(text, key.kid, kek or _kek_of(session), suites)
    if key.encrypted and not passphrase:
        raise RuntimeError(
            f"signing key {key.kid} is encrypted: set OPENDATA_SIGNING_KEY_PASSPHRASE to use it"
        )
    # A wrong passphrase is the suite's ValueError.
    return _signing_for(key, suites).load_private(text, passphrase if key.encrypted else None)


def _default() -> Suites:
    from opendata.extensions.crypto import default_suites

    return default_suites()


@dataclass(frozen=True)
class Signer:
    """The key that signs now: its kid, algorithm, suite part and private key handle."""

    kid: str
    alg: str
    signing: TokenSigning
    private_key: Any
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
        self._signer: Signer | None = None
        self._public: dict[str, Any] = {}
        self._public_loaded_at = float("-inf")
        # Tokens whose signature and claims verified already (see tokens.decode).
        self.verified: VerifiedCache = VerifiedCache()

    def signer(self, session: Session, passphrase: str | None) -> Signer:
        signer = self._signer
        if signer is None or time.monotonic() - signer.loaded_at > KEY_CACHE_SECONDS:
            key = ensure_active_key(session, passphrase)
            suites = suites_of(session)
            signer = Signer(key.kid, key.algorithm, _signing_for(key, suites),
                            load_private_key(key, passphrase, _kek_of(session), suites), time.monotonic())
            self._signer = signer
        return signer

    def verification_key(self, session: Session, kid: str, token_lifetime_seconds: int) -> tuple[str, Any] | None:
        """(algorithm, public key) for ``kid`` if it is published and an enabled suite knows
        its algorithm; reloads when the cache is stale or the kid is new (at most once a
        second, so random kids cannot flood the database)."""
        age = time.monotonic() - self._public_loaded_at
        if age > KEY_CACHE_SECONDS or (kid not in self._public and age > UNKNOWN_KID_RETRY_SECONDS):
            with self._lock:
                suites = suites_of(session)
                public: dict[str, tuple[str, Any]] = {}
                for key in published_keys(session, token_lifetime_seconds):
                    signing = suites.signing(key.algorithm)
                    if signing is not None and key.public_jwk.get("alg") == key.algorithm:
                        public[key.kid] = (key.algorithm, signing.load_public(key.public_jwk))
                self._public = public
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
