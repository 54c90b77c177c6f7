"""Registering Paillier public keys: validated by the core, owned by the organisation."""

from __future__ import annotations

import gmpy2
import pytest

from opendata.compute.keyholder import generate_keypair
from opendata.compute.paillier import PublicKey, generate_private_key
from tests.access.helpers import assert_refused_and_audited, make_staff, sign_in
from tests.compute.calls import KEYS, audit_records, claim, details, verify, verify_body
from tests.compute.proving import key_registration
from tests.compute.world import World


def _odd_bits(bits: int) -> int:
    return (1 << (bits - 1)) | 1


def _square() -> int:
    p = int(gmpy2.next_prime(3 << 1022))  # p^2 has 2048 bits
    return p * p


def _small_factor() -> int:
    return 999_983 * int(gmpy2.next_prime(1 << 2028))


def _prime() -> int:
    return int(gmpy2.next_prime(_odd_bits(2048)))


BAD_KEYS = {
    "key_too_small": lambda: {"kty": "paillier", "n": str(generate_private_key(1024, min_bits=1024).public_key.n)},
    "key_too_large": lambda: {"kty": "paillier", "n": str(_odd_bits(4100) + 2)},
    "key_even": lambda: {"kty": "paillier", "n": str(_odd_bits(2048) + 1)},
    "key_square": lambda: {"kty": "paillier", "n": str(_square())},
    "key_small_factor": lambda: {"kty": "paillier", "n": str(_small_factor())},
    "key_prime": lambda: {"kty": "paillier", "n": str(_prime())},
    "not_decimal": lambda: {"kty": "paillier", "n": "0x" + "f" * 512},
    "key_invalid": lambda: {"kty": "rsa", "n": "65537"},
}


@pytest.mark.parametrize("code", sorted(BAD_KEYS))
def test_bad_keys_are_refused_with_the_core_code_and_audited(world: World, code: str) -> None:
    response = world.client.post(KEYS, json={"public_key": BAD_KEYS[code]()}, headers=world.main.headers(world.client))
    record = assert_refused_and_audited(response, 400, code, world.database_url, "compute.key.register")
    assert record.actor == f"client:{world.bank.client_id}"


def test_a_kid_must_match_its_modulus(world: World) -> None:
    key = world.bank.key.public_key_dict()
    response = world.client.post(KEYS, json={"public_key": {**key, "kid": "0" * 32}},
                                 headers=world.main.headers(world.client))
    assert_refused_and_audited(response, 400, "key_id_mismatch", world.database_url, "compute.key.register")


def test_registering_again_is_idempotent_and_keys_belong_to_the_organisation(world: World) -> None:
    again = world.client.post(KEYS, json={"public_key": world.bank.key.public_key_dict()},
                              headers=world.main.headers(world.client))
    assert again.status_code == 200 and again.json()["kid"] == world.bank.kid
    listed = world.client.get(KEYS, headers=world.bank.session).json()  # an enterprise user sees them too
    assert world.bank.kid in [k["kid"] for k in listed] and world.rival.kid not in [k["kid"] for k in listed]
    assert listed[0]["public_key"]["kty"] == "paillier" and "p" not in listed[0]["public_key"]
    stolen = world.client.post(KEYS, json={"public_key": world.bank.key.public_key_dict()},
                               headers=world.rival.session)
    assert_refused_and_audited(stolen, 409, "key_registered_elsewhere", world.database_url, "compute.key.register")


def test_a_registration_is_audited(world: World) -> None:
    fresh = generate_keypair(2048)
    response = world.client.post(KEYS, json=key_registration(world.client, world.rival.session, fresh),
                                 headers=world.rival.session)
    assert response.status_code == 201, response.text
    assert response.json()["bits"] == 2048 and response.json()["kid"] == fresh.public_key.key_id
    record = audit_records(world.database_url, "compute.key.register", 1)[0]
    assert record.target == f"compute-key:{fresh.public_key.key_id}" and details(record)["bits"] == 2048
    assert record.actor == "user:rival"


def test_a_revoked_key_computes_no_more(world: World) -> None:
    fresh = generate_keypair(2048)
    rival_licence = world.licence(world.rival)
    headers = rival_licence.headers(world.client)
    assert world.client.post(KEYS, json=key_registration(world.client, headers, fresh),
                             headers=headers).status_code == 201
    foreign = world.client.post(f"{KEYS}/{fresh.public_key.key_id}/revoke", headers=world.bank.session)
    assert_refused_and_audited(foreign, 404, "key_not_found", world.database_url, "compute.key.revoke")
    revoked = world.client.post(f"{KEYS}/{fresh.public_key.key_id}/revoke", headers=headers)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    person = world.rows("personal-social-insurance")[0]
    body = verify_body(fresh, person["id_number"], {"contribution_base": claim(fresh, "1.00", "decimal", 2)},
                       where={"month": person["month"]})
    assert_refused_and_audited(verify(world.client, headers, body), 409, "key_revoked", world.database_url,
                               "compute.verify")
    again = world.client.post(KEYS, json=key_registration(world.client, headers, fresh), headers=headers)
    assert_refused_and_audited(again, 409, "key_revoked", world.database_url, "compute.key.register")


def test_keys_need_an_organisation(world: World) -> None:
    body = {"public_key": world.bank.key.public_key_dict()}
    anonymous = world.client.post(KEYS, json=body)
    assert_refused_and_audited(anonymous, 401, "authentication_required", world.database_url, "compute.key.register")
    make_staff(world.database_url, "dev-key", "developer")
    developer = world.client.post(KEYS, json=body, headers=sign_in(world.client, "dev-key"))
    assert_refused_and_audited(developer, 403, "forbidden_role", world.database_url, "compute.key.register")
    malformed = world.client.post(KEYS, json={"n": "1"}, headers=world.bank.session)
    assert_refused_and_audited(malformed, 400, "invalid_body", world.database_url, "compute.key.register")


def test_the_registered_modulus_is_the_public_key_itself(world: World) -> None:
    listed = world.client.get(KEYS, headers=world.main.headers(world.client)).json()
    stored = next(k for k in listed if k["kid"] == world.bank.kid)["public_key"]
    assert PublicKey.from_dict(stored) == world.bank.key.public_key
