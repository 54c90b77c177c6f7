"""/api/v1: ratings, comments and problem reports, replies and moderation.

Reading is public (hidden comments excepted); every write needs a signed-in person
(bearer session token, or the portal's cookie with its CSRF header) and is audited.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, post, put
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from opendata.access.principals import Principal, require_user, resolve
from opendata.audit.context import request_info
from opendata.catalogue import service as catalogue
from opendata.deps import AppSettings, DbSession
from opendata.errors import bad_request, only_fields as _only, required_field as _field
from opendata.feedback import ratings
from opendata.feedback import service
from opendata.feedback.schemas import (
    CommentOut, CommentPageOut, RatingOut, ReplyOut, comment_out, rating_out, reply_out,
)

# Statuses beyond the ones opendata.openapi_doc adds to every operation (400, 401, 403,
# 404, 500); it rewrites every 4xx to our error shape.
CONFLICT = {409: ResponseSpec(None, description="Conflict with the current state")}
TOO_MANY = {429: ResponseSpec(None, description="More than comments_per_hour comments this hour (Retry-After)")}

Page = Annotated[int, QueryParameter(ge=1, le=1_000_000, description="1-based page number")]
PageSize = Annotated[int, QueryParameter(ge=1, le=service.PAGE_SIZE_MAX, description="items per page")]


def optional_principal(request: Request, db_session: DbSession) -> Principal | None:
    found = resolve(request, db_session)
    return found if isinstance(found, Principal) else None


def _is_admin(principal: Principal | None) -> bool:
    return principal is not None and principal.user.role == "admin"


def _page_out(page: service.CommentPage, moderator: bool) -> CommentPageOut:
    return CommentPageOut([comment_out(c, moderator=moderator) for c in page.items], page.total, page.page,
                          page.page_size)


class FeedbackController(Controller):
    path = "/api/v1"
    tags = ["feedback"]

    @get("/datasets/{dataset_id:str}/rating", summary="A dataset's rating: average, count, distribution",
         sync_to_thread=True)
    def rating(self, request: Request, db_session: DbSession, dataset_id: FromPath[str]) -> RatingOut:
        """With a session, ``mine`` is the caller's own stars."""
        dataset = catalogue.get_dataset(db_session, dataset_id)
        principal = optional_principal(request, db_session)
        mine = ratings.own_rating(db_session, dataset.id, principal.user.id) if principal else None
        return rating_out(ratings.summary(db_session, dataset.id), mine)

    @put("/datasets/{dataset_id:str}/rating", summary="Rate a dataset 1–5 stars (again: change it)",
         sync_to_thread=True)
    def rate(self, request: Request, db_session: DbSession, dataset_id: FromPath[str],
             data: JSONBody[dict[str, Any]]) -> RatingOut:
        """Body ``{"stars": 1..5}`` (a whole number). One rating per person and dataset."""
        principal = require_user(request, db_session, action="feedback.rate", target=f"dataset:{dataset_id}")
        dataset = catalogue.get_dataset(db_session, dataset_id)
        stars = ratings.rate(db_session, principal, dataset, _field(_only(data, "stars"), "stars"),
                             request_info(request))
        db_session.commit()
        return rating_out(ratings.summary(db_session, dataset.id), stars)

    @delete("/datasets/{dataset_id:str}/rating", summary="Remove your rating of a dataset", status_code=204,
            sync_to_thread=True)
    def unrate(self, request: Request, db_session: DbSession, dataset_id: FromPath[str]) -> None:
        principal = require_user(request, db_session, action="feedback.unrate", target=f"dataset:{dataset_id}")
        dataset = catalogue.get_dataset(db_session, dataset_id)
        ratings.unrate(db_session, principal, dataset, request_info(request))
        db_session.commit()

    @get("/datasets/{dataset_id:str}/comments", summary="A dataset's comments and problem reports, newest first",
         sync_to_thread=True)
    def comments(self, request: Request, db_session: DbSession, dataset_id: FromPath[str], page: Page = 1,
                 page_size: PageSize = 20) -> CommentPageOut:
        """Hidden comments are left out, except for administrators (who see why)."""
        dataset = catalogue.get_dataset(db_session, dataset_id)
        moderator = _is_admin(optional_principal(request, db_session))
        found = service.list_comments(db_session, dataset.id, include_hidden=moderator, page=page,
                                      page_size=page_size)
        return _page_out(found, moderator)

    @post("/datasets/{dataset_id:str}/comments", summary="Comment on a dataset or report a problem",
          status_code=201, responses=TOO_MANY, sync_to_thread=True)
    def post_comment(self, request: Request, db_session: DbSession, settings: AppSettings,
                     dataset_id: FromPath[str], data: JSONBody[dict[str, Any]]) -> Response[CommentOut]:
        """Body ``{"kind": "comment"|"problem", "body": "...", "category": ...}``; a problem's
        category is data_error, broken_link, outdated or other. Visible at once; at most
        ``comments_per_hour`` per person an hour (else 429 with Retry-After)."""
        principal = require_user(request, db_session, action="feedback.comment", target=f"dataset:{dataset_id}")
        dataset = catalogue.get_dataset(db_session, dataset_id)
        _only(data, "kind", "body", "category")
        spec = service.CommentInput(kind=data.get("kind", "comment"), body=_field(data, "body"),
                                    category=data.get("category"))
        if not isinstance(spec.kind, str) or not (spec.category is None or isinstance(spec.category, str)):
            raise bad_request("invalid_field", "kind and category are text")
        row = service.post_comment(db_session, principal, dataset, spec, request_info(request),
                                   per_hour=settings.comments_per_hour)
        db_session.commit()
        return Response(comment_out(service.get_comment(db_session, row.id)), status_code=201)

    @get("/comments/{comment_id:int}", summary="One comment with its replies", sync_to_thread=True)
    def comment(self, request: Request, db_session: DbSession, comment_id: FromPath[int]) -> CommentOut:
        moderator = _is_admin(optional_principal(request, db_session))
        return comment_out(service.get_comment(db_session, comment_id, include_hidden=moderator),
                           moderator=moderator)

    @post("/comments/{comment_id:int}/replies", summary="Reply as the dataset's publisher or an administrator",
          status_code=201, sync_to_thread=True)
    def reply(self, request: Request, db_session: DbSession, comment_id: FromPath[int],
              data: JSONBody[dict[str, Any]]) -> Response[ReplyOut]:
        """Body ``{"body": "..."}``. Publishers answer on their own department's datasets only."""
        principal = require_user(request, db_session, action="feedback.reply", roles=("publisher", "admin"),
                                 target=f"comment:{comment_id}")
        row = service.get_comment(db_session, comment_id, include_hidden=_is_admin(principal))
        answer = service.reply(db_session, principal, row, _field(_only(data, "body"), "body"), request_info(request))
        db_session.commit()
        return Response(reply_out(answer), status_code=201)

    @put("/comments/{comment_id:int}/status", summary="Set a problem report open or resolved (its publisher)",
         responses=CONFLICT, sync_to_thread=True)
    def status(self, request: Request, db_session: DbSession, comment_id: FromPath[int],
               data: JSONBody[dict[str, Any]]) -> CommentOut:
        """Body ``{"status": "open"|"resolved"}``."""
        principal = require_user(request, db_session, action="feedback.status", roles=("publisher", "admin"),
                                 target=f"comment:{comment_id}")
        row = service.get_comment(db_session, comment_id, include_hidden=_is_admin(principal))
        service.set_status(db_session, principal, row, _field(_only(data, "status"), "status"),
                           request_info(request))
        db_session.commit()
        return comment_out(service.get_comment(db_session, comment_id, include_hidden=True),
                           moderator=_is_admin(principal))

    @post("/comments/{comment_id:int}/hide", summary="Hide a comment, with a reason (administrators)",
          responses=CONFLICT, sync_to_thread=True)
    def hide(self, request: Request, db_session: DbSession, comment_id: FromPath[int],
             data: JSONBody[dict[str, Any]]) -> CommentOut:
        """Body ``{"reason": "..."}`` (required)."""
        principal = require_user(request, db_session, action="feedback.hide", roles=("admin",),
                                 target=f"comment:{comment_id}")
        row = service.get_comment(db_session, comment_id, include_hidden=True)
        service.hide(db_session, principal, row, _only(data, "reason").get("reason"), request_info(request))
        db_session.commit()
        return comment_out(service.get_comment(db_session, comment_id, include_hidden=True), moderator=True)

    @post("/comments/{comment_id:int}/restore", summary="Show a hidden comment again (administrators)",
          responses=CONFLICT, sync_to_thread=True)
    def restore(self, request: Request, db_session: DbSession, comment_id: FromPath[int]) -> CommentOut:
        principal = require_user(request, db_session, action="feedback.restore", roles=("admin",),
                                 target=f"comment:{comment_id}")
        row = service.get_comment(db_session, comment_id, include_hidden=True)
        service.restore(db_session, principal, row, request_info(request))
        db_session.commit()
        return comment_out(service.get_comment(db_session, comment_id, include_hidden=True), moderator=True)

    @get("/feedback/awaiting", summary="Comments awaiting your reply, and open problem reports", sync_to_thread=True)
    def awaiting(self, request: Request, db_session: DbSession, page: Page = 1,
                 page_size: PageSize = 20) -> CommentPageOut:
        """A publisher: on its department's datasets; an administrator: on all."""
        principal = require_user(request, db_session, action="feedback.awaiting", roles=("publisher", "admin"))
        return _page_out(service.awaiting_reply(db_session, principal, page=page, page_size=page_size),
                         _is_admin(principal))

    @get("/feedback/comments", summary="Every comment, for moderation (administrators)", sync_to_thread=True)
    def moderation(self, request: Request, db_session: DbSession, page: Page = 1, page_size: PageSize = 20,
                   hidden: FromQuery[bool | None] = None) -> CommentPageOut:
        """``hidden=true``: hidden ones only; ``hidden=false``: visible ones only."""
        require_user(request, db_session, action="feedback.moderate", roles=("admin",))
        return _page_out(service.moderation_list(db_session, hidden=hidden, page=page, page_size=page_size), True)
