"""Languages of the portal: Chinese first, English on request.

The language comes from ``?lang=en|zh`` (which the page then remembers in a cookie), else
from that cookie, else Chinese. Every string a page shows goes through one table,
``opendata.portal.messages.MESSAGES`` (key -> (中文, English)); a key missing from the
table is a bug and raises, so a page can never show a raw key.
"""

from __future__ import annotations

import re
from typing import Any, Iterable

from litestar import Request
from markupsafe import Markup, escape

from opendata.catalogue import vocabulary as vocab
from opendata.errors import AppError
from opendata.portal.error_messages import ERROR_MESSAGES
from opendata.portal.messages import MESSAGES

LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"
LANG_COOKIE = "opendata_lang"
LANG_PARAMETER = "lang"
HTML_LANG = {"zh": "zh-CN", "en": "en"}
CJK_CHARS = re.compile(r"[\u3400-\u9fff]")
LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
# Units of measure as catalogues write them (GB/T 3101 words), in English. A unit not
# listed shows as written (marked as Chinese on English pages by the ``data`` filter).
UNITS_EN = {
    "人": "persons", "元": "yuan", "万元": "10,000 yuan", "亿元": "100 million yuan", "元/公斤": "yuan/kg",
    "元/吨": "yuan/t", "个": "count", "条": "count", "家": "organisations", "所": "institutions", "册": "volumes",
    "张": "beds", "床": "beds", "辆": "vehicles", "次": "times", "分": "points", "度": "°", "吨": "t",
    "公斤": "kg", "千克": "kg", "小时": "hours", "分钟": "minutes", "天": "days", "日": "days", "月": "months",
    "年": "years", "平方米": "m²", "平方公里": "km²", "公里": "km", "米": "m", "千瓦时": "kWh", "万人": "10,000 persons",
}


def requested_language(request: Request) -> str | None:
    """The language asked for in this request's query string, if a valid one."""
    value = request.query_params.get(LANG_PARAMETER)
    return value if value in LANGUAGES else None


def language_of(request: Request) -> str:
    asked = requested_language(request)
    if asked:
        return asked
    remembered = request.cookies.get(LANG_COOKIE)
    return remembered if remembered in LANGUAGES else DEFAULT_LANGUAGE


class Translator:
    """``t("nav.home")`` -> 首页 or Home; ``t("search.total", n=3)`` fills placeholders."""

    def __init__(self, lang: str) -> None:
        if lang not in LANGUAGES:
            raise ValueError(f"unknown language {lang!r}")
        self.lang = lang
        self._index = LANGUAGES.index(lang)

    def __call__(self, message_key: str, /, **values: Any) -> str:
        text = MESSAGES[message_key][self._index]
        if any(isinstance(value, Markup) for value in values.values()):
            return Markup(escape(text)).format(**values)  # marked-up values (a name's lang) stay marked up
        return text.format(**values) if values else text

    def has(self, key: str) -> bool:
        return key in MESSAGES

    def pick(self, zh: str | None, en: str | None) -> str:
        """The English text when the page is in English and there is one, else the Chinese."""
        if self.lang == "en" and en:
            return en
        return zh or en or ""

    def title(self, item: Any, stem: str = "title") -> str:
        """A dataset's (resource's, field's) title in the page language: title_zh / title_en."""
        return self.pick(getattr(item, f"{stem}_zh", None), getattr(item, f"{stem}_en", None))

    def name(self, item: Any) -> str:
        """A publisher's name in the page language: name_zh / name_en."""
        return self.pick(getattr(item, "name_zh", None), getattr(item, "name_en", None))

    def in_language(self, text: str) -> bool:
        """Whether a word (a tag) belongs on a page of this language: Chinese words on
        Chinese pages, others on English pages; words without lower-case letters (AQI,
        PM2.5) on both."""
        if not re.search(r"[a-z\u3400-\u9fff]", text):
            return True
        return bool(CJK_CHARS.search(text)) == (self.lang == "zh")

    def tags(self, tags: Iterable[str]) -> list[str]:
        """A dataset's tags in the page language (catalogues give tags in both), or all of
        them when it has none in this language."""
        every = list(tags)
        return [tag for tag in every if self.in_language(tag)] or every

    def data(self, value: Any) -> Markup:
        """A value from the data or from a user (a name, a catalogue value, a reason), not
        from the message table, marked so that the page's language stays what it claims
        (WCAG 3.1.2, language of parts): Chinese text on an English page gets
        ``lang="zh-CN"`` (a screen reader reads it as Chinese); Latin text on a Chinese page
        gets ``translate="no"`` (a name, a code, the publisher's own words)."""
        text = "" if value is None else str(value)
        if self.lang == "en" and CJK_CHARS.search(text):
            return Markup('<span lang="zh-CN">{}</span>').format(text)
        if self.lang == "zh" and LATIN_WORD.search(text) and not CJK_CHARS.search(text):
            return Markup('<span translate="no">{}</span>').format(text)
        return escape(text)

    def unit(self, unit: str | None) -> str:
        """A field's unit in the page language: 人 -> persons on English pages."""
        if not unit:
            return ""
        return UNITS_EN.get(unit, unit) if self.lang == "en" else unit

    def term(self, term: vocab.Term | None, code: str = "") -> str:
        if term is None:
            return code
        return term.en if self.lang == "en" else term.zh

    def domain(self, code: str) -> str:
        return self.term(vocab.DOMAIN_BY_CODE.get(code), code)

    def open_level(self, code: str) -> str:
        return self.term(vocab.OPEN_LEVEL_BY_CODE.get(code), code)

    def frequency(self, code: str) -> str:
        return self.term(vocab.FREQUENCY_BY_CODE.get(code), code)

    def sensitivity(self, code: str) -> str:
        return self.term(vocab.SENSITIVITY_BY_CODE.get(code), code)

    def error(self, error: AppError) -> str:
        """A service error as a sentence in the page language.

        English pages show the service's own message, which names the value that was
        wrong. Chinese pages show the translation of the error's code; a code the table
        does not know keeps the service's message, so the user always learns what failed.
        """
        if self.lang == "en":
            return error.message
        text = ERROR_MESSAGES.get(error.code, error.message)
        if "{retry_after}" in text and isinstance(error.details, dict):  # the throttle's wait
            text = text.replace("{retry_after}", str(error.details.get("retry_after", "")))
        return text
