"""Private intersection statistics (联合统计) through the HTTP API, the enterprise's side done
as the SDK does it: right count and sum against plaintext (noise switched off), the noise
with it on, the budget (spent per query, refused when exhausted, never refilled by an edit),
the minimum cohort, refusals (no token, no grant, another field, malformed points, wrong
counts, duplicates, too many ids, a used or foreign session, an inconsistent reply) and an
audit trail with the number of ids and the epsilon, never an id or the exact count."""

from __future__ import annotations

import base64
import hashlib
from decimal import Decimal
from typing import Any

import pytest

from opendata.compute import privacy, psi_service
from opendata.compute.psi_client import build_reply, read_answer
from tests.compute.calls import audit_records, details
from tests.compute.world import World

OPEN = "/api/v1/compute/intersection/sessions"
RATINGS = "tax-credit-ratings"
BOUNDS = {"score": {"lower": "0", "upper": "100"}}


# Both backends for the budget's conditional UPDATE and the refusals; the rest is the same
# arithmetic on either, so it runs on SQLite only (the suite's time is at its limit).
POSTGRES_TOO = ('test_the_budget_stops_the_differencing_attack',)


@pytest.fixture(autouse=True)
def _sqlite_unless_needed(request: pytest.FixtureRequest, world: World) -> None:
    if world.database_url.startswith("postgresql") and request.node.originalname not in POSTGRES_TOO:
        pytest.skip("runs on SQLite only")


def grant(world: World, licence_id: int, **overrides: Any) -> dict[str, Any]:
    body = {"dataset": RATINGS, "fields": BOUNDS, "scale": 1, "epsilon_per_query": 1.0, "epsilon_total": 3.0,
            "min_cohort": 3, "max_ids": 50, **overrides}
    response = world.client.put(f"/api/v1/compute/policies/{licence_id}/intersection", json={"grants": [body]},
                                headers=world.admin)
    assert response.status_code == 200, response.text
    return response.json()["grants"][0]


@pytest.fixture
def licensed(world: World):
    licence = world.licence()
    grant(world, licence.id)
    return licence, licence.headers(world.client)


@pytest.fixture
def exact(monkeypatch: pytest.MonkeyPatch) -> None:
    """The portal answers without noise (it runs in this process): for checking arithmetic."""
    monkeypatch.setattr(privacy.Release, "noisy_count", lambda self, count: int(count))
    monkeypatch.setattr(privacy.Release, "sum_noise", lambda self: 0)


def scores(world: World, year: str = "2021") -> dict[str, Decimal]:
    return {r["credit_code"]: Decimal(r["score"]) for r in world.rows(RATINGS) if r["year"] == year}


def offer(world: World, headers: dict[str, str], **body: Any) -> Any:
    request = {"dataset": RATINGS, "field": "score", "where": {"year": "2021"}, "key_id": world.bank.kid, **body}
    return world.client.post(OPEN, json=request, headers=headers)


def run(world: World, headers: dict[str, str], ids: list[str], **body: Any) -> dict[str, Any]:
    opened = offer(world, headers, **body)
    assert opened.status_code == 201, opened.text
    reply = build_reply(opened.json(), ids, world.bank.key.private_key)
    answered = world.client.post(f"{OPEN}/{opened.json()['session']}", json=reply.body(), headers=headers)
    assert answered.status_code == 200, answered.text
    return answered.json()


def test_count_sum_and_mean_match_the_plaintext_intersection(world: World, licensed, exact):
    _, headers = licensed
    table = scores(world)
    members = sorted(table)[:7]
    ids = members + ["91440000NOTINDATA1", "91440000NOTINDATA2"]
    result = read_answer(run(world, headers, ids), world.bank.key.private_key)
    assert result.count == 7 and not result.suppressed
    assert result.sum == sum(table[m] for m in members)
    assert result.mean == (result.sum / 7).quantize(Decimal("0.001"))
    assert result.ids == 9 and result.epsilon_spent == 1.0 and result.epsilon_left == 2.0


