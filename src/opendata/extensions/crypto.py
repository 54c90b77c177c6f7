"""Crypto suites: how a deployment signs tokens and certificates, hashes its audit chain and
wraps the private keys it stores (docs/plugins.md, "Crypto suites"; docs/security.md).

A suite bundles three parts, each a Protocol below:

- ``TokenSigning``: one JWS algorithm (``alg``) for access tokens (RFC 9068) and asset
  certificates: key generation, the stored form of a private key, its public JWK (with
  ``kid``), sign and verify. The JWS framing (headers, base64url, claims) is the core's.
- ``AuditHashing``: the keyed hash of an audit record's canonical JSON, named by
  ``scheme``; every record stores the scheme it was hashed with.
- ``KeyWrapping``: sealing a private key under the key-encryption key (KEK) kept outside
  the database; the wrapped text starts with ``<scheme>:`` so it names how to unwrap it.

The core's own suite ("default": ES256, HMAC-SHA256, AES-256-GCM) is opendata.crypto_default;
plugins add others (``Registry.add_crypto_suite``). The ``crypto_suite`` setting picks the
suite that makes *new* material; ``Suites`` keeps every suite the application knows, so what
older suites made (tokens signed by a retired key, audit records, wrapped keys) still
verifies and unwraps during and after a change of suite. An algorithm is always the one of
the key or record, never the one a token's header asks for.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Protocol, runtime_checkable

import jwt
from jwt.algorithms import Algorithm


@runtime_checkable
class TokenSigning(Protocol):
    """One JWS signature algorithm. Private and public keys are opaque handles (whatever
    the implementation needs); the core only stores ``private_text`` and ``public_jwk``."""

    alg: str  # the JWS "alg" header value and the JWK's "alg", e.g. "ES256"

    def generate(self) -> Any:
        """A new private key."""
        ...

    def private_text(self, private: Any, passphrase: str | None) -> str:
        """The private key as ASCII text for storage (before wrapping), encrypted under
        ``passphrase`` when one is given."""
        ...

    def load_private(self, text: str, passphrase: str | None) -> Any:
        """The private key back from ``private_text``; ValueError if it is not one."""
        ...

    def public_jwk(self, private: Any) -> dict[str, str]:
        """The public key's JWK with ``kid`` (a thumbprint of it), ``alg`` and ``use: sig``."""
        ...

    def load_public(self, jwk: Mapping[str, Any]) -> Any:
        """A public key from a JWK; ValueError if the JWK is not a key of this algorithm."""
        ...

    def sign(self, private: Any, data: bytes) -> bytes:
        """The JWS signature of ``data`` (the bytes that go, base64url, after the last dot)."""
        ...

    def verify(self, public: Any, data: bytes, signature: bytes) -> bool:
        """Whether ``signature`` is one of ``data`` by ``public``; never raises for a bad one."""
        ...


@runtime_checkable
class AuditHashing(Protocol):
    """The keyed hash of audit records (audit/chain.py), named in each record's ``scheme``."""

    scheme: str  # e.g. "hmac-sha256"; at most 16 characters (the column's width)

    def digest(self, key: bytes, data: bytes) -> str:
        """Lower-case hex of the keyed hash of ``data`` under the 32-byte audit key."""
        ...


