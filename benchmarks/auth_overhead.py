"""What a licence costs per request: the rows endpoint with and without an access token.

Loads two datasets with identical rows into a portal running in its own process: one
unconditional (无条件开放, no token) and one conditional (有条件开放, served under a
licence). Then times, interleaved in the same run, GET .../rows on each:

- baseline: the open dataset, no token;
- licensed: the conditional dataset with ``Authorization: Bearer <JWT>`` — signature
  check (cached key), one indexed query for licence state + revocation + today's quota,
  and after the page one transaction that charges the rows and appends the audit record.

    python benchmarks/auth_overhead.py [--requests 2000] [--rows 1000] [--limit 100]
                                       [--database-url postgresql+psycopg://...]
"""

from __future__ import annotations

import argparse
import base64
import csv
import os
import random
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import tomli_w

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _server import percentile, portal_process  # noqa: E402

PASSWORD = "measure twice, cut once"
CREDIT_CODE = "91440101MA5CAAAA4Q"  # with its GB 11714 and GB 32100 check characters
FIELDS = [("code", "编号", "string"), ("district", "所属区", "string"), ("staff", "人数", "integer"),
          ("capital", "注册资本", "decimal"), ("founded", "成立日期", "date")]
DISTRICTS = ["天河区", "越秀区", "海珠区", "荔湾区", "白云区", "黄埔区", "番禺区"]


