"""Issue 9, "side doors": what the enterprise reads back from its usage views, and what
key registration can cost the server. Raw HTTP, keys built in the test."""

from __future__ import annotations

import json

from opendata.compute.keyholder import generate_keypair
from opendata.compute.paillier import PublicKey
from tests.access.helpers import assert_refused_and_audited
from tests.portal import helpers as portal
from tests.compute.attacks import credit_code, many_prime_modulus, public_key, tuned
from tests.compute.proving import key_registration
from tests.compute.calls import KEYS, audit_records, details, verify, verify_body
from tests.compute.test_api_verify import UNKNOWN_PERSON, applicant, base_claim
from tests.compute.world import World, make_organisation

HIDDEN = ("found", "duration_ms", "inputs", "outputs", "subjects")


def test_the_enterprise_usage_views_never_show_found_or_durations(world: World) -> None:
    person = applicant(world)
    headers = world.main.headers(world.client)
    for subject in (person["id_number"], UNKNOWN_PERSON):  # one with a row, one without
        response = verify(world.client, headers, verify_body(world.bank.key, subject, base_claim(world, "1.00"),
                                                             where={"month": person["month"]}))
        assert response.status_code == 200, response.text
    recorded = [details(r) for r in audit_records(world.database_url, "compute.verify", 2)]
    assert {d["found"] for d in recorded} == {True, False} and all("duration_ms" in d for d in recorded)

    api = world.client.get("/api/v1/compute/usage", headers=headers)
    assert api.status_code == 200, api.text
    verifications = [r for r in api.json() if r["action"] == "compute.verify"]
    assert len(verifications) >= 2 and verifications[0]["details"]["fields"] == ["contribution_base"]
    for record in api.json():
        assert not set(record["details"]) & set(HIDDEN), record
    assert world.client.get("/api/v1/compute/usage", headers=world.bank.session).status_code == 200

    portal.sign_in(world.client, "bank")  # the portal's own cookie session
    try:
        page = world.client.get("/workspace/usage")
    finally:
        world.client.cookies.clear()
    assert page.status_code == 200 and "compute.verify" in page.text
    for name in HIDDEN:
        assert f"&#34;{name}&#34;" not in page.text and f'"{name}"' not in page.text, name


def test_sixteen_large_keys_neither_register_nor_start_pools(world: World) -> None:
    """v1 accepted 16 keys of 4,096 bits (here: 32 primes of 128 bits each, which v1's checks
    also passed) and filled an obfuscator pool for each at registration."""
    org = make_organisation(world.client, "prober", credit_code(1), generate_keypair(2048))
    runtime = world.client.app.state["opendata"].compute
    honest = key_registration(world.client, org.session, org.key)["proof"]  # replayed: proves another n
    previous = tuned(runtime, key_registrations_per_hour=6, max_active_keys=3)
    try:
        answers = [world.client.post(KEYS, json={"public_key": public_key(many_prime_modulus(32, 128)),
                                                 "proof": honest}, headers=org.session) for _ in range(16)]
    finally:
        runtime.settings = previous
    statuses = [a.status_code for a in answers]
    assert statuses[:6] == [400] * 6 and statuses[6:] == [429] * 10, statuses
    assert {a.json()["error"]["code"] for a in answers[:6]} == {"key_proof_invalid"}
    assert {a.json()["error"]["code"] for a in answers[6:]} == {"key_registration_rate_limited"}
    assert answers[-1].headers["retry-after"] == "3600"
    assert world.client.get(KEYS, headers=org.session).json() == []
    kids = [PublicKey(int(json.loads(a.request.content)["public_key"]["n"])).key_id for a in answers]
    assert not any(runtime.pool_started(kid) for kid in kids)


def test_active_keys_are_capped_and_pools_start_on_first_use_only(world: World) -> None:
    org = make_organisation(world.client, "keyring", credit_code(2), generate_keypair(2048))
    runtime = world.client.app.state["opendata"].compute
    keys = [generate_keypair(2048) for _ in range(4)]
    previous = tuned(runtime, max_active_keys=3)
    try:
        for key in keys[:3]:
            created = world.client.post(KEYS, json=key_registration(world.client, org.session, key),
                                        headers=org.session)
            assert created.status_code == 201, created.text
            assert not runtime.pool_started(key.public_key.key_id)  # filled on first use, not now
        fourth = world.client.post(KEYS, json=key_registration(world.client, org.session, keys[3]),
                                   headers=org.session)
        assert_refused_and_audited(fourth, 409, "too_many_keys", world.database_url, "compute.key.register")
        again = world.client.post(KEYS, json={"public_key": keys[0].public_key_dict()}, headers=org.session)
        # a known, proven key is answered without a proof, whatever the cap
        assert again.status_code == 200
        revoked = world.client.post(f"{KEYS}/{keys[0].public_key.key_id}/revoke", headers=org.session)
        assert revoked.status_code == 200
        assert world.client.post(KEYS, json=key_registration(world.client, org.session, keys[3]),
                                 headers=org.session).status_code == 201
    finally:
        runtime.settings = previous
