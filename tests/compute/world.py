"""A bank, an administrator and a slice of the demo catalogue, for the compute API tests.

The catalogue is the demo catalogue's own definitions of the four datasets the compute
walk-through uses (docs/compute.md), with a slice of their rows: a few insured persons (all
their months) and a few dozen enterprises, chosen so that some have penalties, some none,
and some appear only in the tax ratings (missing features).
"""

from __future__ import annotations

import csv
import tomllib
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import tomli_w
from litestar.testing import TestClient

from opendata.compute.keyholder import KeyHolder
from tests.compute.proving import key_registration
from opendata.settings import Settings, demo_catalogue_path
from tests.access.helpers import CREDIT_A, CREDIT_B, basic, bearer, make_staff, register_enterprise, sign_in

DATASETS = ("personal-social-insurance", "tax-credit-ratings", "social-insurance-headcounts",
            "administrative-penalties")
FILES = {d: f"data/{d}.csv" for d in DATASETS}
KEY_COLUMN = {"personal-social-insurance": "id_number", "tax-credit-ratings": "credit_code",
              "social-insurance-headcounts": "credit_code", "administrative-penalties": "credit_code"}
BANK_CREDIT, RIVAL_CREDIT = CREDIT_A, CREDIT_B

# What the bank's main licence grants (compute only; the closed dataset cannot be queried).
BANK_ITEMS = [
    {"dataset": "personal-social-insurance", "operations": ["compute"],
     "fields": ["contribution_base", "month", "employer_credit_code"]},
    {"dataset": "tax-credit-ratings", "operations": ["compute"], "fields": ["score", "rating", "year"]},
    {"dataset": "social-insurance-headcounts", "operations": ["compute"], "fields": ["headcount", "month"]},
    {"dataset": "administrative-penalties", "operations": ["compute"], "fields": ["amount", "decision_date"]},
]


