"""The tokens the index stores and queries match: pure functions, no database."""

from __future__ import annotations

import sqlite3

from hypothesis import given, settings, strategies as st

from opendata.catalogue.search import fts5_expression, word_alternatives
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
def test_any_query_text_compiles_to_an_expression_fts5_accepts(words: list[str]) -> None:
    """Whatever a client types, FTS5 parses the expression (tokens only ever reach it
    quoted), so a query can neither fail with a syntax error nor inject an operator."""
    alternatives = [word_alternatives(w.lower(), {}) for w in words]
    if not alternatives or not all(alternatives):
        return
    connection = sqlite3.connect(":memory:")
    connection.execute("CREATE VIRTUAL TABLE t USING fts5(a, tokenize='unicode61 remove_diacritics 0')")
    connection.execute("INSERT INTO t VALUES ('公交 bus')")
    connection.execute("SELECT count(*) FROM t WHERE t MATCH ?", (fts5_expression(alternatives),)).fetchone()
    connection.execute("SELECT count(*) FROM t WHERE t MATCH ?",
                       (fts5_expression(alternatives, ("a",)),)).fetchone()
    connection.close()
