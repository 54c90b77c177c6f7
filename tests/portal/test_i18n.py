"""Chinese by default, English on request; one table holds every string of every page."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import parse_qsl
from pathlib import Path

import pytest
from litestar.testing import TestClient

from opendata.errors import AppError
from opendata.portal import i18n
from opendata.portal.error_messages import ERROR_MESSAGES
from opendata.portal.messages import MESSAGES

PORTAL = Path(i18n.__file__).parent
DYNAMIC = {  # keys templates build from a prefix and a value: every value must have its key
    "state.": ["draft", "submitted", "returned", "approved", "rejected", "closed", "revoked", "active", "pending",
               "expired", "disabled", "open", "planned", "published", "declined"],
    "facet.": ["domain", "open_level", "publisher", "format", "tag"],
    "sort.": ["relevance", "modified", "created", "title"],
    "op.": ["eq", "ne", "gt", "gte", "lt", "lte", "contains", "in", "isnull"],
    "type.": ["string", "integer", "decimal", "number", "boolean", "date", "datetime"],
    "command.": ["create", "edit", "submit", "approve", "reject", "return", "close", "revoke"],
    "operation.": ["query", "download", "compute"],
    "quota.": ["rows", "downloads", "compute"],
    "outcome.": ["success", "refused"],
    "role.": ["developer", "enterprise", "publisher", "admin"],
    "decision.": ["approve", "return", "reject"],
    "review.": ["rows_per_day", "downloads_per_day", "compute_calls_per_day"],
    "edit.": ["title_zh", "title_en", "description_zh", "description_en", "contact", "usage_notes", "spatial_coverage"],
    "audit.": ["actor", "action", "target"],
    "audit.placeholder.": ["actor", "action", "target"],
    "demand.sort.": ["support", "newest"],
    "model_state.": ["pending", "approved", "rejected"],
    "register.intro_": ["developer", "enterprise"],
    "mask.": ["none", "keep_first", "keep_last", "keep_first_last", "hash", "drop"],
    "error.": ["400", "401", "403", "404", "405", "409", "413", "429", "500", "csrf"],
    "notice.": ["signed_out", "registered", "saved", "submitted", "closed", "decided_approve", "decided_return",
                "decided_reject", "licence_revoked", "client_revoked", "user_disabled", "user_enabled", "metadata_saved",
                "upload_done", "request_created", "request_supported", "request_answered", "key_registered", "key_known",
                "key_revoked", "model_approved", "model_rejected"],
    "meta.": ["issued", "modified", "temporal_start", "temporal_end", "spatial_coverage", "industry_code", "contact",
              "source_system", "update_mechanism", "quality_standard", "usage_notes"],
}


def used_keys() -> set[str]:
    keys: set[str] = set()
    for path in [*PORTAL.glob("*.py"), *PORTAL.glob("templates/**/*.html")]:
        text = path.read_text()
        keys |= set(re.findall(r"""\bt\(\s*["']([a-z_]+(?:\.[a-z0-9_]+)+)["']\s*[,)]""", text))
        keys |= {k for k in re.findall(r"""["']((?:notice|error|index\.chart|download)\.[a-z0-9_]+)["']""", text)
                 if k != "error.html"}
    for prefix, values in DYNAMIC.items():
        keys |= {prefix + v for v in values}
    return keys


def test_every_key_used_is_translated_in_both_languages() -> None:
    missing = sorted(k for k in used_keys() if k not in MESSAGES)
    assert not missing, missing
    for key, (zh, en) in MESSAGES.items():
        assert zh.strip() and en.strip(), key
        assert re.findall(r"\{(\w+)\}", zh) == re.findall(r"\{(\w+)\}", en) or \
            set(re.findall(r"\{(\w+)\}", zh)) == set(re.findall(r"\{(\w+)\}", en)), key


def test_a_missing_key_is_an_error_not_a_raw_key() -> None:
    with pytest.raises(KeyError):
        i18n.Translator("zh")("no.such.key")


def test_errors_are_translated_by_code() -> None:
    error = AppError(400, "invalid_credit_code", "'X' is not a valid unified social credit code")
    assert i18n.Translator("zh").error(error) == ERROR_MESSAGES["invalid_credit_code"]
    assert i18n.Translator("en").error(error) == error.message
    unknown = AppError(400, "brand_new_code", "something new went wrong")
    assert i18n.Translator("zh").error(unknown) == "something new went wrong"


def test_the_language_switch_and_its_cookie(client: TestClient) -> None:
    chinese = client.get("/datasets/bus-stops").text
    assert '<html lang="zh-CN">' in chinese and "广州市公交站点" in chinese and "数据字典" in chinese
    assert 'href="/datasets/bus-stops?lang=en"' in chinese
    english = client.get("/datasets/bus-stops?lang=en")
    assert '<html lang="en">' in english.text and "Guangzhou bus stops" in english.text
    assert "Data dictionary" in english.text and "数据字典" not in english.text
    assert "opendata_lang=en" in english.headers["set-cookie"]
    # remembered on the next page, without the parameter
    home = client.get("/").text
    assert "Catalogue" in home and "Open-data index" in home and 'href="/?lang=zh"' in home
    conditional = client.get("/datasets/si-headcount").text
    assert "Enterprise social-insurance headcount" in conditional and "Apply for access" in conditional
    assert "按月统计的企业参保人数。" in conditional  # no English description: the Chinese one shows
    back = client.get("/?lang=zh").text
    assert "数据目录" in back


def test_switch_keeps_the_query(client: TestClient) -> None:
    html = client.get("/datasets?q=公交&domain=transport").text
    href = unescape(re.search(r'class="lang-switch" href="([^"]+)"', html).group(1))
    path, _, query = href.partition("?")
    assert path == "/datasets" and sorted(parse_qsl(query)) == [("domain", "transport"), ("lang", "en"), ("q", "公交")]
