""""Did you mean": a corrected query for a search that found nothing.

The vocabulary is the words of dataset titles and tags (Latin words as written, Chinese
character pairs), built once per index generation and process. A Latin word is replaced by
the closest frequent vocabulary word (difflib's ratio, same first letter); a Chinese pair
that no title uses is replaced by the most frequent pair that sounds the same (公胶 ->
公交: most Chinese typos are homophones typed by pinyin input). A suggestion is offered
only if it finds something.
"""

from __future__ import annotations

import difflib
import threading
from collections import Counter, defaultdict
from typing import Callable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from opendata.search import tokens as tok
from opendata.catalogue.models import Dataset, DatasetTag


class Vocabulary:
    def __init__(self, texts: Sequence[str]) -> None:
        self.latin: dict[str, Counter] = defaultdict(Counter)
        self.pairs: Counter = Counter()
        for value in texts:
            for piece in tok.pieces(value):
                if tok.is_cjk(piece):
                    self.pairs.update(tok.bigrams(piece))
                elif piece.isalpha() and len(piece) > 2:
                    self.latin[piece[0]][piece] += 1
        self._by_sound: dict[str, str] | None = None

    def closest_word(self, word: str) -> str | None:
        bucket = self.latin.get(word[:1])
        if not bucket or word in bucket:
            return None
        close = difflib.get_close_matches(word, list(bucket), n=5, cutoff=0.75)
        return max(close, key=lambda w: (bucket[w], w)) if close else None

    def same_sound_pair(self, pair: str) -> str | None:
        if self._by_sound is None:
            from pypinyin import Style, lazy_pinyin

            by_sound: dict[str, str] = {}
            for candidate, _count in self.pairs.most_common():
                by_sound.setdefault("".join(lazy_pinyin(candidate, style=Style.NORMAL)), candidate)
            self._by_sound = by_sound
        from pypinyin import Style, lazy_pinyin

        return self._by_sound.get("".join(lazy_pinyin(pair, style=Style.NORMAL)))

    def correct(self, term: str) -> str:
        out = []
        for piece in tok.pieces(term):
            if tok.is_cjk(piece) and len(piece) > 1:
                chars = list(piece)
                for i, pair in enumerate(tok.bigrams(piece)):
                    if self.pairs[pair] == 0 and (replacement := self.same_sound_pair(pair)):
                        chars[i], chars[i + 1] = replacement[0], replacement[1]
                out.append("".join(chars))
            elif not tok.is_cjk(piece):
                out.append(self.closest_word(piece) or piece)
            else:
                out.append(piece)
        return "".join(out) if all(tok.is_cjk(p) for p in out) else " ".join(out)


_lock = threading.Lock()
_cached: tuple[tuple[str, int], Vocabulary] | None = None


def vocabulary(session: Session, generation: tuple[str, int]) -> Vocabulary:
    global _cached
    with _lock:
        if _cached is not None and _cached[0] == generation:
            return _cached[1]
    texts = [t for row in session.execute(select(Dataset.title_zh, Dataset.title_en)) for t in row if t]
    texts += list(session.scalars(select(DatasetTag.tag)))
    built = Vocabulary(texts)
    with _lock:
        _cached = (generation, built)
    return built


def suggest(session: Session, generation: tuple[str, int], terms: Sequence[str],
            has_hits: Callable[[list], bool], alternatives_of: Callable[[str], list]) -> str | None:
    vocab = vocabulary(session, generation)
    corrected = []
    for term in terms:
        if has_hits([alternatives_of(term)]):
            corrected.append(term)
            continue
        corrected.append(vocab.correct(term))
    if corrected == list(terms):
        return None
    words = [alternatives_of(t) for t in corrected]
    return " ".join(corrected) if all(words) and has_hits(words) else None
