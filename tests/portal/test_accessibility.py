"""Every page of the portal, in Chinese and in English, in one real browser (Debian's
chromium through Playwright) against one real server with the Guangzhou demo catalogue:
axe-core (the engine behind Lighthouse and axe DevTools) must find no critical and no
serious violation; no page shows text of the other language that is not marked as data;
and a phone sees its search results before the filters.

The walk visits each page once per language and keeps what it found for the tests below;
visitors, an enterprise with a licence, a publisher and an administrator each have their
own browser context (their own cookies).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

from opendata import create_app
from opendata.portal import screenshots
from opendata.settings import Settings, demo_catalogue_path
from tests.portal.helpers import PASSWORD, chromium, make_staff
from tests.serving import running_server

pytestmark = pytest.mark.skipif(not Path(screenshots.CHROMIUM).exists(),
                                reason=f"{screenshots.CHROMIUM} is not installed (apt-get install chromium)")

PUBLISHER = "transport-clerk"
BLOCKING = ("critical", "serious")
TOGGLE = "[data-testid=filters-toggle] > summary"
# Who sees which pages; {names} are filled from the seeded portal (the enterprise goes first:
# it files the data request the visitors then read).
PAGES: dict[str, tuple[str, ...]] = {
    "enterprise": (
        "/workspace", "/workspace/applications/new", "/workspace/applications/{review_id}",
        "/workspace/licences/{licence_id}", "/workspace/clients", "/workspace/compute", "/workspace/compute/jobs",
        "/workspace/usage", "/account", "/datasets/social-insurance-headcounts", "/requests/new", "/showcase/new",
        "/showcase/mine",
    ),
    "visitor": (
        "/", "/datasets", "/datasets?q=公交&domain=transport", "/datasets/bus-stops", "/datasets/air-quality-daily",
        "/datasets/social-insurance-headcounts", "/datasets/enterprise-tax-payments", "/datasets/bus-stops/history",
        "/open-index", "/requests", "/requests/{request_id}", "/assets", "/assets/{asset_code}", "/login",
        "/register", "/register?role=enterprise", "/showcase", "/showcase/{showcase_id}", "/no-such-page",
    ),
    "publisher": ("/publisher", "/publisher/datasets/bus-stops", "/publisher/feedback"),
    "admin": (
        "/admin", "/admin/applications/{review_id}", "/admin/licences", "/admin/users", "/admin/audit",
        "/admin/models", "/admin/compute/alerts", "/admin/compute/policies/{licence_id}", "/admin/feedback",
        "/admin/comments/{comment_id}/hide", "/admin/showcases", "/admin/compute/jobs", "/admin/assets",
    ),
}


@dataclass
class Visit:
    who: str
    lang: str
    path: str
    status: int
    violations: list[dict[str, Any]] = field(default_factory=list)
    leftovers: list[list[str]] = field(default_factory=list)


@dataclass
class Walk:
    base_url: str
    visits: list[Visit]


def axe_source() -> str:
    """axe-core's axe.min.js (MPL-2.0) as shipped in the axe-playwright-python wheel (test extra)."""
    return (resources.files("axe_playwright_python") / "axe.min.js").read_text(encoding="utf-8")


def _api_login(http: httpx.Client, username: str, password: str) -> dict[str, str]:
    response = http.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    http.cookies.clear()
    return {"Authorization": "Bearer " + response.json()["session_token"]}


def _seed(base_url: str, database_url: str) -> dict[str, Any]:
    """The screenshots' demo life (a licence, a pending application, use), plus a publisher,
    a registered asset, a comment and a data request, so that every page has content."""
    values = screenshots.seed(base_url, database_url)
    make_staff(database_url, PUBLISHER, "publisher", "gz-transport")
    with httpx.Client(base_url=base_url, timeout=60) as http:
        admin = _api_login(http, screenshots.ADMIN, screenshots.DEMO_PASSWORD)
        enterprise = _api_login(http, screenshots.ENTERPRISE, screenshots.DEMO_PASSWORD)
        registered = http.get("/api/v1/assets")  # the demo catalogue may register some already
        assert registered.status_code == 200, registered.text
        listed = registered.json()
        listed = listed["items"] if isinstance(listed, dict) else listed
        if listed:
            asset_code = listed[0]["code"]
        else:
            asset = http.post("/api/v1/assets", headers=admin, json={"dataset": "bus-stops"})
            assert asset.status_code == 201, asset.text
            asset_code = asset.json()["code"]
        comment = http.post("/api/v1/datasets/bus-stops/comments", headers=enterprise,
                            json={"kind": "problem", "category": "outdated", "body": "天河路站已迁至天河路(北)。"})
        assert comment.status_code == 201, comment.text
        licences = http.get("/api/v1/licences", headers=enterprise)
        assert licences.status_code == 200, licences.text
        shown = http.post("/api/v1/showcases", headers=enterprise, json={
            "title": "公交出行热力图", "description": "基于公交站点开放数据绘制的全市站点密度图。",
            "url": "https://apps.example.com/bus-heatmap", "datasets": ["bus-stops"], "kind": "app"})
        assert shown.status_code == 201, shown.text
        approved = http.post(f"/api/v1/admin/showcases/{shown.json()['id']}/decision", headers=admin,
                             json={"decision": "approve", "reason": "内容与数据相符。"})
        assert approved.status_code == 200, approved.text
    items = licences.json()
    items = items["items"] if isinstance(items, dict) else items
    return {**values, "asset_code": asset_code, "comment_id": comment.json()["id"],
            "licence_id": items[0]["id"], "showcase_id": shown.json()["id"]}


