"""Every compute endpoint refuses callers without the right credentials, with a code, and
the refusal is in the audit trail; and the licence policy endpoints are for administrators."""

from __future__ import annotations

import pytest

from tests.access.helpers import assert_refused_and_audited, make_staff, sign_in
from tests.compute.calls import audit_records, details
from tests.compute.world import World

ENDPOINTS = [  # method, path, action, code without any credentials
    ("POST", "/api/v1/compute/keys", "compute.key.register", "authentication_required"),
    ("GET", "/api/v1/compute/keys", "compute.key.list", "authentication_required"),
    ("POST", "/api/v1/compute/keys/0123/revoke", "compute.key.revoke", "authentication_required"),
    ("POST", "/api/v1/compute/verify", "compute.verify", "token_required"),
    ("POST", "/api/v1/compute/models", "compute.model.register", "token_required"),
    ("GET", "/api/v1/compute/models", "compute.model.list", "authentication_required"),
    ("GET", "/api/v1/compute/models/1", "compute.model.read", "authentication_required"),
    ("POST", "/api/v1/compute/models/1/approve", "compute.model.approve", "authentication_required"),
    ("POST", "/api/v1/compute/models/1/reject", "compute.model.reject", "authentication_required"),
    ("POST", "/api/v1/compute/models/1/score", "compute.score", "token_required"),
    ("GET", "/api/v1/compute/policies/1", "compute.policy.read", "authentication_required"),
    ("PUT", "/api/v1/compute/policies/1", "compute.policy.update", "authentication_required"),
]
TOKEN_ONLY = {"compute.verify", "compute.model.register", "compute.score"}
ADMIN_ONLY = {"compute.model.approve", "compute.model.reject", "compute.policy.update"}


@pytest.mark.parametrize(("method", "path", "action", "code"), ENDPOINTS)
def test_no_credentials_no_access(world: World, method: str, path: str, action: str, code: str) -> None:
    response = world.client.request(method, path, json={})
    assert response.headers.get("www-authenticate", "").startswith("Bearer")
    record = assert_refused_and_audited(response, 401, code, world.database_url, action)
    assert record.actor == "anonymous"


@pytest.mark.parametrize(("method", "path", "action", "code"), ENDPOINTS)
def test_the_wrong_kind_of_caller_is_refused(world: World, method: str, path: str, action: str, code: str) -> None:
    del code
    enterprise = world.client.request(method, path, json={}, headers=world.bank.session)
    if action in TOKEN_ONLY:  # a signed-in person is not a licence
        assert_refused_and_audited(enterprise, 401, "token_required", world.database_url, action)
    elif action in ADMIN_ONLY:
        record = assert_refused_and_audited(enterprise, 403, "forbidden_role", world.database_url, action)
        assert record.actor == "user:bank"
    make_staff(world.database_url, "dev", "developer")
    developer = world.client.request(method, path, json={}, headers=sign_in(world.client, "dev"))
    expected = (401, "token_required") if action in TOKEN_ONLY else (403, "forbidden_role")
    assert_refused_and_audited(developer, *expected, world.database_url, action)


def test_policies_are_set_by_administrators_and_read_by_the_licensee(world: World) -> None:
    licence = world.licence(all_subjects=False)
    path = f"/api/v1/compute/policies/{licence.id}"
    assert world.client.get(path, headers=world.bank.session).json() == {  # deny by default
        "licence_id": licence.id, "reveal_not_found": False, "all_subjects": False, "authorised_subjects": [],
        "warning": None}
    subjects = ["91440101MA5CAAAA4Q", "440106199001011234"]
    updated = world.client.put(path, json={"reveal_not_found": False, "authorised_subjects": subjects},
                               headers=world.admin)
    assert updated.status_code == 200, updated.text
    assert updated.json()["authorised_subjects"] == sorted(subjects)
    record = audit_records(world.database_url, "compute.policy.update", 1)[0]
    assert (record.target, details(record)["authorised_subjects"]) == (f"licence:{licence.id}", 2)
    assert world.client.get(path, headers=world.bank.session).json()["authorised_subjects"] == sorted(subjects)
    rival = world.client.get(path, headers=world.rival.session)
    assert_refused_and_audited(rival, 404, "not_found", world.database_url, "compute.policy.read")
    for body, code in [({"reveal_not_found": "yes"}, "invalid_field"),
                       ({"reveal_not_found": False, "authorised_subjects": ["a b"]}, "invalid_subject"),
                       ({"reveal_not_found": False, "authorised_subjects": "all"}, "invalid_subjects"),
                       ({"authorised_subjects": []}, "missing_field"),
                       ({"reveal_not_found": False, "all_subjects": "yes"}, "invalid_field"),
                       ({"reveal_not_found": False, "all_subjects": True, "authorised_subjects": subjects},
                        "conflicting_fields")]:
        response = world.client.put(path, json=body, headers=world.admin)
        assert_refused_and_audited(response, 400, code, world.database_url, "compute.policy.update")
    missing = world.client.put("/api/v1/compute/policies/999999", json={"reveal_not_found": True},
                               headers=world.admin)
    assert_refused_and_audited(missing, 404, "not_found", world.database_url, "compute.policy.update")
    emptied = world.client.put(path, json={"reveal_not_found": False, "authorised_subjects": None},
                               headers=world.admin)
    assert emptied.json()["authorised_subjects"] == [] and emptied.json()["all_subjects"] is False
    lifted = world.client.put(path, json={"reveal_not_found": False, "all_subjects": True}, headers=world.admin)
    assert lifted.json()["all_subjects"] is True and "every subject" in lifted.json()["warning"]
    assert details(audit_records(world.database_url, "compute.policy.update", 1)[0])["all_subjects"] is True
