"""Reading submitted forms: one value, repeated values (checkboxes), dates, numbers.

Litestar hands a form over as a dict whose repeated keys hold lists; these helpers give
every handler the same view of it. A value that cannot be read raises FormError, which
the handler shows next to the form (and changes nothing).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Mapping

from litestar.enums import RequestEncodingType
from litestar.params import Body

from opendata.errors import AppError
from opendata.numbers import ascii_digits

FormData = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
UploadForm = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]


class FormError(AppError):
    """A form value the portal itself cannot read (before any service sees it)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(400, code, message)


def text(form: Mapping[str, Any], key: str, limit: int = 20_000) -> str:
    value = form.get(key, "")
    if isinstance(value, list):
        value = value[-1] if value else ""
    if not isinstance(value, str):
        return ""
    value = value.strip()
    if len(value) > limit:
        raise FormError("invalid_field", f"{key} has at most {limit} characters")
    return value


def echo(form: Mapping[str, Any], key: str, limit: int = 2000) -> str:
    """A submitted value to show again in a form that is being re-displayed."""
    value = form.get(key, "")
    if isinstance(value, list):
        value = value[-1] if value else ""
    return value.strip()[:limit] if isinstance(value, str) else ""


def values(form: Mapping[str, Any], key: str) -> list[str]:
    value = form.get(key)
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    return [v.strip() for v in items if isinstance(v, str) and v.strip()]


def checked(form: Mapping[str, Any], key: str) -> bool:
    return text(form, key) in ("1", "on", "true", "yes")


def date_value(form: Mapping[str, Any], key: str, *, required: bool = True) -> date | None:
    raw = text(form, key, 32)
    if not raw:
        if required:
            raise FormError("missing_field", f"{key} is required")
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise FormError("invalid_date", f"{key}: {raw!r} is not a date (YYYY-MM-DD)") from None


def whole_number(form: Mapping[str, Any], key: str) -> int | None:
    raw = text(form, key, 32).replace(",", "")
    if not raw:
        return None
    number = ascii_digits(raw, 9)
    if number is None:
        raise FormError("invalid_quota", f"{key}: {raw!r} is not a whole number below 1,000,000,000")
    return number


CONFIRM_FIELD = "confirm"


def required_reason(form: Mapping[str, Any], what: str) -> str:
    """The form's reason for an administrator's action (kept in the audit record)."""
    reason = text(form, "reason", 4000)
    if not reason:
        raise FormError("missing_reason", f"give a reason to {what}")
    return reason


def confirmed_reason(form: Mapping[str, Any], what: str) -> str:
    """The reason of a consequential action (disable, revoke, reject), which also needs
    its confirmation box ticked: one click must never do it by accident."""
    reason = required_reason(form, what)
    if not checked(form, CONFIRM_FIELD):
        raise FormError("confirmation_required", f"tick the box to confirm that you want to {what}")
    return reason