def read_rows(folder: Path, dataset: str) -> list[dict[str, str]]:
    with open(folder / FILES[dataset], encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _subjects(demo: Path) -> tuple[set[str], set[str]]:
    rows = {d: read_rows(demo, d) for d in DATASETS}
    persons = sorted({r["id_number"] for r in rows["personal-social-insurance"]})[:5]
    tax = {r["credit_code"] for r in rows["tax-credit-ratings"]}
    heads = {r["credit_code"] for r in rows["social-insurance-headcounts"]}
    fined = {r["credit_code"] for r in rows["administrative-penalties"]}
    firms = (sorted(tax & heads & fined)[:8] + sorted((tax & heads) - fined)[:14] + sorted(tax - heads - fined)[:4])
    return set(persons), set(firms)


def write_catalogue(folder: Path) -> Path:
    """The demo's four datasets with a slice of their rows, in ``folder``."""
    demo = demo_catalogue_path()
    raw = tomllib.loads((demo / "catalogue.toml").read_text(encoding="utf-8"))
    datasets = [d for d in raw["datasets"] if d["id"] in DATASETS]
    publishers = [p for p in raw["publishers"] if p["id"] in {d["publisher"] for d in datasets}]
    manifest = {"catalogue": {**raw["catalogue"], "id": "compute-test"}, "publishers": publishers,
                "datasets": datasets}
    (folder / "data").mkdir(parents=True, exist_ok=True)
    (folder / "catalogue.toml").write_text(tomli_w.dumps(manifest), encoding="utf-8")
    persons, firms = _subjects(demo)
    for dataset in DATASETS:
        rows = read_rows(demo, dataset)
        wanted = persons if dataset == "personal-social-insurance" else firms
        with open(folder / FILES[dataset], "w", encoding="utf-8", newline="") as out:
            writer = csv.DictWriter(out, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(r for r in rows if r[KEY_COLUMN[dataset]] in wanted)
    return folder


@dataclass
class Licence:
    """One approved licence of an organisation, with the organisation's API client."""

    id: int
    client_id: str
    client_secret: str

    def token(self, client: TestClient) -> str:
        response = client.post("/api/v1/token", data={"grant_type": "client_credentials",
                                                     "scope": f"licence:{self.id}"},
                               headers=basic(self.client_id, self.client_secret))
        assert response.status_code == 200, response.text
        return response.json()["access_token"]

    def headers(self, client: TestClient) -> dict[str, str]:
        return bearer(self.token(client))


@dataclass
class Organisation:
    username: str
    session: dict[str, str]
    client_id: str
    client_secret: str
    key: KeyHolder

    @property
    def kid(self) -> str:
        return self.key.public_key.key_id


@dataclass
class World:
    """The portal under test and the people in it; licences are made as tests need them."""

    client: TestClient
    settings: Settings
    folder: Path
    admin: dict[str, str]
    bank: Organisation
    rival: Organisation
    main: Licence
    _licences: list[Licence] = field(default_factory=list)

    def licence(self, org: Organisation | None = None, items: list[dict[str, Any]] | None = None,
                quotas: dict[str, int] | None = None, all_subjects: bool = True) -> Licence:
        """A fresh licence for ``org`` (default: the bank), approved by the administrator.
        ``all_subjects``: the administrator also allows every subject (explicitly: a licence
        without a compute policy computes on nobody)."""
        org = org or self.bank
        today = date.today()
        created = self.client.post("/api/v1/applications", headers=org.session, json={
            "items": items or BANK_ITEMS, "purpose": "贷前核验与授信评分。", "scenario": "银行小微企业授信。",
            "start_date": (today - timedelta(days=1)).isoformat(),
            "end_date": (today + timedelta(days=90)).isoformat(), "terms_accepted": True})
        assert created.status_code == 201, created.text
        application = created.json()["id"]
        submitted = self.client.post(f"/api/v1/applications/{application}/submit", headers=org.session)
        assert submitted.status_code == 200, submitted.text
        approval = {"quotas": quotas} if quotas else {}
        approved = self.client.post(f"/api/v1/applications/{application}/approve", json=approval,
                                    headers=self.admin)
        assert approved.status_code == 200, approved.text
        licence_id = approved.json()["licence_id"]
        if all_subjects:
            self.set_policy(licence_id, all_subjects=True)
        return Licence(licence_id, org.client_id, org.client_secret)

    def set_policy(self, licence_id: int, **policy: Any) -> Any:
        response = self.client.put(f"/api/v1/compute/policies/{licence_id}",
                                   json={"reveal_not_found": False, **policy}, headers=self.admin)
        assert response.status_code == 200, response.text
        return response.json()

    def rows(self, dataset: str) -> list[dict[str, str]]:
        return read_rows(self.folder, dataset)

    @property
    def database_url(self) -> str:
        return self.settings.resolved_database_url


def make_organisation(client: TestClient, username: str, credit_code: str, key: KeyHolder) -> Organisation:
    register_enterprise(client, username, credit_code)
    session = sign_in(client, username)
    created = client.post("/api/v1/clients", json={"name": "授信系统"}, headers=session)
    assert created.status_code == 201, created.text
    return Organisation(username, session, created.json()["client_id"], created.json()["client_secret"], key)


def register_key(client: TestClient, org: Organisation, licence: Licence) -> None:
    headers = licence.headers(client)
    response = client.post("/api/v1/compute/keys", json=key_registration(client, headers, org.key), headers=headers)
    assert response.status_code in (200, 201), response.text


def build_world(client: TestClient, settings: Settings, folder: Path, bank_key: KeyHolder,
                rival_key: KeyHolder) -> World:
    make_staff(settings.resolved_database_url, "admin", "admin")
    admin = sign_in(client, "admin")
    bank = make_organisation(client, "bank", BANK_CREDIT, bank_key)
    rival = make_organisation(client, "rival", RIVAL_CREDIT, rival_key)
    world = World(client, settings, folder, admin, bank, rival, main=None)  # type: ignore[arg-type]
    world.main = world.licence(quotas={"compute_calls_per_day": 1_000_000})
    register_key(client, bank, world.main)
    rival_licence = world.licence(rival)
    register_key(client, rival, rival_licence)
    return world
