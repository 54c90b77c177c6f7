"""The asset register on the portal (the register page, the printable certificate), its
export as XLSX/CSV over HTTP and from the CLI."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from litestar.testing import TestClient
from openpyxl import load_workbook

from opendata.cli import main
from tests.assets.test_register import REGISTRATION, admin


@pytest.fixture
def code(client: TestClient, database_url: str) -> str:
    created = client.post("/api/v1/assets", json=REGISTRATION, headers=admin(client, database_url))
    assert created.status_code == 201, created.text
    client.cookies.clear()
    return created.json()["code"]


def test_the_register_page_lists_assets_and_links_certificates(client: TestClient, code: str) -> None:
    html = client.get("/assets").text
    table = html.split('data-testid="asset-register"')[1].split("</table>")[0]
    assert code in table and "bus-stops" in table and "广州市交通运输局" in table
    assert f'href="/assets/{code}"' in table
    assert 'href="/api/v1/assets/export?format=xlsx"' in html
    assert 'href="/assets"' in html.split("</nav>")[0]  # in the main navigation
    english = client.get("/assets?lang=en").text
    assert "Public-data asset register" in english and "Export the register (XLSX)" in english


def test_the_certificate_page_shows_the_signed_document(client: TestClient, code: str) -> None:
    page = client.get(f"/assets/{code}")
    assert page.status_code == 200
    html = page.text
    document = client.get(f"/api/v1/assets/{code}/certificate").json()
    assert document["payload"]["id"] in html.split('data-testid="certificate-id"')[1].split("</code>")[0]
    assert "出行服务" in html and "高价值：日均调用量大" in html and "公共数据资产登记凭证" in html
    assert 'data-testid="certificate-status">有效（最新凭证）' in html
    command = html.split('data-testid="verify-command">')[1].split("</code>")[0]
    assert command == f"opendata assets verify {code}.json --portal http://testserver.local"
    assert 'data-testid="certificate-alg">ES256<' in html
    assert client.get("/assets/PDA-2026-999999-0").status_code == 404


def test_a_revoked_asset_leaves_the_register_and_its_page_says_so(client: TestClient, database_url: str,
                                                                  code: str) -> None:
    revoked = client.post(f"/api/v1/assets/{code}/revoke", json={"reason": "数据集停止开放"},
                          headers=admin(client, database_url))
    assert revoked.status_code == 200, revoked.text
    client.cookies.clear()
    assert code not in client.get("/assets").text
    assert 'data-testid="certificate-status">登记已撤销' in client.get(f"/assets/{code}").text


def test_export_as_xlsx_and_as_csv_for_excel(client: TestClient, code: str) -> None:
    xlsx = client.get("/api/v1/assets/export")
    assert xlsx.status_code == 200 and "asset-register.xlsx" in xlsx.headers["content-disposition"]
    rows = list(load_workbook(io.BytesIO(xlsx.content), read_only=True).active.iter_rows(values_only=True))
    assert rows[0][0] == "资产编码 / Asset code" and rows[1][0] == code and rows[1][1] == "bus-stops"
    assert rows[1][15] == "passed" and rows[1][13] == "出行服务; 城市规划研究"
    sheet_csv = client.get("/api/v1/assets/export", params={"format": "csv", "bom": "1", "header": "titles"})
    assert sheet_csv.content.startswith(b"\xef\xbb\xbf")
    parsed = list(csv.DictReader(io.StringIO(sheet_csv.content.decode("utf-8-sig"))))
    assert parsed[0]["资产编码 / Asset code"] == code
    bad = client.get("/api/v1/assets/export", params={"format": "pdf"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "unknown_format"


def test_cli_export_writes_the_register(client: TestClient, database_url: str, code: str, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENDATA_DATABASE_URL", database_url)  # restored after the test
    runner = CliRunner()
    out = tmp_path / "register.xlsx"
    done = runner.invoke(main, ["assets", "export", str(out)])
    assert done.exit_code == 0, done.output
    rows = list(load_workbook(out, read_only=True).active.iter_rows(values_only=True))
    assert rows[1][0] == code
    as_json = runner.invoke(main, ["--json", "assets", "export", str(tmp_path / "r.csv")])
    assert json.loads(as_json.output) == {"file": str(tmp_path / "r.csv"), "assets": 1}
    assert (tmp_path / "r.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    wrong = runner.invoke(main, ["assets", "export", str(tmp_path / "r.pdf")])
    assert wrong.exit_code == 1 and "must end in .xlsx or .csv" in wrong.output
    assert not (tmp_path / "r.pdf").exists() and not (tmp_path / "r.pdf.part").exists()


def test_cli_export_into_a_missing_folder_is_one_clear_line(client: TestClient, database_url: str, code: str,
                                                            tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENDATA_DATABASE_URL", database_url)
    target = tmp_path / "no-such-folder" / "register.xlsx"
    done = CliRunner().invoke(main, ["assets", "export", str(target)])
    assert done.exit_code == 1 and "cannot write the register" in done.output
    assert not target.exists() and not target.with_name("register.xlsx.part").exists()
