"""供需对接: asking for data, one vote per person, answers by administrators."""

from __future__ import annotations

from litestar.testing import TestClient

from opendata.demand.models import DataRequest, DataRequestSupport
from tests.portal.helpers import (
    PASSWORD, count_rows, make_staff, post_form, register_enterprise, sign_in, sign_out, text_of,
)

REQUEST = {"title": "公交实时到站数据", "description": "希望开放公交车辆实时到站预测数据，用于出行App。",
           "domain": "transport", "publisher": "gz-transport"}


def ask(client: TestClient) -> int:
    response = post_form(client, "/requests", REQUEST)
    assert response.status_code == 303, response.text
    return int(response.headers["location"].split("/")[2].split("?")[0])


def test_ask_support_once_and_answer(client: TestClient, database_url: str) -> None:
    register_enterprise(client)
    request_id = ask(client)
    listing = client.get("/requests").text
    assert "公交实时到站数据" in listing and "征集中" in listing
    own = post_form(client, f"/requests/{request_id}/support")
    assert own.status_code == 409 and "这是您提出的需求" in own.text
    sign_out(client)
    assert "公交实时到站数据" in client.get("/requests").text  # public
    assert 'href="/login?next=/requests/1"' in client.get(f"/requests/{request_id}").text
    post_form(client, "/register", {"role": "developer", "username": "dev", "email": "dev@example.com",
                                    "password": PASSWORD, "password_again": PASSWORD})
    sign_in(client, "dev")
    assert post_form(client, f"/requests/{request_id}/support").status_code == 303
    twice = post_form(client, f"/requests/{request_id}/support")
    assert twice.status_code == 409 and "您已支持过该需求" in twice.text
    assert count_rows(database_url, DataRequestSupport) == 1
    assert 'data-testid="supporters">1<' in client.get(f"/requests/{request_id}").text
    assert post_form(client, f"/requests/{request_id}/answer",
                     {"status": "planned", "answer": "x"}).status_code == 403
    sign_out(client)
    make_staff(database_url, "admin", "admin")
    sign_in(client, "admin")
    missing = post_form(client, f"/requests/{request_id}/answer", {"status": "published", "answer": "已开放。"})
    assert missing.status_code == 400 and "请选择对应的数据集" in missing.text
    answered = post_form(client, f"/requests/{request_id}/answer",
                         {"status": "published", "answer": "已开放，见公交站点数据集。", "dataset": "bus-stops"})
    assert answered.status_code == 303
    page = client.get(f"/requests/{request_id}").text
    assert "已开放" in page and "已开放，见公交站点数据集。" in page and 'href="/datasets/bus-stops"' in page
    published = text_of(client.get("/requests?status=published").text)
    assert "公交实时到站数据" in published


def test_bad_requests_say_why_and_create_nothing(client: TestClient, database_url: str) -> None:
    register_enterprise(client)
    for changes, message in [({"title": ""}, "有必填项未填写"), ({"description": "太短"}, "有必填项未填写"),
                             ({"domain": "mars"}, "数据领域无效"), ({"publisher": "nobody"}, "数源部门不存在")]:
        response = post_form(client, "/requests", {**REQUEST, **changes})
        assert response.status_code == 400 and message in response.text, changes
    assert count_rows(database_url, DataRequest) == 0
    assert client.get("/requests/99").status_code == 404
