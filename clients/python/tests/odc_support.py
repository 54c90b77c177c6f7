"""The SDK tests' fake portal and recorders (imported by conftest.py and the tests)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

FIELDS = [{"name": "n", "type": "integer", "title_zh": "序号"}, {"name": "day", "type": "date", "title_zh": "日期"},
          {"name": "amount", "type": "decimal", "title_zh": "金额"}, {"name": "ok", "type": "boolean", "title_zh": "是否"}]


def error(status: int, code: str, message: str = "", headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json={"error": {"code": code, "message": message or code}}, headers=headers)


@dataclass
class FakePortal:
    """Rows ``n = 1..total`` served in keyset pages like the real rows endpoint; with a
    ``quota``, it clamps pages to what is left and answers 429 quota_exceeded after."""

    total: int = 10
    quota: int | None = None
    served: int = 0
    requests: list[httpx.Request] = field(default_factory=list)
    # Answers to give before the real one, in order: a Response, or an exception to raise.
    script: list[Any] = field(default_factory=list)

    def row(self, n: int) -> dict[str, Any]:
        return {"n": n, "day": f"2024-01-{n:02d}", "amount": f"{n}.50", "ok": n % 2 == 0}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.script:
            step = self.script.pop(0)
            if isinstance(step, Exception):
                raise step
            return step
        if request.url.path.endswith("/rows"):
            return self.rows(request)
        return error(404, "not_found")

    def rows(self, request: httpx.Request) -> httpx.Response:
        start = int(request.url.params.get("cursor", "0"))
        limit = int(request.url.params.get("limit", "100"))
        if self.quota is not None:
            left = self.quota - self.served
            if left <= 0:
                return error(429, "quota_exceeded", "the daily rows quota is spent", {"Retry-After": "36000"})
            limit = min(limit, left)
        numbers = list(range(start + 1, min(self.total, start + limit) + 1))
        self.served += len(numbers)
        more = numbers and numbers[-1] < self.total
        return httpx.Response(200, json={
            "fields": FIELDS, "items": [self.row(n) for n in numbers],
            "total": {"value": self.total, "relation": "eq"}, "next": str(numbers[-1]) if more else None,
        })

    def limits(self) -> list[int]:
        return [int(r.url.params["limit"]) for r in self.requests if "limit" in r.url.params]


class Sleeps(list):
    """Records the waits a client asked for instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)

    async def asleep(self, seconds: float) -> None:
        self.append(seconds)


@dataclass
class LivePortal:
    url: str
    client_id: str
    client_secret: str
    licence_id: int
    database_url: str = ""


def feedback_on(portal: LivePortal, dataset_id: str, publisher_id: str) -> int:
    """Two ratings (4 and 2 stars) and a problem report answered by the dataset's
    department, made through the portal's API as people would; the comment's id."""
    import httpx

    from tests.access.helpers import PASSWORD, make_staff, sign_in

    with httpx.Client(base_url=portal.url) as http:
        for name, stars in (("reader-a", 4), ("reader-b", 2)):
            registered = http.post("/api/v1/auth/register", json={
                "role": "developer", "username": name, "email": f"{name}@example.com", "password": PASSWORD})
            assert registered.status_code == 202, registered.text
            person = sign_in(http, name)  # type: ignore[arg-type]
            rated = http.put(f"/api/v1/datasets/{dataset_id}/rating", json={"stars": stars}, headers=person)
            assert rated.status_code == 200, rated.text
        comment = http.post(f"/api/v1/datasets/{dataset_id}/comments", headers=person, json={
            "kind": "problem", "category": "outdated", "body": "年龄一列似乎没有更新。"})
        assert comment.status_code == 201, comment.text
        make_staff(portal.database_url, "hr-clerk", "publisher", publisher_id)
        clerk = sign_in(http, "hr-clerk")  # type: ignore[arg-type]
        replied = http.post(f"/api/v1/comments/{comment.json()['id']}/replies", headers=clerk,
                            json={"body": "已核实，下月更新。"})
        assert replied.status_code == 201, replied.text
        return int(comment.json()["id"])


HEADCOUNT_CSV = "credit_code,month,headcount\n" + "".join(
    f"91440101MA5CXXXX1A,2024-{m:02d}-01,{30 + m}\n" for m in range(1, 6))
