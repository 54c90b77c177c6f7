"""Highlighted snippets of search results: the matched words in <mark>, the rest escaped."""

from __future__ import annotations

import re
from html import escape
from typing import Sequence

from opendata.search import tokens as tok
from opendata.catalogue.models import Dataset

SNIPPET_CHARS = 120


def needles(terms: Sequence[str], words: Sequence[Sequence[Sequence[str]]]) -> re.Pattern[str] | None:
    """A pattern for what the reader should see marked: each query word, its synonyms'
    surface forms and, for Latin words, their stems followed by any letters (school ->
    schools). Chinese bigram tokens of a longer word are marked too, so a match found
    through its pairs still shows where it is."""
    found: set[str] = set()
    for term in terms:
        for piece in tok.pieces(term):
            found.add(re.escape(piece))
    for word in words:
        for alternative in word:
            for token in alternative:
                found.add(re.escape(token) + (r"[a-z]*" if token.isascii() else ""))
    if not found:
        return None
    # Longest first, so 公共汽车 is marked whole rather than as 公共 + 汽车.
    return re.compile("|".join(sorted(found, key=len, reverse=True)), re.IGNORECASE)


def mark(text: str, pattern: re.Pattern[str]) -> str:
    out, last = [], 0
    for m in pattern.finditer(text):
        out.append(escape(text[last:m.start()]))
        out.append(f"<mark>{escape(m.group())}</mark>")
        last = m.end()
    out.append(escape(text[last:]))
    return "".join(out)


def snippet(text: str, pattern: re.Pattern[str], size: int = SNIPPET_CHARS) -> str | None:
    """The part of a long text around its first match, marked; None if nothing matches."""
    m = pattern.search(text)
    if m is None:
        return None
    start = max(0, m.start() - size // 3)
    end = min(len(text), start + size)
    return ("…" if start else "") + mark(text[start:end], pattern) + ("…" if end < len(text) else "")


def highlights_for(datasets: Sequence[Dataset], terms: Sequence[str],
                   words: Sequence[Sequence[Sequence[str]]]) -> dict[str, dict[str, str]]:
    pattern = needles(terms, words)
    if pattern is None:
        return {}
    result: dict[str, dict[str, str]] = {}
    for d in datasets:
        marked: dict[str, str] = {}
        for name in ("title_zh", "title_en"):
            value = getattr(d, name)
            if value and pattern.search(value):
                marked[name] = mark(value, pattern)
        for name in ("description_zh", "description_en"):
            value = getattr(d, name)
            if value and (found := snippet(value, pattern)):
                marked[name] = found
        if marked:
            result[d.id] = marked
    return result