def test_values_are_clamped_to_the_grants_bounds(world: World, exact):
    licence = world.licence()
    grant(world, licence.id, fields={"score": {"lower": "0", "upper": "50"}})
    members = sorted(scores(world))[:5]
    answer = run(world, licence.headers(world.client), members)
    assert read_answer(answer, world.bank.key.private_key).sum == sum(min(scores(world)[m], 50) for m in members)
    assert answer["noise"]["sum_noise_scale"] == pytest.approx(50 / 0.5)


def test_the_released_statistics_are_noised_within_their_scale(world: World, licensed):
    _, headers = licensed
    table = scores(world)
    members = sorted(table)[:10]
    answer = run(world, headers, members)
    result = read_answer(answer, world.bank.key.private_key)
    # Laplace tails: P(|noise| > 25 b) = e^-25. Scales: count 1/(eps/2) = 2, sum 100/(eps/2) = 200.
    assert answer["noise"]["count_noise_scale"] == 2.0 and answer["noise"]["sum_noise_scale"] == 200.0
    if not result.suppressed:
        assert abs(result.count - 10) <= 50 and abs(result.sum - sum(table[m] for m in members)) <= 5000


def test_below_the_minimum_cohort_the_sum_is_suppressed_and_the_budget_spent(world: World, exact):
    licence = world.licence()
    grant(world, licence.id, min_cohort=5)
    headers = licence.headers(world.client)
    answer = run(world, headers, sorted(scores(world))[:2] + ["91440000NOTINDATA1"])
    assert answer["suppressed"] is True and answer["count"] is None and answer["sum"] is None
    assert answer["epsilon_left"] == 2.0


def test_the_budget_stops_the_differencing_attack(world: World, licensed):
    """Two lists differing by one id: each answer is noised (see test_psi_core for what one
    pair bounds), and the budget ends the repetition that would average the noise away."""
    licence, headers = licensed
    base = sorted(scores(world))[:6]
    target = sorted(scores(world))[6]
    run(world, headers, base)
    run(world, headers, base + [target])
    run(world, headers, base)
    refused = offer(world, headers)
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "privacy_budget_exhausted"
    # Re-granting the same resource keeps what was spent; removing and re-adding does too.
    assert grant(world, licence.id)["epsilon_left"] == 0.0
    world.client.put(f"/api/v1/compute/policies/{licence.id}/intersection", json={"grants": []}, headers=world.admin)
    again = grant(world, licence.id, epsilon_total=4.0)
    assert again["epsilon_spent"] == 3.0 and again["queries_left"] == 1
    grants = world.client.get("/api/v1/compute/intersection/grants", headers=headers).json()["grants"]
    assert grants[0]["epsilon_left"] == 1.0


def test_refusals_without_token_grant_or_field(world: World, licensed, monkeypatch: pytest.MonkeyPatch):
    licence, headers = licensed
    assert offer(world, {}).status_code == 401
    bare = world.licence()
    refused = offer(world, bare.headers(world.client))
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "intersection_not_licensed"
    other = offer(world, headers, field="rating")
    assert other.status_code == 403 and other.json()["error"]["code"] == "field_not_licensed"
    rival = world.licence(world.rival)
    grant(world, rival.id)
    opened = offer(world, headers)
    foreign = world.client.post(f"{OPEN}/{opened.json()['session']}", json={}, headers=rival.headers(world.client))
    assert foreign.status_code == 404
    # The bank's other licence, with its own grant, cannot answer this licence's session either.
    sibling = world.licence()
    grant(world, sibling.id)
    theirs = world.client.post(f"{OPEN}/{opened.json()['session']}", json={}, headers=sibling.headers(world.client))
    assert theirs.status_code == 404 and theirs.json()["error"]["code"] == "not_found"
    # Another organisation's registered key is reported missing (key ids cannot be probed).
    borrowed = offer(world, headers, key_id=world.rival.kid)
    assert borrowed.status_code == 404 and borrowed.json()["error"]["code"] == "key_not_found"
    # A resource with more subjects than a reply can carry is refused before its values are
    # read, and no session is opened.
    monkeypatch.setattr(psi_service, "MAX_OFFER", 3)
    before = _sessions_of(world, licence.id)
    large = offer(world, headers)
    assert large.status_code == 400 and large.json()["error"]["code"] == "resource_too_large", large.text
    assert "more than 3 subjects" in large.json()["error"]["message"]
    assert _sessions_of(world, licence.id) == before