def _new_request(page: Any, base_url: str) -> str:
    page.goto(f"{base_url}/requests/new")
    page.fill("#d-title", "全市充电桩实时空闲状态")
    page.fill("#d-description", "希望按充电站开放实时空闲桩数量，便于出行导航。")
    page.click("form.form button[type=submit]")
    assert "/requests/" in page.url and "/new" not in page.url, page.content()
    return page.url.split("?")[0].rstrip("/").split("/")[-1]


def _audit(page: Any, *, contrast: bool = True) -> list[dict[str, Any]]:
    """axe's critical and serious violations on this page (axe comes with every document of
    the context: ``add_init_script``). ``contrast=False`` skips the colour-contrast rule (two
    thirds of axe's time): the walk checks contrast on the Chinese pages, the English ones
    have the same stylesheet and templates."""
    options = {"resultTypes": ["violations"], "rules": {"color-contrast": {"enabled": contrast}}}
    results = page.evaluate("options => axe.run(document, options)", options)
    return [{"id": v["id"], "impact": v["impact"], "help": v["help"],
             "targets": [n["target"] for n in v["nodes"]][:5], "summary": v["nodes"][0].get("failureSummary", "")}
            for v in results["violations"] if v["impact"] in BLOCKING]


# The other language's text on a page, outside what is marked as data: an element with its
# own lang (a Chinese name on an English page), translate="no" (names, codes), code, and
# form fields (what a user typed), and the drawing inside an image (role img: only its
# title and description are read out, a tooltip on a map point is not). On English pages:
# any Chinese character. On Chinese pages: English words, not counting identifiers (with
# _ . @ : / = - or digits), acronyms (no lower-case letter) and the few product names below.
LEFTOVERS_JS = r"""(lang) => {
  const cjk = /[\u3400-\u9fff]/;
  const names = new Set(["Excel", "Python", "Paillier", "OAuth", "curl", "pandas", "Arrow", "pip", "httpx"]);
  const presentational = (el) => {  // inside an image only its name (title, desc) is read out
    const image = el.closest('svg[role="img"]');
    if (!image) return false;
    const own = el.closest("title,desc");
    const names = (image.getAttribute("aria-labelledby") || "").split(/\s+/);
    return !(own && (own.parentElement === image || names.includes(own.id)));
  };
  const exempt = (el) => el.closest('script,style,code,pre,kbd,samp,textarea,template,[translate="no"]')
    || el.closest('[lang]') !== document.documentElement || presentational(el);
  const foreign = (text) => {
    if (lang === "en") return cjk.test(text);
    return (text.match(/[A-Za-z0-9_.@:\/=\-]+/g) || []).some(
      (w) => /[a-z]/.test(w) && /^[A-Za-z]{2,}$/.test(w) && !names.has(w));
  };
  const found = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const text = walker.currentNode.textContent.trim();
    const el = walker.currentNode.parentElement;
    if (text && !exempt(el) && foreign(text)) found.push([el.tagName.toLowerCase(), text.slice(0, 120)]);
  }
  for (const el of document.querySelectorAll("[placeholder],[aria-label],[alt],[title],input[type=submit]")) {
    if (exempt(el)) continue;
    for (const name of ["placeholder", "aria-label", "alt", "title", "value"]) {
      const value = el.getAttribute(name);
      const shown = value && (name !== "value" || el.type === "submit");
      if (shown && foreign(value)) found.push(["@" + name, value.slice(0, 120)]);
    }
  }
  return found;
}"""


