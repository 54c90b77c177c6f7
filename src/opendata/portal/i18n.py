"""Languages of the portal: Chinese first, English on request.

The language comes from ``?lang=en|zh`` (which the page then remembers in a cookie), else
from that cookie, else Chinese. Every string a page shows goes through one table,
``opendata.portal.messages.MESSAGES`` (key -> (中文, English)); a key missing from the
table is a bug and raises, so a page can never show a raw key.
"""

from __future__ import annotations

from typing import Any

from litestar import Request

from opendata.catalogue import vocabulary as vocab
from opendata.errors import AppError
from opendata.portal.error_messages import ERROR_MESSAGES
from opendata.portal.messages import MESSAGES

LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"
LANG_COOKIE = "opendata_lang"
LANG_PARAMETER = "lang"
HTML_LANG = {"zh": "zh-CN", "en": "en"}


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