def _sessions_of(world: World, licence_id: int) -> int:
    from sqlalchemy import func, select

    from opendata.compute.models import IntersectionSession
    from opendata.db import Database

    database = Database(world.database_url)
    try:
        with database.session() as session:
            return int(session.scalar(select(func.count()).select_from(IntersectionSession)
                                      .where(IntersectionSession.licence_id == licence_id)))
    finally:
        database.dispose()


def _point(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_malformed_replies_are_refused_and_spend_nothing(world: World, licensed):
    _, headers = licensed
    opened = offer(world, headers).json()
    good = build_reply(opened, sorted(scores(world))[:4], world.bank.key.private_key).body()
    off_curve = _point(hashlib.sha256(b"x").digest()[:31] + b"\x7f")
    identity = _point(b"\x01" + bytes(31))
    n_t, n_e = int(opened["transport_key"]["n"]), int(world.bank.key.public_key.n)

    def first(name: str, text: str) -> dict[str, list[str]]:
        return {name: [text] + good[name][1:]}

    cases = {
        "invalid_point": [{"ids": [off_curve] + good["ids"][1:]}, {"ids": [identity] + good["ids"][1:]},
                          {"points": [identity] + good["points"][1:]}, {"ids": ["not base64"]}],
        "wrong_count": [{"points": good["points"][:-1]}, {"values": good["values"][:-1]}],
        "duplicate_points": [{"ids": good["ids"] + good["ids"][:1]}, {"points": good["points"][:-1] + good["points"][:1]}],
        "too_many_ids": [{"ids": good["ids"] * 13}],
        # The attacker's own ciphertexts: at or above n^2, zero, sharing a factor with n, not digits.
        "ciphertext_out_of_range": [first("values", str(n_t * n_t)), first("masks", str(n_e * n_e)),
                                    first("masks", "0")],
        "ciphertext_not_unit": [first("values", str(n_t)), first("masks", str(2 * n_e))],
        "not_decimal": [first("values", "-1"), first("masks", "1" * 5000), first("values", "\u0661")],
        "reply_invalid": [{"mask_total": "\u00b2"}, {"mask_total": -1}, {"mask_total": "9" * 1000},
                          {"mask_total": None}],
    }
    for code, changes in cases.items():
        for change in changes:
            response = world.client.post(f"{OPEN}/{opened['session']}", json={**good, **change}, headers=headers)
            assert response.status_code == 400, (code, response.text)
            assert response.json()["error"]["code"] == code, (code, response.text)
            if code.startswith("ciphertext"):  # the refusal names the entry
                assert "[0]: " in response.json()["error"]["message"], response.text
    answered = world.client.post(f"{OPEN}/{opened['session']}", json=good, headers=headers)
    assert answered.status_code == 200 and answered.json()["epsilon_left"] == 2.0
    reused = world.client.post(f"{OPEN}/{opened['session']}", json=good, headers=headers)
    assert reused.status_code == 409 and reused.json()["error"]["code"] == "session_used"


def test_a_reply_that_does_not_add_up_closes_the_session_and_spends_its_epsilon(world: World, licensed):
    """The total check is an exact answer about the table (does a linear function of the
    offered values, chosen by the replier, equal a guess?): each guess costs a session and
    the query's epsilon, so the budget bounds the guesses."""
    _, headers = licensed
    opened = offer(world, headers).json()
    good = build_reply(opened, sorted(scores(world))[:4], world.bank.key.private_key).body()
    guess = {**good, "mask_total": str(int(good["mask_total"]) + 1)}
    refused = world.client.post(f"{OPEN}/{opened['session']}", json=guess, headers=headers)
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "reply_inconsistent", refused.text
    assert "epsilon spent" in refused.json()["error"]["message"]
    grants = world.client.get("/api/v1/compute/intersection/grants", headers=headers).json()["grants"]
    assert grants[0]["epsilon_left"] == 2.0
    again = world.client.post(f"{OPEN}/{opened['session']}", json=good, headers=headers)
    assert again.status_code == 409 and again.json()["error"]["code"] == "session_used"
    record = next(r for r in audit_records(world.database_url, psi_service.ACTION, limit=2)
                  if r.code == "reply_inconsistent")
    assert record.outcome == "refused" and details(record)["epsilon"] == 1.0 and details(record)["ids"] == 4


def test_the_audit_counts_ids_and_epsilon_never_the_ids(world: World, licensed):
    _, headers = licensed
    ids = sorted(scores(world))[:5] + ["91440000NOTINDATA9"]
    run(world, headers, ids)
    record = audit_records(world.database_url, psi_service.ACTION, limit=1)[0]
    found = details(record)
    assert found["ids"] == 6 and found["epsilon"] == 1.0 and "inputs" in found and "outputs" in found
    text = record.details
    assert not any(i in text for i in ids)
    assert "exact" not in text and set(found) >= {"count", "suppressed", "subjects_offered"}
    usage = world.client.get("/api/v1/compute/usage", headers=headers).json()
    mine = next(r for r in usage if r["action"] == psi_service.ACTION)
    assert mine["details"]["ids"] == 6 and "duration_ms" not in mine["details"]


def test_the_admin_page_sets_the_grant_and_both_pages_show_the_budget_left(world: World, exact):
    from tests.portal import helpers as portal

    licence = world.licence()
    portal.sign_in(world.client, "admin")
    try:
        page = world.client.get(f"/admin/compute/policies/{licence.id}")
        assert 'data-testid="no-intersection"' in page.text
        form = {"dataset": RATINGS, "field": "score", "lower": "0", "upper": "100", "scale": "1",
                "epsilon_per_query": "1", "epsilon_total": "2", "min_cohort": "3", "max_ids": "50", "per_day": "5"}
        bad = portal.post_form(world.client, f"/admin/compute/policies/{licence.id}/intersection",
                               {**form, "field": "rating"})
        assert bad.status_code == 400 and "rating" in bad.text
        saved = portal.post_form(world.client, f"/admin/compute/policies/{licence.id}/intersection", form)
        assert saved.status_code == 303, saved.text
        run(world, licence.headers(world.client), sorted(scores(world))[:4])
        shown = world.client.get(f"/admin/compute/policies/{licence.id}").text
        assert 'data-testid="intersection-tax-credit-ratings"' in shown and "ε 1 / 2" in shown
    finally:
        world.client.cookies.clear()
    portal.sign_in(world.client, world.bank.username)
    try:
        mine = world.client.get(f"/workspace/licences/{licence.id}").text
        assert 'data-testid="intersection-budget"' in mine and "ε 1 / 2" in mine
    finally:
        world.client.cookies.clear()
    current = world.client.get(f"/api/v1/compute/policies/{licence.id}/intersection", headers=world.admin).json()
    assert current["grants"][0]["epsilon_spent"] == 1.0 and current["grants"][0]["min_cohort"] == 3


def test_an_expired_session_is_refused(world: World, licensed):
    from sqlalchemy import update

    from opendata.compute.models import IntersectionSession
    from opendata.db import Database, utcnow

    _, headers = licensed
    opened = offer(world, headers).json()
    database = Database(world.database_url)
    with database.session() as session:
        session.execute(update(IntersectionSession).where(IntersectionSession.id == opened["session"])
                        .values(expires_at=utcnow()))
        session.commit()
    database.dispose()
    reply = build_reply(opened, sorted(scores(world))[:3], world.bank.key.private_key).body()
    late = world.client.post(f"{OPEN}/{opened['session']}", json=reply, headers=headers)
    assert late.status_code == 410 and late.json()["error"]["code"] == "session_expired"


@pytest.mark.parametrize("change", [
    {"epsilon_per_query": 10 ** 400}, {"epsilon_per_query": 0}, {"epsilon_total": 0.5}, {"min_cohort": 1.5},
    {"fields": {"rating": {"lower": "0", "upper": "1"}}}, {"fields": {"score": {"lower": "5", "upper": "5"}}},
    {"fields": {"score": {"lower": "x", "upper": "5"}}}, {"fields": {}}, {"max_ids": 10 ** 9}, {"colour": "red"},
])
def test_bad_grants_are_refused(world: World, change: dict[str, Any]):
    body = {"dataset": RATINGS, "fields": BOUNDS, "epsilon_per_query": 1.0, "epsilon_total": 3.0, "min_cohort": 3,
            **change}
    response = world.client.put(f"/api/v1/compute/policies/{world.main.id}/intersection", json={"grants": [body]},
                                headers=world.admin)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] in ("invalid_grants", "unknown_field")


