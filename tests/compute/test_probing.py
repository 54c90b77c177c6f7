"""Issue 9, "deny by default" and probing: a licence without a subject list computes on
nobody; one subject and one field of one subject can be asked about only so often a day,
and asking more than the alert threshold raises an alert for the administrators."""

from __future__ import annotations

from tests.access.helpers import assert_refused_and_audited
from tests.compute.attacks import tuned
from tests.compute.calls import audit_records, details, verify, verify_body
from tests.compute.sme_model import firms
from tests.compute.test_api_models import approved_model, score
from tests.compute.test_api_verify import applicant, base_claim
from tests.compute.world import World
from tests.portal import helpers as portal


def test_a_licence_without_a_subject_list_computes_on_nobody(world: World) -> None:
    """v1: no list meant every subject -- one request scored every enterprise of the table."""
    licence = world.licence(all_subjects=False)
    headers = licence.headers(world.client)
    model_id = approved_model(world, headers)
    everyone = firms(world)
    refused = score(world, headers, model_id, everyone)
    record = assert_refused_and_audited(refused, 403, "subject_not_authorised", world.database_url, "compute.score")
    assert details(record)["outside"] == len(everyone) and "scores" not in refused.text
    person = applicant(world)
    one = verify(world.client, headers, verify_body(world.bank.key, person["id_number"],
                                                    base_claim(world, person["contribution_base"]),
                                                    where={"month": person["month"]}))
    assert_refused_and_audited(one, 403, "subject_not_authorised", world.database_url, "compute.verify")
    # Every subject is an explicit choice, and the policy says so.
    policy = world.set_policy(licence.id, all_subjects=True)
    assert policy["all_subjects"] is True and policy["warning"]
    assert score(world, headers, model_id, everyone[:3]).status_code == 200


def test_the_policy_page_denies_by_default_and_warns_about_every_subject(world: World) -> None:
    licence = world.licence(all_subjects=False)
    portal.sign_in(world.client, "admin")
    try:
        page = world.client.get(f"/admin/compute/policies/{licence.id}")
        assert page.status_code == 200 and 'data-testid="no-subjects"' in page.text
        assert 'data-testid="all-subjects-warning"' not in page.text
        saved = portal.post_form(world.client, f"/admin/compute/policies/{licence.id}",
                                 {"subjects": "", "all_subjects": "1"})
        assert saved.status_code == 303, saved.text
        warned = world.client.get(f"/admin/compute/policies/{licence.id}")
        assert 'data-testid="all-subjects-warning"' in warned.text
        listed = portal.post_form(world.client, f"/admin/compute/policies/{licence.id}",
                                  {"subjects": "\n".join(firms(world)[:2])})
        assert listed.status_code == 303
        assert 'data-testid="all-subjects-warning"' not in world.client.get(
            f"/admin/compute/policies/{licence.id}").text
        assert f"/admin/compute/policies/{licence.id}" in world.client.get("/admin/licences").text
    finally:
        world.client.cookies.clear()
    current = world.client.get(f"/api/v1/compute/policies/{licence.id}", headers=world.admin).json()
    assert (current["all_subjects"], current["authorised_subjects"]) == (False, sorted(firms(world)[:2]))


def test_guessing_one_field_of_one_subject_is_capped_and_raises_an_alert(world: World) -> None:
    licence = world.licence()
    headers = licence.headers(world.client)
    person = applicant(world)
    runtime = world.client.app.state["opendata"].compute
    previous = tuned(runtime, max_field_guesses_per_day=4, probe_alert_field=2, max_subject_computations_per_day=50,
                     probe_alert_subject=40)
    try:
        answers = [verify(world.client, headers, verify_body(world.bank.key, person["id_number"],
                                                             base_claim(world, f"{1000 + guess}.00"),
                                                             where={"month": person["month"]}))
                   for guess in range(6)]
    finally:
        runtime.settings = previous
    assert [a.status_code for a in answers] == [200] * 4 + [429] * 2
    assert answers[-1].json()["error"]["code"] == "field_cap_exceeded"
    alerts = [details(r) for r in audit_records(world.database_url, "compute.alert", 20)
              if details(r)["licence"] == licence.id]
    assert len(alerts) == 1 and alerts[0]["alert"] == "field_values_tried"
    assert (alerts[0]["field"], alerts[0]["count"]) == ("contribution_base", 3)
    assert person["id_number"] not in str(alerts)  # the subject appears as its keyed digest
    portal.sign_in(world.client, "admin")
    try:
        page = world.client.get("/admin/compute/alerts")
    finally:
        world.client.cookies.clear()
    assert page.status_code == 200 and "field_values_tried" in page.text
    usage = world.client.get("/api/v1/compute/usage", headers=headers).json()
    assert all(r["action"] != "compute.alert" for r in usage)  # the licensee is not told


def test_probing_one_subject_by_scoring_is_capped_and_raises_an_alert(world: World) -> None:
    licence = world.licence()
    headers = licence.headers(world.client)
    model_id = approved_model(world, headers)
    target, others = firms(world)[0], firms(world)[1:3]
    runtime = world.client.app.state["opendata"].compute
    previous = tuned(runtime, max_subject_computations_per_day=3, probe_alert_subject=1)
    try:
        answers = [score(world, headers, model_id, [target, others[i % 2]]) for i in range(4)]
        alone = score(world, headers, model_id, [others[0]])
    finally:
        runtime.settings = previous
    assert [a.status_code for a in answers] == [200, 200, 200, 429], [a.text[:100] for a in answers]
    assert answers[-1].json()["error"]["code"] == "subject_cap_exceeded"
    assert alone.status_code == 200  # the other subjects were asked about less often
    kinds = [details(r)["alert"] for r in audit_records(world.database_url, "compute.alert", 20)
             if details(r)["licence"] == licence.id]
    assert kinds.count("subject_probed") >= 1
