"""The SDK's compute methods against a real portal over HTTP, with client credentials; and
the proof that no request it sends carries the private key."""

from __future__ import annotations

import json
import math
import stat
from pathlib import Path

import httpx
import pytest

from opendata.client import OpenDataClient, OpenDataError
from opendata.compute.keyholder import KeyHolder
from tests.compute.sme_model import BIAS, FEATURES, SCORE_SCALE, WEIGHTS, expected_scores, firms
from tests.compute.calls import approval
from tests.compute.world import World


class RecordingTransport(httpx.BaseTransport):
    """Sends for real, and keeps every request's method, URL, headers and body."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.sent: list[tuple[str, str, str, bytes]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        headers = "\n".join(f"{k}: {v}" for k, v in request.headers.items())
        self.sent.append((request.method, str(request.url), headers, body))
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()

    def paths(self, path: str) -> int:
        return sum(1 for _, url, _, _ in self.sent if httpx.URL(url).path == path)


@pytest.fixture(scope="module")
def sdk_key() -> KeyHolder:
    return OpenDataClient.generate_keypair()


def bank_client(world: World, portal: str, key: KeyHolder, transport: httpx.BaseTransport | None = None,
                ) -> OpenDataClient:
    return OpenDataClient(portal, client_id=world.bank.client_id, client_secret=world.bank.client_secret,
                          scope=f"licence:{world.main.id}", key=key, transport=transport)


def secrets_of(key: KeyHolder) -> list[str]:
    p, q = int(key.private_key.p), int(key.private_key.q)
    return [str(p), str(q), str(math.lcm(p - 1, q - 1)), str((p - 1) * (q - 1)), hex(p)[2:], hex(q)[2:]]


def test_verify_register_and_score_without_ever_sending_the_private_key(world: World, portal: str,
                                                                      sdk_key: KeyHolder) -> None:
    recorder = RecordingTransport()
    person = world.rows("personal-social-insurance")[0]
    with bank_client(world, portal, sdk_key, recorder) as od:
        assert od.register_key()["kid"] == sdk_key.public_key.key_id
        claims = {"contribution_base": person["contribution_base"],
                  "employer_credit_code": person["employer_credit_code"]}
        assert od.verify("personal-social-insurance", person["id_number"], claims,
                         where={"month": person["month"]}) == {"contribution_base": True, "employer_credit_code": True}
        assert od.verify("personal-social-insurance", person["id_number"], {"contribution_base": 1},
                         where={"month": person["month"]}) == {"contribution_base": False}
        model_id = od.register_model("小微企业授信评分", FEATURES, WEIGHTS, BIAS, SCORE_SCALE)
        assert od.model(model_id)["state"] == "pending"
        approved = world.client.post(f"/api/v1/compute/models/{model_id}/approve", json=approval(),
                                     headers=world.admin)
        assert approved.status_code == 200, approved.text
        subjects = firms(world)
        assert od.score(model_id, subjects) == expected_scores(world, subjects)
    assert recorder.paths("/api/v1/token") == 1 and len(recorder.sent) >= 6
    for secret in secrets_of(sdk_key):
        for method, url, headers, body in recorder.sent:
            assert secret.encode() not in body, f"{method} {url} sent a private value"
            assert secret not in url and secret not in headers
    # ... while the public modulus did travel (so the check above looks at the right bodies).
    assert any(str(sdk_key.public_key.n).encode() in body for *_, body in recorder.sent)


def test_the_sdk_renews_its_token_before_expiry_and_after_a_revocation(world: World, portal: str,
                                                                     sdk_key: KeyHolder) -> None:
    recorder = RecordingTransport()
    person = world.rows("personal-social-insurance")[0]
    claims = {"contribution_base": person["contribution_base"]}
    with bank_client(world, portal, sdk_key, recorder) as od:
        od.register_key()
        od._token_renew_at = 0.0  # as if the token were about to expire
        assert od.verify("personal-social-insurance", person["id_number"], claims, where={"month": person["month"]})
        assert recorder.paths("/api/v1/token") == 2
        revoked = httpx.post(f"{portal}/api/v1/token/revoke", data={"token": od._token},
                             auth=(world.bank.client_id, world.bank.client_secret))
        assert revoked.status_code == 200
        assert od.verify("personal-social-insurance", person["id_number"], claims, where={"month": person["month"]})
        assert recorder.paths("/api/v1/token") == 3  # a 401 token_revoked, then one new token


def test_sdk_errors_carry_the_portal_codes(world: World, portal: str, sdk_key: KeyHolder) -> None:
    with OpenDataClient(portal, client_id=world.bank.client_id, client_secret="wrong", key=sdk_key) as od:
        with pytest.raises(OpenDataError) as caught:
            od.register_key()
        assert (caught.value.status, caught.value.code) == (401, "invalid_client")
    with bank_client(world, portal, sdk_key) as od:
        od.register_key()
        with pytest.raises(OpenDataError) as caught:
            od.verify("personal-social-insurance", "440106199912310000", {"contribution_base": 1})
        assert (caught.value.status, caught.value.code) == (400, "ambiguous_subject")
        with pytest.raises(ValueError):
            od.verify("personal-social-insurance", "440106199912310000", {"no_such_field": 1})
    with OpenDataClient(portal) as anonymous, pytest.raises(ValueError):
        anonymous.register_key()  # no key: nothing is sent


def test_a_saved_key_is_readable_by_its_owner_only_and_loads_back(tmp_path: Path, sdk_key: KeyHolder) -> None:
    path = OpenDataClient.save_key(sdk_key, tmp_path / "key.json")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    loaded = OpenDataClient.load_key(path)
    assert loaded.public_key == sdk_key.public_key
    assert loaded.decrypt_int(sdk_key.encrypt_int(-42)) == -42


def test_secret_weights_give_decisions_and_bands_through_the_sdk(world: World, portal: str,
                                                                sdk_key: KeyHolder) -> None:
    """The walk-through's model with its weights kept secret (range-proved): the SDK returns
    whether each firm reaches the threshold, or its band -- and never a score."""
    recorder = RecordingTransport()
    subjects = firms(world)
    scores = expected_scores(world, subjects)
    ordered = sorted(scores.values())
    threshold = ordered[len(ordered) // 2]
    bands = [ordered[len(ordered) // 4], threshold, ordered[3 * len(ordered) // 4]]
    with bank_client(world, portal, sdk_key, recorder) as od:
        od.register_key()
        decision = od.register_model("授信门槛", FEATURES, WEIGHTS, BIAS, SCORE_SCALE, output_mode="decision",
                                     thresholds=[threshold], weight_bits=40, bias_bits=64)
        banded = od.register_model("授信分档", FEATURES, WEIGHTS, BIAS, SCORE_SCALE, output_mode="banded",
                                   thresholds=bands, weight_bits=40, bias_bits=64)
        assert od.model(decision)["reviewed_weights"] is None  # the weights never left this process
        for model_id, mode in ((decision, "decision"), (banded, "banded")):
            approved = world.client.post(f"/api/v1/compute/models/{model_id}/approve", json=approval(mode),
                                         headers=world.admin)
            assert approved.status_code == 200, approved.text
        assert od.score(decision, subjects) == {s: scores[s] >= threshold for s in subjects}
        assert od.score(banded, subjects) == {s: sum(scores[s] >= t for t in bands) for s in subjects}
    for secret in secrets_of(sdk_key):
        assert all(secret.encode() not in body for *_, body in recorder.sent)
    registrations = [json.loads(body) for method, url, _, body in recorder.sent
                     if method == "POST" and httpx.URL(url).path == "/api/v1/compute/models"]
    assert registrations and all("weights" not in r and "bias" not in r for r in registrations)
