"""Filters and functions the templates share: numbers, times, badges, masking rules."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, pass_context
from jinja2.runtime import Context
from markupsafe import Markup, escape

from opendata import localtime
from opendata.access.licences import last_day
from opendata.catalogue.vocabulary import parse_mask
from opendata.portal.i18n import Translator
from opendata.versions.record import CATALOGUE_LOAD
LEVEL_CLASSES = {"unconditional": "level-open", "conditional": "level-conditional", "closed": "level-closed"}
STATE_CLASSES = {
    "draft": "state-neutral", "submitted": "state-pending", "returned": "state-warning",
    "approved": "state-good", "rejected": "state-bad", "closed": "state-neutral", "revoked": "state-bad",
    "active": "state-good", "pending": "state-pending", "expired": "state-neutral",
    "open": "state-pending", "planned": "state-warning", "published": "state-good", "declined": "state-bad",
    "queued": "state-pending", "running": "state-pending", "succeeded": "state-good", "failed": "state-bad",
    "cancelled": "state-neutral",
}


def number(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.2f}"
    return f"{int(value):,}"


def when(value: date | datetime | None, with_time: bool = True, *, tz: ZoneInfo) -> str:
    """A stored (UTC) instant as the portal's time zone reads it; a date as it is."""
    if value is None:
        return "—"
    if isinstance(value, datetime):
        local = value.astimezone(tz) if value.tzinfo else value
        return local.strftime("%Y-%m-%d %H:%M") if with_time else local.strftime("%Y-%m-%d")
    return value.isoformat()


def cell(value: Any) -> str:
    """A value in a preview table, written as the CSV download would write it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return repr(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


@pass_context
def data_value(context: Context, value: Any) -> Markup:
    """``{{ org.name|data }}``: a value that comes from the data or from a user (a name, a
    catalogue value, a reason), marked as such (see Translator.data). Macros imported
    without the page's context use ``t.data(value)`` instead."""
    translator = context.get("t")
    if not isinstance(translator, Translator):
        raise RuntimeError("the data filter needs the page's translator t in the template context")
    return translator.data(value)


def code(value: Any) -> Markup:
    """An identifier (a field name) as ``<code>``."""
    return Markup("<code>{}</code>").format("" if value is None else value)


DETAIL_VALUE_CHARS = 200


def _detail_text(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(_detail_text(item) for item in value) or "—"
    if isinstance(value, dict):
        return "; ".join(f"{key}: {_detail_text(item)}" for key, item in value.items()) or "—"
    return str(value)


def detail_rows(details: Any) -> list[tuple[str, str]]:
    """An audit record's details (JSON text or a dict) as (name, value) rows of a table,
    each value in words rather than JSON, cut at DETAIL_VALUE_CHARS."""
    if isinstance(details, str):
        try:
            details = json.loads(details) if details.strip() else {}
        except ValueError:
            return [("", details[:DETAIL_VALUE_CHARS])]
    if not isinstance(details, dict):
        return [("", _detail_text(details)[:DETAIL_VALUE_CHARS])]
    rows = []
    for key, value in details.items():
        text = _detail_text(value)
        rows.append((str(key), text if len(text) <= DETAIL_VALUE_CHARS else text[:DETAIL_VALUE_CHARS - 1] + "…"))
    return rows


VALUE_FAMILIES = ("state.", "role.", "feedback.kind.", "feedback.category.", "operation.", "assets.compliance.")


def detail_value(value: str, t: Translator) -> Markup:
    """One value of an audit record's details: a known code (a state, a role, a kind) in
    words, anything else as data (names and reasons as written, identifiers untranslated)."""
    for family in VALUE_FAMILIES:
        if t.has(family + value):
            return escape(t(family + value))
    return t.data(value)


def version_actor(actor: str, t: Translator) -> Markup:
    """Who made a dataset version: the platform for a catalogue load, else the account."""
    return escape(t("history.platform")) if actor == CATALOGUE_LOAD else t.data(actor)


def mask_label(rule: str | None, t: Translator) -> str:
    """A masking rule (脱敏规则) in words: 保留前 6 位, 哈希, 不提供 ..."""
    if not rule:
        return t("mask.none")
    parsed = parse_mask(rule)
    if parsed.kind == "keep_first":
        return t("mask.keep_first", n=parsed.first)
    if parsed.kind == "keep_last":
        return t("mask.keep_last", n=parsed.last)
    if parsed.kind == "keep_first_last":
        return t("mask.keep_first_last", first=parsed.first, last=parsed.last)
    return t(f"mask.{parsed.kind}")


def level_class(code: str) -> str:
    return LEVEL_CLASSES.get(code, "level-closed")


def state_class(state: str) -> str:
    return STATE_CLASSES.get(state, "state-neutral")


def install_helpers(environment: Environment, tz: ZoneInfo | None = None) -> None:
    """``tz``: the portal's time zone (the ``timezone`` setting), in which times are shown
    and a licence's last day is named (``until_day``: valid until 2027-01-01 00:00 is
    "to 2026-12-31")."""
    tz = tz or localtime.zone()
    environment.filters.update(number=number, when=partial(when, tz=tz), cell=cell, detail_rows=detail_rows,
                               data=data_value, code=code,
                               until_day=lambda value: "—" if value is None else last_day(value, tz).isoformat())
    environment.globals.update(mask_label=mask_label, detail_value=detail_value, level_class=level_class,
                               state_class=state_class, version_actor=version_actor)
