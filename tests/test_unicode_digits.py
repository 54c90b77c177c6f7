"""Digits that are not ASCII: str.isdigit() is true for "²", "٣" and "５", which int() then
refuses (it was a 500 on public pages anyone can open, and on the token endpoint) or reads
as a number; and int() refuses more than 4,300 digits. Each door takes such text as the bad
input it is (opendata.numbers.ascii_digits)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from litestar.testing import TestClient

from opendata import create_app
from opendata.access import passwords
from opendata.numbers import ascii_digits
from opendata.settings import Settings
from tests.access.helpers import basic, licensed_enterprise
from tests.factories import write_catalogue

HOSTILE = ["²", "٣", "５", "9" * 5000, "-1", " 7"]


def test_ascii_digits() -> None:
    assert ascii_digits("42", 2) == 42 and ascii_digits("007", 3) == 7
    for raw in [*HOSTILE, "", "123", "4.0"]:
        assert ascii_digits(raw, 2) is None, raw


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, str]]:
    root: Path = tmp_path_factory.mktemp("digits")
    url = f"sqlite:///{root / 'opendata.db'}"
    settings = Settings(data_dir=root / "data", database_url=url, catalogues=(write_catalogue(root / "mini"),),
                        secure_cookies=False)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
        with TestClient(create_app(settings), raise_server_exceptions=False) as client:
            yield client, url


@pytest.mark.parametrize("raw", HOSTILE)
def test_public_pages_take_them_as_no_number(portal: tuple[TestClient, str], raw: str) -> None:
    client, _ = portal
    for path, params in [("/open-index", {"days": raw}), ("/datasets/bus-stops", {"comments_page": raw}),
                         ("/showcase", {"page": raw})]:
        answer = client.get(path, params=params)
        assert answer.status_code == 200, (path, answer.status_code)  # the default period / first page
    listing = client.get("/datasets", params={"page": raw})
    assert listing.status_code == 400, listing.status_code  # the search refuses page 0, as for "abc"


def test_a_token_scope_naming_a_licence_in_other_digits_is_invalid_scope(portal: tuple[TestClient, str]) -> None:
    client, url = portal
    licensed = licensed_enterprise(client, url, username="digits-co")
    client.cookies.clear()
    for raw in ("²", "٣", "9" * 5000, str(licensed.licence_id).translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))):
        answer = client.post("/api/v1/token", data={"grant_type": "client_credentials", "scope": f"licence:{raw}"},
                             headers=basic(licensed.client_id, licensed.client_secret))
        assert answer.status_code == 400 and answer.json()["error"] == "invalid_scope", answer.text[:200]
    plain = client.post("/api/v1/token", data={"grant_type": "client_credentials",
                                               "scope": f"licence:{licensed.licence_id}"},
                        headers=basic(licensed.client_id, licensed.client_secret))
    assert plain.status_code == 200, plain.text


@pytest.mark.parametrize("raw", ["²", "9" * 5000])
def test_the_administrators_lists_take_them_as_the_first_page(portal: tuple[TestClient, str], raw: str) -> None:
    from tests.portal.helpers import make_staff, sign_in, sign_out

    client, url = portal
    make_staff(url, f"digits-admin-{len(raw)}", "admin")
    sign_in(client, f"digits-admin-{len(raw)}")
    try:
        for path in ("/admin/users", "/admin/licences"):
            answer = client.get(path, params={"page": raw, "clients_page": raw})
            assert answer.status_code == 200, (path, answer.status_code)
    finally:
        sign_out(client)
