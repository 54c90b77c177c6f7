"""Private intersection statistics (联合统计) on the portal: each grant's privacy budget.

* The administrator's licence compute page (``/admin/compute/policies/{licence}``) lists the
  licence's intersection grants -- fields and clamping bounds, epsilon per query, spent and
  left, minimum cohort -- and sets or removes one grant at a time
  (``POST /admin/compute/policies/{licence}/intersection``), through the same checks and
  audit as ``PUT /api/v1/compute/policies/{licence}/intersection``.
* The enterprise's licence page (``/workspace/licences/{id}``) shows the same budget, read
  only, with the command that spends it.
"""

from __future__ import annotations

from typing import Any

from litestar import Response, post
from litestar.params import FromPath

from opendata.audit.context import request_info
from opendata.compute import psi_grants
from opendata.deps import DbSession
from opendata.errors import AppError, bad_request
from opendata.portal import forms
from opendata.portal.forms import FormData
from opendata.portal.page import Page

NUMBERS = {"scale": int, "epsilon_per_query": float, "epsilon_total": float, "min_cohort": int, "max_ids": int,
           "per_day": int}


def _as_input(grant: psi_grants.Grant) -> dict[str, Any]:
    return {"dataset": grant.dataset, "resource": grant.resource, "fields": grant.fields, "scale": grant.scale,
            "epsilon_per_query": grant.epsilon_per_query, "epsilon_total": grant.epsilon_total,
            "min_cohort": grant.min_cohort, "max_ids": grant.max_ids, "per_day": grant.per_day}


def _number(data: FormData, name: str) -> Any:
    raw = forms.text(data, name, 32)
    try:
        return NUMBERS[name](raw)
    except ValueError:
        raise bad_request("invalid_grants", f"{name} is a number") from None


def _from_form(data: FormData) -> dict[str, Any]:
    field = forms.text(data, "field", 63)
    grant = {"dataset": forms.text(data, "dataset", 63),
             "fields": {field: {"lower": forms.text(data, "lower", 40), "upper": forms.text(data, "upper", 40)}},
             **{name: _number(data, name) for name in NUMBERS if forms.text(data, name, 32)}}
    if forms.text(data, "resource", 63):
        grant["resource"] = forms.text(data, "resource", 63)
    return grant


@post("/admin/compute/policies/{licence_id:int}/intersection", name="portal-admin-intersection-set",
      sync_to_thread=True)
def set_intersection(page: Page, db_session: DbSession, licence_id: FromPath[int], data: FormData) -> Response:
    from opendata.portal.compute_admin_pages import _policy_page

    principal = page.require("admin", action="portal.admin.compute.intersection")
    remove = forms.text(data, "remove", 130)
    try:
        kept = [_as_input(g) for g in psi_grants.grants_of(db_session, licence_id)
                if f"{g.dataset}/{g.resource}" != remove]
        if not remove:
            new = _from_form(data)
            kept = [g for g in kept if g["dataset"] != new["dataset"]
                    or ("resource" in new and g["resource"] != new["resource"])]
            kept.append(new)
        grants = psi_grants.parse_grants(db_session, {"grants": kept})
        psi_grants.set_grants(db_session, licence_id, grants, actor=principal.actor, request=request_info(page.request))
        db_session.commit()
    except AppError as error:
        db_session.rollback()
        return _policy_page(page, licence_id, intersection_error=page.t.error(error),
                            status=error.status if error.status != 404 else 400)
    return page.redirect(f"/admin/compute/policies/{licence_id}#intersection", notice="intersection_saved")


HANDLERS = [set_intersection]
