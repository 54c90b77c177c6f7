"""Asset certificates (资产凭证): a JSON document whose RFC 8785 (JCS) canonical form is
signed with the portal's token signing key (its crypto suite's algorithm: ES256 by default,
opendata.extensions.crypto), as a JWS with detached payload (RFC 7515 Appendix F) and
``typ`` CERTIFICATE_TYPE, so that no access token can pass for one.

The file a holder keeps is ``{"format", "payload", "signature"}``: ``payload`` is the
readable certificate and ``signature`` the compact JWS ``<header>..<signature>``. Anyone
verifies it offline with the portal's published JWKS: the verifier recanonicalises
``payload``, so any edit to the readable part breaks the signature, and checks it with the
algorithm of the JWKS key its ``kid`` names (the header must name the same one).
Pure: no DB, no web.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jwt
import rfc8785

from opendata.extensions.crypto import Suites, default_suites

FORMAT = "opendata-asset-certificate/1"
CERTIFICATE_TYPE = "asset-certificate+jws"


class CertificateInvalid(Exception):
    """The document is not a certificate, or its signature does not verify."""


@dataclass(frozen=True)
class VerifiedCertificate:
    payload: dict[str, Any]
    kid: str


def canonical(payload: dict[str, Any]) -> bytes:
    return rfc8785.dumps(payload)


def sign(payload: dict[str, Any], signer: Any, suites: Suites) -> dict[str, Any]:
    """``signer``: an access.keys.Signer (kid, alg, private_key)."""
    signature = suites.jws.encode(canonical(payload), signer.private_key, algorithm=signer.alg,
                                  headers={"kid": signer.kid, "typ": CERTIFICATE_TYPE}, is_payload_detached=True)
    return {"format": FORMAT, "payload": payload, "signature": signature}


def verify(document: Any, jwks: dict[str, Any], suites: Suites | None = None) -> VerifiedCertificate:
    """The certificate's payload if ``document`` is signed by a key of ``jwks``
    (``suites``: the algorithms this verifier knows; the core's by default)."""
    suites = suites or default_suites()
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise CertificateInvalid(f"not an asset certificate (format is not {FORMAT!r})")
    payload, signature = document.get("payload"), document.get("signature")
    if not isinstance(payload, dict) or not isinstance(signature, str):
        raise CertificateInvalid("the certificate has no payload or no signature")
    try:
        header = jwt.get_unverified_header(signature)
    except jwt.PyJWTError as exc:
        raise CertificateInvalid(f"the signature is malformed: {exc}") from None
    if header.get("typ") != CERTIFICATE_TYPE:
        raise CertificateInvalid(f"the signature is not an asset certificate's (typ {header.get('typ')!r})")
    kid = header.get("kid")
    key = next((k for k in jwks.get("keys", []) if isinstance(k, dict) and k.get("kid") == kid), None)
    if key is None:
        raise CertificateInvalid(f"signed by key {kid!r}, which the given JWKS does not publish")
    algorithm = key.get("alg") or _algorithm_of(key, suites)  # "alg" is optional in a JWK (RFC 7517)
    if header.get("alg") != algorithm:
        raise CertificateInvalid(f"the signature names {header.get('alg')!r}, but key {kid} signs with {algorithm!r}")
    signing = suites.signing(algorithm) if isinstance(algorithm, str) else None
    if signing is None:
        raise CertificateInvalid(f"key {kid} signs with {algorithm!r}, which no enabled crypto suite verifies "
                                 "(install its plugin and name it in OPENDATA_PLUGINS)")
    try:
        public = signing.load_public(key)
        suites.jws.decode(signature, public, algorithms=[algorithm], detached_payload=canonical(payload))
    except (jwt.PyJWTError, ValueError, TypeError) as exc:
        raise CertificateInvalid(f"the signature does not match the certificate: it was altered ({exc})") from None
    return VerifiedCertificate(payload, kid)


def _algorithm_of(key: dict[str, Any], suites: Suites) -> str | None:
    """The one known algorithm whose keys look like ``key`` (kty, crv), for a JWK without "alg"."""
    fits = []
    for alg, signing in suites.signings.items():
        try:
            signing.load_public(key)
        except (ValueError, TypeError):
            continue
        fits.append(alg)
    return fits[0] if len(fits) == 1 else None
