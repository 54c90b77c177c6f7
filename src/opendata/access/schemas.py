"""Request and response shapes of the access API (documented in the OpenAPI schema)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from opendata.access import licences as licence_rules
from opendata.access.models import ApiClient, Application, Licence, Organisation, User


# --- requests ---------------------------------------------------------------------------

@dataclass
class OrganisationIn:
    name: str
    credit_code: str
    contact_name: str
    contact_phone: str
    contact_email: str | None = None


@dataclass
class RegisterIn:
    """``role`` is developer or enterprise; an enterprise also sends its organisation."""

    role: str
    username: str
    email: str
    password: str
    display_name: str | None = None
    organisation: OrganisationIn | None = None


@dataclass
class LoginIn:
    username: str  # or the e-mail address; both are case-insensitive
    password: str


@dataclass
class ClientIn:
    name: str


@dataclass
class ItemIn:
    dataset: str
    operations: list[str]
    fields: list[str]


@dataclass
class ApplicationIn:
    items: list[ItemIn]
    purpose: str
    scenario: str
    start_date: date
    end_date: date
    terms_accepted: bool = False


@dataclass
class ReasonIn:
    reason: str | None = None


@dataclass
class QuotasIn:
    rows_per_day: int | None = None
    downloads_per_day: int | None = None
    compute_calls_per_day: int | None = None

    def quotas(self) -> licence_rules.Quotas:
        defaults = licence_rules.DEFAULT_QUOTAS
        return licence_rules.Quotas(
            rows_per_day=defaults.rows_per_day if self.rows_per_day is None else self.rows_per_day,
            downloads_per_day=defaults.downloads_per_day if self.downloads_per_day is None else self.downloads_per_day,
            compute_calls_per_day=(defaults.compute_calls_per_day if self.compute_calls_per_day is None
                                   else self.compute_calls_per_day),
        )


@dataclass
class ApprovalIn:
    """Everything optional: by default the licence grants what was asked for, with the
    default quotas. ``fields`` maps a dataset id to the fields granted (a subset)."""

    reason: str | None = None
    fields: dict[str, list[str]] | None = None
    start_date: date | None = None
    end_date: date | None = None
    quotas: QuotasIn | None = None
    # Private intersection statistics granted with the licence: the grants of
    # PUT /api/v1/compute/policies/{licence}/intersection (bounds, epsilon, minimum cohort).
    intersection: list[dict[str, Any]] | None = None


# --- responses --------------------------------------------------------------------------

@dataclass
class OrganisationOut:
    id: int
    name: str
    credit_code: str
    contact_name: str
    contact_phone: str
    contact_email: str | None


@dataclass
class UserOut:
    id: int
    username: str
    email: str
    display_name: str
    role: str
    organisation: OrganisationOut | None
    publisher_id: str | None
    disabled: bool
    created_at: datetime
    last_login_at: datetime | None


@dataclass
class SessionOut:
    session_token: str
    csrf_token: str
    expires_at: datetime
    user: UserOut


@dataclass
class MeOut:
    user: UserOut
    authenticated_by: str
    session_expires_at: datetime


@dataclass
class ClientOut:
    client_id: str
    name: str
    created_at: datetime
    rotated_at: datetime | None
    revoked_at: datetime | None


@dataclass
class ClientSecretOut:
    client_id: str
    client_secret: str
    name: str
    note: str = "the secret is shown only this once: store it now"


@dataclass
class ItemOut:
    dataset: str
    operations: list[str]
    fields: list[str]


@dataclass
class EventOut:
    at: datetime
    actor: str | None
    command: str
    from_state: str | None
    to_state: str
    reason: str | None


@dataclass
class ApplicationOut:
    id: int
    state: str
    organisation: str
    organisation_name: str
    applicant: str
    purpose: str
    scenario: str
    start_date: date
    end_date: date
    terms_accepted: bool
    items: list[ItemOut]
    events: list[EventOut]
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None
    decided_at: datetime | None
    licence_id: int | None


@dataclass
class LicenceDatasetOut:
    dataset: str
    operations: list[str]
    fields: list[str]


@dataclass
class LicenceOut:
    id: int
    application_id: int
    organisation: str
    status: str
    valid_from: datetime
    valid_until: datetime
    quotas: dict[str, int]
    datasets: list[LicenceDatasetOut]
    ended_at: datetime | None
    end_reason: str | None
    usage_today: dict[str, int] = field(default_factory=dict)


def organisation_out(o: Organisation) -> OrganisationOut:
    return OrganisationOut(o.id, o.name, o.credit_code, o.contact_name, o.contact_phone, o.contact_email)


def user_out(u: User) -> UserOut:
    return UserOut(
        id=u.id, username=u.username, email=u.email, display_name=u.display_name, role=u.role,
        organisation=organisation_out(u.organisation) if u.organisation else None,
        publisher_id=u.publisher_id, disabled=u.disabled, created_at=u.created_at,
        last_login_at=u.last_login_at,
    )


def client_out(c: ApiClient) -> ClientOut:
    return ClientOut(c.client_id, c.name, c.created_at, c.rotated_at, c.revoked_at)


def application_out(a: Application) -> ApplicationOut:
    return ApplicationOut(
        id=a.id, state=a.state, organisation=a.organisation.credit_code,
        organisation_name=a.organisation.name, applicant=a.applicant.username, purpose=a.purpose,
        scenario=a.scenario, start_date=a.start_date, end_date=a.end_date,
        terms_accepted=a.terms_accepted_at is not None,
        items=[ItemOut(i.dataset_id, list(i.operations), list(i.fields)) for i in a.items],
        events=[EventOut(e.at, e.actor.username if e.actor else None, e.command, e.from_state,
                         e.to_state, e.reason) for e in a.events],
        created_at=a.created_at, updated_at=a.updated_at, submitted_at=a.submitted_at,
        decided_at=a.decided_at, licence_id=a.licence.id if a.licence else None,
    )


def licence_out(lic: Licence, usage_today: dict[str, int] | None = None) -> LicenceOut:
    return LicenceOut(
        id=lic.id, application_id=lic.application_id, organisation=lic.organisation.credit_code,
        status=licence_rules.licence_status(lic), valid_from=lic.valid_from, valid_until=lic.valid_until,
        quotas={"rows_per_day": lic.rows_per_day, "downloads_per_day": lic.downloads_per_day,
                "compute_calls_per_day": lic.compute_calls_per_day},
        datasets=[LicenceDatasetOut(d.dataset_id, list(d.operations), list(d.fields)) for d in lic.datasets],
        ended_at=lic.ended_at, end_reason=lic.end_reason, usage_today=usage_today or {},
    )
