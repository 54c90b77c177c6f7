"""HTTP endpoints for licence applications (授权申请) and licences.

Enterprise users see and act on their own organisation's applications; administrators
see all and decide. Another organisation's application or licence answers 404, exactly as
if it did not exist (so ids cannot be probed), and the attempt is audited.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post, put
from litestar.params import FromPath, JSONBody, QueryParameter

from opendata.access import applications, licences
from opendata.access.application_rules import ApplicationInput, ItemInput
from opendata.access.applications import Approval
from opendata.access.models import Application
from opendata.access.principals import Principal, require_user
from opendata.access.schemas import (
    ApplicationIn, ApplicationOut, ApprovalIn, LicenceOut, ReasonIn, application_out, licence_out,
)
from opendata.audit.context import request_info
from opendata.audit.service import refuse
from opendata.deps import DbSession
from opendata.errors import AppError

APPLICANTS = ("enterprise",)
ADMINS = ("admin",)
READERS = ("enterprise", "admin")


def _input(data: ApplicationIn) -> ApplicationInput:
    return ApplicationInput(
        items=[ItemInput(i.dataset, list(i.operations), list(i.fields)) for i in data.items],
        purpose=data.purpose, scenario=data.scenario, start_date=data.start_date,
        end_date=data.end_date, terms_accepted=data.terms_accepted,
    )


def _visible(request: Request, session: DbSession, principal: Principal, application_id: int,
             action: str) -> Application:
    return applications.get_visible(session, principal, application_id, action=action,
                                    request=request_info(request))


def _fresh(session: DbSession, application_id: int) -> ApplicationOut:
    session.commit()
    return application_out(applications.load(session, application_id))  # type: ignore[arg-type]


class ApplicationsController(Controller):
    path = "/api/v1/applications"
    tags = ["licensing"]

    @get("/", summary="Applications: your organisation's, or all for administrators", sync_to_thread=True)
    def list_applications(self, request: Request, db_session: DbSession,
                          wanted_state: Annotated[str | None, QueryParameter(name="state")] = None,
                          ) -> list[ApplicationOut]:
        principal = require_user(request, db_session, action="application.list", roles=READERS)
        return [application_out(a) for a in applications.list_visible(db_session, principal, wanted_state)]

    @post("/", summary="Create a draft application", status_code=201, sync_to_thread=True)
    def create(self, request: Request, db_session: DbSession, data: JSONBody[ApplicationIn]) -> ApplicationOut:
        principal = require_user(request, db_session, action="application.create", roles=APPLICANTS)
        application = applications.create(db_session, principal, _input(data), request_info(request))
        return _fresh(db_session, application.id)

    @get("/{application_id:int}", summary="An application with its events", sync_to_thread=True)
    def read(self, request: Request, db_session: DbSession, application_id: FromPath[int]) -> ApplicationOut:
        principal = require_user(request, db_session, action="application.read", roles=READERS,
                                 target=f"application:{application_id}")
        return application_out(_visible(request, db_session, principal, application_id, "application.read"))

    @put("/{application_id:int}", summary="Edit a draft or returned application", sync_to_thread=True)
    def edit(self, request: Request, db_session: DbSession, application_id: FromPath[int],
             data: JSONBody[ApplicationIn]) -> ApplicationOut:
        principal = require_user(request, db_session, action="application.edit", roles=APPLICANTS)
        application = _visible(request, db_session, principal, application_id, "application.edit")
        applications.edit(db_session, principal, application, _input(data), request_info(request))
        return _fresh(db_session, application_id)

    @post("/{application_id:int}/submit", summary="Submit for a decision", status_code=200, sync_to_thread=True)
    def submit(self, request: Request, db_session: DbSession, application_id: FromPath[int]) -> ApplicationOut:
        principal = require_user(request, db_session, action="application.submit", roles=APPLICANTS)
        application = _visible(request, db_session, principal, application_id, "application.submit")
        applications.submit(db_session, principal, application, request_info(request))
        return _fresh(db_session, application_id)

    @post("/{application_id:int}/approve", summary="Approve (optionally narrowing), creating the licence",
          status_code=200, sync_to_thread=True)
    def approve(self, request: Request, db_session: DbSession, application_id: FromPath[int],
                data: JSONBody[ApprovalIn | None] = None) -> ApplicationOut:
        data = data or ApprovalIn()
        approval = Approval(reason=data.reason, fields=data.fields, start_date=data.start_date,
                            end_date=data.end_date, quotas=data.quotas.quotas() if data.quotas else None)
        return self._decide(request, db_session, application_id, "approve", data.reason, approval,
                            data.intersection)

    @post("/{application_id:int}/reject", summary="Reject, with a reason", status_code=200, sync_to_thread=True)
    def reject(self, request: Request, db_session: DbSession, application_id: FromPath[int],
               data: JSONBody[ReasonIn | None] = None) -> ApplicationOut:
        return self._decide(request, db_session, application_id, "reject", (data or ReasonIn()).reason)

    @post("/{application_id:int}/return", summary="Return for changes, with a reason", status_code=200,
          sync_to_thread=True)
    def return_(self, request: Request, db_session: DbSession, application_id: FromPath[int],
                data: JSONBody[ReasonIn | None] = None) -> ApplicationOut:
        return self._decide(request, db_session, application_id, "return", (data or ReasonIn()).reason)

    @post("/{application_id:int}/close", summary="Close (and end its licence, if approved)", status_code=200,
          sync_to_thread=True)
    def close(self, request: Request, db_session: DbSession, application_id: FromPath[int],
              data: JSONBody[ReasonIn | None] = None) -> ApplicationOut:
        principal = require_user(request, db_session, action="application.close", roles=READERS)
        application = _visible(request, db_session, principal, application_id, "application.close")
        applications.close(db_session, principal, application, (data or ReasonIn()).reason, request_info(request))
        return _fresh(db_session, application_id)

    def _decide(self, request: Request, session: DbSession, application_id: int, command: str,
                reason: str | None, approval: Approval | None = None,
                intersection: list[dict[str, Any]] | None = None) -> ApplicationOut:
        principal = require_user(request, session, action=f"application.{command}", roles=ADMINS,
                                 target=f"application:{application_id}")
        application = _visible(request, session, principal, application_id, f"application.{command}")
        grants = None
        if intersection is not None:  # checked before anything changes; stored with the licence
            from opendata.compute import psi_grants

            grants = psi_grants.parse_grants(session, {"grants": intersection})
        licence = applications.decide(session, principal, application, command, reason, request_info(request),
                                      approval)
        if licence is not None and grants:
            from opendata.compute import psi_grants

            psi_grants.set_grants(session, licence.id, grants, actor=principal.actor, request=request_info(request))
        return _fresh(session, application_id)


class LicencesController(Controller):
    path = "/api/v1/licences"
    tags = ["licensing"]

    @get("/", summary="Licences: your organisation's, or all for administrators", sync_to_thread=True)
    def list_licences(self, request: Request, db_session: DbSession) -> list[LicenceOut]:
        principal = require_user(request, db_session, action="licence.list", roles=READERS)
        organisation = None if principal.user.role == "admin" else principal.user.organisation_id
        return [licence_out(lic) for lic in licences.list_licences(db_session, organisation)]

    @get("/{licence_id:int}", summary="A licence with today's quota usage", sync_to_thread=True)
    def read(self, request: Request, db_session: DbSession, licence_id: FromPath[int]) -> LicenceOut:
        principal = require_user(request, db_session, action="licence.read", roles=READERS)
        organisation = None if principal.user.role == "admin" else principal.user.organisation_id
        try:
            licence = licences.get_licence(db_session, licence_id, organisation)
        except AppError as error:
            refuse(db_session, error, actor=principal.actor, action="licence.read",
                   target=f"licence:{licence_id}", request=request_info(request))
        return licence_out(licence, licences.usage_today(db_session, licence.id))

    @post("/{licence_id:int}/revoke", summary="Revoke a licence (administrators), with a reason",
          status_code=200, sync_to_thread=True)
    def revoke(self, request: Request, db_session: DbSession, licence_id: FromPath[int],
               data: JSONBody[ReasonIn | None] = None) -> LicenceOut:
        principal = require_user(request, db_session, action="licence.revoke", roles=ADMINS,
                                 target=f"licence:{licence_id}")
        licence = licences.get_licence(db_session, licence_id)
        application = applications.load(db_session, licence.application_id)
        applications.revoke(db_session, principal, application, (data or ReasonIn()).reason,  # type: ignore[arg-type]
                            request_info(request))
        db_session.commit()
        return licence_out(licences.get_licence(db_session, licence_id), licences.usage_today(db_session, licence_id))
