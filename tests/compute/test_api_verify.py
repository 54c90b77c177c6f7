"""Verification (核验) over HTTP: a bank checks an applicant's declared contribution base
against the closed personal social-insurance dataset, without seeing it."""

from __future__ import annotations

from decimal import Decimal

import pytest

from opendata.compute.encoding import default_max_int
from tests.access.helpers import assert_refused_and_audited, bearer
from tests.compute.calls import audit_records, claim, details, verify, verify_body
from tests.compute.world import World

UNKNOWN_PERSON = "440106199912310000"


def applicant(world: World) -> dict[str, str]:
    return world.rows("personal-social-insurance")[0]


def base_claim(world: World, value: str, scale: int = 2) -> dict:
    return {"contribution_base": claim(world.bank.key, value, "decimal", scale)}


def test_a_true_claim_decrypts_to_zero_and_a_false_one_does_not(world: World) -> None:
    person = applicant(world)
    headers = world.main.headers(world.client)
    where = {"month": person["month"]}
    true = verify(world.client, headers, verify_body(world.bank.key, person["id_number"],
                                                     base_claim(world, person["contribution_base"]), where=where))
    assert true.status_code == 200, true.text
    assert world.bank.key.verification_results(true.json()["results"]) == {"contribution_base": True}
    # Equality of values, not of text: 4614 at scale 0 equals 4614.00.
    whole = Decimal(person["contribution_base"]).to_integral_value()
    assert Decimal(person["contribution_base"]) == whole, "the first demo row has a whole-yuan base"
    same = verify(world.client, headers, verify_body(world.bank.key, person["id_number"],
                                                     base_claim(world, str(whole), 0), where=where))
    assert world.bank.key.verification_results(same.json()["results"]) == {"contribution_base": True}
    false = verify(world.client, headers, verify_body(world.bank.key, person["id_number"],
                                                      base_claim(world, str(whole + 1), 0), where=where))
    assert world.bank.key.verification_results(false.json()["results"]) == {"contribution_base": False}


def test_strings_and_several_fields_are_verified_at_once(world: World) -> None:
    person = applicant(world)
    key = world.bank.key
    claims = {"contribution_base": claim(key, person["contribution_base"], "decimal", 2),
              "employer_credit_code": claim(key, person["employer_credit_code"], "string")}
    body = verify_body(key, person["id_number"], claims, where={"month": person["month"]}, resource="bases")
    answer = verify(world.client, world.main.headers(world.client), body)
    assert key.verification_results(answer.json()["results"]) == {"contribution_base": True,
                                                                  "employer_credit_code": True}
    claims["employer_credit_code"] = claim(key, "91440101MA5CAAAA4Q", "string")
    answer = verify(world.client, world.main.headers(world.client), body)
    assert key.verification_results(answer.json()["results"])["employer_credit_code"] is False


def test_not_found_is_indistinguishable_from_a_mismatch(world: World) -> None:
    person = applicant(world)
    key = world.bank.key
    headers = world.main.headers(world.client)
    month = {"month": person["month"]}
    mismatch = verify(world.client, headers, verify_body(key, person["id_number"], base_claim(world, "1.00"),
                                                         where=month))
    missing = verify(world.client, headers, verify_body(key, UNKNOWN_PERSON, base_claim(world, "1.00"), where=month))
    no_such_month = verify(world.client, headers, verify_body(key, person["id_number"], base_claim(world, "1.00"),
                                                              where={"month": "1999-01-01"}))
    answers = [mismatch, missing, no_such_month]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert len({tuple(sorted(a.json())) for a in answers}) == 1
    limit = default_max_int(key.public_key.n)
    for answer in answers:
        plain = key.decrypt_residue(answer.json()["results"]["contribution_base"])
        # r * (claimed - actual) with r uniform: a uniform unit, far outside any encodable value.
        assert limit < plain < key.public_key.n - limit
    found = [details(r)["found"] for r in audit_records(world.database_url, "compute.verify", 3)]
    assert found == [False, False, True]  # the audit trail knows; the client cannot tell


def test_a_policy_may_reveal_not_found(world: World) -> None:
    licence = world.licence()
    policy = world.set_policy(licence.id, reveal_not_found=True, all_subjects=True)
    assert (policy["reveal_not_found"], policy["all_subjects"], policy["authorised_subjects"]) == (True, True, [])
    person = applicant(world)
    missing = verify(world.client, licence.headers(world.client),
                     verify_body(world.bank.key, UNKNOWN_PERSON, base_claim(world, "1.00"),
                                 where={"month": person["month"]}))
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "subject_not_found"
    record = audit_records(world.database_url, "compute.verify", 1)[0]
    assert (record.outcome, details(record)["found"]) == ("success", False)
    found = verify(world.client, licence.headers(world.client),
                   verify_body(world.bank.key, person["id_number"], base_claim(world, "1.00"),
                               where={"month": person["month"]}))
    assert found.status_code == 200


