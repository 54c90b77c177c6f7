"""Ratings and comments on the portal: the dataset page's section, its forms, the
publisher's list of comments awaiting a reply and the administrators' moderation.

Every form goes through the portal's CSRF check (the router's before_request) and the
same service functions as the API, so the rules and the audit are the API's.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Response, get, post
from litestar.params import FromPath

from opendata.access.models import ROLES
from opendata.audit.context import request_info
from opendata.catalogue import service as catalogue
from opendata.catalogue.models import Dataset
from opendata.deps import AppSettings, DbSession
from opendata.errors import AppError
from opendata.feedback import ratings
from opendata.feedback import service as feedback
from opendata.feedback.models import CATEGORIES, KINDS, DatasetComment
from opendata.numbers import ascii_digits
from opendata.portal import forms
from opendata.portal.forms import FormData
from opendata.portal.page import Page, PortalPage, url_with
from opendata.portal.visitors import SignInRequired

COMMENTS_ON_PAGE = 20
LIST_PAGE_SIZE = 20
STAFF = ("publisher", "admin")


def page_number(page: PortalPage, name: str = "page") -> int:
    raw = page.request.query_params.get(name, "1")
    return ascii_digits(raw, 6) or 1


def last_page_of(total: int, size: int) -> int:
    return max(1, -(-total // size))


def feedback_section(page: PortalPage, dataset: Dataset) -> dict[str, Any]:
    """What the dataset page's 评分与评论 section shows (templates/feedback/section.html)."""
    session, user = page.session, page.user
    moderator = user is not None and user.role == "admin"
    number = page_number(page, "comments_page")
    found = feedback.list_comments(session, dataset.id, include_hidden=moderator, page=number,
                                   page_size=COMMENTS_ON_PAGE)
    answerer = page.principal is not None and feedback.may_answer(page.principal, dataset)
    return {
        "rating": ratings.summary(session, dataset.id),
        "mine": ratings.own_rating(session, dataset.id, user.id) if user is not None else None,
        "comments": found.items, "total": found.total, "page": number,
        "last_page": last_page_of(found.total, COMMENTS_ON_PAGE),
        "page_url": lambda n: url_with(f"/datasets/{dataset.id}", page.params(), comments_page=n) + "#feedback",
        "answerer": answerer, "moderator": moderator, "kinds": KINDS, "categories": CATEGORIES,
        "body_max": feedback.BODY_MAX,
    }


def _back(dataset_id: str, notice: str) -> str:
    return f"/datasets/{dataset_id}?{urlencode({'notice': notice})}#feedback"


def _signed_in(page: PortalPage, dataset_id: str, action: str) -> Any:
    if page.principal is None:  # back to the dataset page after signing in, not to this POST's URL
        raise SignInRequired(f"/datasets/{dataset_id}#feedback")
    return page.require(*ROLES, action=action)


def _failed(page: PortalPage, error: AppError, dataset_id: str, values: dict[str, str] | None = None) -> Response:
    page.session.rollback()
    return page.render("feedback/failed.html", status=error.status if error.status != 404 else 400,
                       nav="datasets", error=page.t.error(error), dataset_id=dataset_id, values=values,
                       kinds=KINDS, categories=CATEGORIES, body_max=feedback.BODY_MAX)


@post("/datasets/{dataset_id:str}/rating", name="portal-rate", sync_to_thread=True)
def rate(page: Page, db_session: DbSession, dataset_id: FromPath[str], data: FormData) -> Response:
    principal = _signed_in(page, dataset_id, "portal.feedback.rate")
    dataset = catalogue.get_dataset(db_session, dataset_id)
    try:
        if forms.text(data, "action", 16) == "remove":
            ratings.unrate(db_session, principal, dataset, request_info(page.request))
            notice = "rating_removed"
        else:
            raw = forms.text(data, "stars", 8)
            number = ascii_digits(raw, 2)
            stars: Any = raw if number is None else number
            ratings.rate(db_session, principal, dataset, stars, request_info(page.request))
            notice = "rating_saved"
        db_session.commit()
    except AppError as error:
        return _failed(page, error, dataset.id)
    return page.redirect(_back(dataset.id, notice))


@post("/datasets/{dataset_id:str}/comments", name="portal-comment", sync_to_thread=True)
def comment(page: Page, db_session: DbSession, settings: AppSettings, dataset_id: FromPath[str],
            data: FormData) -> Response:
    principal = _signed_in(page, dataset_id, "portal.feedback.comment")
    dataset = catalogue.get_dataset(db_session, dataset_id)
    values = {name: forms.echo(data, name, feedback.BODY_MAX + 1) for name in ("kind", "category", "body")}
    try:
        kind = forms.text(data, "kind", 16) or "comment"
        # The form always sends the category select; it matters only for a problem report.
        category = forms.text(data, "category", 16) if kind == "problem" else None
        spec = feedback.CommentInput(kind=kind, category=category or None,
                                     body=forms.text(data, "body", feedback.BODY_MAX))
        feedback.post_comment(db_session, principal, dataset, spec, request_info(page.request),
                              per_hour=settings.comments_per_hour)
        db_session.commit()
    except AppError as error:
        return _failed(page, error, dataset.id, values)
    return page.redirect(_back(dataset.id, "comment_posted"))


