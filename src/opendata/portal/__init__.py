"""The portal: server-rendered pages (Jinja templates, hand-written CSS, almost no script).

``PortalPlugin`` mounts the pages into the ready-made application (``create_app``); a
host that embeds only the API (``OpenDataPlugin``) gets no pages. See docs/portal.md.
"""

from opendata.portal.plugin import PortalPlugin

__all__ = ["PortalPlugin"]
