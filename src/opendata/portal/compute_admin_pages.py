"""The administrators' compute oversight: each licence's compute policy, and the probing
alerts (compute/probing.py).

* ``/admin/compute/policies/{licence}``: which subjects a licence may compute on. Deny by
  default: no list, no subject. Allowing *every* subject is a separate, explicit choice
  (its own checkbox) and the page then shows a warning, as the API's policy does.
* ``/admin/compute/alerts``: the ``compute.alert`` audit records -- a licence that
  computed on one subject, or guessed at one field of one subject, more often in a day
  than the alert threshold.

The pages call the same services as ``PUT /api/v1/compute/policies/{licence}``, so the
checks and the audit trail are the API's.
"""

from __future__ import annotations

from litestar import Response, get, post
from litestar.params import FromPath
from sqlalchemy import select

from opendata.access import licences
from opendata.audit.context import request_info
from opendata.audit.models import AuditRecord
from opendata.compute import policy, psi_grants
from opendata.compute.probing import ALERT_ACTION
from opendata.compute.runtime import runtime_of
from opendata.deps import DbSession
from opendata.errors import AppError
from opendata.portal import forms
from opendata.portal.forms import FormData
from opendata.portal.page import Page, PortalPage

ADMINS = ("admin",)
MAX_SUBJECTS_TEXT = 2_000_000
ALERT_ROWS = 200


def _policy_page(page: PortalPage, licence_id: int, *, error: str | None = None, subjects_text: str | None = None,
                 status: int = 200, intersection_error: str | None = None) -> Response:
    session = page.session
    licence = licences.get_licence(session, licence_id)
    current = policy.policy_of(session, licence_id)
    listed = [] if current.all_subjects else policy.authorised_subjects(session, licence_id)
    return page.render("admin/compute_policy.html", status=status, nav="admin", licence=licence, policy=current,
                       subjects_text="\n".join(listed) if subjects_text is None else subjects_text,
                       listed=len(listed), warning=policy.ALL_SUBJECTS_WARNING if current.all_subjects else None,
                       error=error, intersection=psi_grants.grants_of(session, licence_id),
                       intersection_error=intersection_error)


@get("/admin/compute/policies/{licence_id:int}", name="portal-admin-compute-policy", sync_to_thread=True)
def policy_page(page: Page, licence_id: FromPath[int]) -> Response:
    page.require(*ADMINS, action="portal.admin.compute.policy")
    return _policy_page(page, licence_id)


@post("/admin/compute/policies/{licence_id:int}", name="portal-admin-compute-policy-set", sync_to_thread=True)
def set_policy(page: Page, db_session: DbSession, licence_id: FromPath[int], data: FormData) -> Response:
    principal = page.require(*ADMINS, action="portal.admin.compute.policy.update")
    text = forms.text(data, "subjects", MAX_SUBJECTS_TEXT)
    all_subjects = forms.checked(data, "all_subjects")
    try:
        raw = [line.strip() for line in text.replace(",", "\n").splitlines() if line.strip()]
        subjects = policy.check_subject_list(raw or None, runtime_of(page.request).settings.max_authorised_subjects,
                                             all_subjects)
        policy.set_policy(db_session, licence_id, forms.checked(data, "reveal_not_found"), subjects,
                          actor=principal.actor, request=request_info(page.request), all_subjects=all_subjects)
        db_session.commit()
    except AppError as error:
        db_session.rollback()
        return _policy_page(page, licence_id, error=page.t.error(error), subjects_text=text,
                            status=error.status if error.status != 404 else 400)
    return page.redirect(f"/admin/compute/policies/{licence_id}", notice="policy_saved")


@get("/admin/compute/alerts", name="portal-admin-compute-alerts", sync_to_thread=True)
def alerts_page(page: Page, db_session: DbSession) -> Response:
    page.require(*ADMINS, action="portal.admin.compute.alerts")
    records = list(db_session.scalars(select(AuditRecord).where(AuditRecord.action == ALERT_ACTION)
                                      .order_by(AuditRecord.id.desc()).limit(ALERT_ROWS)))
    return page.render("admin/compute_alerts.html", nav="admin", records=records)


HANDLERS = [policy_page, set_policy, alerts_page]