class UnwrapError(ValueError):
    """A wrapped key that cannot be unwrapped; ``reason`` is "wrong_kek", "altered" or "malformed"."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@runtime_checkable
class KeyWrapping(Protocol):
    """Sealing stored private keys under the 32-byte key-encryption key (audit/keyfiles.py)."""

    scheme: str  # the wrapped text starts with f"{scheme}:", e.g. "kek-aes256gcm:v1"

    def wrap(self, kek: bytes, plaintext: bytes, context: bytes) -> str:
        """ASCII text ``<scheme>:...``; ``context`` (the key's kid) is authenticated, so a
        wrapped key cannot be moved to another row."""
        ...

    def unwrap(self, kek: bytes, wrapped: str, context: bytes) -> bytes:
        """The plaintext; UnwrapError for another KEK, an altered text or another context."""
        ...


@runtime_checkable
class CryptoSuite(Protocol):
    """What ``Registry.add_crypto_suite(name, suite)`` takes and ``crypto_suite`` names."""

    name: str
    signing: TokenSigning
    audit: AuditHashing
    wrapping: KeyWrapping


@dataclass(frozen=True)
class Suite:
    """A plain CryptoSuite."""

    name: str
    signing: TokenSigning
    audit: AuditHashing
    wrapping: KeyWrapping


class UnknownSuite(ValueError):
    """The ``crypto_suite`` setting names a suite no enabled plugin provides."""


class _JwsAlgorithm(Algorithm):
    """A TokenSigning seen by PyJWT, so that PyJWT does the JWS and JWT framing."""

    def __init__(self, signing: TokenSigning) -> None:
        self.signing = signing

    def prepare_key(self, key: Any) -> Any:
        return key

    def sign(self, msg: bytes, key: Any) -> bytes:
        return self.signing.sign(key, msg)

    def verify(self, msg: bytes, key: Any, sig: bytes) -> bool:
        return self.signing.verify(key, msg, sig)

    def to_jwk(self, key_obj: Any, as_dict: bool = False) -> Any:  # type: ignore[override]
        raise NotImplementedError("public JWKs come from TokenSigning.public_jwk")

    def from_jwk(self, jwk: str | dict[str, Any]) -> Any:  # type: ignore[override]
        return self.signing.load_public(json.loads(jwk) if isinstance(jwk, str) else jwk)


class _JWT(jwt.PyJWT):
    """PyJWT's claim checks over a PyJWS that knows the suites' algorithms and no other
    (no "none", no HS256: a token can never pick a key-less or symmetric check)."""

    def __init__(self, jws: jwt.PyJWS) -> None:
        super().__init__()
        self._jws = jws


@dataclass(frozen=True)
class Suites:
    """The suite that makes new material (``selected``) and every suite the application
    knows (``known``, by name, the selected one included) for verifying older material."""

    selected: CryptoSuite
    known: Mapping[str, CryptoSuite] = field(default_factory=dict)

    def __deepcopy__(self, memo: dict[int, Any]) -> "Suites":
        return self  # immutable; Litestar deep-copies what plugins hold

    def __post_init__(self) -> None:
        if self.selected.name not in self.known:
            object.__setattr__(self, "known", {**self.known, self.selected.name: self.selected})

    def _all(self) -> Iterable[CryptoSuite]:
        yield self.selected
        yield from (s for s in self.known.values() if s is not self.selected)

    @cached_property
    def signings(self) -> dict[str, TokenSigning]:
        out: dict[str, TokenSigning] = {}
        for suite in self._all():
            out.setdefault(suite.signing.alg, suite.signing)
        return out

    @cached_property
    def audit_schemes(self) -> dict[str, AuditHashing]:
        out: dict[str, AuditHashing] = {}
        for suite in self._all():
            out.setdefault(suite.audit.scheme, suite.audit)
        return out

    @cached_property
    def wrappings(self) -> dict[str, KeyWrapping]:
        out: dict[str, KeyWrapping] = {}
        for suite in self._all():
            out.setdefault(suite.wrapping.scheme, suite.wrapping)
        return out

    def signing(self, alg: str) -> TokenSigning | None:
        return self.signings.get(alg)

    def audit(self, scheme: str) -> AuditHashing | None:
        return self.audit_schemes.get(scheme)

    def wrapping_of(self, wrapped: str) -> KeyWrapping | None:
        """The wrapping whose scheme ``wrapped`` starts with (None: not wrapped, or unknown)."""
        for scheme, wrapping in self.wrappings.items():
            if wrapped.startswith(scheme + ":"):
                return wrapping
        return None

    @cached_property
    def jws(self) -> jwt.PyJWS:
        """A PyJWS knowing exactly the signing algorithms of these suites."""
        jws = jwt.PyJWS(algorithms=[])
        for alg, signing in self.signings.items():
            jws.register_algorithm(alg, _JwsAlgorithm(signing))
        return jws

    @cached_property
    def jwt(self) -> jwt.PyJWT:
        return _JWT(self.jws)


def resolve(name: str, provided: Mapping[str, CryptoSuite]) -> Suites:
    """The Suites of an application whose ``crypto_suite`` setting is ``name`` and whose
    core and enabled plugins provide ``provided`` (the core's "default" always among them)."""
    from opendata.crypto_default import DEFAULT_SUITE

    known = {DEFAULT_SUITE.name: DEFAULT_SUITE, **provided}
    selected = known.get(name)
    if selected is None:
        raise UnknownSuite(f"crypto_suite {name!r} is not provided by the core or an enabled plugin "
                           f"(known: {', '.join(sorted(known))}; enable its plugin in OPENDATA_PLUGINS)")
    for suite in known.values():
        if not isinstance(suite, CryptoSuite):
            raise UnknownSuite(f"crypto suite {getattr(suite, 'name', suite)!r} is not a "
                               "opendata.extensions.crypto.CryptoSuite")
    return Suites(selected, known)


def default_suites() -> Suites:
    return resolve("default", {})


def suites_for(settings: Any, provided: Mapping[str, CryptoSuite] | None = None) -> Suites:
    """The Suites of ``settings`` (its ``crypto_suite``); ``provided``: the suites of the
    application's registry, else those of the plugins ``settings`` enables."""
    if provided is None:
        provided = {}
        if getattr(settings, "plugins", ()):
            from opendata.extensions.loader import load_plugins

            provided = load_plugins(settings.plugins).crypto_suites
    return resolve(getattr(settings, "crypto_suite", "default"), provided)