def test_a_grant_changed_after_the_offer_refuses_the_answer(world: World):
    """The offer was clamped to the old bounds: narrower bounds would calibrate the noise
    below what one subject of that offer can contribute."""
    licence = world.licence()
    grant(world, licence.id, fields={"score": {"lower": "0", "upper": "100"}})
    headers = licence.headers(world.client)
    opened = offer(world, headers).json()
    grant(world, licence.id, fields={"score": {"lower": "0", "upper": "10"}})
    reply = build_reply(opened, sorted(scores(world))[:3], world.bank.key.private_key).body()
    stale = world.client.post(f"{OPEN}/{opened['session']}", json=reply, headers=headers)
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "grant_changed"


def test_the_administrator_grants_the_budget_when_approving(world: World):
    from datetime import date, timedelta

    today = date.today()
    created = world.client.post("/api/v1/applications", headers=world.bank.session, json={
        "items": [{"dataset": RATINGS, "operations": ["compute"], "fields": ["score", "year"]}],
        "purpose": "客户群体统计。", "scenario": "银行客户的纳税信用分布。",
        "start_date": today.isoformat(), "end_date": (today + timedelta(days=30)).isoformat(), "terms_accepted": True})
    application = created.json()["id"]
    world.client.post(f"/api/v1/applications/{application}/submit", headers=world.bank.session)
    body = {"dataset": RATINGS, "fields": BOUNDS, "epsilon_per_query": 0.5, "epsilon_total": 2.0, "min_cohort": 10}
    bad = world.client.post(f"/api/v1/applications/{application}/approve", headers=world.admin,
                            json={"intersection": [{**body, "min_cohort": 0}]})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_grants"
    assert world.client.get(f"/api/v1/applications/{application}", headers=world.admin).json()["state"] == "submitted"
    approved = world.client.post(f"/api/v1/applications/{application}/approve", headers=world.admin,
                                 json={"intersection": [body]})
    assert approved.status_code == 200, approved.text
    licence = approved.json()["licence_id"]
    grants = world.client.get(f"/api/v1/compute/policies/{licence}/intersection", headers=world.admin).json()
    assert [(g["min_cohort"], g["epsilon_left"], g["queries_left"]) for g in grants["grants"]] == [(10, 2.0, 4)]


def test_the_offer_has_every_subject_whatever_the_filters(world: World, licensed, exact):
    """Only the subjects with a value under the filters would tell their exact number; every
    subject is offered (those without one as points no id matches) and they do not count."""
    _, headers = licensed
    everyone = {r["credit_code"] for r in world.rows(RATINGS)}
    sizes = {year: offer(world, headers, where={"year": year}).json()["subjects"] for year in ("2021", "2023")}
    assert sizes == {"2021": len(everyone), "2023": len(everyone)}
    without = sorted(everyone - set(scores(world, "2021")))
    assert without, "the test catalogue has subjects without a 2021 rating"
    answer = run(world, headers, without + sorted(scores(world, "2021"))[:3])
    assert answer["count"] == 3
