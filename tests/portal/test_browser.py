"""The portal in a real browser (Playwright driving Debian's chromium) against a real server
with the Guangzhou demo catalogue: the journeys of visitors, enterprises, administrators
and publishers (the enterprise runs the snippets it copies from the pages), the language
switch, and a phone-sized screen.

One server and one browser serve the whole module; each journey has its own browser
contexts (its own cookies), so the journeys do not lean on one another.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import pytest

from opendata import create_app
from opendata.client import OpenDataClient, OpenDataError
from opendata.portal import screenshots
from opendata.settings import Settings, demo_catalogue_path
from tests.portal.helpers import PASSWORD, chromium, make_staff
from tests.serving import running_server

pytestmark = pytest.mark.skipif(not Path(screenshots.CHROMIUM).exists(),
                                reason=f"{screenshots.CHROMIUM} is not installed (apt-get install chromium)")

BOM = b"\xef\xbb\xbf"
HEADCOUNTS = "social-insurance-headcounts"
CREDIT_CODE = "91440106MA5CHL015G"  # a valid unified social credit code (GB 32100 check character)


@dataclass
class Portal:
    base_url: str
    database_url: str


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("browser"), catalogues=(demo_catalogue_path(),),
                        secure_cookies=False)
    with running_server(create_app(settings)) as base_url:
        make_staff(settings.resolved_database_url, "admin", "admin")
        make_staff(settings.resolved_database_url, "transport-clerk", "publisher", "gz-transport")
        yield Portal(base_url, settings.resolved_database_url)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def new_page(browser: Any) -> Iterator[Any]:
    contexts = []

    def make(**options: Any) -> Any:
        context = browser.new_context(accept_downloads=True, **options)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def sign_in(page: Any, base_url: str, username: str) -> None:
    screenshots.sign_in(page, base_url, username, PASSWORD)
    assert "/login" not in page.url, page.content()


def test_visitor_searches_filters_opens_a_dataset_and_downloads_csv_for_excel(portal: Portal, new_page: Any) -> None:
    from playwright.sync_api import expect

    page = new_page()
    page.goto(portal.base_url)
    page.fill("#home-q", "公交")
    page.press("#home-q", "Enter")
    expect(page.get_by_test_id("results-total")).to_contain_text("共找到")
    page.locator('details[data-facet="domain"] a', has_text="交通").click()
    expect(page).to_have_url(re.compile(r"domain=transport"))
    expect(page.locator('details[data-facet="domain"] a.selected')).to_contain_text("交通")
    page.get_by_role("link", name="广州市公交站点").click()
    expect(page.get_by_test_id("dataset-title")).to_have_text("广州市公交站点")
    expect(page.get_by_test_id("preview").locator("tbody tr")).to_have_count(10)

    page.select_option('select[name="field"]', "district")
    page.fill('input[name="value"]', "天河区")
    page.click("form.filter-form button[type=submit]")
    summary = page.get_by_test_id("preview-matching").inner_text()
    matching = int(re.search(r"符合条件 ([\d,]+) 行", summary).group(1).replace(",", ""))
    assert 0 < matching < 1500
    with page.expect_download() as download:
        page.click('a[data-format="download.csv_excel"]')
    content = Path(download.value.path()).read_bytes()
    assert content.startswith(BOM), content[:10]
    rows = list(csv.DictReader(io.StringIO(content[len(BOM):].decode("utf-8"))))
    # CSV for Excel: headed by the dictionary's titles, Chinese first
    assert list(rows[0])[:3] == ["站点编号 / Stop ID", "站点名称 / Stop name", "所属区 / District"]
    assert len(rows) == matching and {r["所属区 / District"] for r in rows} == {"天河区"}
    page.reload()
    expect(page.get_by_test_id("download-count")).to_have_text("1")


def _register_enterprise(page: Any, base_url: str) -> None:
    page.goto(f"{base_url}/register?role=enterprise")
    for selector, value in [("#r-username", "hualian"), ("#r-email", "ops@hualian.example.com"),
                            ("#r-display", "华联征信 张经理"), ("#r-password", PASSWORD), ("#r-password2", PASSWORD),
                            ("#r-org", "广州华联征信服务有限公司"), ("#r-code", CREDIT_CODE), ("#r-contact", "张经理"),
                            ("#r-phone", "020-38886666")]:
        page.fill(selector, value)
    page.click("form.form button[type=submit]")
    # Registration answers neutrally and does not sign in: the new account signs in next.
    assert page.url.startswith(f"{base_url}/login?notice=registration_received"), page.content()
    sign_in(page, base_url, "hualian")
    assert page.url.startswith(f"{base_url}/workspace"), page.content()


def _apply(page: Any, base_url: str) -> str:
    from playwright.sync_api import expect

    page.goto(f"{base_url}/datasets/{HEADCOUNTS}")
    page.get_by_test_id("apply").click()
    page.check(f'input[name="operations.{HEADCOUNTS}"][value="download"]')
    for name in ("credit_code", "month", "headcount"):
        page.check(f'input[name="fields.{HEADCOUNTS}"][value="{name}"]')
    page.fill("#purpose", "评估小微企业用工稳定性，用于普惠金融授信。")
    page.fill("#scenario", "合作银行的贷前核查。")
    page.check('input[name="terms"]')
    page.get_by_test_id("submit-application").click()
    expect(page.get_by_test_id("application-state")).to_contain_text("待审核")
    return page.url.split("?")[0]


def _decide(admin: Any, base_url: str, application_id: str, decision: str, reason: str,
            drop: tuple[str, ...] = (), rows_per_day: str | None = None) -> None:
    from playwright.sync_api import expect

    admin.goto(f"{base_url}/admin")
    admin.click(f'a[href="/admin/applications/{application_id}"]')
    admin.check(f'input[name="decision"][value="{decision}"]')
    for name in drop:
        admin.uncheck(f'input[name="fields.{HEADCOUNTS}"][value="{name}"]')
    if rows_per_day is not None:
        admin.fill("#q-rows_per_day", rows_per_day)
    admin.fill("#reason", reason)
    if decision == "reject":
        admin.check('input[name="confirm"]')
    admin.get_by_test_id("decide").click()
    expected = {"return": "已退回", "approve": "已批准", "reject": "已驳回"}[decision]
    expect(admin.get_by_test_id("application-state")).to_contain_text(expected)


def _copied(page: Any, code: Any) -> str:
    """What the copy button beside a code block puts on the clipboard."""
    from playwright.sync_api import expect

    button = code.locator("xpath=ancestor::div[contains(@class, 'code-block')]").locator("button.copy-button")
    button.click()
    expect(button).to_have_text("✓")  # the clipboard was written
    return page.evaluate("navigator.clipboard.readText()")


def _run(command: list[str], secret: str, cwd: Path) -> str:
    """A pasted snippet in a fresh shell whose only credential is the secret in the environment."""
    env = {**os.environ, "OPENDATA_CLIENT_SECRET": secret}
    done = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_enterprise_applies_is_returned_resubmits_is_approved_reads_and_is_revoked(
        portal: Portal, new_page: Any, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    base = portal.base_url
    page = new_page(permissions=["clipboard-read", "clipboard-write"])
    _register_enterprise(page, base)
    application_url = _apply(page, base)
    application_id = application_url.rstrip("/").split("/")[-1]

    admin = new_page()
    sign_in(admin, base, "admin")
    _decide(admin, base, application_id, "return", "请写明合作银行的名称。")

    page.goto(f"{base}/workspace")
    expect(page.get_by_test_id("applications")).to_contain_text("请写明合作银行的名称。")
    page.goto(application_url)
    expect(page.get_by_test_id("application-state")).to_contain_text("已退回")
    expect(page.get_by_test_id("event-reason").last).to_contain_text("请写明合作银行的名称。")
    page.get_by_test_id("edit-application").click()
    page.fill("#scenario", "广州银行小微企业信用贷款的贷前核查。")
    page.get_by_test_id("submit-application").click()
    expect(page.get_by_test_id("application-state")).to_contain_text("待审核")

    _decide(admin, base, application_id, "approve", "同意；信用代码不予提供。", drop=("credit_code",),
            rows_per_day="500")

    page.goto(f"{base}/workspace")
    licence = page.get_by_test_id("licence")
    expect(licence).to_contain_text("有效")
    expect(licence).to_contain_text("month, headcount")
    expect(page.get_by_test_id("remaining-rows")).to_have_text("500")
    page.goto(f"{base}/workspace/clients")
    page.fill("#client-name", "授信审查系统")
    page.get_by_test_id("create-client").click()
    client_id = page.get_by_test_id("client-id").inner_text()
    secret = page.get_by_test_id("client-secret").inner_text()
    token = json.loads(_run(["bash", "-c", _copied(page, page.get_by_test_id("token-curl"))], "", tmp_path))
    assert token["access_token"] and token["token_type"].lower() == "bearer"

    with OpenDataClient(base, client_id=client_id, client_secret=secret) as sdk:  # client credentials
        first = sdk.rows_page(HEADCOUNTS, "headcounts", limit=40)
        assert len(first["items"]) == 40 and set(first["items"][0]) == {"month", "headcount"}
        page.goto(f"{base}/workspace")
        expect(page.get_by_test_id("remaining-rows")).to_have_text("460")

        # 使用授权 on the dataset page: the real client id in the snippets, and a download in the browser
        page.goto(f"{base}/datasets/{HEADCOUNTS}")
        use = page.get_by_test_id("licence-use")
        expect(use.get_by_test_id("use-curl")).to_contain_text(client_id)
        expect(use.get_by_test_id("use-remaining-rows")).to_have_text("460")
        with page.expect_download() as download:
            use.get_by_test_id("licensed-downloads").locator("a").first.click()
        header = Path(download.value.path()).read_text(encoding="utf-8").splitlines()[0]
        assert header.split(",") == ["month", "headcount"]
        # The curl and SDK snippets, copied with their buttons and run as pasted (5 rows each).
        rows = json.loads(_run(["bash", "-c", _copied(page, use.get_by_test_id("use-curl"))], secret, tmp_path))
        assert [sorted(item) for item in rows["items"]] == [["headcount", "month"]] * 5
        printed = _run([sys.executable, "-c", _copied(page, use.get_by_test_id("use-sdk"))], secret, tmp_path)
        assert printed.count("'headcount'") == 5
        written = (tmp_path / f"{HEADCOUNTS}.csv").read_bytes()
        assert written.startswith(BOM) and b"credit_code" not in written
        page.reload()
        expect(page.get_by_test_id("licence-use").get_by_test_id("use-remaining-rows")).to_have_text("450")

        admin.goto(f"{base}/admin/licences")
        licence_id = admin.locator("[data-testid^=revoke-]").first.get_attribute("data-testid").split("-")[1]
        card = admin.get_by_test_id(f"licence-{licence_id}")
        card.locator("summary").click()  # revoking sits behind a disclosure, with a reason and a confirmation
        admin.fill(f"#revoke-{licence_id}-reason", "发现超范围使用。")
        card.locator('input[name="confirm"]').check()
        admin.get_by_test_id(f"revoke-{licence_id}").click()
        expect(admin.get_by_test_id(f"licence-{licence_id}")).to_contain_text("已撤销")

        with pytest.raises(OpenDataError) as refused:
            sdk.rows_page(HEADCOUNTS, "headcounts", limit=5)
        assert refused.value.status in (401, 403)
    page.goto(f"{base}/workspace")
    expect(page.get_by_test_id("licence")).to_contain_text("发现超范围使用。")
    page.goto(f"{base}/workspace/usage")
    expect(page.get_by_test_id("audit-records")).to_contain_text("data.query")


def test_publisher_uploads_a_bad_csv_and_sees_the_row_level_errors(portal: Portal, new_page: Any,
                                                                   tmp_path: Path) -> None:
    from playwright.sync_api import expect

    bad = tmp_path / "stops.csv"
    bad.write_text(
        "stop_id,stop_name,district,road,longitude,latitude,routes,route_count,has_shelter,is_terminal\n"
        "N1,新站一,天河区,天河路,113.3,23.1,1路,3,true,false\n"
        "N2,新站二,越秀区,北京路,113.2,23.1,2路,many,true,false\n"
        "N3,新站三,海珠区,江南大道,113.2,23.0,3路,2,maybe,false\n", encoding="utf-8")
    page = new_page()
    sign_in(page, portal.base_url, "transport-clerk")
    page.goto(f"{portal.base_url}/publisher")
    page.get_by_role("link", name="广州市公交站点").click()
    page.set_input_files("#file-stops", str(bad))
    page.get_by_test_id("upload-stops").click()
    report = page.get_by_test_id("ingest-errors")
    expect(report).to_contain_text("未导入")
    rows = report.locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("3")
    expect(rows.nth(0)).to_contain_text("route_count")
    expect(rows.nth(0)).to_contain_text("many")
    expect(rows.nth(1)).to_contain_text("has_shelter")
    expect(rows.nth(1)).to_contain_text("maybe")
    page.goto(f"{portal.base_url}/datasets/bus-stops")
    expect(page.get_by_test_id("preview-matching")).to_contain_text("1,500")


def test_the_language_switch(portal: Portal, new_page: Any) -> None:
    from playwright.sync_api import expect

    page = new_page()
    page.goto(f"{portal.base_url}/datasets/bus-stops")
    expect(page.locator(".brand-name")).to_have_text("广州市公共数据开放平台")
    page.get_by_test_id("lang-switch").click()
    expect(page.get_by_test_id("dataset-title")).to_have_text("Guangzhou bus stops")
    expect(page.locator(".brand-name")).to_have_text("Guangzhou Public Data Open Platform")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.locator(".main-nav").get_by_role("link", name="Catalogue", exact=True).click()
    expect(page.get_by_test_id("results-total")).to_contain_text("datasets found")  # remembered by cookie
    page.get_by_test_id("lang-switch").click()
    expect(page.get_by_test_id("results-total")).to_contain_text("共找到")


def test_a_phone_sized_screen(portal: Portal, new_page: Any) -> None:
    from playwright.sync_api import expect

    page = new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    width = "Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
    for path in ("/", "/datasets?q=企业", "/datasets/air-quality-daily", "/open-index", "/login"):
        page.goto(portal.base_url + path)
        assert page.evaluate(width) <= 390, f"{path} scrolls sideways"
    page.goto(portal.base_url)
    nav = page.locator(".main-nav")
    expect(nav.get_by_role("link", name="数据目录")).to_be_in_viewport()
    expect(nav.get_by_role("link", name="登录")).to_be_in_viewport()
    page.fill("#home-q", "空气")
    page.locator(".search-bar button").tap()
    page.get_by_role("link", name="广州市环境空气质量日报（国控站点）").tap()
    table = page.get_by_test_id("preview")
    expect(table).to_be_visible()
    # the wide table scrolls inside its own box, not the page
    assert page.evaluate("document.querySelector('.table-scroll').scrollWidth > "
                         "document.querySelector('.table-scroll').clientWidth")
    assert page.evaluate(width) <= 390
    excel = page.locator('a[data-format="download.csv_excel"]')
    excel.scroll_into_view_if_needed()
    expect(excel).to_be_in_viewport()  # the download buttons wrap onto the screen, none is cut off


def test_screenshots_module_writes_the_pages(portal: Portal, browser: Any, tmp_path: Path) -> None:
    shots = (screenshots.Shot("home", "/"), screenshots.Shot("phone", "/datasets/bus-stops", phone=True),
             screenshots.Shot("admin", "/admin", "admin"))
    written = screenshots.capture(browser, portal.base_url, tmp_path, {"admin": ("admin", PASSWORD)}, {}, shots)
    assert [p.name for p in written] == ["home.png", "phone.png", "admin.png"]
    for path in written:
        data = path.read_bytes()
        assert data.startswith(b"\x89PNG") and len(data) > 10_000

