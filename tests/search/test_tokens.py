"""The tokens the index stores and queries match: pure functions, no database."""

from __future__ import annotations

from hypothesis import given, settings, strategies as st

from opendata.catalogue.search import fts5_expression, tsquery_expression, word_alternatives
from opendata.search import tokens as tok


def test_chinese_runs_become_pairs_and_words_are_stemmed() -> None:
    assert tok.word_tokens("广州市公交 Bus stops") == ["广州", "州市", "市公", "公交", "bus", "stop"]
    assert tok.word_tokens("税") == ["税"]
    assert "bus" not in tok.word_tokens("business_status")


def test_pinyin_of_titles_and_pinyin_queries() -> None:
    assert tok.pinyin_tokens("公交站点") == ["gongjiao", "jiaozhan", "zhandian"]
    assert tok.split_pinyin("gongjiaozhandian") == ["gong", "jiao", "zhan", "dian"]
    assert tok.split_pinyin("school") is None
    assert tok.query_pinyin_tokens("gongjiao") == ["gongjiao"]
    assert tok.query_pinyin_tokens("an") is None  # one syllable would match too much


def test_synonyms_become_alternatives() -> None:
    word = word_alternatives("公交", {"公交": ["巴士", "公共汽车"]})
    assert word == [["公交"], ["巴士"], ["公共", "共汽", "汽车"]]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=12), min_size=1, max_size=4))
def test_any_query_text_compiles_to_a_quoted_expression(words: list[str]) -> None:
    """Whatever a client types, tokens reach FTS5 and tsquery only inside quotes."""
    alternatives = [word_alternatives(w.lower(), {}) for w in words]
    alternatives = [a for a in alternatives if a]
    if not alternatives:
        return
    for expression in (fts5_expression(alternatives), tsquery_expression(alternatives)):
        assert expression.count("(") == expression.count(")") or '"' in expression or "'" in expression
