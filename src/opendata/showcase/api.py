"""/api/v1/showcases: the reuse showcase (应用成果展示).

Reading approved showcases is public; submitting needs a signed-in person (bearer
session token, or the portal's cookie with its CSRF header); deciding is for
administrators. Every write is audited.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from opendata.access.principals import Principal, require_user
from opendata.audit.context import request_info
from opendata.deps import DbSession
from opendata.errors import only_fields, required_field
from opendata.feedback.api import optional_principal
from opendata.showcase import service
from opendata.showcase.schemas import ShowcaseOut, ShowcasePageOut, showcase_out

CONFLICT = {409: ResponseSpec(None, description="Not possible from the showcase's current state")}
TOO_MANY = {429: ResponseSpec(None, description="More than 5 showcases in 24 hours (Retry-After)")}
FIELDS = ("title", "description", "url", "datasets", "kind", "image_url")

Page = Annotated[int, QueryParameter(ge=1, le=1_000_000, description="1-based page number")]
PageSize = Annotated[int, QueryParameter(ge=1, le=service.PAGE_SIZE_MAX, description="items per page")]


def _private(row: Any, viewer: Principal | None) -> bool:
    return viewer is not None and (viewer.user.role == "admin" or viewer.user.id == row.submitter_id)


def _page_out(found: service.ShowcasePage, *, private: bool = False,
              counts: dict[str, int] | None = None) -> ShowcasePageOut:
    return ShowcasePageOut([showcase_out(s, private=private) for s in found.items], found.total, found.page,
                           found.page_size, counts or {})


class ShowcaseController(Controller):
    path = "/api/v1"
    tags = ["showcase"]

    @get("/showcases", summary="Approved showcases: apps and analyses built on the data", sync_to_thread=True)
    def showcases(self, db_session: DbSession, dataset: FromQuery[str | None] = None,
                  kind: FromQuery[str | None] = None,
                  page: Page = 1, page_size: PageSize = 20) -> ShowcasePageOut:
        """Newest first; ``dataset``: those using this dataset; ``kind``: app, analysis,
        visualisation or other."""
        return _page_out(service.list_showcases(db_session, dataset_id=dataset, kind=kind, page=page,
                                                page_size=page_size))

    @post("/showcases", summary="Submit a showcase for review", status_code=201, responses=TOO_MANY,
          sync_to_thread=True)
    def submit(self, request: Request, db_session: DbSession,
               data: JSONBody[dict[str, Any]]) -> Response[ShowcaseOut]:
        """Body ``{"title", "description", "url", "datasets": [ids], "kind", "image_url"}``
        (``kind`` defaults to app; ``image_url`` optional). Shown once an administrator
        approves it."""
        principal = require_user(request, db_session, action="showcase.submit")
        only_fields(data, *FIELDS)
        spec = service.ShowcaseInput(title=required_field(data, "title"), description=required_field(data, "description"),
                                     url=required_field(data, "url"), datasets=required_field(data, "datasets"),
                                     kind=data.get("kind", "app"), image_url=data.get("image_url"))
        row = service.submit(db_session, principal, spec, request_info(request))
        db_session.commit()
        return Response(showcase_out(service.get_showcase(db_session, row.id, principal), private=True),
                        status_code=201)

    @get("/showcases/mine", summary="Your showcases, in every state, with the decisions' reasons",
         sync_to_thread=True)
    def mine(self, request: Request, db_session: DbSession, page: Page = 1,
             page_size: PageSize = 20) -> ShowcasePageOut:
        principal = require_user(request, db_session, action="showcase.mine")
        return _page_out(service.list_showcases(db_session, state=None, submitter_id=principal.user.id, page=page,
                                                page_size=page_size), private=True)

    @get("/showcases/{showcase_id:int}", summary="One showcase", sync_to_thread=True)
    def showcase(self, request: Request, db_session: DbSession, showcase_id: FromPath[int]) -> ShowcaseOut:
        """Approved: everyone; submitted or rejected: its submitter and administrators (else 404)."""
        viewer = optional_principal(request, db_session)
        row = service.get_showcase(db_session, showcase_id, viewer)
        return showcase_out(row, private=_private(row, viewer))

    @get("/admin/showcases", summary="Showcases for moderation (administrators)", sync_to_thread=True)
    def moderation(self, request: Request, db_session: DbSession,
                   wanted: Annotated[str, QueryParameter(name="state", description="submitted | approved | rejected")]
                   = "submitted", page: Page = 1, page_size: PageSize = 20) -> ShowcasePageOut:
        """``state``: submitted (default), approved or rejected; ``counts`` per state."""
        require_user(request, db_session, action="showcase.moderate", roles=("admin",))
        found = service.list_showcases(db_session, state=wanted, page=page, page_size=page_size)
        return _page_out(found, private=True, counts=service.state_counts(db_session))

    @post("/admin/showcases/{showcase_id:int}/decision", summary="Approve or reject a showcase, with a reason",
          status_code=200,
          responses=CONFLICT, sync_to_thread=True)
    def decide(self, request: Request, db_session: DbSession, showcase_id: FromPath[int],
               data: JSONBody[dict[str, Any]]) -> ShowcaseOut:
        """Body ``{"decision": "approve"|"reject", "reason": "..."}`` (reason required).
        An approved showcase can be rejected (taken down) later."""
        principal = require_user(request, db_session, action="showcase.decide", roles=("admin",),
                                 target=f"showcase:{showcase_id}")
        row = service.get_showcase(db_session, showcase_id, principal)
        only_fields(data, "decision", "reason")
        service.decide(db_session, principal, row, required_field(data, "decision"), data.get("reason"),
                       request_info(request))
        db_session.commit()
        return showcase_out(service.get_showcase(db_session, showcase_id, principal), private=True)
