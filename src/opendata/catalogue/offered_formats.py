"""Which download formats a tabular resource is offered in: the core's, and the formats
that the application's plugins add (opendata.extensions) and that can write its columns.

The portal's download buttons, the dataset JSON, CKAN resources, DCAT distributions and
the Data Package read this, so a plugin format appears everywhere once it is enabled.
"""

from __future__ import annotations

from typing import Any

from opendata.catalogue.masking import served_fields
from opendata.catalogue.models import Resource
from opendata.extensions import registry_of
from opendata.formats import Column
from opendata.formats.registry import CORE_EXPORTERS


def served_columns(resource: Resource) -> list[Column]:
    """The anonymous download's columns (dropped fields left out, masked ones as text).
    The masking key only changes masked values, not which columns there are."""
    return [Column(s.name, s.field.title_zh, s.field.title_en, s.served_type)
            for s in served_fields(resource.fields, b"")]


def offered(session: Any, resource: Resource) -> list[Any]:
    """Every format the resource can be downloaded in, core ones first."""
    return registry_of(session).exporters_for(served_columns(resource))


def button_label(exporter: Any) -> str | tuple[str, str]:
    """A download button's label: the portal's message key of a core format
    (``download.<name>``), a plugin format's own (中文, English) label."""
    if exporter.name in CORE_EXPORTERS:
        return f"download.{exporter.name}"
    return (exporter.label_zh or exporter.name, exporter.label_en or exporter.name)
