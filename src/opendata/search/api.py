"""The synonym groups of the catalogue search over HTTP: anyone reads them, admins replace them."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, put
from litestar.params import JSONBody

from opendata.access.principals import require_user
from opendata.audit.context import request_info
from opendata.deps import DbSession
from opendata.errors import bad_request
from opendata.search.synonyms import list_groups, replace_groups


class SynonymsController(Controller):
    path = "/api/v1/search/synonyms"
    tags = ["catalogue"]

    @get("/", summary="The search's synonym groups (words that find each other)", sync_to_thread=True)
    def show(self, db_session: DbSession) -> dict[str, list[list[str]]]:
        return {"groups": list_groups(db_session)}

    @put("/", summary="Replace every synonym group (administrators)", sync_to_thread=True)
    def replace(self, request: Request, db_session: DbSession,
                data: JSONBody[dict[str, Any]]) -> dict[str, list[list[str]]]:
        principal = require_user(request, db_session, action="search.synonyms.replace", roles=("admin",),
                                 target="search:synonyms")
        if set(data) != {"groups"}:
            raise bad_request("invalid_body", 'send {"groups": [["公交", "巴士"], ...]}')
        groups = replace_groups(db_session, data["groups"], actor=principal.actor, request=request_info(request))
        db_session.commit()
        return {"groups": groups}
