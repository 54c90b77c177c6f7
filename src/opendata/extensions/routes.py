"""Extra API routes and portal pages.

A plugin adds Litestar route handlers or Controllers:

- ``Registry.add_api_routes(*handlers)``: mounted on the API router, under the API
  prefix, with the core's dependencies (``db_session``, ``settings``, ``database``),
  error shape ``{"error": {"code", "message"}}``, input guard and body limits; they appear
  in the OpenAPI document. Handlers that serve licensed data must call the core's guard
  (opendata.access.guard.authorize_data), as the core's own do.
- ``Registry.add_portal_pages(*handlers, templates=folder)``: mounted on the portal's
  router (CSRF on every POST, the CSP, ``page`` dependency for the layout and language);
  ``templates`` is a folder searched after the core's, so a page can extend "base.html".
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class RouteSet(Protocol):
    """What a plugin contributes to the application's routers."""

    api: Sequence[Any]  # Litestar route handlers / Controller classes
    portal: Sequence[Any]
    templates: Sequence[Path]