def test_monthly_rows_need_a_filter_that_singles_one_out(world: World) -> None:
    person = applicant(world)
    response = verify(world.client, world.main.headers(world.client),
                      verify_body(world.bank.key, person["id_number"], base_claim(world, "1.00")))
    record = assert_refused_and_audited(response, 400, "ambiguous_subject", world.database_url, "compute.verify")
    assert "month" in response.json()["error"]["message"]
    assert record.target == "dataset:personal-social-insurance"
    # The same answer for a subject that has no rows at all: the refusal is about the table.
    unknown = verify(world.client, world.main.headers(world.client),
                     verify_body(world.bank.key, UNKNOWN_PERSON, base_claim(world, "1.00")))
    assert unknown.status_code == 400 and unknown.json()["error"]["code"] == "ambiguous_subject"


def test_the_audit_record_holds_digests_never_the_subject(world: World) -> None:
    person = applicant(world)
    answer = verify(world.client, world.main.headers(world.client),
                    verify_body(world.bank.key, person["id_number"], base_claim(world, person["contribution_base"]),
                                where={"month": person["month"]}))
    record = audit_records(world.database_url, "compute.verify", 1)[0]
    assert record.id == answer.json()["reference"]
    assert person["id_number"] not in record.details and person["contribution_base"] not in record.details
    recorded = details(record)
    assert recorded["licence"] == world.main.id and recorded["fields"] == ["contribution_base"]
    assert len(recorded["subjects"]) == 1 and len(recorded["subjects"][0]) == 16
    assert len(recorded["inputs"]) == len(recorded["outputs"]) == 64 and recorded["duration_ms"] >= 0
    assert record.actor == f"client:{world.bank.client_id}" and record.token_jti


@pytest.mark.parametrize(("change", "status", "code"), [
    ({"subject": "440106 19991231"}, 400, "invalid_subject"),
    ({"subject": 440106199912310000}, 400, "invalid_subject"),
    ({"dataset": "no-such-dataset"}, 404, "not_found"),
    ({"resource": "nothing"}, 404, "not_found"),
    ({"claims": {}}, 400, "invalid_claims"),
    ({"claims": {"name": None}}, 400, "invalid_body"),
    ({"where": {"month": "June"}}, 400, "invalid_filter"),
    ({"where": {"no_such_field": 1}}, 400, "invalid_filter"),
    ({"key_id": "0" * 32}, 404, "key_not_found"),
    ({"weights": ["1"]}, 400, "unexpected_field"),
])
def test_bad_requests_are_refused_with_a_code_and_audited(world: World, change: dict, status: int,
                                                          code: str) -> None:
    person = applicant(world)
    body = verify_body(world.bank.key, person["id_number"], base_claim(world, "1.00"),
                       where={"month": person["month"]})
    body.update(change)
    response = verify(world.client, world.main.headers(world.client), body)
    record = assert_refused_and_audited(response, status, code, world.database_url, "compute.verify")
    assert record.actor == f"client:{world.bank.client_id}"


@pytest.mark.parametrize(("field", "value", "field_type", "scale", "code"), [
    ("contribution_base", "1.00", "decimal", 13, "scale_invalid"),
    ("employer_credit_code", "x", "string", 1, "scale_invalid"),
    ("name", "张三", "string", 0, "field_not_licensed"),
    ("no_such_field", "1", "decimal", 0, "unknown_field"),
])
def test_fields_and_scales_are_checked(world: World, field: str, value: str, field_type: str, scale: int,
                                       code: str) -> None:
    person = applicant(world)
    body = verify_body(world.bank.key, person["id_number"], {field: {**claim(world.bank.key, value, field_type, 0),
                                                                     "scale": scale}},
                       where={"month": person["month"]})
    response = verify(world.client, world.main.headers(world.client), body)
    assert_refused_and_audited(response, 403 if code == "field_not_licensed" else 400, code, world.database_url,
                               "compute.verify")


def test_invalid_json_is_audited_with_its_caller(world: World) -> None:
    response = world.client.post("/api/v1/compute/verify", content=b"{not json",
                                 headers={**world.main.headers(world.client), "content-type": "application/json"})
    record = assert_refused_and_audited(response, 400, "invalid_json", world.database_url, "compute.verify")
    assert record.actor == f"client:{world.bank.client_id}"


