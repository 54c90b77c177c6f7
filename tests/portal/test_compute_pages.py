"""隐私计算 in the workspaces: Paillier public keys (register, revoke) and model decisions."""

from __future__ import annotations

import json

from litestar.testing import TestClient

from opendata.compute.keyholder import KeyHolder, generate_keypair
from opendata.compute.models import ComputeKey, ComputeModel
from opendata.db import Database
from tests.portal.helpers import (
    CREDIT_B, application_form, count_rows, make_staff, post_form, register_enterprise, sign_in, sign_out, text_of,
)


def proved_key(client: TestClient, key: KeyHolder) -> str:
    """What the page tells the user to paste: the SDK's registration body, made from the
    parameters downloaded with the page's link (the signed-in session)."""
    parameters = client.get("/api/v1/compute/parameters")
    assert parameters.status_code == 200, parameters.text
    return json.dumps(key.registration_body(parameters.json()))


def test_register_a_public_key_and_revoke_it(client: TestClient, database_url: str) -> None:
    key = generate_keypair(2048)
    register_enterprise(client)
    page = client.get("/workspace/compute")
    assert page.status_code == 200 and "还没有登记公钥" in page.text
    assert 'href="/api/v1/compute/parameters"' in page.text
    bare = post_form(client, "/workspace/compute/keys", {"public_key": json.dumps(key.public_key_dict())})
    assert bare.status_code == 400 and "构造证明" in bare.text  # a key without its proof
    registered = post_form(client, "/workspace/compute/keys", {"public_key": proved_key(client, key)})
    assert registered.status_code == 303 and "notice=key_registered" in registered.headers["location"]
    listing = client.get("/workspace/compute").text
    assert key.public_key.key_id in listing and "2048" in listing
    again = post_form(client, "/workspace/compute/keys",
                      {"public_key": json.dumps({"public_key": key.public_key_dict()})})
    assert "notice=key_known" in again.headers["location"]
    assert count_rows(database_url, ComputeKey) == 1
    sign_out(client)
    register_enterprise(client, "other", CREDIT_B)
    taken = post_form(client, "/workspace/compute/keys", {"public_key": proved_key(client, key)})
    assert taken.status_code == 409 and "已被其他企业登记" in taken.text
    assert post_form(client, f"/workspace/compute/keys/{key.public_key.key_id}/revoke").status_code == 404
    sign_out(client)
    sign_in(client, "acme")
    revoked = post_form(client, f"/workspace/compute/keys/{key.public_key.key_id}/revoke")
    assert revoked.status_code == 303
    assert "已撤销" in client.get("/workspace/compute").text
    usage = client.get("/workspace/usage").text
    assert "compute.key.register" in usage and "compute.key.revoke" in usage


def test_bad_keys_say_why_and_register_nothing(client: TestClient, database_url: str) -> None:
    register_enterprise(client)
    good = generate_keypair(2048).public_key_dict()
    for text, message in [
        ("", "请粘贴公钥"),
        ("not json", "公钥不是有效的 JSON"),
        (json.dumps({**good, "kid": "0" * len(good["kid"])}), "kid 与 n 不符"),
        (json.dumps({**good, "n": str(int(good["n"]) * 2)}), "n 为偶数"),
        (json.dumps({"kty": "paillier", "n": "35"}), "公钥位数过小"),
        (json.dumps([1, 2]), "公钥格式应为"),
    ]:
        response = post_form(client, "/workspace/compute/keys", {"public_key": text})
        assert response.status_code == 400, (text[:40], response.text)
        assert message in response.text, text[:40]
    assert count_rows(database_url, ComputeKey) == 0
    kept = post_form(client, "/workspace/compute/keys", {"public_key": "not json"})
    assert ">not json</textarea>" in kept.text


def _pending_model(client: TestClient, database_url: str) -> int:
    """acme holds a compute licence on the closed dataset and a registered key; its model
    is put in the table as the compute API would (registration is the SDK's, tested there)."""
    key = generate_keypair(2048)
    register_enterprise(client)
    post_form(client, "/workspace/compute/keys", {"public_key": proved_key(client, key)})
    post_form(client, "/workspace/applications", application_form(
        "personal-si-base", operations=("compute",), fields=("id_number", "base")))
    sign_out(client)
    make_staff(database_url, "admin", "admin")
    sign_in(client, "admin")
    decided = post_form(client, "/admin/applications/1/decide", {
        "decision": "approve", "reason": "同意。", "fields.personal-si-base": ["id_number", "base"],
        "start_date": application_form()["start_date"], "end_date": application_form()["end_date"]})
    assert decided.status_code == 303, decided.text
    database = Database(database_url)
    with database.session() as session:
        organisation_id = session.get(ComputeKey, key.public_key.key_id).organisation_id
        model = ComputeModel(
            licence_id=1, organisation_id=organisation_id, key_id=key.public_key.key_id, name="缴费能力评分",
            features=[{"dataset": "personal-si-base", "resource": "bases", "field": "base", "aggregate": "value",
                       "where": {}, "scale": 2, "default": "0", "map": None}],
            score_scale=2, enc_weights=[str(key.public_key.encrypt(1))], enc_bias=str(key.public_key.encrypt(0)),
            digest="0" * 64, state="pending", created_by="client:odc_test", output_mode="reviewed",
            plain_weights={"weights": ["1"], "bias": "0"})
        session.add(model)
        session.commit()
        model_id = model.id
    database.dispose()
    return model_id


def test_models_are_decided_with_a_reason(client: TestClient, database_url: str) -> None:
    model_id = _pending_model(client, database_url)
    queue = client.get("/admin/models").text
    assert f'data-testid="model-{model_id}"' in queue and "value(personal-si-base/bases.base)" in queue
    assert "审阅权重（精确评分）" in queue and f'data-testid="weights-{model_id}"' in queue  # what is approved
    missing = post_form(client, f"/admin/models/{model_id}/decide", {"decision": "approve", "reason": " "})
    assert missing.status_code == 400 and "每个审核决定都须说明理由" in missing.text
    assert count_rows(database_url, ComputeModel, ComputeModel.state == "pending") == 1
    approved = post_form(client, f"/admin/models/{model_id}/decide",
                         {"decision": "approve", "reason": "仅用缴费基数，符合最小必要。", "output_mode": "reviewed"})
    assert approved.status_code == 303
    again = post_form(client, f"/admin/models/{model_id}/decide", {"decision": "reject", "reason": "x"})
    assert again.status_code == 409
    sign_out(client)
    sign_in(client, "acme")
    page = text_of(client.get("/workspace/compute").text)
    assert "缴费能力评分" in page and "已批准" in page and "仅用缴费基数，符合最小必要。" in page
    assert "审阅权重（精确评分）" in page
    assert client.get("/admin/models").status_code == 403
