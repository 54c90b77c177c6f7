"""Administrators search, export and verify the audit trail over HTTP.

The controller lives in access, not in audit, because it needs to know who is signed in:
the audit package stays a leaf that everything may call and that calls nothing back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterator

from litestar import Controller, Request, get
from litestar.params import FromQuery
from litestar.response import Stream

from opendata.access.principals import require_user
from opendata.audit.keyfiles import material_for
from opendata.audit.verify import verify_audit
from opendata.audit.context import request_info
from opendata.audit.models import AuditRecord
from opendata.audit.search import AuditQuery, details_of, iter_matching, search
from opendata.audit.service import append
from opendata.db import Database
from opendata.deps import AppDatabase, DbSession
from opendata.params import OptionalQueryId
from opendata.errors import bad_request
from opendata.formats import Column, get_exporter

EXPORT_FORMATS = ("csv", "xlsx")
EXPORT_COLUMNS = [
    Column("id", "序号", "ID", "integer"),
    Column("at", "时间", "Time (UTC)", "datetime"),
    Column("actor", "操作者", "Actor", "string"),
    Column("actor_role", "角色", "Role", "string"),
    Column("action", "操作", "Action", "string"),
    Column("target", "对象", "Target", "string"),
    Column("outcome", "结果", "Outcome", "string"),
    Column("code", "代码", "Code", "string"),
    Column("details", "详情", "Details", "string"),
    Column("method", "方法", "Method", "string"),
    Column("path", "路径", "Path", "string"),
    Column("client_ip", "客户端地址", "Client IP", "string"),
    Column("user_agent", "用户代理", "User agent", "string"),
    Column("token_jti", "令牌编号", "Token jti", "string"),
    Column("prev_hash", "前一哈希", "Previous hash", "string"),
    Column("hash", "哈希", "Hash", "string"),
]


@dataclass
class AuditRecordOut:
    id: int
    at: datetime
    actor: str
    actor_role: str | None
    action: str
    target: str | None
    outcome: str
    code: str | None
    details: dict[str, Any]
    method: str | None
    path: str | None
    client_ip: str | None
    user_agent: str | None
    token_jti: str | None
    prev_hash: str
    hash: str


@dataclass
class AuditPage:
    items: list[AuditRecordOut]
    next_before: int | None


@dataclass
class ChainOut:
    intact: bool
    records: int
    head_hash: str
    broken_id: int | None
    problem: str | None
    problems: list[str]
    checkpoints: int
    truncated: bool
    notes: list[str]


def _out(r: AuditRecord) -> AuditRecordOut:
    return AuditRecordOut(r.id, r.at, r.actor, r.actor_role, r.action, r.target, r.outcome, r.code,
                          details_of(r), r.method, r.path, r.client_ip, r.user_agent, r.token_jti,
                          r.prev_hash, r.hash)


def _rows(database: Database, query: AuditQuery) -> Iterator[tuple[Any, ...]]:
    # Its own session: the response streams after the request's session has closed.
    with database.session() as session:
        for r in iter_matching(session, query):
            yield (r.id, r.at, r.actor, r.actor_role, r.action, r.target, r.outcome, r.code, r.details,
                   r.method, r.path, r.client_ip, r.user_agent, r.token_jti, r.prev_hash, r.hash)


class AuditController(Controller):
    path = "/api/v1/audit"
    tags = ["audit"]

    @get("/", summary="Search the audit trail (administrators), newest first", sync_to_thread=True)
    def search_audit(
        self, request: Request, db_session: DbSession, actor: FromQuery[str | None] = None,
        action: FromQuery[str | None] = None, target: FromQuery[str | None] = None,
        outcome: FromQuery[str | None] = None, since: FromQuery[datetime | None] = None,
        until: FromQuery[datetime | None] = None, before: OptionalQueryId = None,
        page_size: FromQuery[int] = 50,
    ) -> AuditPage:
        require_user(request, db_session, action="audit.search", roles=("admin",))
        query = AuditQuery(actor, action, target, outcome, since, until, before, page_size)
        records, next_before = search(db_session, query)
        return AuditPage([_out(r) for r in records], next_before)

    @get("/export", summary="Export matching audit records as CSV or XLSX (administrators)", sync_to_thread=True)
    def export_audit(
        self, request: Request, db_session: DbSession, database: AppDatabase, format: FromQuery[str] = "csv",
        actor: FromQuery[str | None] = None, action: FromQuery[str | None] = None,
        target: FromQuery[str | None] = None, outcome: FromQuery[str | None] = None,
        since: FromQuery[datetime | None] = None, until: FromQuery[datetime | None] = None,
    ) -> Stream:
        principal = require_user(request, db_session, action="audit.export", roles=("admin",))
        if format not in EXPORT_FORMATS:
            raise bad_request("unknown_format", f"format is one of {', '.join(EXPORT_FORMATS)}")
        query = AuditQuery(actor, action, target, outcome, since, until).check()
        # Exporting the trail is itself an audited act.
        append(db_session, actor=principal.actor, action="audit.export", target=None,
               details={"format": format, "filters": {k: str(v) for k, v in vars(query).items()
                                                      if v is not None and k != "page_size"}},
               request=request_info(request))
        db_session.commit()
        exporter = get_exporter(format)
        return Stream(
            exporter(EXPORT_COLUMNS, _rows(database, query)), media_type=exporter.media_type,
            headers={"Content-Disposition": f'attachment; filename="{exporter.filename("audit")}"',
                     "Cache-Control": "no-store"},
        )

    @get("/verify", summary="Check the keyed audit chain and its signed checkpoints (administrators)",
         sync_to_thread=True)
    def verify(self, request: Request, db_session: DbSession) -> ChainOut:
        require_user(request, db_session, action="audit.verify", roles=("admin",))
        report = verify_audit(db_session, material_for(db_session))
        return ChainOut(report.intact, report.records, report.head_hash, report.first_broken_id,
                        report.problems[0] if report.problems else None, report.problems, report.checkpoints,
                        report.truncated, report.notes)
