"""Screenshots of the portal for the README: ``python -m opendata.portal.screenshots``.

Builds a throw-away portal on the Guangzhou demo catalogue in a temporary directory,
gives it a little life through the public API (an enterprise with an approved licence
and a pending application, some downloads and queries), then drives Debian's chromium
(Playwright, never ``playwright install``) through the pages and writes PNGs.

    python -m opendata.portal.screenshots                 # into docs/screenshots/
    python -m opendata.portal.screenshots --out /tmp/shots

Chinese text needs a CJK font on the machine (e.g. ``apt-get install fonts-wqy-microhei``).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, Iterator

import httpx

from opendata import localtime

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
DEMO_PASSWORD = "screenshots-demo-2024"
ENTERPRISE = "hualian-credit"
ADMIN = "review-admin"


@dataclass(frozen=True)
class Shot:
    name: str
    path: str
    account: str | None = None  # who is signed in: None, "enterprise" or "admin"
    phone: bool = False


SHOTS = (
    Shot("home", "/"),
    Shot("search", "/datasets?q=企业"),
    Shot("dataset", "/datasets/bus-stops"),
    Shot("open-index", "/open-index"),
    Shot("enterprise-workspace", "/workspace", "enterprise"),
    Shot("licence-use", "/workspace/licences/{licence_id}", "enterprise"),
    Shot("admin-review", "/admin/applications/{review_id}", "admin"),
    Shot("phone-dataset", "/datasets/air-quality-daily", phone=True),
    Shot("phone-search", "/datasets?q=企业", phone=True),
)


def launch(playwright: Any) -> Any:
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def sign_in(page: Any, base_url: str, username: str, password: str) -> None:
    page.goto(f"{base_url}/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("form.form button[type=submit]")
    page.wait_for_load_state("networkidle")


def capture(browser: Any, base_url: str, out_dir: Path, accounts: dict[str, tuple[str, str]],
            values: dict[str, Any], shots: tuple[Shot, ...] = SHOTS) -> list[Path]:
    """One PNG per shot (full page), each in a fresh browser context."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for shot in shots:
        context = browser.new_context(viewport=PHONE if shot.phone else DESKTOP, device_scale_factor=1)
        page = context.new_page()
        if shot.account:
            sign_in(page, base_url, *accounts[shot.account])
        page.goto(base_url + shot.path.format(**values))
        page.wait_for_load_state("networkidle")
        target = out_dir / f"{shot.name}.png"
        page.screenshot(path=str(target), full_page=not shot.phone)
        written.append(target)
        context.close()
    return written


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """The app on a free loopback port, in a thread, for as long as the block runs."""
    import socket

    import uvicorn

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 120
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the portal did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def _ok(response: httpx.Response) -> Any:
    if response.is_error:
        raise RuntimeError(f"{response.request.method} {response.request.url}: {response.status_code} {response.text}")
    return response.json() if response.content else None


