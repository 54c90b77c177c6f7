"""Masking rules (脱敏) applied to every row served, whatever the door or format.

A masked field is served as text. ``hash`` is a keyed HMAC rather than a bare hash: an
18-digit ID number has so little entropy that a plain SHA-256 could be reversed by
enumeration, while the keyed form stays stable (joinable across downloads) and secret.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from opendata.catalogue.models import Field
from opendata.catalogue.vocabulary import parse_mask

MASK_CHAR = "*"
# The name of the instance secret (opendata.secrets) that keys the ``hash`` rule.
MASKING_SECRET = "masking-hmac"
HASH_HEX_LENGTH = 32

Masker = Callable[[Any], Any]


def _text(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


def masker_for(rule: str, secret: bytes) -> Masker | None:
    """The function that masks one value under ``rule``; None for ``drop``."""
    parsed = parse_mask(rule)

    if parsed.kind == "drop":
        return None
    if parsed.kind == "hash":
        def hashed(value: Any) -> Any:
            if value is None:
                return None
            digest = hmac.new(secret, _text(value).encode("utf-8"), hashlib.sha256)
            return digest.hexdigest()[:HASH_HEX_LENGTH]
        return hashed

    first, last = parsed.first, parsed.last

    def kept(value: Any) -> Any:
        if value is None:
            return None
        text = _text(value)
        if first + last >= len(text):
            # Too short to keep that much and still hide something: hide it all.
            return MASK_CHAR * len(text)
        tail = text[len(text) - last:] if last else ""
        return text[:first] + MASK_CHAR * (len(text) - first - last) + tail

    return kept


@dataclass(frozen=True)
class ServedField:
    """A field as it is served: its dictionary entry, and its masker if it has one."""

    field: Field
    masker: Masker | None = None

    @property
    def name(self) -> str:
        return self.field.name

    @property
    def served_type(self) -> str:
        return "string" if self.masker is not None else self.field.type


def served_fields(fields: Sequence[Field], secret: bytes) -> list[ServedField]:
    """The fields that may be served at all (``drop`` removes a field), with maskers."""
    served = []
    for f in fields:
        if not f.mask:
            served.append(ServedField(f))
            continue
        masker = masker_for(f.mask, secret)
        if masker is not None:
            served.append(ServedField(f, masker))
    return served


def row_masker(served: Sequence[ServedField]) -> Callable[[Sequence[Any]], tuple[Any, ...]] | None:
    """A function masking whole rows in served order; None when nothing needs masking."""
    maskers = [(i, s.masker) for i, s in enumerate(served) if s.masker is not None]
    if not maskers:
        return None

    def mask(row: Sequence[Any]) -> tuple[Any, ...]:
        values = list(row)
        for index, masker in maskers:
            values[index] = masker(values[index])  # type: ignore[misc]
        return tuple(values)

    return mask