def _refused_upload(page: Any, base_url: str, lang: str, csv_file: Path) -> Visit:
    page.goto(f"{base_url}/publisher/datasets/bus-stops?lang={lang}")
    page.set_input_files("#file-stops", str(csv_file))
    page.get_by_test_id("upload-stops").click()
    page.get_by_test_id("ingest-errors").wait_for()
    visit = Visit("publisher", lang, "/publisher/datasets/bus-stops (refused upload)", 200)
    visit.violations = _audit(page, contrast=lang == "zh")
    visit.leftovers = page.evaluate(LEFTOVERS_JS, lang)
    return visit


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
def walk(tmp_path_factory: pytest.TempPathFactory, browser: Any) -> Iterator[Walk]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("a11y"), catalogues=(demo_catalogue_path(),),
                        secure_cookies=False)
    source = axe_source()
    accounts = {"enterprise": (screenshots.ENTERPRISE, screenshots.DEMO_PASSWORD), "publisher": (PUBLISHER, PASSWORD),
                "admin": (screenshots.ADMIN, screenshots.DEMO_PASSWORD)}
    bad_csv = tmp_path_factory.mktemp("upload") / "stops.csv"
    bad_csv.write_text("stop_id,stop_name,district,road,longitude,latitude,routes,route_count,has_shelter,is_terminal\n"
                       "N1,新站,天河区,天河路,113.3,23.1,1路,many,maybe,false\n", encoding="utf-8")
    with running_server(create_app(settings)) as base_url:
        values = _seed(base_url, settings.resolved_database_url)
        visits: list[Visit] = []
        for who, paths in PAGES.items():
            context = browser.new_context(viewport=screenshots.DESKTOP)
            context.set_default_timeout(20_000)
            context.add_init_script(script=source)  # sent to the browser once, not once a page
            page = context.new_page()
            if who in accounts:
                screenshots.sign_in(page, base_url, *accounts[who])
                assert "/login" not in page.url, f"{who} did not sign in"
            if who == "enterprise":
                values["request_id"] = _new_request(page, base_url)
            for lang in ("zh", "en"):
                for path in paths:
                    url = base_url + path.format(**values)
                    response = page.goto(url + ("&" if "?" in url else "?") + f"lang={lang}")
                    visit = Visit(who, lang, path, response.status if response else 0)
                    visit.violations = _audit(page, contrast=lang == "zh")
                    visit.leftovers = page.evaluate(LEFTOVERS_JS, lang)
                    visits.append(visit)
                if who == "publisher":  # the report of a refused upload: a page only a POST shows
                    visits.append(_refused_upload(page, base_url, lang, bad_csv))
            context.close()
        yield Walk(base_url, visits)


def test_the_walk_reached_every_page(walk: Walk) -> None:
    expected = (sum(len(paths) for paths in PAGES.values()) + 1) * 2  # + the refused upload
    assert len(walk.visits) == expected
    broken = [(v.who, v.lang, v.path, v.status) for v in walk.visits
              if v.status != (404 if v.path == "/no-such-page" else 200)]
    assert not broken, broken


def test_axe_finds_no_critical_or_serious_violation(walk: Walk) -> None:
    found = [f"{v.who} {v.lang} {v.path}: {x['impact']} {x['id']} ({x['help']}) at {x['targets']}\n    {x['summary']}"
             for v in walk.visits for x in v.violations]
    assert not found, f"{len(found)} violations:\n" + "\n".join(found)


def test_no_page_shows_the_other_languages_words(walk: Walk) -> None:
    found = [f"{v.who} {v.lang} {v.path}: <{tag}> {text!r}" for v in walk.visits for tag, text in v.leftovers]
    assert not found, f"{len(found)} left-over strings:\n" + "\n".join(found)


def test_a_phone_sees_results_first_and_the_filters_behind_a_toggle(walk: Walk, browser: Any) -> None:
    from playwright.sync_api import expect

    context = browser.new_context(viewport=screenshots.PHONE, is_mobile=True, has_touch=True)
    context.add_init_script(script=axe_source())
    page = context.new_page()
    try:
        page.goto(f"{walk.base_url}/datasets?q=企业")
        expect(page.locator(".results .card").first).to_be_in_viewport()
        expect(page.locator('details[data-facet="domain"]')).to_be_hidden()
        page.locator(TOGGLE).tap()
        domain = page.locator('details[data-facet="domain"] a').first
        expect(domain).to_be_visible()
        domain.tap()
        expect(page.locator('details[data-facet="domain"] a.selected')).to_have_count(1)
        expect(page.locator(TOGGLE)).to_contain_text("已选 1 项")  # the toggle says a filter is on
        expect(page.locator('details[data-facet="domain"]')).to_be_hidden()  # closed again: results first
        expect(page.locator(".results .card").first).to_be_in_viewport()
        assert _audit(page) == []
    finally:
        context.close()
    desktop = browser.new_context(viewport=screenshots.DESKTOP)
    try:
        wide = desktop.new_page()
        wide.goto(f"{walk.base_url}/datasets?q=企业")
        expect(wide.locator(TOGGLE)).to_be_hidden()
        expect(wide.locator('details[data-facet="domain"] a').first).to_be_visible()  # no toggle on a wide screen
    finally:
        desktop.close()