def seed(base_url: str, database_url: str) -> dict[str, Any]:
    """An enterprise with one approved licence and one pending application, an
    administrator, and some use of the open data (so the index has bars to draw)."""
    from opendata.access.accounts import AccountInput, create_user
    from opendata.db import Database
    from opendata.demo.identifiers import make_credit_code

    database = Database(database_url)
    with database.session() as session:
        create_user(session, AccountInput(username=ADMIN, email=f"{ADMIN}@gz.gov.cn", password=DEMO_PASSWORD,
                                          role="admin", display_name="数据资源管理局审核员"))
        session.commit()
    database.dispose()
    http = httpx.Client(base_url=base_url, timeout=60)
    _ok(http.post("/api/v1/auth/register", json={
        "role": "enterprise", "username": ENTERPRISE, "email": "ops@hualian.example.com", "password": DEMO_PASSWORD,
        "display_name": "华联征信 张经理", "organisation": {
            "name": "广州华联征信服务有限公司", "credit_code": make_credit_code("9", "1", "440106", "MA5CHL01"),
            "contact_name": "张经理", "contact_phone": "020-38886666"}}))
    enterprise = {"Authorization": "Bearer " + _ok(http.post("/api/v1/auth/login", json={
        "username": ENTERPRISE, "password": DEMO_PASSWORD}))["session_token"]}
    http.cookies.clear()
    admin = {"Authorization": "Bearer " + _ok(http.post("/api/v1/auth/login", json={
        "username": ADMIN, "password": DEMO_PASSWORD}))["session_token"]}
    http.cookies.clear()
    today = localtime.local_day(localtime.zone())  # licence dates are the portal's local days
    period = {"start_date": today.isoformat(), "end_date": (today + timedelta(days=364)).isoformat(),
              "terms_accepted": True}
    licensed = _ok(http.post("/api/v1/applications", headers=enterprise, json={
        "items": [{"dataset": "social-insurance-headcounts", "operations": ["query", "download"],
                   "fields": ["credit_code", "month", "headcount"]}],
        "purpose": "评估小微企业用工稳定性，用于普惠金融授信前审查。", "scenario": "合作银行小微企业信用贷款的贷前核查。",
        **period}))["id"]
    _ok(http.post(f"/api/v1/applications/{licensed}/submit", headers=enterprise))
    licence_id = _ok(http.post(f"/api/v1/applications/{licensed}/approve", headers=admin, json={
        "reason": "用途明确、字段最小必要，同意。", "quotas": {"rows_per_day": 20000, "downloads_per_day": 10}}))["licence_id"]
    review = _ok(http.post("/api/v1/applications", headers=enterprise, json={
        "items": [{"dataset": "tax-credit-ratings", "operations": ["query"], "fields": ["credit_code", "year", "rating"]},
                  {"dataset": "enterprise-tax-payments", "operations": ["compute"],
                   "fields": ["credit_code", "invoice_revenue", "total_tax_paid"]}],
        "purpose": "构建小微企业经营健康度评分模型。", "scenario": "以密文方式对授信客户进行模型评分，原始数据不出域。",
        **period}))["id"]
    _ok(http.post(f"/api/v1/applications/{review}/submit", headers=enterprise))
    created = _ok(http.post("/api/v1/clients", headers=enterprise, json={"name": "授信审查系统"}))
    token = _ok(http.post("/api/v1/token", data={"grant_type": "client_credentials"},
                          auth=(created["client_id"], created["client_secret"])))["access_token"]
    for month in ("2024-01-01", "2024-02-01", "2024-03-01"):
        _ok(http.get("/api/v1/datasets/social-insurance-headcounts/resources/headcounts/rows",
                     params={"month": month, "limit": 50}, headers={"Authorization": f"Bearer {token}"}))
    for dataset, resource, times in (("bus-stops", "stops", 6), ("air-quality-daily", "daily", 4),
                                     ("medical-institutions", "institutions", 3), ("schools", "schools", 2),
                                     ("public-parking", "lots", 2)):
        for _ in range(times):
            http.get(f"/api/v1/datasets/{dataset}/resources/{resource}/download", params={"format": "csv"}).read()
            http.get(f"/api/v1/datasets/{dataset}/resources/{resource}/rows", params={"limit": 5})
    http.close()
    backfill_usage(database_url)
    return {"review_id": review, "licensed_id": licensed, "licence_id": licence_id}


def backfill_usage(database_url: str, days: int = 75) -> None:
    """Synthetic daily counters for the weeks before today (weekday-heavy, deterministic),
    so that the index page's time chart has a history to draw. Screenshots only: a real
    portal's counters come from real use."""
    import random

    from sqlalchemy import select

    from opendata.catalogue.models import Dataset
    from opendata.db import Database
    from opendata.stats.models import UsageCounter

    draw = random.Random("opendata-screenshots")
    database = Database(database_url)
    with database.transaction() as session:
        open_ids = list(session.scalars(select(Dataset.id).where(Dataset.open_level == "unconditional")))
        for offset in range(1, days + 1):
            day = localtime.local_day(localtime.zone()) - timedelta(days=offset)  # counters count local days
            busy = 1.0 if day.weekday() < 5 else 0.4
            for dataset_id in open_ids:
                for metric, fmt, mean in (("download", "csv", 3), ("rows_query", "", 6), ("view", "", 9)):
                    count = int(draw.expovariate(1 / (mean * busy)))
                    if count:
                        session.add(UsageCounter(dataset_id=dataset_id, day=day, metric=metric, format=fmt,
                                                 count=count))
    database.dispose()


def has_cjk_font() -> bool:
    if shutil.which("fc-list") is None:
        return False
    found = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True, check=False)
    return bool(found.stdout.strip())


def default_out_dir() -> Path:
    checkout = Path(__file__).resolve().parents[3]
    return (checkout / "docs" / "screenshots") if (checkout / "docs").is_dir() else Path("docs/screenshots")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=default_out_dir(), help="where the PNG files go")
    args = parser.parse_args(argv)
    if not Path(CHROMIUM).exists():
        print(f"{CHROMIUM} is missing: apt-get install chromium", file=sys.stderr)
        return 1
    if not has_cjk_font():
        print("warning: no CJK font found (fc-list :lang=zh); Chinese will show as boxes", file=sys.stderr)
    from playwright.sync_api import sync_playwright

    from opendata import create_app
    from opendata.settings import Settings, demo_catalogue_path

    with tempfile.TemporaryDirectory(prefix="opendata-screenshots-") as folder:
        settings = Settings(data_dir=Path(folder), catalogues=(demo_catalogue_path(),), secure_cookies=False)
        with serve(create_app(settings)) as base_url, sync_playwright() as playwright:
            values = seed(base_url, settings.resolved_database_url)
            browser = launch(playwright)
            accounts = {"enterprise": (ENTERPRISE, DEMO_PASSWORD), "admin": (ADMIN, DEMO_PASSWORD)}
            for path in capture(browser, base_url, args.out, accounts, values):
                print(path)
            browser.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
