""""Use your licence" (issue 13, item 1): a licence holder sees its licence, fields, quota
and resource ids on the dataset page and in the workspace, and every snippet shown runs
verbatim against a live server: the curl (token with the real client id, secret from the
environment, then rows) with a real curl, the SDK snippet with the in-repo SDK, and the
browser download links with the signed-in session (guard, fields, quota and audit)."""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import httpx
import pytest
from sqlalchemy import select

from opendata import create_app
from opendata.audit.models import AuditRecord
from opendata.db import Database
from opendata.settings import Settings
from tests.access.helpers import CREDIT_B, licensed_enterprise
from tests.portal.helpers import post_form, register_enterprise, sign_in, text_of
from tests.serving import running_server

SRC = Path(__file__).resolve().parents[2] / "src"
DATASET = "/datasets/si-headcount"


@pytest.fixture
def live(portal_settings: Settings) -> Iterator[httpx.Client]:
    with running_server(create_app(portal_settings)) as url, httpx.Client(base_url=url, timeout=60) as browser:
        yield browser


def _snippets(page: str, testid: str) -> list[str]:
    return [html.unescape(m) for m in re.findall(rf'<code data-testid="{testid}">(.*?)</code>', page, re.S)]


def _run(command: list[str], secret: str, cwd: Path) -> str:
    env = {**os.environ, "OPENDATA_CLIENT_SECRET": secret, "PYTHONPATH": str(SRC)}
    done = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _latest_download(database_url: str) -> AuditRecord:
    database = Database(database_url)
    with database.session() as session:
        record = session.scalars(select(AuditRecord).where(AuditRecord.action == "data.download")
                                 .order_by(AuditRecord.id.desc()).limit(1)).one()
    database.dispose()
    return record


def test_a_licence_holder_is_shown_how_to_use_it_and_every_snippet_runs(
        live: httpx.Client, database_url: str, tmp_path: Path) -> None:
    licensed = licensed_enterprise(live, database_url)  # fields month, headcount; query and download
    sign_in(live, "acme")
    page = live.get(DATASET).text
    shown = text_of(page)
    assert "使用授权" in shown and f"授权许可 #{licensed.licence_id}" in shown
    assert "需申请授权" not in shown  # the holder is not asked to apply
    assert _snippets(page, "resource-id") == ["monthly"]
    use = text_of(re.search(r'data-testid="licence-use">(.*?)</section>', page, re.S).group(1))
    assert "月份" in use and "headcount" in use and "credit_code" not in use  # only the licensed fields
    assert licensed.client_secret not in page  # the secret never appears: it is an environment variable

    [curl] = _snippets(page, "use-curl")
    assert licensed.client_id in curl and "$OPENDATA_CLIENT_SECRET" in curl
    rows = json.loads(_run(["bash", "-c", curl], licensed.client_secret, tmp_path))
    assert [sorted(item) for item in rows["items"]] == [["headcount", "month"]] * 3

    [sdk] = _snippets(page, "use-sdk")
    assert f'client_id={licensed.client_id!r}' in sdk and "OPENDATA_CLIENT_SECRET" in sdk
    install, _ = sdk.split("\n", 1)  # the light SDK, installed from this very portal
    assert install.startswith(f"# pip install {live.base_url}".rstrip("/") + "/sdk/opendata_client-")
    assert live.get(install.split()[-1]).status_code == 200 and "from opendata_client import Client" in sdk
    printed = _run([sys.executable, "-c", sdk], licensed.client_secret, tmp_path)
    assert printed.count("'headcount'") == 3
    written = (tmp_path / "si-headcount.csv").read_bytes()
    assert written.startswith(b"\xef\xbb\xbf") and b"credit_code" not in written

    links = re.findall(r'<a class="button download" href="([^"]+)" download>', page.split('data-testid="licensed-downloads"')[1])
    # Every format the resource is offered in (the registry's; NDJSON was missing here).
    assert [re.search(r"format=(\w+)", link)[1] for link in links] == ["csv", "csv", "xlsx", "json", "ndjson"]
    csv_link = html.unescape(next(link for link in links if "format=csv" in link and "bom" not in link))
    downloaded = live.get(csv_link, headers={"Sec-Fetch-Site": "same-origin"})
    assert downloaded.status_code == 200, downloaded.text
    assert downloaded.text.splitlines()[0].split(",") == ["month", "headcount"] and len(downloaded.text.splitlines()) == 4
    record = _latest_download(database_url)
    details = json.loads(record.details)
    assert (record.actor, record.outcome, details["licence"], details["fields"]) == (
        "user:acme", "success", licensed.licence_id, ["headcount", "month"])

    # Two downloads today (the SDK's and the browser's): the page shows what is left.
    remaining = re.search(r'data-testid="use-remaining-downloads">([\d,]+)<', live.get(DATASET).text)
    assert remaining and remaining.group(1) == "48"

    # The same guard: an ungranted field, another site's page, no session.
    outside = live.get(csv_link.replace("fields=month,headcount", "fields=credit_code"))
    assert outside.status_code == 403 and outside.json()["error"]["code"] == "field_not_licensed"
    cross = live.get(csv_link, headers={"Sec-Fetch-Site": "cross-site"})
    assert cross.status_code == 403 and cross.json()["error"]["code"] == "cross_site_download"
    anonymous = httpx.get(str(live.base_url).rstrip("/") + csv_link)
    assert anonymous.status_code == 403 and anonymous.json()["error"]["code"] == "licence_required"

    # The workspace shows the same, per licence.
    assert f'href="/workspace/licences/{licensed.licence_id}"' in live.get("/workspace").text
    workspace = live.get(f"/workspace/licences/{licensed.licence_id}").text
    assert _snippets(workspace, "use-curl") == [curl] and _snippets(workspace, "use-sdk") == [sdk]
    # Its h1 names the licence once; each section is headed by its dataset, not by the licence again.
    heading = re.search(r'data-testid="licence-use">\s*<h2>(.*?)</h2>', workspace, re.S)
    assert heading and text_of(heading.group(1)).strip() == "企业社保参保人数 si-headcount"
    assert "该许可的全部数据集" not in text_of(workspace)  # no link to the page itself
    assert "该许可的全部数据集" in shown  # the dataset page links to it
    english_page = live.get(f"{DATASET}?lang=en").text
    english = text_of(english_page)
    assert "Use your licence" in english and "Left today" in english and "使用授权" not in english
    # The curl's comment is in the page's language, and only the comment differs.
    assert curl.splitlines()[0] == "# OPENDATA_CLIENT_SECRET：创建（或轮换）接入应用时只显示一次的密钥"
    [english_curl] = _snippets(english_page, "use-curl")
    assert english_curl.splitlines()[0].startswith("# OPENDATA_CLIENT_SECRET: the secret shown once")
    assert not re.search(r"[\u4e00-\u9fff]", english_curl) and english_curl.splitlines()[1:] == curl.splitlines()[1:]