def test_invalid_ciphertexts_are_refused_before_any_row_is_read(world: World) -> None:
    person = applicant(world)
    n = world.bank.key.public_key.n
    cases = {"0": "ciphertext_out_of_range", str(n * n): "ciphertext_out_of_range",
             str(n * 12345): "ciphertext_not_unit", "12ab": "not_decimal", "9" * 5000: "not_decimal"}
    proved = claim(world.bank.key, "1.00", "decimal", 2)
    for subject in (person["id_number"], UNKNOWN_PERSON):  # the same refusal whether or not it exists
        for ciphertext, code in cases.items():
            body = verify_body(world.bank.key, subject,
                               {"contribution_base": {**proved, "ciphertext": ciphertext}},
                               where={"month": person["month"]})
            response = verify(world.client, world.main.headers(world.client), body)
            assert_refused_and_audited(response, 400, code, world.database_url, "compute.verify")


def test_a_key_of_another_organisation_cannot_be_used(world: World) -> None:
    person = applicant(world)
    body = verify_body(world.rival.key, person["id_number"],
                       {"contribution_base": claim(world.rival.key, "1.00", "decimal", 2)},
                       where={"month": person["month"]})
    response = verify(world.client, world.main.headers(world.client), body)
    assert_refused_and_audited(response, 404, "key_not_found", world.database_url, "compute.verify")


def test_without_a_licence_token_nothing_is_computed(world: World) -> None:
    person = applicant(world)
    body = verify_body(world.bank.key, person["id_number"], base_claim(world, "1.00"),
                       where={"month": person["month"]})
    anonymous = world.client.post("/api/v1/compute/verify", json=body)
    record = assert_refused_and_audited(anonymous, 401, "token_required", world.database_url, "compute.verify")
    assert record.actor == "anonymous"
    signed_in = world.client.post("/api/v1/compute/verify", json=body, headers=world.bank.session)
    assert_refused_and_audited(signed_in, 401, "token_required", world.database_url, "compute.verify")
    forged = world.client.post("/api/v1/compute/verify", json=body, headers=bearer("eyJhbGciOiJub25lIn0.e30."))
    assert_refused_and_audited(forged, 401, "invalid_token", world.database_url, "compute.verify")


def test_the_licence_must_grant_compute_on_the_dataset(world: World) -> None:
    person = applicant(world)
    query_only = world.licence(items=[{"dataset": "social-insurance-headcounts", "operations": ["query"],
                                       "fields": ["headcount", "month"]}])
    body = verify_body(world.bank.key, person["id_number"], base_claim(world, "1.00"),
                       where={"month": person["month"]})
    response = verify(world.client, query_only.headers(world.client), body)
    assert_refused_and_audited(response, 403, "dataset_not_licensed", world.database_url, "compute.verify")
    firm = world.rows("social-insurance-headcounts")[0]
    body = verify_body(world.bank.key, firm["credit_code"], {"headcount": claim(world.bank.key, 1, "integer")},
                       dataset="social-insurance-headcounts", where={"month": firm["month"]})
    response = verify(world.client, query_only.headers(world.client), body)
    assert_refused_and_audited(response, 403, "operation_not_licensed", world.database_url, "compute.verify")


def test_a_revoked_licence_stops_computing(world: World) -> None:
    person = applicant(world)
    licence = world.licence()
    headers = licence.headers(world.client)
    revoked = world.client.post(f"/api/v1/licences/{licence.id}/revoke", json={"reason": "超范围使用"},
                                headers=world.admin)
    assert revoked.status_code == 200, revoked.text
    body = verify_body(world.bank.key, person["id_number"], base_claim(world, "1.00"),
                       where={"month": person["month"]})
    assert_refused_and_audited(verify(world.client, headers, body), 403, "licence_inactive", world.database_url,
                               "compute.verify")


def test_a_dead_worker_pool_is_reported_audited_and_replaced(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    from concurrent.futures.process import BrokenProcessPool

    from opendata.compute import protocols

    async def broken(*args: object, **kwargs: object) -> None:
        raise BrokenProcessPool("a worker was killed")

    person = applicant(world)
    body = verify_body(world.bank.key, person["id_number"], base_claim(world, person["contribution_base"]),
                       where={"month": person["month"]})
    headers = world.main.headers(world.client)
    runtime = world.client.app.state["opendata"].compute
    before = runtime.executor
    with monkeypatch.context() as patch:
        patch.setattr(protocols, "verify_claims_async", broken)
        response = verify(world.client, headers, body)
    record = assert_refused_and_audited(response, 503, "compute_unavailable", world.database_url, "compute.verify")
    assert response.headers["retry-after"] == "1" and details(record)["licence"] == world.main.id
    recovered = verify(world.client, headers, body)
    assert recovered.status_code == 200 and runtime.executor is not before
    assert world.bank.key.verification_results(recovered.json()["results"]) == {"contribution_base": True}
