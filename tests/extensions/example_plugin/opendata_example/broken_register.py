"""A plugin whose register() fails: it claims the core's csv format."""

from opendata.formats.registry import CORE_EXPORTERS


def register(registry):  # noqa: ANN001, ANN201
    registry.add_exporter(CORE_EXPORTERS["csv"])
