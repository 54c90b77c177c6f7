"""One page being built: language, signed-in person, CSRF token, and rendering.

Every handler of the portal receives a ``PortalPage`` (a dependency of the portal
router) and ends with ``page.render(...)`` or ``page.redirect(...)``, so the header, the
language switch, the form token and the cookies they need are the same on every page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, TypeAlias
from urllib.parse import urlencode

from litestar import Request, Response
from litestar.enums import MediaType
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.response import Redirect
from sqlalchemy import select
from sqlalchemy.orm import Session

from opendata.access.cookies import secure_cookies
from opendata.access.principals import Principal
from opendata.catalogue.models import Catalogue, Dataset
from opendata.deps import DbSession
from opendata.portal import security
from opendata.portal.i18n import (
    HTML_LANG, LANG_COOKIE, LANG_PARAMETER, Translator, language_of, requested_language,
)
from opendata.portal.messages import MESSAGES
from opendata.portal.visitors import require_role, signed_in

LANG_COOKIE_SECONDS = 365 * 24 * 3600
DEFAULT_PLATFORM = ("公共数据开放平台", "Public Data Open Platform")


def platform_name(session: Session) -> tuple[str, str]:
    """The platform's name (中文, English), from the first catalogue's title.

    The demo catalogue is "广州市公共数据开放目录（演示）": the portal built on it is the
    广州市公共数据开放平台. A catalogue titled otherwise gives the generic name.
    """
    row = session.execute(select(Catalogue.title_zh, Catalogue.title_en).order_by(Catalogue.loaded_at).limit(1)).first()
    if row is None or "开放目录" not in row.title_zh:
        return DEFAULT_PLATFORM
    zh = row.title_zh.replace("（演示）", "").replace("开放目录", "开放平台").strip()
    en = (row.title_en or "").replace("(demo)", "").replace("Catalogue", "Open Platform").strip()
    return zh, en or DEFAULT_PLATFORM[1]


def url_with(path: str, params: Iterable[tuple[str, Any]] = (), **changes: Any) -> str:
    """``path`` with query parameters: ``params`` minus the keys in ``changes``, then
    ``changes`` (a None value drops the key, a list repeats it)."""
    kept = [(k, v) for k, v in params if k not in changes]
    for key, value in changes.items():
        if value is None:
            continue
        for item in value if isinstance(value, (list, tuple)) else [value]:
            kept.append((key, item))
    query = urlencode([(k, str(v)) for k, v in kept])
    return f"{path}?{query}" if query else path


@dataclass
class PortalPage:
    request: Request
    session: Session
    principal: Principal | None
    lang: str
    csrf_token: str
    cookies: list[Cookie] = field(default_factory=list)
    _titles: dict[str, str] = field(default_factory=dict)

    @property
    def t(self) -> Translator:
        return Translator(self.lang)

    @property
    def user(self) -> Any:
        return self.principal.user if self.principal else None

    def require(self, *roles: str, action: str) -> Principal:
        """The signed-in person holding one of ``roles``; else a redirect to sign in, or 403."""
        return require_role(self.request, self.session, self.principal, roles, action)

    def dataset_title(self, dataset_id: str) -> str:
        """A dataset's title in the page language, by id (applications and licences name
        datasets by id); the id itself when the dataset is gone."""
        if dataset_id not in self._titles:
            row = self.session.execute(
                select(Dataset.title_zh, Dataset.title_en).where(Dataset.id == dataset_id)).first()
            self._titles[dataset_id] = self.t.pick(row.title_zh, row.title_en) if row else dataset_id
        return self._titles[dataset_id]

    def params(self) -> list[tuple[str, str]]:
        """This request's query, without the one-off words (the language asked for, the
        notice after a form post) that must not stick to the links built from it."""
        return [(k, v) for k, v in self.request.query_params.multi_items() if k not in (LANG_PARAMETER, "notice")]

    def context(self, **extra: Any) -> dict[str, Any]:
        other = "en" if self.lang == "zh" else "zh"
        notice_key = f"notice.{self.request.query_params.get('notice', '')}"
        platform_zh, platform_en = platform_name(self.session)
        return {
            "t": self.t,
            "lang": self.lang,
            "html_lang": HTML_LANG[self.lang],
            "other_lang": other,
            "lang_switch_url": url_with(self.request.url.path, self.params(), lang=other),
            "platform": self.t.pick(platform_zh, platform_en),
            "user": self.user,
            "csrf_field": security.CSRF_FIELD,
            "csrf_token": self.csrf_token,
            "path": self.request.url.path,
            "notice": self.t(notice_key) if notice_key in MESSAGES else None,
            "url_with": url_with,
            "dataset_title": self.dataset_title,
            "nav": "",
            **extra,
        }

    def render(self, template: str, *, status: int = 200, **context: Any) -> Response:
        """The page as HTML, rendered here (in the handler's worker thread, while its
        database session is open) rather than later on the event loop."""
        html = self.request.app.template_engine.get_template(template).render(**self.context(**context))
        return Response(
            html, status_code=status, media_type=MediaType.HTML, cookies=list(self.cookies),
            headers={"Cache-Control": "no-store"} if self.principal else {},
        )

    def redirect(self, path: str, *, notice: str | None = None) -> Redirect:
        """303 See Other (a form post is answered with a GET of the next page)."""
        if notice:
            path += ("&" if "?" in path else "?") + urlencode({"notice": notice})
        return Redirect(path, status_code=303, cookies=list(self.cookies))


def build_page(request: Request, db_session: DbSession) -> PortalPage:
    """The portal router's ``page`` dependency."""
    return page_for(request, db_session)


def page_for(request: Request, session: Session, principal: Principal | None | bool = True) -> PortalPage:
    """A page for ``request``; ``principal=True`` looks the visitor up from the cookie."""
    visitor = signed_in(request, session) if principal is True else principal or None
    token, csrf_cookie = security.form_token(request)
    cookies = [csrf_cookie] if csrf_cookie else []
    lang = language_of(request)
    if requested_language(request) and request.cookies.get(LANG_COOKIE) != lang:
        cookies.append(Cookie(key=LANG_COOKIE, value=lang, path="/", max_age=LANG_COOKIE_SECONDS,
                              httponly=True, samesite="lax", secure=_secure(request)))
    return PortalPage(request, session, visitor, lang, token, cookies)


def _secure(request: Request) -> bool:
    plugin = request.app.state.get("opendata")
    return secure_cookies(request, plugin.settings if plugin is not None else None)


# How handlers name the page dependency in their signatures.
Page: TypeAlias = NamedDependency[PortalPage]
