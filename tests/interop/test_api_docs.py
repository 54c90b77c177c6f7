"""/schema, the interactive API docs, works under the portal's Content-Security-Policy:
every script and style comes from this server, none is inline, and Swagger UI renders the
OpenAPI document in a real browser (Debian's chromium via Playwright) without a single
CSP violation."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from opendata.portal import screenshots
from tests.interop.conftest import Portal


def test_docs_page_loads_nothing_from_elsewhere_and_nothing_inline(portal: Portal) -> None:
    page = portal.http.get("/schema")
    assert page.status_code == 200 and "script-src 'self'" in page.headers["content-security-policy"]
    html = page.text
    sources = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', html)
    assert sources and all(s.startswith("/") and not s.startswith("//") for s in sources), sources
    for source in sources:
        assert portal.http.get(source).status_code == 200, source
    # No inline script or style: every <script> has a src and an empty body.
    assert re.findall(r"<script(?![^>]*\bsrc=)", html) == [] and "<style" not in html and "style=" not in html
    assert re.findall(r"<script[^>]*>([^<]+)</script>", html) == []
    assert "cdn" not in html.lower() and "googleapis" not in html


@pytest.mark.skipif(not Path(screenshots.CHROMIUM).exists(), reason="chromium is not installed")
def test_swagger_ui_renders_the_document_under_the_csp(portal: Portal, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = screenshots.launch(playwright)
        try:
            page = browser.new_page()
            problems: list[str] = []
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            outside: list[str] = []
            page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(portal.url) else None)
            page.goto(f"{portal.url}/schema")
            page.wait_for_selector(".swagger-ui .info .title", timeout=30_000)
            assert "opendata" in page.inner_text(".swagger-ui .info .title")
            page.wait_for_selector(".opblock-tag", timeout=30_000)
            tags = page.locator(".opblock-tag").all_inner_texts()
            assert any("catalogue" in t for t in tags) and any("dcat" in t for t in tags)
            page.screenshot(path=str(tmp_path / "schema.png"))
            assert outside == []
            assert not [p for p in problems if "Content Security Policy" in p or "Refused" in p], problems
        finally:
            browser.close()
