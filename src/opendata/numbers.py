"""Whole numbers from text a client sent (query parameters, form fields, scope words).

``str.isdigit()`` is true for "²", "٣" and "５", which ``int()`` then refuses (a 500) or
reads as 3 and 5, and ``int()`` refuses more than 4,300 digits: a check that is meant to
let only a plain number through must ask for ASCII digits and bound their count first.
"""

from __future__ import annotations


def ascii_digits(raw: str, max_digits: int) -> int | None:
    """The number ``raw`` spells in 1 to ``max_digits`` ASCII digits, else None."""
    if not (0 < len(raw) <= max_digits and raw.isascii() and raw.isdigit()):
        return None
    return int(raw)