def write_catalogue(folder: Path, rows: int) -> None:
    rng = random.Random(7)
    (folder / "data").mkdir(parents=True)
    with open(folder / "data" / "firms.csv", "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow([f[0] for f in FIELDS])
        for n in range(rows):
            writer.writerow([f"GZ{n:08d}", DISTRICTS[n % len(DISTRICTS)], rng.randint(1, 5000),
                             f"{rng.randint(1, 10**6)}.{rng.randint(0, 99):02d}",
                             (date(2000, 1, 1) + timedelta(days=rng.randint(0, 8000))).isoformat()])

    def dataset(dataset_id: str, level: str) -> dict:
        return {
            "id": dataset_id, "title_zh": f"企业名录（{level}）", "description_zh": "基准测试数据。",
            "domain": "economy", "publisher": "gz-bench", "open_level": level,
            "update_frequency": "static", "licence": "gz-open-data-1.0", "version": "1",
            "resources": [{"id": "firms", "title_zh": "企业", "format": "csv", "path": "data/firms.csv",
                           "fields": [{"name": n, "title_zh": t, "type": k} for n, t, k in FIELDS]}],
        }

    manifest = {
        "catalogue": {"id": "bench", "title_zh": "基准"},
        "publishers": [{"id": "gz-bench", "name_zh": "基准局"}],
        "datasets": [dataset("open-firms", "unconditional"), dataset("licensed-firms", "conditional")],
    }
    (folder / "catalogue.toml").write_text(tomli_w.dumps(manifest), encoding="utf-8")


def make_admin(database_url: str) -> None:
    from opendata.access.accounts import AccountInput, create_user
    from opendata.db import Database

    database = Database(database_url)
    with database.session() as session:
        create_user(session, AccountInput(username="admin", email="admin@gz.gov.cn", password=PASSWORD, role="admin"))
        session.commit()
    database.dispose()


def licence_token(http: httpx.Client) -> str:
    """Register an enterprise, apply, approve, make an API client, get a token: all over HTTP."""
    def ok(response: httpx.Response) -> dict:
        if response.status_code >= 300:
            raise RuntimeError(f"{response.request.method} {response.request.url}: {response.text}")
        return response.json()

    def sign_in(username: str) -> dict[str, str]:
        body = ok(http.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD}))
        http.cookies.clear()
        return {"Authorization": f"Bearer {body['session_token']}"}

    ok(http.post("/api/v1/auth/register", json={
        "role": "enterprise", "username": "bench", "email": "bench@example.com", "password": PASSWORD,
        "organisation": {"name": "基准科技有限公司", "credit_code": CREDIT_CODE, "contact_name": "陈",
                         "contact_phone": "020-88888888"}}))
    enterprise, admin = sign_in("bench"), sign_in("admin")
    today = datetime.now(UTC).date()  # licence dates are UTC dates
    application = ok(http.post("/api/v1/applications", headers=enterprise, json={
        "items": [{"dataset": "licensed-firms", "operations": ["query"], "fields": [f[0] for f in FIELDS]}],
        "purpose": "基准测试", "scenario": "基准测试", "start_date": today.isoformat(),
        "end_date": (today + timedelta(days=30)).isoformat(), "terms_accepted": True}))
    ok(http.post(f"/api/v1/applications/{application['id']}/submit", headers=enterprise))
    ok(http.post(f"/api/v1/applications/{application['id']}/approve", headers=admin,
                 json={"quotas": {"rows_per_day": 1_000_000_000}}))
    client = ok(http.post("/api/v1/clients", headers=enterprise, json={"name": "bench"}))
    basic = base64.b64encode(f"{client['client_id']}:{client['client_secret']}".encode()).decode()
    token = ok(http.post("/api/v1/token", data={"grant_type": "client_credentials"},
                         headers={"Authorization": f"Basic {basic}"}))
    return token["access_token"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000, help="requests per variant")
    parser.add_argument("--rows", type=int, default=1000, help="rows in each table")
    parser.add_argument("--limit", type=int, default=100, help="rows per page")
    parser.add_argument("--database-url", help="default: SQLite in a temporary directory")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "bench"
        write_catalogue(folder, args.rows)
        database_url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        env = {"OPENDATA_DATA_DIR": str(Path(tmp) / "data"), "OPENDATA_DATABASE_URL": database_url,
               "OPENDATA_CATALOGUES": str(folder), "OPENDATA_SECURE_COOKIES": "false"}
        with portal_process(env) as (base, _pid):
            make_admin(database_url)
            with httpx.Client(base_url=base, timeout=30) as http:
                token = licence_token(http)
                variants = {
                    "open dataset, no token": ("/api/v1/datasets/open-firms/resources/firms/rows", {}),
                    "conditional dataset + JWT": ("/api/v1/datasets/licensed-firms/resources/firms/rows",
                                                  {"Authorization": f"Bearer {token}"}),
                }
                timings: dict[str, list[float]] = {name: [] for name in variants}
                for name, (path, headers) in variants.items():  # warm up both paths
                    for _ in range(50):
                        assert http.get(path, params={"limit": args.limit}, headers=headers).status_code == 200
                for _ in range(args.requests):  # interleaved, so drift hits both alike
                    for name, (path, headers) in variants.items():
                        started = time.perf_counter()
                        response = http.get(path, params={"limit": args.limit}, headers=headers)
                        timings[name].append((time.perf_counter() - started) * 1000)
                        if response.status_code != 200:
                            raise RuntimeError(response.text)

    backend = "PostgreSQL" if database_url.startswith("postgresql") else "SQLite"
    print(f"\nrows endpoint, {args.limit} rows per page, {args.requests} requests each, {backend}, "
          f"uvicorn in its own process, Python {sys.version.split()[0]} on {os.cpu_count()} CPUs\n")
    print(f"{'variant':<30}{'p50 ms':>10}{'p95 ms':>10}")
    stats = {}
    for name, values in timings.items():
        stats[name] = (percentile(values, 0.5), percentile(values, 0.95))
        print(f"{name:<30}{stats[name][0]:>10.2f}{stats[name][1]:>10.2f}")
    (base50, base95), (lic50, lic95) = stats.values()
    print(f"\ntoken path overhead: p50 {100 * (lic50 / base50 - 1):+.1f}%, p95 {100 * (lic95 / base95 - 1):+.1f}%"
          "  (target: at most +20% at p50)")


if __name__ == "__main__":
    main()
