"""The reuse showcase on the portal (zh/en): submit through the form (CSRF, hostile
titles and URLs), the administrators' queue (a reason; a rejection also a ticked box),
the public pages and the dataset page's list."""

from __future__ import annotations

import re
from typing import Any

from opendata.showcase.models import Showcase
from tests.portal.helpers import count_rows, make_staff, post_form, register_developer, sign_in, sign_out
from tests.showcase.helpers import XSS_TITLE, module_portal  # noqa: F401  (fixture)

FORM = {"title": "公交到站预测", "kind": "app", "url": "https://bus.example.com/app?a=1&b=2",
        "datasets": ["bus-stops", "si-headcount"], "description": "用公交站点数据预测到站时间，服务通勤市民。"}
ESCAPED = "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;"


def newest_id(database_url: str) -> int:
    from sqlalchemy import func, select

    from opendata.db import Database

    database = Database(database_url)
    with database.session() as session:
        found = session.scalar(select(func.max(Showcase.id)))
    database.dispose()
    return int(found)


def test_submit_review_publish_and_take_down_through_the_pages(module_portal: Any) -> None:
    client, url = module_portal
    empty = client.get("/showcase?lang=zh")
    assert empty.status_code == 200 and "还没有应用成果。" in empty.text and 'href="/showcase"' in empty.text
    to_sign_in = client.get("/showcase/new", follow_redirects=False)
    assert to_sign_in.status_code in (302, 303) and to_sign_in.headers["location"].startswith("/login")

    register_developer(client, "ann")
    form = client.get("/showcase/new?dataset=bus-stops").text
    assert '<option value="bus-stops" selected>' in form and 'name="csrf_token"' in form
    assert client.post("/showcase", data=FORM, follow_redirects=False).status_code == 403  # no form token
    for hostile in ("javascript:alert(1)", " JAVASCRIPT:alert(1)", "data:text/html;base64,PHNjcmlwdD4=",
                    "https://user:pw@bank.example.com"):
        refused = post_form(client, "/showcase", {**FORM, "url": hostile, "title": XSS_TITLE[:100]})
        assert refused.status_code == 400 and "网址无效" in refused.text
        assert XSS_TITLE[:30] not in refused.text and ESCAPED in refused.text  # echoed, escaped
    short = post_form(client, "/showcase", {**FORM, "description": "短"})
    assert short.status_code == 400 and "简介（至少 10 个字）：有必填项未填写。" in short.text
    none_picked = post_form(client, "/showcase", {**FORM, "datasets": []})
    assert none_picked.status_code == 400 and "请选择 1 至 10 个所用的数据集" in none_picked.text
    assert count_rows(url, Showcase) == 0

    sent = post_form(client, "/showcase", {**FORM, "title": XSS_TITLE[:100],
                                           "image_url": "https://img.example.com/shot.png"})
    assert sent.status_code == 303 and sent.headers["location"].endswith("?notice=showcase_submitted")
    number = newest_id(url)
    own = client.get(sent.headers["location"]).text
    assert ESCAPED in own and XSS_TITLE[:30] not in own and "待审核" in own and "已提交" in own
    assert 'src="https://img.example.com' not in own and 'href="https://img.example.com/shot.png"' in own  # linked, never loaded
    sign_out(client)
    assert client.get(f"/showcase/{number}").status_code == 404  # not public before review
    dataset_page = client.get("/datasets/bus-stops")
    assert dataset_page.status_code == 200 and 'data-testid="dataset-showcases"' in dataset_page.text
    assert 'data-testid="dataset-showcase-' not in dataset_page.text and "还没有使用该数据集的应用成果" in dataset_page.text

    make_staff(url, "boss", "admin")
    sign_in(client, "boss")
    queue = client.get("/admin/showcases?lang=zh").text
    assert f'data-testid="review-{number}"' in queue and "待审核 (1)" in queue and "已等待 0 天" in queue
    assert 'checked' not in queue[queue.index(f'review-{number}'):]  # no decision chosen in advance
    decide = f"/admin/showcases/{number}/decide"
    assert post_form(client, decide, {"reason": "好"}).status_code == 400  # no decision
    no_box = post_form(client, decide, {"decision": "reject", "reason": "链接不可用"})
    assert no_box.status_code == 400 and "请勾选确认框" in no_box.text and "链接不可用" in no_box.text
    assert post_form(client, decide, {"decision": "approve"}).status_code == 400  # no reason
    approved = post_form(client, decide, {"decision": "approve", "reason": "内容属实"})
    assert approved.status_code == 303 and "notice=showcase_approved" in approved.headers["location"]
    sign_out(client)

    listed = client.get("/showcase?lang=zh").text
    assert f'data-testid="showcase-{number}"' in listed and ESCAPED in listed and "共 1 个应用成果" in listed
    detail = client.get(f"/showcase/{number}").text
    link = re.search(r'<a href="([^"]+)" rel="nofollow ugc noopener noreferrer" class="external" '
                     r'data-testid="showcase-url">', detail)
    assert link and link.group(1) == "https://bus.example.com/app?a=1&amp;b=2"
    assert "内容属实" not in detail  # the review's reason is for the submitter and administrators
    on_dataset = client.get("/datasets/si-headcount?lang=zh").text
    assert f'data-testid="dataset-showcase-{number}"' in on_dataset and ESCAPED in on_dataset
    assert 'href="/showcase/new?dataset=si-headcount"' in on_dataset
    english = client.get("/showcase?lang=en&dataset=bus-stops").text
    assert "Reuses of the data" in english and "Reuses of “Guangzhou bus stops”." in english
    assert "Uses: " in english and "App" in english
    assert f'data-testid="showcase-{number}"' not in client.get("/showcase?kind=analysis").text

    sign_in(client, "boss")
    down = post_form(client, decide, {"decision": "reject", "reason": "链接已失效", "confirm": "1"})
    assert down.status_code == 303
    sign_out(client)
    assert f'showcase-{number}"' not in client.get("/showcase").text
    assert client.get(f"/showcase/{number}").status_code == 404
    sign_in(client, "ann")
    mine = client.get("/showcase/mine?lang=zh").text
    assert f'data-testid="mine-{number}"' in mine and "链接已失效" in mine and "未通过" in mine
    sign_out(client)


def test_the_queue_is_for_administrators_only(module_portal: Any) -> None:
    client, url = module_portal
    assert client.get("/admin/showcases", follow_redirects=False).headers["location"].startswith("/login")
    register_developer(client, "bea")
    assert client.get("/admin/showcases", follow_redirects=False).status_code == 403
    assert post_form(client, "/admin/showcases/1/decide", {"decision": "approve", "reason": "x"}).status_code == 403
    english = client.get("/showcase/new?lang=en").text
    assert "Submit a reuse" in english and "Datasets used (choose up to 10)" in english
    assert post_form(client, "/showcase", {**FORM, "url": "ftp://x.example"}).status_code == 400
    sign_out(client)
