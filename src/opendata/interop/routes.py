"""Every route of the standard doors, for OpenDataPlugin to mount."""

from opendata.interop.ckan import CKAN_HANDLERS
from opendata.interop.dcat_api import DCAT_HANDLERS
from opendata.interop.frictionless import FRICTIONLESS_HANDLERS

INTEROP_HANDLERS = [*CKAN_HANDLERS, *DCAT_HANDLERS, *FRICTIONLESS_HANDLERS]