def test_a_download_quota_holds_in_the_browser(live: httpx.Client, database_url: str) -> None:
    licensed_enterprise(live, database_url, approval={"quotas": {
        "rows_per_day": 100, "downloads_per_day": 1, "compute_calls_per_day": 0}})
    sign_in(live, "acme")
    link = "/api/v1/datasets/si-headcount/resources/monthly/download?format=csv"
    assert live.get(link).status_code == 200
    refused = live.get(link)
    assert refused.status_code == 429 and "每日下载次数配额 1" in refused.json()["error"]["message"]


def test_without_a_licence_the_page_asks_to_apply_and_the_browser_cannot_download(
        live: httpx.Client, database_url: str) -> None:
    licensed_enterprise(live, database_url)
    live.cookies.clear()
    register_enterprise(live, "other", CREDIT_B)  # signed in, no licence
    page = live.get(DATASET).text
    assert "需申请授权" in text_of(page) and 'data-testid="licence-use"' not in page
    refused = live.get("/api/v1/datasets/si-headcount/resources/monthly/download?format=csv")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "licence_required"
    assert "holds no licence" in refused.json()["error"]["message"]


def test_the_client_secret_page_gives_a_token_curl_that_runs(
        live: httpx.Client, database_url: str, tmp_path: Path) -> None:
    licensed_enterprise(live, database_url)
    sign_in(live, "acme")
    created = post_form(live, "/workspace/clients", {"name": "报表系统"})
    assert created.status_code == 200, created.text
    [curl] = _snippets(created.text, "token-curl")
    assert "<secret>" not in curl and "odc_" in curl
    answer = json.loads(_run(["bash", "-c", curl], "", tmp_path))  # the snippet sets the secret itself
    assert answer["token_type"].lower() == "bearer" and answer["access_token"]