def _comment(page: PortalPage, comment_id: int) -> DatasetComment:
    user = page.user
    return feedback.get_comment(page.session, comment_id, include_hidden=user is not None and user.role == "admin")


def _answer(page: PortalPage, comment_id: int, action: str, write: Any, notice: str) -> Response:
    """A publisher's or administrator's write on a comment: ``write(principal, row)``."""
    principal = page.require(*STAFF, action=action)
    row = _comment(page, comment_id)
    dataset_id = row.dataset_id
    try:
        write(principal, row)
        page.session.commit()
    except AppError as error:
        return _failed(page, error, dataset_id)
    return page.redirect(_back(dataset_id, notice))


@post("/comments/{comment_id:int}/reply", name="portal-comment-reply", sync_to_thread=True)
def reply(page: Page, db_session: DbSession, comment_id: FromPath[int], data: FormData) -> Response:
    return _answer(page, comment_id, "portal.feedback.reply", lambda principal, row: feedback.reply(
        db_session, principal, row, forms.text(data, "body", feedback.BODY_MAX), request_info(page.request)),
        "reply_posted")


@post("/comments/{comment_id:int}/status", name="portal-comment-status", sync_to_thread=True)
def set_status(page: Page, db_session: DbSession, comment_id: FromPath[int], data: FormData) -> Response:
    return _answer(page, comment_id, "portal.feedback.status", lambda principal, row: feedback.set_status(
        db_session, principal, row, forms.text(data, "status", 16), request_info(page.request)),
        "problem_status_saved")


def _hide_form(page: PortalPage, row: DatasetComment, *, error: str | None = None, reason: str = "",
               status: int = 200) -> Response:
    return page.render("feedback/hide.html", status=status, nav="admin", item=row, error=error, reason=reason,
                       reason_max=feedback.REASON_MAX)


@get("/admin/comments/{comment_id:int}/hide", name="portal-comment-hide-form", sync_to_thread=True)
def hide_form(page: Page, db_session: DbSession, comment_id: FromPath[int]) -> Response:
    page.require("admin", action="portal.feedback.hide")
    return _hide_form(page, feedback.get_comment(db_session, comment_id, include_hidden=True))


@post("/admin/comments/{comment_id:int}/hide", name="portal-comment-hide", sync_to_thread=True)
def hide(page: Page, db_session: DbSession, comment_id: FromPath[int], data: FormData) -> Response:
    principal = page.require("admin", action="portal.feedback.hide")
    row = feedback.get_comment(db_session, comment_id, include_hidden=True)
    try:
        feedback.hide(db_session, principal, row, forms.text(data, "reason", feedback.REASON_MAX),
                      request_info(page.request))
        db_session.commit()
    except AppError as error:
        db_session.rollback()
        return _hide_form(page, feedback.get_comment(db_session, comment_id, include_hidden=True),
                          error=page.t.error(error), reason=forms.echo(data, "reason", feedback.REASON_MAX),
                          status=error.status)
    return page.redirect("/admin/feedback", notice="comment_hidden")


@post("/admin/comments/{comment_id:int}/restore", name="portal-comment-restore", sync_to_thread=True)
def restore(page: Page, db_session: DbSession, comment_id: FromPath[int]) -> Response:
    principal = page.require("admin", action="portal.feedback.restore")
    row = feedback.get_comment(db_session, comment_id, include_hidden=True)
    try:
        feedback.restore(db_session, principal, row, request_info(page.request))
        db_session.commit()
    except AppError as error:
        return _failed(page, error, row.dataset_id)
    return page.redirect("/admin/feedback", notice="comment_restored")


def _list_page(page: PortalPage, template: str, found: feedback.CommentPage, **extra: Any) -> Response:
    return page.render(template, comments=found.items, total=found.total, page=found.page,
                       last_page=last_page_of(found.total, found.page_size),
                       page_url=lambda n: url_with(page.request.url.path, page.params(), page=n), **extra)


@get("/publisher/feedback", name="portal-publisher-feedback", sync_to_thread=True)
def awaiting(page: Page, db_session: DbSession) -> Response:
    principal = page.require(*STAFF, action="portal.feedback.awaiting")
    found = feedback.awaiting_reply(db_session, principal, page=page_number(page), page_size=LIST_PAGE_SIZE)
    return _list_page(page, "feedback/awaiting.html", found, nav="publisher")


MODERATION_FILTERS = {"all": None, "visible": False, "hidden": True}


@get("/admin/feedback", name="portal-admin-feedback", sync_to_thread=True)
def moderation(page: Page, db_session: DbSession) -> Response:
    page.require("admin", action="portal.feedback.moderate")
    shown = page.request.query_params.get("show", "all")
    shown = shown if shown in MODERATION_FILTERS else "all"
    found = feedback.moderation_list(db_session, hidden=MODERATION_FILTERS[shown], page=page_number(page),
                                     page_size=LIST_PAGE_SIZE)
    return _list_page(page, "feedback/moderation.html", found, nav="admin", shown=shown,
                      filters=list(MODERATION_FILTERS),
                      filter_url=lambda f: url_with("/admin/feedback", [], show=f if f != "all" else None))


HANDLERS = [rate, comment, reply, set_status, hide_form, hide, restore, awaiting, moderation]
