"""Asset certificates (资产凭证): a JSON document whose RFC 8785 (JCS) canonical form is
signed with the portal's token signing key, as a JWS with detached payload (RFC 7515
Appendix F) and ``typ`` CERTIFICATE_TYPE, so that no access token can pass for one.

The file a holder keeps is ``{"format", "payload", "signature"}``: ``payload`` is the
readable certificate and ``signature`` the compact JWS ``<header>..<signature>``. Anyone
verifies it offline with the portal's published JWKS: the verifier recanonicalises
``payload``, so any edit to the readable part breaks the signature. Pure: no DB, no web.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import jwt
import rfc8785
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

FORMAT = "opendata-asset-certificate/1"
CERTIFICATE_TYPE = "asset-certificate+jws"
ALGORITHM = "ES256"


class CertificateInvalid(Exception):
    """The document is not a certificate, or its signature does not verify."""


@dataclass(frozen=True)
class VerifiedCertificate:
    payload: dict[str, Any]
    kid: str


def canonical(payload: dict[str, Any]) -> bytes:
    return rfc8785.dumps(payload)


def sign(payload: dict[str, Any], kid: str, private_key: ec.EllipticCurvePrivateKey) -> dict[str, Any]:
    signature = jwt.api_jws.encode(canonical(payload), private_key, algorithm=ALGORITHM,
                                   headers={"kid": kid, "typ": CERTIFICATE_TYPE}, is_payload_detached=True)
    return {"format": FORMAT, "payload": payload, "signature": signature}


def verify(document: Any, jwks: dict[str, Any]) -> VerifiedCertificate:
    """The certificate's payload if ``document`` is signed by a key of ``jwks``."""
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise CertificateInvalid(f"not an asset certificate (format is not {FORMAT!r})")
    payload, signature = document.get("payload"), document.get("signature")
    if not isinstance(payload, dict) or not isinstance(signature, str):
        raise CertificateInvalid("the certificate has no payload or no signature")
    try:
        header = jwt.get_unverified_header(signature)
    except jwt.PyJWTError as exc:
        raise CertificateInvalid(f"the signature is malformed: {exc}") from None
    if header.get("typ") != CERTIFICATE_TYPE or header.get("alg") != ALGORITHM:
        raise CertificateInvalid(f"the signature is not an asset certificate's (typ {header.get('typ')!r})")
    kid = header.get("kid")
    key = next((k for k in jwks.get("keys", []) if isinstance(k, dict) and k.get("kid") == kid), None)
    if key is None:
        raise CertificateInvalid(f"signed by key {kid!r}, which the given JWKS does not publish")
    try:
        jwt.api_jws.decode(signature, ECAlgorithm.from_jwk(json.dumps(key)), algorithms=[ALGORITHM],
                           detached_payload=canonical(payload))
    except (jwt.PyJWTError, ValueError, TypeError) as exc:
        raise CertificateInvalid(f"the signature does not match the certificate: it was altered ({exc})") from None
    return VerifiedCertificate(payload, kid)
