"""GET /api/v1/stats: use per dataset, per publisher and per day."""

from __future__ import annotations

from datetime import date

from litestar import Controller, get
from litestar.params import FromQuery

from opendata.deps import DbSession
from opendata.errors import bad_request
from opendata.stats.service import StatsReport, usage_report


class StatsController(Controller):
    path = "/api/v1/stats"
    tags = ["statistics"]

    @get("/", summary="Views, downloads by format and API row queries", sync_to_thread=True)
    def stats(
        self, db_session: DbSession, since: FromQuery[date | None] = None, until: FromQuery[date | None] = None
    ) -> StatsReport:
        if since and until and until < since:
            raise bad_request("invalid_period", "until is before since")
        return usage_report(db_session, since, until)
