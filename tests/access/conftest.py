"""The access tests' catalogue: the mini catalogue plus a second conditional dataset (so
that a token for one can be tried on the other), and a conditional one of another
department (so that publishers can be tried on datasets that are not theirs)."""

from __future__ import annotations

from pathlib import Path

import pytest
from argon2 import PasswordHasher
from litestar.testing import TestClient

from opendata.access import passwords

from tests.access.helpers import Licensed, licensed_enterprise
from tests.factories import DATA, manifest, write_catalogue

ARREARS = {
    "id": "si-arrears",
    "title_zh": "企业社保欠费记录",
    "title_en": "Enterprise social-insurance arrears",
    "description_zh": "按月统计的企业欠费金额。",
    "domain": "social_security",
    "publisher": "gz-hrss",
    "open_level": "conditional",
    "update_frequency": "monthly",
    "licence": "gz-authorised-1.0",
    "version": "1",
    "resources": [{
        "id": "arrears", "title_zh": "欠费", "format": "csv", "path": "data/arrears.csv",
        "fields": [
            {"name": "credit_code", "title_zh": "统一社会信用代码", "type": "string", "sensitivity": "L2"},
            {"name": "month", "title_zh": "月份", "type": "date"},
            {"name": "amount", "title_zh": "欠费金额", "type": "decimal", "unit": "元"},
        ],
    }],
}

ACCESS_DATA = {
    **DATA,
    "data/headcount.csv": (
        "credit_code,month,headcount\n"
        "91440101MA5CXXXX1A,2024-01-01,35\n"
        "91440101MA5CXXXX1A,2024-02-01,36\n"
        "91440101MA5CXXXX1A,2024-03-01,38\n"
    ),
    "data/arrears.csv": "credit_code,month,amount\n91440101MA5CXXXX1A,2024-01-01,1200.50\n",
}


@pytest.fixture
def catalogue_dir(tmp_path: Path) -> Path:
    raw = manifest()
    raw["datasets"].append(ARREARS)
    return write_catalogue(tmp_path / "access", raw, ACCESS_DATA)


@pytest.fixture
def licensed(client: TestClient, database_url: str) -> Licensed:
    """acme holds licence 1: query + download of si-headcount's month and headcount."""
    return licensed_enterprise(client, database_url)


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Real argon2id, with the smallest cost parameters: the production ones (64 MiB, 3
    passes) take a quarter of a second per hash, which adds up over hundreds of sign-ins.
    test_accounts checks the production parameters themselves."""
    monkeypatch.setattr(passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
