"""Every route of the standard doors, for OpenDataPlugin to mount."""

from opendata.interop.ckan import CKAN_HANDLERS

INTEROP_HANDLERS = [*CKAN_HANDLERS]
