"""Licence applications (授权申请) and their REMS-style commands.

    draft ─submit→ submitted ─approve→ approved ─close→ closed
      ↑ edit          │ ├─reject→ rejected        └─revoke→ revoked
      └── returned ←return┘
    (draft and returned can also be closed by the applicant)

Every command is one compare-and-set on the state column (UPDATE ... WHERE state = the
state we read), so two administrators deciding at once cannot both win: the second
UPDATE matches no row and is refused with 409 invalid_transition. Each command appends
an event that the applicant sees, and an audit record.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session, selectinload

from opendata.access import licences
from opendata.access.application_rules import (
    ApplicationInput, CheckedApplication, ItemInput, check_application, check_period,
)
from opendata.access.models import Application, ApplicationEvent, ApplicationItem, Licence
from opendata.access.principals import Principal
from opendata.audit.service import RequestInfo, append, refuse
from opendata.db import utcnow
from opendata.extensions.dispatch import after_commit
from opendata.extensions.events import LICENCE_APPROVED
from opendata.errors import AppError, bad_request

TRANSITIONS: dict[str, tuple[frozenset[str], str | None]] = {
    "edit": (frozenset({"draft", "returned"}), None),  # None: the state stays
    "submit": (frozenset({"draft", "returned"}), "submitted"),
    "approve": (frozenset({"submitted"}), "approved"),
    "reject": (frozenset({"submitted"}), "rejected"),
    "return": (frozenset({"submitted"}), "returned"),
    "close": (frozenset({"draft", "returned", "approved"}), "closed"),
    "revoke": (frozenset({"approved"}), "revoked"),
}
DECISIONS = ("approve", "reject", "return")
REASON_REQUIRED = frozenset({"reject", "return", "revoke"})


@dataclass(frozen=True)
class Approval:
    """What an administrator may narrow when approving; None keeps what was asked for."""

    reason: str | None = None
    fields: dict[str, list[str]] | None = None
    start_date: date | None = None
    end_date: date | None = None
    quotas: licences.Quotas | None = None


LOAD_OPTIONS = (
    selectinload(Application.items), selectinload(Application.events).selectinload(ApplicationEvent.actor),
    selectinload(Application.organisation), selectinload(Application.applicant),
    selectinload(Application.licence),
)


def load(session: Session, application_id: int) -> Application | None:
    """The application with everything its response shows, fresh from the database."""
    return session.scalars(
        select(Application).where(Application.id == application_id).options(*LOAD_OPTIONS)
        .execution_options(populate_existing=True)
    ).one_or_none()


def get_visible(
    session: Session, principal: Principal, application_id: int, *, action: str, request: RequestInfo,
) -> Application:
    """The application if the caller may see it. Another organisation's application is
    reported as missing (404), never as forbidden, so ids cannot be probed; the refusal
    is audited all the same."""
    application = load(session, application_id)
    visible = application is not None and (
        principal.user.role == "admin" or application.organisation_id == principal.user.organisation_id
    )
    if not visible:
        error = AppError(404, "not_found", f"application {application_id} does not exist")
        if application is None:
            raise error
        refuse(session, error, actor=principal.actor, action=action,
               target=f"application:{application_id}", request=request)
    return application  # type: ignore[return-value]


def list_visible(session: Session, principal: Principal, state: str | None = None) -> list[Application]:
    return list(session.scalars(visible_query(principal, state)))


def visible_query(principal: Principal, state: str | None = None) -> Select[tuple[Application]]:
    """The applications ``principal`` may see (all for an administrator), newest first."""
    query = select(Application).options(*LOAD_OPTIONS)
    if principal.user.role != "admin":
        query = query.where(Application.organisation_id == principal.user.organisation_id)
    if state is not None:
        states = {s for allowed, to in TRANSITIONS.values() for s in (*allowed, to) if s}
        if state not in states:
            raise bad_request("unknown_state", f"state is one of {', '.join(sorted(states))}")
        query = query.where(Application.state == state)
    return query.order_by(Application.id.desc())


def _apply(application: Application, checked: CheckedApplication) -> None:
    application.purpose = checked.purpose
    application.scenario = checked.scenario
    application.start_date = checked.start_date
    application.end_date = checked.end_date
    application.terms_accepted_at = utcnow() if checked.terms_accepted else None
    existing = {item.dataset_id: item for item in application.items}
    rows = []
    for position, item in enumerate(checked.items):
        row = existing.get(item.dataset_id) or ApplicationItem(dataset_id=item.dataset_id)
        row.position, row.operations, row.fields = position, item.operations, item.fields
        rows.append(row)
    application.items = rows


def create(session: Session, principal: Principal, data: ApplicationInput, request: RequestInfo) -> Application:
    checked = check_application(session, data)
    now = utcnow()
    application = Application(
        organisation_id=principal.user.organisation_id, applicant_id=principal.user.id,
        state="draft", created_at=now, updated_at=now,
    )
    _apply(application, checked)
    session.add(application)
    session.flush()
    _record(session, principal, application, "create", None, "draft", None, request,
            {"datasets": [i.dataset_id for i in checked.items]})
    return application


def edit(session: Session, principal: Principal, application: Application, data: ApplicationInput,
         request: RequestInfo) -> Application:
    checked = check_application(session, data)
    _transition(session, principal, application, "edit", None, request)
    _apply(application, checked)
    return application


def submit(session: Session, principal: Principal, application: Application, request: RequestInfo) -> Application:
    if application.terms_accepted_at is None:
        raise bad_request("terms_not_accepted", "accept the datasets' licence terms before submitting")
    # The catalogue may have changed since the draft was saved: check it again.
    check_application(session, _as_input(application))
    _transition(session, principal, application, "submit", None, request, submitted_at=utcnow())
    return application


def decide(session: Session, principal: Principal, application: Application, command: str,
           reason: str | None, request: RequestInfo, approval: Approval | None = None) -> Licence | None:
    """approve, reject or return; approving creates the licence in the same transaction."""
    if command not in DECISIONS:
        raise ValueError(f"not a decision: {command!r}")
    if application.applicant_id == principal.user.id:
        refuse(session, AppError(403, "own_application", "nobody decides on their own application"),
               actor=principal.actor, action=f"application.{command}",
               target=f"application:{application.id}", request=request)
    reason = _reason(command, reason)
    grant = _check_approval(session, application, approval or Approval()) if command == "approve" else None
    _transition(session, principal, application, command, reason, request,
                decided_at=utcnow(), decided_by=principal.user.id)
    if grant is None:
        return None
    licence = licences.create_licence(session, application, **grant)
    append(session, actor=principal.actor, action="licence.create", target=f"licence:{licence.id}",
           details={"application": application.id, "valid_from": licence.valid_from.isoformat(),
                    "valid_until": licence.valid_until.isoformat(),
                    "datasets": {d.dataset_id: {"operations": d.operations, "fields": d.fields}
                                 for d in licence.datasets}},
           request=request)
    after_commit(session, LICENCE_APPROVED, licence=licence.id, application=application.id,
                 organisation=application.organisation_id,
                 datasets=sorted(d.dataset_id for d in licence.datasets))
    return licence


def close(session: Session, principal: Principal, application: Application, reason: str | None,
          request: RequestInfo) -> Application:
    _end(session, principal, application, "close", reason, request)
    return application


def revoke(session: Session, principal: Principal, application: Application, reason: str | None,
           request: RequestInfo) -> Application:
    _end(session, principal, application, "revoke", _reason("revoke", reason), request)
    return application


def _end(session: Session, principal: Principal, application: Application, command: str,
         reason: str | None, request: RequestInfo) -> None:
    was_approved = application.state == "approved"
    _transition(session, principal, application, command, reason, request)
    licence = licences.licence_of_application(session, application.id) if was_approved else None
    if licence is not None:
        licences.end_licence(licence, TRANSITIONS[command][1] or command, reason)
        append(session, actor=principal.actor, action=f"licence.{command}", target=f"licence:{licence.id}",
               details={"reason": reason}, request=request)


def _reason(command: str, reason: str | None) -> str | None:
    text = (reason or "").strip()
    if command in REASON_REQUIRED and not text:
        raise bad_request("missing_reason", f"say why ({command} needs a reason the applicant will see)")
    if len(text) > 4000:
        raise bad_request("invalid_field", "a reason has at most 4000 characters")
    return text or None


def _check_approval(session: Session, application: Application, approval: Approval) -> dict[str, Any]:
    requested = {item.dataset_id: item.fields for item in application.items}
    fields = dict(requested)
    for dataset_id, narrowed in (approval.fields or {}).items():
        if dataset_id not in requested:
            raise bad_request("unknown_dataset", f"the application does not name dataset {dataset_id!r}")
        extra = [f for f in narrowed if f not in requested[dataset_id]]
        if extra:
            raise bad_request("field_not_requested",
                              f"approval can only narrow: {', '.join(extra)} were not asked for in {dataset_id!r}")
        if not narrowed:
            raise bad_request("no_fields", f"approve at least one field of {dataset_id!r}")
        fields[dataset_id] = list(dict.fromkeys(narrowed))
    start = approval.start_date or application.start_date
    end = approval.end_date or application.end_date
    if start < application.start_date or end > application.end_date:
        raise bad_request("invalid_period", "approval can only narrow the requested period")
    check_period(session, start, end)
    quotas = (approval.quotas or licences.DEFAULT_QUOTAS).check()
    return {"fields": fields, "start": start, "end": end, "quotas": quotas}


def _as_input(application: Application) -> ApplicationInput:
    return ApplicationInput(
        items=[ItemInput(i.dataset_id, list(i.operations), list(i.fields)) for i in application.items],
        purpose=application.purpose, scenario=application.scenario,
        start_date=application.start_date, end_date=application.end_date,
        terms_accepted=application.terms_accepted_at is not None,
    )


def _transition(session: Session, principal: Principal, application: Application, command: str,
                reason: str | None, request: RequestInfo, **columns: Any) -> None:
    allowed, to_state = TRANSITIONS[command]
    seen = application.state
    if seen in allowed:
        values = {"updated_at": utcnow(), "state": to_state or seen, **columns}
        claimed = session.execute(
            update(Application).where(Application.id == application.id, Application.state == seen)
            .values(**values).execution_options(synchronize_session="evaluate")
        ).rowcount == 1
        if claimed:
            _record(session, principal, application, command, seen, to_state or seen, reason, request)
            return
        seen = "changed by someone else meanwhile"
    refuse(
        session,
        AppError(409, "invalid_transition",
                 f"cannot {command} application {application.id}: it is {seen}; "
                 f"{command} applies to {' or '.join(sorted(allowed))} applications"),
        actor=principal.actor, action=f"application.{command}", target=f"application:{application.id}",
        request=request,
    )


def _record(session: Session, principal: Principal, application: Application, command: str,
            from_state: str | None, to_state: str, reason: str | None, request: RequestInfo,
            details: dict[str, Any] | None = None) -> None:
    session.add(ApplicationEvent(
        application_id=application.id, actor_id=principal.user.id, command=command,
        from_state=from_state, to_state=to_state, reason=reason,
    ))
    append(session, actor=principal.actor, action=f"application.{command}",
           target=f"application:{application.id}",
           details={"from": from_state, "to": to_state, "reason": reason, **(details or {})},
           request=request)

